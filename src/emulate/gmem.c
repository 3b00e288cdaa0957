/*
 * gmem.c: segmentation, translation and access for emulated guest memory operations.
 *
 * Segment checks follow the SDM (vol. 3, 5.3 "Limit checking" and 5.7 "Type checking"):
 * in 64-bit mode only FS/GS bases apply and addresses must be canonical; in legacy and
 * compatibility mode limits (including expand-down) and read/write rights are checked and
 * linear addresses wrap at 4 GiB.
 */
#include <errno.h>
#include <string.h>

#include "bus.h"
#include "gmem.h"
#include "paging.h"
#include "seg.h"
#include "vcpu.h"

uint64_t gmem__addr_mask(const struct vcpu *vcpu)
{
	const struct gstate *g = &vcpu->g;
	if (gs_64bit(g))
		return UINT64_MAX;
	return gs_32bit(g) ? 0xffffffffULL : 0xffffULL;
}

static bool canonical(uint64_t a)
{
	return ((int64_t)(a << 16) >> 16) == (int64_t)a;
}

int gmem__seg_linear(struct vcpu *vcpu, enum seg_reg seg, uint64_t off, unsigned len,
		     unsigned acc, uint64_t *lin, struct xfault *xf)
{
	const struct kvm_segment *s = &vcpu->g.seg[seg];
	unsigned fault_vec = seg == S_SS ? X86_SS : X86_GP;

	if (gs_64bit(&vcpu->g)) {
		uint64_t a = off + ((seg == S_FS || seg == S_GS) ? s->base : 0);
		if (!canonical(a) || !canonical(a + len - 1))
			return xfault_set(xf, fault_vec, true, 0);
		*lin = a;
		return 0;
	}
	if (s->unusable || !s->present)
		return xfault_set(xf, fault_vec, true, 0);
	bool code = s->type & 8;
	if ((acc & 3) == ACC_WRITE && (code || !(s->type & 2)))
		return xfault_set(xf, fault_vec, true, 0);
	if ((acc & 3) == ACC_READ && code && !(s->type & 2))
		return xfault_set(xf, fault_vec, true, 0);
	uint64_t last = off + len - 1;
	if (!code && (s->type & 4)) {
		/* expand-down: valid offsets are (limit, top] */
		uint64_t top = s->db ? 0xffffffffULL : 0xffffULL;
		if (off <= s->limit || last > top)
			return xfault_set(xf, fault_vec, true, 0);
	} else if (last > s->limit) {
		return xfault_set(xf, fault_vec, true, 0);
	}
	*lin = (s->base + off) & 0xffffffffULL;
	return 0;
}

static int translate(struct vcpu *vcpu, uint64_t lin, unsigned acc, gpa_t *gpa,
		     struct xfault *xf)
{
	return paging__translate(vcpu, lin, acc, gpa, xf);
}

static int access_phys(struct vcpu *vcpu, gpa_t gpa, void *buf, unsigned len, bool write)
{
	struct vm *vm = vcpu->vm;
	if (pmap__in_ram(&vm->pmap, gpa_to_gfn(gpa))) {
		int err = 0;
		void *h = pmap__host_ptr(&vm->pmap, gpa, len, write, &err);
		if (!h)
			return err;
		if (write)
			memcpy(h, buf, len);
		else
			memcpy(buf, h, len);
		return 0;
	}
	/* Nothing there: writes vanish and reads give zeros, as QEMU TCG treats unassigned
	 * memory (the device bus's all-ones is for I/O ports and claimed ranges). */
	int r = bus__access(&vm->mmio, gpa.v, buf, len, write);
	if (r == 1 && !write)
		memset(buf, 0, len);
	return r < 0 ? r : 0;
}

static int access_linear(struct vcpu *vcpu, uint64_t lin, void *buf, unsigned len,
			 unsigned acc, struct xfault *xf, bool write)
{
	uint8_t *b = buf;
	while (len) {
		unsigned chunk = (unsigned)MIN((uint64_t)len, PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
		gpa_t gpa;
		int r = translate(vcpu, lin, acc, &gpa, xf);
		if (r)
			return r;
		r = access_phys(vcpu, gpa, b, chunk, write);
		if (r)
			return r;
		if (write && pmap__traced(&vcpu->vm->pmap, gpa_to_gfn(gpa))) {
			seg__guest_wrote(vcpu, lin, chunk);
			if (vcpu->v.cr0 & CR0_PG)
				mmu__guest_wrote(&vcpu->vm->mmu, gpa, chunk);
		}
		b += chunk;
		lin += chunk;
		if (!gs_64bit(&vcpu->g))
			lin &= 0xffffffffULL;
		len -= chunk;
	}
	return 0;
}

int gmem__read_linear(struct vcpu *vcpu, uint64_t lin, void *buf, unsigned len,
		      unsigned acc, struct xfault *xf)
{
	return access_linear(vcpu, lin, buf, len, acc, xf, false);
}

int gmem__write_linear(struct vcpu *vcpu, uint64_t lin, const void *buf, unsigned len,
		       unsigned acc, struct xfault *xf)
{
	return access_linear(vcpu, lin, (void *)buf, len, acc | ACC_WRITE, xf, true);
}

int gmem__read_seg(struct vcpu *vcpu, enum seg_reg seg, uint64_t off, void *buf,
		   unsigned len, struct xfault *xf)
{
	uint64_t lin;
	int r = gmem__seg_linear(vcpu, seg, off, len, ACC_READ, &lin, xf);
	return r ? r : gmem__read_linear(vcpu, lin, buf, len, ACC_READ, xf);
}

int gmem__write_seg(struct vcpu *vcpu, enum seg_reg seg, uint64_t off, const void *buf,
		    unsigned len, struct xfault *xf)
{
	uint64_t lin;
	int r = gmem__seg_linear(vcpu, seg, off, len, ACC_WRITE, &lin, xf);
	return r ? r : gmem__write_linear(vcpu, lin, buf, len, ACC_WRITE, xf);
}
