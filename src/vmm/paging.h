/*
 * paging.h: guest paging as the vCPU sees it: which walk environment the virtual
 * CR0/CR3/CR4/EFER describe, which real root the vCPU runs on, and what a page fault
 * means. The shadow MMU (src/shadow_pt/mmu.c) owns the real tables; the walker
 * (src/shadow_pt/walk.c) reads the guest's.
 */
#ifndef SHADE_PAGING_H
#define SHADE_PAGING_H

#include "gmem.h"
#include "walk.h"

struct vcpu;

/* The walk environment for the vCPU's current virtual control registers. */
void paging__env(struct vcpu *vcpu, struct walk_env *env);
/* Guest memory for the walker (reads and A/D updates through the pmap). */
extern const struct walk_mem paging_walk_mem_ops;
struct walk_mem paging__walk_mem(struct vcpu *vcpu);

/*
 * The guest changed CR0.PG/WP, CR3, CR4.PSE/PAE/PGE or EFER.NXE: drop what that
 * invalidates and point the real CR3 at the right root. `cr3_only` for a plain MOV CR3.
 * Returns 0, 1 with #GP(0) in *xf (bad PAE PDPTEs), or a negative errno.
 */
int paging__update(struct vcpu *vcpu, bool cr3_only, struct xfault *xf);

/* A #PF from the guest with paging on: fill (hidden), emulate a traced write, or
 * reflect the guest's own fault. */
void paging__page_fault(struct vcpu *vcpu, uint64_t cr2, uint32_t err);

/* Linear -> guest-physical for the emulator (identity with paging off). */
int paging__translate(struct vcpu *vcpu, uint64_t lin, unsigned acc, gpa_t *gpa,
		      struct xfault *xf);

/* After any shadow change: turn the MMU's "a present entry was downgraded" into a
 * TLB flush before the guest runs again. */
void paging__sync_flush(struct vcpu *vcpu);
/* The same after an operation on one address (the audit checks that address's path,
 * and everything every MMU_AUDIT_FULL_EVERY operations); va -1: a full audit. */
void paging__sync_flush_va(struct vcpu *vcpu, uint64_t va);
/* After a batch of vm__unmap_gfn calls that revoked present mappings (page sharing,
 * sampling, swapping): the audit, and one full TLB flush before the guest runs again. */
void paging__flush_unmapped(struct vcpu *vcpu);

#endif
