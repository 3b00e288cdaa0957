/*
 * msr_model.c: the MSRs the advertised CPU architecturally has besides the ones a kernel
 * programs for its entry points (those are in msr.c): machine-check architecture, MTRRs,
 * the performance counters of the model's vendor, IA32_MISC_ENABLE, and the vendor's
 * configuration MSRs that kernels read at start-up. MISC_ENABLE is Intel's, but KVM and
 * QEMU give it to AMD models too and guests written against them (kvm-unit-tests' msr
 * test) read it whatever the vendor, so the model has it for both. All are kept in struct vmsrs and touch nothing real:
 * no machine check is ever reported, memory types do not change how shade maps guest
 * memory, and the counters keep what is written but do not count. Reserved bits and
 * invalid values raise #GP(0) as on hardware (SDM vol. 3 15.3 and 11.11, APM vol. 2
 * 9.3 and 13.2; where the vendors differ, the model's vendor decides).
 */
#include "cpuid.h"
#include "emu_internal.h"

#define MSR_MTRRCAP 0xfe
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MISC_ENABLE 0x1a0
#define MSR_PERFEVTSEL0 0x186           /* Intel: two general-purpose counters */
#define MSR_PMC0 0xc1
#define MSR_MTRR_PHYS 0x200
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_MC0_CTL 0x400
#define MSR_K7_EVNTSEL0 0xc0010000      /* AMD: the four legacy counters */
#define MSR_K7_PERFCTR0 0xc0010004
#define MSR_K8_SYSCFG 0xc0010010
#define MSR_K7_HWCR 0xc0010015
#define MSR_K8_NB_CFG 0xc001001f
#define MSR_VM_CR 0xc0010114
#define MSR_DE_CFG 0xc0011029

#define MCG_CTL_P BIT(8)
#define HWCR_MCSTATUSWREN BIT(18)
#define HWCR_TSCFREQSEL BIT(24)         /* read-only 1: the TSC runs at the P0 rate */
#define VM_CR_LOCK_SVMDIS 0x18          /* SVM disabled and locked (no SVM in the model) */
/* Reserved bits of the counters' event selects (what KVM's vPMUs check as well). */
#define AMD_EVNTSEL_RSVD 0xfffffff000280000ULL
#define INTEL_EVNTSEL_RSVD 0xffffffff00200000ULL
#define COUNTER_MASK ((1ULL << 48) - 1)
/*
 * IA32_MISC_ENABLE: fast strings (0), TCC (3), EIST (16), MONITOR FSM (18), limit
 * CPUID maxval (22, honoured by CPUID), xTPR disable (23), XD disable (34), turbo
 * disable (38) are kept; bits 7 (perfmon available), 11 and 12 (BTS and PEBS
 * unavailable: the model has no debug store) are read-only; the rest is reserved.
 */
#define MISC_ENABLE_RW (BIT(0) | BIT(3) | BIT(16) | BIT(18) | BIT(22) | BIT(23) | \
			BIT(34) | BIT(38))
#define MISC_ENABLE_RO (BIT(7) | BIT(11) | BIT(12))
#define MISC_ENABLE_RO_VAL (BIT(11) | BIT(12))

/* The fixed-range MTRRs in index order: 0x250, 0x258, 0x259, 0x268..0x26f. */
static int mtrr_fixed_slot(uint32_t idx)
{
	if (idx == 0x250)
		return 0;
	if (idx == 0x258 || idx == 0x259)
		return (int)(idx - 0x258) + 1;
	if (idx >= 0x268 && idx <= 0x26f)
		return (int)(idx - 0x268) + 3;
	return -1;
}

static bool mem_type_valid(unsigned t) { return t <= 1 || (t >= 4 && t <= 6); }

static uint64_t phys_addr_mask(struct vcpu *vcpu)
{
	uint32_t out[4];
	cpuid__lookup(&vcpu->vm->cpuid, 0x80000008, 0, out);
	unsigned bits = out[0] & 0xff;
	if (bits < 36 || bits > 52)
		bits = 36;
	return (1ULL << bits) - 1;
}

/* The vendor's counters: evtsel index i, or -1. */
static int perf_ctl_slot(struct vcpu *vcpu, uint32_t idx)
{
	if (cpuid__is_amd(&vcpu->vm->cpuid))
		return idx >= MSR_K7_EVNTSEL0 && idx < MSR_K7_EVNTSEL0 + 4 ? (int)(idx - MSR_K7_EVNTSEL0) : -1;
	return idx >= MSR_PERFEVTSEL0 && idx < MSR_PERFEVTSEL0 + 2 ? (int)(idx - MSR_PERFEVTSEL0) : -1;
}

static int perf_ctr_slot(struct vcpu *vcpu, uint32_t idx)
{
	if (cpuid__is_amd(&vcpu->vm->cpuid))
		return idx >= MSR_K7_PERFCTR0 && idx < MSR_K7_PERFCTR0 + 4 ? (int)(idx - MSR_K7_PERFCTR0) : -1;
	return idx >= MSR_PMC0 && idx < MSR_PMC0 + 2 ? (int)(idx - MSR_PMC0) : -1;
}

/*
 * MCG_CTL and the MCi_CTL registers power on as all ones; they are kept complemented
 * (mcg_ctl, mc_bank[4i]) so that the zeroed state of a reset vCPU reads that way.
 */
static uint64_t *mc_reg(struct vmsrs *m, uint32_t idx)
{
	return idx == MSR_MCG_CTL ? &m->mcg_ctl : &m->mc_bank[idx - MSR_MC0_CTL];
}

static bool mc_complemented(uint32_t idx)
{
	return idx == MSR_MCG_CTL || (idx >= MSR_MC0_CTL && (idx - MSR_MC0_CTL) % 4 == 0);
}

int msr_model__read(struct vcpu *vcpu, uint32_t idx, uint64_t *val)
{
	struct vmsrs *m = &vcpu->v.msr;
	bool amd = cpuid__is_amd(&vcpu->vm->cpuid);
	int k;

	if (cpuid__has(&vcpu->vm->cpuid, 1, 3, 12)) {          /* MTRR */
		if (idx == MSR_MTRRCAP) {
			*val = 0x508;              /* 8 variable ranges, fixed ranges, WC */
			return 0;
		}
		if (idx == MSR_MTRR_DEF_TYPE) {
			*val = m->mtrr_def_type;
			return 0;
		}
		if (idx >= MSR_MTRR_PHYS && idx < MSR_MTRR_PHYS + 16) {
			*val = m->mtrr_var[idx - MSR_MTRR_PHYS];
			return 0;
		}
		if ((k = mtrr_fixed_slot(idx)) >= 0) {
			*val = m->mtrr_fixed[k];
			return 0;
		}
	}
	if (cpuid__has(&vcpu->vm->cpuid, 1, 3, 14)) {          /* MCA */
		switch (idx) {
		case MSR_MCG_CAP: *val = MCG_CTL_P | MSR_MC_BANKS; return 0;
		case MSR_MCG_STATUS: *val = m->mcg_status; return 0;
		}
		if (idx == MSR_MCG_CTL || (idx >= MSR_MC0_CTL && idx < MSR_MC0_CTL + 4 * MSR_MC_BANKS)) {
			*val = *mc_reg(m, idx) ^ (mc_complemented(idx) ? ~0ULL : 0);
			return 0;
		}
	}
	if (idx == MSR_MISC_ENABLE) {
		*val = (m->misc_enable & MISC_ENABLE_RW) | MISC_ENABLE_RO_VAL;
		return 0;
	}
	if ((k = perf_ctl_slot(vcpu, idx)) >= 0) {
		*val = m->perf_ctl[k];
		return 0;
	}
	if ((k = perf_ctr_slot(vcpu, idx)) >= 0) {
		*val = m->perf_ctr[k];
		return 0;
	}
	if (!amd)
		return -1;
	switch (idx) {
	case MSR_K7_HWCR: *val = m->hwcr | HWCR_TSCFREQSEL; return 0;   /* reads 1 */
	case MSR_K8_SYSCFG: *val = m->syscfg; return 0;
	case MSR_K8_NB_CFG: *val = m->nb_cfg; return 0;
	case MSR_DE_CFG: *val = m->de_cfg; return 0;
	case MSR_VM_CR: *val = VM_CR_LOCK_SVMDIS; return 0;
	default: return -1;
	}
}

/* An MTRR write: 0, or 1 for #GP. */
static int mtrr_write(struct vcpu *vcpu, uint32_t idx, uint64_t val)
{
	struct vmsrs *m = &vcpu->v.msr;
	int k;

	if (idx == MSR_MTRR_DEF_TYPE) {
		if ((val & ~0xcffULL) || !mem_type_valid(val & 0xff))
			return 1;
		m->mtrr_def_type = val;
		return 0;
	}
	if ((k = mtrr_fixed_slot(idx)) >= 0) {
		for (unsigned i = 0; i < 8; i++)
			if (!mem_type_valid((val >> (i * 8)) & 0xff))
				return 1;
		m->mtrr_fixed[k] = val;
		return 0;
	}
	/* PHYSBASEn: type in 7:0, base in 12..MAXPHYADDR-1; PHYSMASKn: valid bit 11. */
	uint64_t addr = phys_addr_mask(vcpu) & ~0xfffULL;
	bool base = !((idx - MSR_MTRR_PHYS) & 1);
	if (base ? (val & ~(addr | 0xff)) || !mem_type_valid(val & 0xff)
		 : (val & ~(addr | BIT(11))))
		return 1;
	m->mtrr_var[idx - MSR_MTRR_PHYS] = val;
	return 0;
}

/* A machine-check MSR write (MCG_CAP is read-only). */
static int mca_write(struct vcpu *vcpu, uint32_t idx, uint64_t val)
{
	struct vmsrs *m = &vcpu->v.msr;

	switch (idx) {
	case MSR_MCG_CAP: return 1;
	case MSR_MCG_STATUS:
		if (val & ~7ULL)                        /* RIPV, EIPV, MCIP */
			return 1;
		m->mcg_status = val;
		return 0;
	case MSR_MCG_CTL:
		if (val != 0 && val != ~0ULL)
			return 1;
		m->mcg_ctl = ~val;
		return 0;
	}
	unsigned r = (idx - MSR_MC0_CTL) % 4;
	/* MCi_CTL: all or nothing (bit 10 may be clear: AMD's GART erratum, as KVM
	 * allows). MCi_STATUS: only 0, unless AMD's HWCR.McStatusWrEn. */
	if (r == 0 && val != 0 && (val | BIT(10)) != ~0ULL)
		return 1;
	if (r == 1 && val != 0 &&
	    !(cpuid__is_amd(&vcpu->vm->cpuid) && (m->hwcr & HWCR_MCSTATUSWREN)))
		return 1;
	*mc_reg(m, idx) = mc_complemented(idx) ? ~val : val;
	return 0;
}

int msr_model__write(struct vcpu *vcpu, uint32_t idx, uint64_t val)
{
	struct vmsrs *m = &vcpu->v.msr;
	bool amd = cpuid__is_amd(&vcpu->vm->cpuid);
	int k;

	if (cpuid__has(&vcpu->vm->cpuid, 1, 3, 12)) {
		if (idx == MSR_MTRRCAP)
			return 1;
		if (idx == MSR_MTRR_DEF_TYPE || mtrr_fixed_slot(idx) >= 0 ||
		    (idx >= MSR_MTRR_PHYS && idx < MSR_MTRR_PHYS + 16))
			return mtrr_write(vcpu, idx, val);
	}
	if (cpuid__has(&vcpu->vm->cpuid, 1, 3, 14) &&
	    (idx == MSR_MCG_CAP || idx == MSR_MCG_STATUS || idx == MSR_MCG_CTL ||
	     (idx >= MSR_MC0_CTL && idx < MSR_MC0_CTL + 4 * MSR_MC_BANKS)))
		return mca_write(vcpu, idx, val);
	if (idx == MSR_MISC_ENABLE) {
		/* Read-only bits ignore what is written (as KVM); reserved bits #GP. */
		if (val & ~(MISC_ENABLE_RW | MISC_ENABLE_RO))
			return 1;
		m->misc_enable = val & MISC_ENABLE_RW;
		return 0;
	}
	if ((k = perf_ctl_slot(vcpu, idx)) >= 0) {
		if (val & (amd ? AMD_EVNTSEL_RSVD : INTEL_EVNTSEL_RSVD))
			return 1;
		m->perf_ctl[k] = val;
		return 0;
	}
	if ((k = perf_ctr_slot(vcpu, idx)) >= 0) {
		/* AMD: 48 bits kept; Intel's legacy PMCs: bits 31:0 sign-extended. */
		m->perf_ctr[k] = (amd ? val : (uint64_t)(int64_t)(int32_t)val) & COUNTER_MASK;
		return 0;
	}
	if (!amd)
		return -1;
	switch (idx) {
	case MSR_K7_HWCR:
		if (val >> 32)
			return 1;
		m->hwcr = val | HWCR_TSCFREQSEL;
		return 0;
	case MSR_K8_SYSCFG:
		/* No SME/SEV in the model: only the MTRR controls (bits 17-21). */
		if (val & ~0x003e0000ULL)
			return 1;
		m->syscfg = val;
		return 0;
	case MSR_K8_NB_CFG: m->nb_cfg = val; return 0;
	case MSR_DE_CFG: m->de_cfg = val; return 0;
	case MSR_VM_CR:
		return (val & VM_CR_LOCK_SVMDIS) == VM_CR_LOCK_SVMDIS && !(val & ~0x1fULL) ? 0 : 1;
	default: return -1;
	}
}

int msr_model__rdpmc(struct vcpu *vcpu, uint32_t ecx, uint64_t *val)
{
	/* RDPMC's index is the counter number: the vendor's general-purpose counters. */
	unsigned n = cpuid__is_amd(&vcpu->vm->cpuid) ? 4 : 2;
	if (ecx >= n)
		return 1;
	*val = vcpu->v.msr.perf_ctr[ecx];
	return 0;
}
