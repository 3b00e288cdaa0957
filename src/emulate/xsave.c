/*
 * xsave.c: XSETBV, XGETBV, XSAVE and XRSTOR for the model's XSAVE (x87 and SSE state,
 * XCR0 at most 3; no XSAVEOPT/XSAVEC/XSAVES). XSETBV always traps at real CPL > 0; the
 * others run natively at real CPL 3, but a backend that cannot interpret them at CPL 1
 * (this machine's: emulation failures) hands them over, and unicorn cannot run them
 * with the guest's FPU state. So they are emulated against the real vCPU's state,
 * which KVM_GET_XSAVE gives in the standard XSAVE format: the instruction copies the
 * requested components between that image and guest memory (SDM vol. 1 13.4-13.8,
 * vol. 2 XSAVE, XRSTOR; the legacy region's layout is FXSAVE's).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "emu_internal.h"

#define XCR0_MODEL 3ULL               /* x87 | SSE */
#define XSAVE_HDR 512
#define XSAVE_SIZE 576                /* legacy region + header */

/* The guest's XCR0: the zeroed state of a reset vCPU reads as its power-on 1 (x87). */
static uint64_t xcr0(const struct vcpu *vcpu) { return vcpu->v.xcr0 | 1; }

static int set_real_xcr0(struct vcpu *vcpu, uint64_t v)
{
	struct kvm_xcrs x;
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = v;
	return ioctl(vcpu->fd, KVM_SET_XCRS, &x) ? -errno : 0;
}

/* The bytes of the legacy region component `bit` owns, as [start, end) pairs. */
static void copy_component(uint8_t *dst, const uint8_t *src, unsigned bit, unsigned nxmm)
{
	if (bit == 0) {
		memcpy(dst, src, 24);                     /* FCW .. FDP */
		memcpy(dst + 32, src + 32, 128);          /* ST0-ST7 */
	} else {
		memcpy(dst + 160, src + 160, 16 * nxmm);  /* XMM0-7 (15) */
	}
}

static int xsave_addr(struct vcpu *vcpu, const struct insn *in, uint64_t *lin, struct xfault *xf)
{
	enum seg_reg s;
	uint64_t off;
	op_mem_addr(vcpu, in, &in->x->operands[0], &s, &off);
	int r = gmem__seg_linear(vcpu, s, off, XSAVE_SIZE, ACC_READ, lin, xf);
	if (r)
		return r;
	return (*lin & 63) ? gp0(xf) : 0;
}

static int emu_xsave_xrstor(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	bool save = in->ci->id == X86_INS_XSAVE || in->ci->id == X86_INS_XSAVE64;
	unsigned nxmm = gs_64bit(g) ? 16 : 8;
	uint64_t rfbm = xcr0(vcpu) & ((uint32_t)g->gpr[R_AX] | (g->gpr[R_DX] << 32));
	struct kvm_xsave ks;
	uint8_t mem[XSAVE_SIZE];
	uint64_t lin;
	int r;

	if (vcpu->v.cr0 & CR0_TS)
		return xfault_set(xf, X86_NM, false, 0);
	if ((r = xsave_addr(vcpu, in, &lin, xf)))
		return r;
	if ((r = gmem__read_linear(vcpu, lin, mem, XSAVE_SIZE, ACC_READ, xf)))
		return r;
	if (ioctl(vcpu->fd, KVM_GET_XSAVE, &ks))
		return -errno;
	uint8_t *img = (uint8_t *)ks.region;
	uint64_t img_bv, mem_bv, comp;
	memcpy(&img_bv, img + XSAVE_HDR, 8);
	memcpy(&mem_bv, mem + XSAVE_HDR, 8);
	memcpy(&comp, mem + XSAVE_HDR + 8, 8);
	vcpu->stats.emulated[EMU_OTHER]++;
	if (save) {
		for (unsigned b = 0; b < 2; b++)
			if (rfbm & (1ULL << b))
				copy_component(mem, img, b, nxmm);
		if (rfbm & 2)
			memcpy(mem + 24, img + 24, 8);     /* MXCSR, MXCSR_MASK */
		mem_bv = (mem_bv & ~rfbm) | (img_bv & rfbm);
		memcpy(mem + XSAVE_HDR, &mem_bv, 8);
		if ((r = gmem__write_linear(vcpu, lin, mem, XSAVE_SIZE, ACC_WRITE, xf)))
			return r;
	} else {
		uint8_t zero[40] = { 0 };
		uint32_t mxcsr, mask;
		memcpy(&mxcsr, mem + 24, 4);
		memcpy(&mask, img + 28, 4);
		/* The header: no compacted form, nothing beyond XCR0, bytes 8-63 zero. */
		if ((mem_bv & ~xcr0(vcpu)) || comp || memcmp(mem + XSAVE_HDR + 16, zero, 40))
			return gp0(xf);
		if ((rfbm & 2) && (mxcsr & ~(mask ? mask : 0xffbf)))
			return gp0(xf);
		for (unsigned b = 0; b < 2; b++) {
			if (!(rfbm & (1ULL << b)))
				continue;
			if (mem_bv & (1ULL << b)) {
				copy_component(img, mem, b, nxmm);
			} else {                            /* the component's initial state */
				uint8_t init[XSAVE_SIZE] = { 0 };
				if (b == 0)
					init[0] = 0x7f, init[1] = 0x03;    /* FCW 0x037f */
				copy_component(img, init, b, nxmm);
			}
		}
		if (rfbm & 2)
			memcpy(img + 24, mem + 24, 4);      /* MXCSR */
		img_bv = (img_bv & ~rfbm) | (mem_bv & rfbm);
		memcpy(img + XSAVE_HDR, &img_bv, 8);
		if (ioctl(vcpu->fd, KVM_SET_XSAVE, &ks))
			return -errno;
	}
	advance(vcpu, in);
	return 0;
}

int emu_xsave(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	uint32_t ecx = (uint32_t)g->gpr[R_CX];

	if (!(vcpu->v.cr4 & CR4_OSXSAVE))
		return xfault_set(xf, X86_UD, false, 0);
	switch (in->ci->id) {
	case X86_INS_XGETBV:
		if (ecx != 0)
			return gp0(xf);                 /* no XGETBV with ECX=1 in the model */
		vcpu->stats.emulated[EMU_OTHER]++;
		g->gpr[R_AX] = (uint32_t)xcr0(vcpu);
		g->gpr[R_DX] = xcr0(vcpu) >> 32;
		g->gpr_dirty = true;
		advance(vcpu, in);
		return 0;
	case X86_INS_XSETBV: {
		uint64_t v = (uint32_t)g->gpr[R_AX] | (g->gpr[R_DX] << 32);
		if (g->cpl != 0 || ecx != 0 || !(v & 1) || (v & ~XCR0_MODEL))
			return gp0(xf);
		vcpu->stats.emulated[EMU_OTHER]++;
		int r = set_real_xcr0(vcpu, v);
		if (r)
			return r;
		vcpu->v.xcr0 = v;
		advance(vcpu, in);
		return 0;
	}
	default:
		return emu_xsave_xrstor(vcpu, in, xf);
	}
}
