/*
 * cpu.h: the virtual CPU as the guest believes it is, and the guest register state of one
 * exit as the emulator sees it.
 *
 * struct vcpu_virt is what the guest programmed (its CR0/CR3/CR4/EFER, descriptor-table
 * registers, MSRs, virtual CPL). The real vCPU runs with different values (long mode,
 * the monitor's IDT, the shadow CR3); the emulator and the exit path translate.
 *
 * struct gstate is the guest's register file at the instruction that trapped, loaded
 * from wherever the exit left it (the monitor's stack frame, or KVM's sync registers)
 * and written back once, marking only what changed.
 */
#ifndef SHADE_CPU_H
#define SHADE_CPU_H

#include <linux/kvm.h>

#include "types.h"

/* CR0 */
#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)
/* CR4 */
#define CR4_VME BIT(0)
#define CR4_PVI BIT(1)
#define CR4_TSD BIT(2)
#define CR4_DE BIT(3)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_MCE BIT(6)
#define CR4_PGE BIT(7)
#define CR4_PCE BIT(8)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_UMIP BIT(11)
#define CR4_FSGSBASE BIT(16)
#define CR4_PCIDE BIT(17)
#define CR4_OSXSAVE BIT(18)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
/* EFER */
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
/* RFLAGS */
#define RFL_CF BIT(0)
#define RFL_FIXED BIT(1)
#define RFL_PF BIT(2)
#define RFL_AF BIT(4)
#define RFL_ZF BIT(6)
#define RFL_SF BIT(7)
#define RFL_TF BIT(8)
#define RFL_IF BIT(9)
#define RFL_DF BIT(10)
#define RFL_OF BIT(11)
#define RFL_IOPL (3ULL << 12)
#define RFL_IOPL_SHIFT 12
#define RFL_NT BIT(14)
#define RFL_RF BIT(16)
#define RFL_VM BIT(17)
#define RFL_AC BIT(18)
#define RFL_VIF BIT(19)
#define RFL_VIP BIT(20)
#define RFL_ID BIT(21)

/* Exception vectors */
enum {
	X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4, X86_BR = 5, X86_UD = 6,
	X86_NM = 7, X86_DF = 8, X86_TS = 10, X86_NP = 11, X86_SS = 12, X86_GP = 13,
	X86_PF = 14, X86_MF = 16, X86_AC = 17, X86_MC = 18, X86_XM = 19,
};

/* GPR indices, in the x86 encoding order. */
enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI, R_8, R_9, R_10, R_11, R_12, R_13,
       R_14, R_15 };

enum seg_reg { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR, S_COUNT };

struct dtr {
	uint64_t base;
	uint16_t limit;
};

#define MSR_MC_BANKS 4               /* machine-check banks of the model (MCG_CAP) */

/* The MSRs shade virtualizes (see src/emulate/msr.c for each one's treatment). */
struct vmsrs {
	uint64_t star, lstar, cstar, fmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t pat, apic_base, tsc_aux, misc_enable;
	uint64_t mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
	/* msr_model.c: machine check, counters that do not count, vendor configuration */
	uint64_t mcg_status, mcg_ctl, mc_bank[MSR_MC_BANKS * 4];   /* CTLs complemented */
	uint64_t perf_ctl[4], perf_ctr[4];
	uint64_t hwcr, syscfg, nb_cfg, de_cfg;
};

struct vcpu_virt {
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, xcr0;
	uint64_t dr[8];
	struct dtr gdtr, idtr;
	struct kvm_segment ldtr, tr;      /* virtual view: guest selector and descriptor */
	struct vmsrs msr;
};

/* The guest's registers at the trapping instruction. */
struct gstate {
	uint64_t gpr[16];
	uint64_t rip, rflags;
	struct kvm_segment seg[S_COUNT];  /* real caches (DPL compressed), guest selectors' RPL real */
	unsigned cpl;                     /* virtual CPL: 0 or 3 */
	bool in_frame;                    /* state came from the monitor's exception frame */
	uint64_t frame_va;                /* monitor stack address of that frame */
	/* what the write-back must push */
	bool gpr_dirty, seg_dirty;
};

static inline bool virt_long_mode(const struct vcpu_virt *v) { return v->efer & EFER_LMA; }

/* True when the code segment is 64-bit (guest in IA-32e 64-bit mode). */
static inline bool gs_64bit(const struct gstate *g) { return g->seg[S_CS].l; }
/* Operand/address size 16 or 32 for legacy/compat code. */
static inline bool gs_32bit(const struct gstate *g) { return g->seg[S_CS].db; }

static inline unsigned gs_iopl(const struct gstate *g)
{
	return (unsigned)((g->rflags & RFL_IOPL) >> RFL_IOPL_SHIFT);
}

#endif
