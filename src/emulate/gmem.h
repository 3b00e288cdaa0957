/*
 * gmem.h: guest memory as the emulator sees it: segment checks (effective address to
 * linear), translation (linear to guest-physical: identity while the guest has paging
 * off; the guest page-table walker once it has paging on) and the access itself through
 * the pmap, or the MMIO bus for guest-physical addresses outside RAM.
 *
 * Every function returns 0 on success, 1 if the access faults architecturally (the fault
 * is in *xf, for the caller to reflect to the guest), or a negative errno for a VMM error.
 */
#ifndef SHADE_GMEM_H
#define SHADE_GMEM_H

#include "cpu.h"

struct vcpu;

struct xfault {
	uint8_t vector;
	bool has_err;
	uint32_t err;
	uint64_t cr2;
};

#define ACC_READ  0
#define ACC_WRITE 1
#define ACC_FETCH 2
#define ACC_SUPERVISOR 4      /* implicit supervisor access (descriptor tables, TSS) */

static inline int xfault_set(struct xfault *xf, unsigned vec, bool has_err, uint32_t err)
{
	xf->vector = (uint8_t)vec;
	xf->has_err = has_err;
	xf->err = err;
	xf->cr2 = 0;
	return 1;
}

int gmem__seg_linear(struct vcpu *vcpu, enum seg_reg seg, uint64_t off, unsigned len,
		     unsigned acc, uint64_t *lin, struct xfault *xf);
int gmem__read_linear(struct vcpu *vcpu, uint64_t lin, void *buf, unsigned len,
		      unsigned acc, struct xfault *xf);
int gmem__write_linear(struct vcpu *vcpu, uint64_t lin, const void *buf, unsigned len,
		       unsigned acc, struct xfault *xf);
/* Segment-relative helpers: seg:off with full segment and paging checks. */
int gmem__read_seg(struct vcpu *vcpu, enum seg_reg seg, uint64_t off, void *buf,
		   unsigned len, struct xfault *xf);
int gmem__write_seg(struct vcpu *vcpu, enum seg_reg seg, uint64_t off, const void *buf,
		    unsigned len, struct xfault *xf);

/* Mask an address to the current address size (16/32/64). */
uint64_t gmem__addr_mask(const struct vcpu *vcpu);

#endif
