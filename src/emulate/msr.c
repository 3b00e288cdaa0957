/*
 * msr.c: RDMSR/WRMSR, RDTSC/RDTSCP and CPUID.
 *
 * MSRs a kernel uses are virtualized one by one: some live only in struct vmsrs (the
 * SYSCALL/SYSENTER targets, which the monitor owns on the real CPU), some are passed
 * through to KVM after checks (PAT, TSC, TSC_AUX, FS/GS base); the rest of what the
 * advertised CPU has (machine check, MTRRs, counters, vendor configuration) is in
 * msr_model.c, and anything else raises #GP(0) as on a CPU that does not implement it.
 */
#include <errno.h>

#include "cpuid.h"
#include "devices.h"
#include "emu_internal.h"
#include "lapic.h"
#include "paging.h"

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_BIOS_SIGN_ID 0x8b
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT 0x277
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103

static bool canonical(uint64_t a) { return ((int64_t)(a << 16) >> 16) == (int64_t)a; }

static bool pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (pat >> (i * 8)) & 0xff;
		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

static bool cpuid_has(struct vcpu *vcpu, uint32_t leaf, unsigned reg, unsigned bit)
{
	return cpuid__has(&vcpu->vm->cpuid, leaf, reg, bit);
}

/* IA32_FEATURE_CONTROL is Intel's (VMX): an AMD CPU does not have it. */
static bool intel_only(struct vcpu *vcpu, uint32_t idx)
{
	return idx == MSR_FEATURE_CONTROL &&
	       cpuid__is_amd(&vcpu->vm->cpuid);
}

/* 0, or 1 with #GP(0) in xf. */
static int msr_read(struct vcpu *vcpu, uint32_t idx, uint64_t *val, struct xfault *xf)
{
	struct vmsrs *m = &vcpu->v.msr;
	struct lapic *apic = devices__lapic(vcpu->vm);
	if (apic && lapic__owns_msr(idx))     /* APIC_BASE, TSC_DEADLINE, x2APIC */
		return lapic__msr_read(apic, idx, val) ? gp0(xf) : 0;
	if (intel_only(vcpu, idx))
		return gp0(xf);
	switch (idx) {
	case MSR_TSC:
		return kvm__get_msr(vcpu->fd, MSR_TSC, val) ? gp0(xf) : 0;
	case MSR_APIC_BASE: *val = m->apic_base; return 0;
	case MSR_FEATURE_CONTROL: *val = 1; return 0;     /* locked, VMX off */
	case MSR_BIOS_SIGN_ID: *val = 0; return 0;
	case MSR_SYSENTER_CS: *val = m->sysenter_cs; return 0;
	case MSR_SYSENTER_ESP: *val = m->sysenter_esp; return 0;
	case MSR_SYSENTER_EIP: *val = m->sysenter_eip; return 0;
	case MSR_PAT: *val = m->pat; return 0;
	case MSR_EFER: *val = vcpu->v.efer; return 0;
	case MSR_STAR: *val = m->star; return 0;
	case MSR_LSTAR: *val = m->lstar; return 0;
	case MSR_CSTAR: *val = m->cstar; return 0;
	case MSR_FMASK: *val = m->fmask; return 0;
	case MSR_FS_BASE: *val = vcpu->g.seg[S_FS].base; return 0;
	case MSR_GS_BASE: *val = vcpu->g.seg[S_GS].base; return 0;
	case MSR_KERNEL_GS_BASE: *val = m->kernel_gs_base; return 0;
	case MSR_TSC_AUX:
		if (!cpuid_has(vcpu, 0x80000001, 3, 27))
			return gp0(xf);
		*val = m->tsc_aux;
		return 0;
	default:
		return msr_model__read(vcpu, idx, val) ? gp0(xf) : 0;
	}
}

static int msr_write(struct vcpu *vcpu, uint32_t idx, uint64_t val, struct xfault *xf)
{
	struct vmsrs *m = &vcpu->v.msr;
	struct lapic *apic = devices__lapic(vcpu->vm);
	if (apic && lapic__owns_msr(idx))
		return lapic__msr_write(apic, idx, val) ? gp0(xf) : 0;
	if (intel_only(vcpu, idx))
		return gp0(xf);
	switch (idx) {
	case MSR_TSC:
		return kvm__set_msr(vcpu->fd, MSR_TSC, val) ? gp0(xf) : 0;
	case MSR_APIC_BASE:
		if (val & 0xfffffff0000006ffULL)
			return gp0(xf);
		m->apic_base = val;
		return 0;
	case MSR_BIOS_SIGN_ID: return 0;
	case MSR_SYSENTER_CS: m->sysenter_cs = val & 0xffff; return 0;
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		if (!canonical(val))
			return gp0(xf);
		*(idx == MSR_SYSENTER_ESP ? &m->sysenter_esp : &m->sysenter_eip) = val;
		return 0;
	case MSR_PAT:
		if (!pat_valid(val))
			return gp0(xf);
		if (kvm__set_msr(vcpu->fd, MSR_PAT, val))
			return gp0(xf);
		m->pat = val;
		return 0;
	case MSR_EFER: {
		uint64_t ok = EFER_SCE | EFER_LME | EFER_NXE;
		if (val & ~(ok | EFER_LMA))
			return gp0(xf);
		if ((val & EFER_NXE) && !cpuid_has(vcpu, 0x80000001, 3, 20))
			return gp0(xf);
		/* LME cannot change while paging is on; LMA is read-only. */
		if ((vcpu->v.cr0 & CR0_PG) && ((val ^ vcpu->v.efer) & EFER_LME))
			return gp0(xf);
		uint64_t old = vcpu->v.efer;
		vcpu->v.efer = (val & ok) | (vcpu->v.efer & EFER_LMA);
		vcpu__sync_control_regs(vcpu);
		if ((vcpu->v.cr0 & CR0_PG) && ((old ^ vcpu->v.efer) & EFER_NXE)) {
			int r = paging__update(vcpu, false, xf);
			if (r)
				return r;
		}
		return 0;
	}
	case MSR_STAR:
		/* The real STAR follows the guest's: a backend that runs SYSRET natively
		 * then loads the guest's user selectors. */
		if (kvm__set_msr(vcpu->fd, MSR_STAR, val))
			return gp0(xf);
		m->star = val;
		return 0;
	case MSR_LSTAR:
	case MSR_CSTAR:
		if (!canonical(val))
			return gp0(xf);
		*(idx == MSR_LSTAR ? &m->lstar : &m->cstar) = val;
		return 0;
	case MSR_FMASK: m->fmask = val & 0xffffffffULL; return 0;
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		if (!canonical(val))
			return gp0(xf);
		vcpu->g.seg[idx == MSR_FS_BASE ? S_FS : S_GS].base = val;
		vcpu->g.seg_dirty = true;
		return 0;
	case MSR_KERNEL_GS_BASE:
		if (!canonical(val))
			return gp0(xf);
		m->kernel_gs_base = val;
		return 0;
	case MSR_TSC_AUX:
		if (!cpuid_has(vcpu, 0x80000001, 3, 27) || (val >> 32))
			return gp0(xf);
		if (kvm__set_msr(vcpu->fd, MSR_TSC_AUX, val))
			return gp0(xf);
		m->tsc_aux = val;
		return 0;
	case MSR_FEATURE_CONTROL:
		return gp0(xf);                       /* locked */
	default:
		return msr_model__write(vcpu, idx, val) ? gp0(xf) : 0;
	}
}

int msr__read(struct vcpu *vcpu, uint32_t idx, uint64_t *val)
{
	struct xfault xf;
	return msr_read(vcpu, idx, val, &xf);
}

int msr__write(struct vcpu *vcpu, uint32_t idx, uint64_t val)
{
	struct xfault xf;
	return msr_write(vcpu, idx, val, &xf);
}

int emu_msr(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	uint32_t idx = (uint32_t)g->gpr[R_CX];
	uint64_t val;
	int r;

	if (g->cpl != 0)
		return gp0(xf);
	if (in->ci->id == X86_INS_RDMSR) {
		vcpu->stats.emulated[EMU_RDMSR]++;
		if ((r = msr_read(vcpu, idx, &val, xf)))
			return r;
		g->gpr[R_AX] = (uint32_t)val;
		g->gpr[R_DX] = val >> 32;
	} else {
		vcpu->stats.emulated[EMU_WRMSR]++;
		val = (uint32_t)g->gpr[R_AX] | (g->gpr[R_DX] << 32);
		if ((r = msr_write(vcpu, idx, val, xf)))
			return r;
	}
	advance(vcpu, in);
	return 0;
}

/*
 * RDPMC: the model's counters (msr_model.c), which keep what was written. Ring 0, or
 * any ring with CR4.PCE; an index beyond the vendor's counters is #GP(0). The real
 * CR4.PCE is always clear, so every RDPMC traps to here.
 */
int emu_rdpmc(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	uint64_t val;

	if (g->cpl != 0 && !(vcpu->v.cr4 & CR4_PCE))
		return gp0(xf);
	if (msr_model__rdpmc(vcpu, (uint32_t)g->gpr[R_CX], &val))
		return gp0(xf);
	vcpu->stats.emulated[EMU_OTHER]++;
	g->gpr[R_AX] = (uint32_t)val;
	g->gpr[R_DX] = val >> 32;
	advance(vcpu, in);
	return 0;
}

int emu_tsc(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	bool p = in->ci->id == X86_INS_RDTSCP;
	uint64_t tsc;

	if (p && !cpuid_has(vcpu, 0x80000001, 3, 27))
		return xfault_set(xf, X86_UD, false, 0);
	if ((vcpu->v.cr4 & CR4_TSD) && g->cpl != 0)
		return gp0(xf);
	vcpu->stats.emulated[p ? EMU_RDTSCP : EMU_RDTSC]++;
	if (kvm__get_msr(vcpu->fd, MSR_TSC, &tsc))
		return -EIO;
	g->gpr[R_AX] = (uint32_t)tsc;
	g->gpr[R_DX] = tsc >> 32;
	if (p)
		g->gpr[R_CX] = (uint32_t)vcpu->v.msr.tsc_aux;
	advance(vcpu, in);
	return 0;
}

int emu_cpuid(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	uint32_t out[4];
	(void)xf;

	vcpu->stats.emulated[EMU_CPUID]++;
	cpuid__lookup(&vcpu->vm->cpuid, (uint32_t)g->gpr[R_AX], (uint32_t)g->gpr[R_CX], out);
	if ((uint32_t)g->gpr[R_AX] == 1) {
		out[1] = (out[1] & 0x00ffffffu) | (vcpu->id << 24);
		if (vcpu->v.cr4 & CR4_OSXSAVE)
			out[2] |= BIT(27);            /* OSXSAVE mirrors CR4 */
	}
	/* IA32_MISC_ENABLE's "limit CPUID maxval" (bit 22) caps leaf 0 at 2. */
	if ((uint32_t)g->gpr[R_AX] == 0 && (vcpu->v.msr.misc_enable & BIT(22)) && out[0] > 2)
		out[0] = 2;
	/* CPUID.1:EDX.APIC (and AMD's mirror) follows IA32_APIC_BASE.EN. */
	struct lapic *apic = devices__lapic(vcpu->vm);
	uint32_t leaf = (uint32_t)g->gpr[R_AX];
	if (apic && !lapic__hw_enabled(apic) && (leaf == 1 || leaf == 0x80000001))
		out[3] &= ~(uint32_t)BIT(9);
	g->gpr[R_AX] = out[0];
	g->gpr[R_BX] = out[1];
	g->gpr[R_CX] = out[2];
	g->gpr[R_DX] = out[3];
	advance(vcpu, in);
	return 0;
}
