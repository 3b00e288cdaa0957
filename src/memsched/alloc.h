/*
 * alloc.h: the arithmetic of share-based memory allocation with an idle memory tax, as
 * in ESX Server (Waldspurger, OSDI 2002, sections 5 and 6). Pure functions: no VM, no
 * threads; memsched.c feeds them measured numbers and acts on the answers.
 *
 * A VM with S shares holding P pages, of which a fraction f is active, has the adjusted
 * shares-per-page ratio
 *
 *     rho = S / (P * (f + k * (1 - f))),   k = 1 / (1 - tau)
 *
 * so an idle page costs k times an active one (tau = 0: plain proportional shares;
 * tau = 0.75: an idle page costs 4). Memory is taken from the VM with the lowest rho.
 * The targets this file computes are the allocation at which every VM not pinned at its
 * min or max has the same rho, i.e. P_i proportional to S_i / (f_i + k (1 - f_i)):
 * reclaiming from the lowest-rho VM until no VM's rho is below another's ends there.
 */
#ifndef SHADE_ALLOC_H
#define SHADE_ALLOC_H

#include <stdint.h>

/* ESX's free-memory states, from the share of machine memory that is free. */
enum mem_state { MEM_HIGH, MEM_SOFT, MEM_HARD, MEM_LOW };

#define MEM_SOFT_PCT 6.0   /* below this: soft (balloon) */
#define MEM_HARD_PCT 4.0   /* below this: hard (balloon and swap) */
#define MEM_LOW_PCT  2.0   /* below this: low (swap, block VMs above target) */
#define TAU_MAX 0.99       /* tau = 1 would make an idle page infinitely expensive */

struct alloc_vm {
	uint64_t min, max;     /* pages: guaranteed floor, configured size */
	uint64_t shares;
	uint64_t granted;      /* pages the VM holds now */
	double active;         /* estimated active fraction f in [0, 1] */
	uint64_t target;       /* out: pages the VM should hold */
};

/* k = 1 / (1 - tau), with tau clamped to [0, TAU_MAX]. */
double alloc__k(double tau);
/* rho for S shares, P pages, active fraction f; +inf for P = 0. */
double alloc__rho(uint64_t shares, uint64_t pages, double f, double tau);
/* Targets for n VMs sharing `avail` pages: min <= target <= max, summing to avail when
 * the mins fit and the maxes do not (else every VM gets its min, or its max). */
void alloc__targets(struct alloc_vm *v, unsigned n, uint64_t avail, double tau);
/* Indices of the n VMs ordered by their current rho, lowest (reclaim first) first. */
void alloc__reclaim_order(const struct alloc_vm *v, unsigned n, double tau, unsigned *order);
/* The state for `free` of `total` pages. */
enum mem_state alloc__state(uint64_t free, uint64_t total);
/* Pages free at the lower edge of a state (what reclaim aims to restore). */
uint64_t alloc__threshold(enum mem_state s, uint64_t total);
const char *alloc__state_name(enum mem_state s);

#endif
