/*
 * pageshare.h: content-based page sharing with copy-on-write, as in ESX (OSDI 2002,
 * section 4): each VM's pages are visited in random order at a bounded rate, hashed
 * (xxHash XXH3, 64 bits), and looked up in the host's share table (share_table.h); a
 * match is confirmed by a full compare before two pages share one machine frame,
 * mapped read-only; a write gets a private copy. The zero page is one shared frame.
 *
 * Every change to a VM's pmap and shadows is made on that VM's own vCPU thread (the
 * scan runs at its exits and while it idles in HLT), so no VM ever edits another's
 * mappings. When VM B's page matches a hint left by VM A, B turns its own page into a
 * shared frame and asks A (through A's rescan queue) to look at A's page again soon:
 * A then finds the frame, compares, and merges itself.
 */
#ifndef SHADE_PAGESHARE_H
#define SHADE_PAGESHARE_H

#include <stdio.h>

#include "share_table.h"

struct pool;
struct vm;
struct vcpu;

struct share_vm_stats {
	uint64_t scanned, skipped, merged, zero_merged, hints_added, promoted, cow_breaks,
		 cow_copies, collisions, stale_hints, requeued;
	uint64_t scan_cpu_ns;           /* vCPU-thread CPU time spent scanning and merging */
	uint64_t cow_cpu_ns;            /* ... and breaking sharing on writes */
};

#define SHARE_QUEUE 256

struct share_vm {
	struct vm *vm;
	struct share_table *t;
	uint64_t rate;                  /* pages per second, 0: sharing off */
	double tokens;
	uint64_t last_ns;
	/* random order: x -> (a * x + c) mod 2^k over [0, 2^k), skipping x >= nframes */
	uint64_t lcg_a, lcg_c, lcg_x, lcg_mask, lcg_left, rng;
	/* pages other VMs asked us to rescan (a hint of ours matched); under t->lock */
	uint64_t queue[SHARE_QUEUE];
	unsigned qhead, qtail;
	bool flush;                     /* a present mapping was revoked in this batch */
	struct share_vm_stats st;
};

/* The host side: the table and its zero frame. */
int pageshare__host_init(struct share_table *t, struct pool *pool);
void pageshare__host_exit(struct share_table *t, struct pool *pool);

/* Per VM: `rate` pages per second (0 leaves sharing off for this VM). */
int pageshare__vm_init(struct share_vm *s, struct vm *vm, struct share_table *t,
		       uint64_t rate, uint64_t seed);
/* After pmap__exit: the VM's hints and queue go. */
void pageshare__vm_exit(struct share_vm *s);

/* Scan what the rate allows since the last call (on the vCPU thread, guest stopped). */
void pageshare__tick(struct share_vm *s, struct vcpu *vcpu);
/* How long the vCPU may sleep in HLT before the scanner wants to run again (ns). */
uint64_t pageshare__idle_slice(const struct share_vm *s);
/* Scan one page now (tests, and the tick). */
void pageshare__scan_page(struct share_vm *s, gfn_t g);

void pageshare__print_vm_stats(const struct share_vm *s, const char *who, FILE *f);
void pageshare__print_host_stats(struct share_table *t, FILE *f);

#endif
