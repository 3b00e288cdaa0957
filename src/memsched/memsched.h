/*
 * memsched.h: how much machine memory each VM gets, and taking it back (ESX Server's
 * memory management, Waldspurger OSDI 2002, sections 5-6). Three parts:
 *
 *   - per VM, on its own vCPU thread (like page sharing: no VM edits another's
 *     mappings): the working-set sampler (wss.h), swapping out toward the swap target
 *     the policy set, swapping in on a touch (through the pmap's swap ops), and, in the
 *     low state, not running the guest while it is above its target;
 *   - per host, one policy thread: every period it reads each VM's size, shares, min
 *     and active fraction, computes targets (alloc.h), the free-memory state, and hands
 *     targets to the balloons (soft and below) and swap targets to the VMs (hard and
 *     below, or a VM whose balloon cannot deliver);
 *   - the host swap file (swapfile.h), shared by all VMs.
 *
 * The policy thread publishes a snapshot of every VM's numbers each period, which the
 * control socket (query-memsched, `shade top`) and the CSV time series read.
 */
#ifndef SHADE_MEMSCHED_H
#define SHADE_MEMSCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "alloc.h"
#include "swapfile.h"
#include "types.h"
#include "wss.h"

struct vm;
struct vcpu;
struct host;

#define MS_SAMPLE_MAX 4096
#define MEMSCHED_MAX_VMS 64

struct memsched_config {
	double tau;                 /* idle memory tax rate in [0, 0.99] */
	unsigned alloc_ms;          /* policy period */
	unsigned sample_ms;         /* working-set sampling period */
	unsigned sample_pages;      /* pages per sample */
	bool run_clock;             /* sampling periods count the VM's CPU time, not wall time */
	uint64_t swap_rate;         /* pages per second per VM, swap-out */
	const char *swap_dir;
	uint64_t swap_bytes;        /* swap file capacity */
	const char *csv;            /* time-series file, or NULL */
};

/* What the policy knows of one VM after a period (pages unless named otherwise). */
struct memsched_snap {
	char name[40];
	bool running;
	uint64_t memsz, min, shares, granted, target;
	double active, active_fast, active_slow, active_last;
	uint64_t balloon, balloon_target, swapped, swap_target, shared, zero;
	double swap_in_rate, swap_out_rate;       /* pages per second over the period */
	uint64_t swap_ins, swap_outs, swap_write_errors, blocked_ms;
	double rho;
	double tau;                 /* the host's idle tax rate in that period */
	bool balloon_stalled;
};

struct memsched_vm_stats {
	uint64_t samples, sampled_pages, sample_touched;
	uint64_t swap_outs, swap_ins, swap_write_errors, swap_full, no_victim;
	uint64_t blocked_ms, reclaim_calls;
	uint64_t swap_out_ns, swap_in_ns;       /* vCPU-thread wall time in swap I/O paths */
};

struct memsched_vm {
	struct vm *vm;
	struct memsched *ms;        /* NULL: not managed (shade run) */
	_Atomic uint64_t min, shares;   /* pages, proportional shares (memsched__set_alloc) */
	/* At most this many pages: the VM's size less a balloon set by hand (--balloon,
	 * `shade ctl VM balloon`), which the policy's balloon targets never go below. */
	_Atomic uint64_t limit;
	/* set by the policy thread */
	_Atomic uint64_t target;
	_Atomic uint64_t swap_todo;   /* pages to swap out now (this period's share of it) */
	_Atomic bool block;
	/* published by the vCPU thread */
	_Atomic uint64_t active_ppm, fast_ppm, slow_ppm, last_ppm;
	/* the sampler (vCPU thread) */
	struct wss_est est;
	uint64_t sample[MS_SAMPLE_MAX];
	unsigned nsample;
	uint64_t period_end_ns;     /* on the sampling clock: wall or run time */
	/* the VM's run time: the CPU time its vCPU threads used, guest execution inside
	 * KVM_RUN included (summed by the ticks; read by the stats at the end) */
	_Atomic uint64_t run_ns;
	/* swapping (vCPU thread) */
	double tokens;
	uint64_t last_ns, rng;
	bool flush;
	bool warned_write;
	struct memsched_vm_stats st;
	/* policy-thread bookkeeping */
	uint64_t p_last_balloon, p_stall, p_last_ins, p_last_outs, p_balloon_target;
};

struct memsched {
	struct host *host;
	struct memsched_config cfg;  /* as started; tau below is the live rate */
	_Atomic double tau;
	bool on;
	struct swapfile swap;
	struct vm *vms;
	unsigned n;
	_Atomic int state;          /* enum mem_state */
	pthread_t thread;
	bool started;
	atomic_bool quit;
	FILE *csv;
	uint64_t t0_ns;
	/* the latest snapshot, under lock */
	pthread_mutex_t lock;
	struct memsched_snap *snap;
	uint64_t periods, state_periods[4], free_pages, total_pages;
	uint64_t t_ms;
};

/* The host side: the swap file and the config (before any VM); on failure `why` says
 * what could not be created. */
int memsched__host_init(struct memsched *ms, struct host *h, const struct memsched_config *cfg,
			char *why, size_t whylen);
void memsched__host_exit(struct memsched *ms);
/* Admission control: whether VMs with these sizes and mins fit (machine memory plus
 * what reclaiming can free); fills `why` with the reason when they do not. */
bool memsched__admit(const struct memsched *ms, uint64_t pool_pages, const uint64_t *max,
		     const uint64_t *min, unsigned n, const char *const *names, char *why,
		     size_t whylen);
/*
 * Run-time changes (the control socket), taking effect from the next period: the idle
 * tax rate (0 <= tau <= 0.99), and a VM's shares (> 0) and min (pages, at most its
 * size; UINT64_MAX keeps either). A new min must pass admission control with the other
 * VMs' mins. 0, or -EINVAL with `why` filled.
 */
int memsched__set_tau(struct memsched *ms, double tau, char *why, size_t whylen);
int memsched__set_alloc(struct memsched *ms, struct memsched_vm *v, uint64_t shares,
			uint64_t min, char *why, size_t whylen);
/* A balloon set by hand: the guest keeps at most `keep` pages (memsched__vm_init takes
 * --balloon as the first); the policy's balloon targets keep to it from its next
 * period (the caller requests the balloon itself at once). */
void memsched__set_limit(struct memsched_vm *v, uint64_t keep);
/* Start and stop the policy thread over the host's VMs. */
int memsched__start(struct memsched *ms, struct vm *vms, unsigned n);
void memsched__stop(struct memsched *ms);

/* Per VM (min in pages). A VM of a host without memsched is left alone. */
int memsched__vm_init(struct memsched_vm *v, struct vm *vm, struct memsched *ms,
		      uint64_t min, uint64_t shares);
/* At trap exits and while idle, on the vCPU thread. */
void memsched__tick(struct memsched_vm *v, struct vcpu *vcpu);
/* The VM's run time so far (ns). */
uint64_t memsched__run_ns(const struct memsched_vm *v);
/* How long an idle vCPU may sleep before the next tick is due (ns). */
uint64_t memsched__idle_slice(const struct memsched_vm *v);

/* Copy the latest snapshot (at most `max` VMs); the host numbers too. */
unsigned memsched__snapshot(struct memsched *ms, struct memsched_snap *out, unsigned max,
			    int *state, uint64_t *free_pages, uint64_t *total_pages);
void memsched__print_vm_stats(const struct memsched_vm *v, const char *who, FILE *f);
void memsched__print_host_stats(struct memsched *ms, FILE *f);
/* The CSV header and one row (shared by --csv and `shade top -b`). */
void memsched__csv_header(FILE *f);
void memsched__csv_row(FILE *f, uint64_t t_ms, const char *state, const struct memsched_snap *s);

#endif
