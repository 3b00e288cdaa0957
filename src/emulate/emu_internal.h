/*
 * emu_internal.h: what the emulator's files share: the decoded instruction and operand
 * helpers (insn.c), and the handlers of each instruction family (privop.c, msr.c,
 * farxfer.c, io.c). Not for use outside src/emulate/.
 */
#ifndef SHADE_EMU_INTERNAL_H
#define SHADE_EMU_INTERNAL_H

#include <capstone/capstone.h>

#include "emulate.h"
#include "excp.h"
#include "seg.h"
#include "vcpu.h"

struct insn {
	cs_insn *ci;
	cs_x86 *x;
	unsigned len;
	unsigned opsize;        /* operand size in bytes (2, 4, 8) */
	unsigned addrsize;      /* address size in bytes */
	enum emu_cause cause;
};

/* Operand access. Values are zero-extended; sizes in bytes. */
int op_read(struct vcpu *vcpu, const struct insn *in, const cs_x86_op *op, uint64_t *val,
	    struct xfault *xf);
int op_write(struct vcpu *vcpu, const struct insn *in, const cs_x86_op *op, uint64_t val,
	     struct xfault *xf);
/* Effective address and segment of a memory operand. */
void op_mem_addr(struct vcpu *vcpu, const struct insn *in, const cs_x86_op *op,
		 enum seg_reg *seg, uint64_t *off);
uint64_t reg_read(struct vcpu *vcpu, x86_reg r);
void reg_write(struct vcpu *vcpu, x86_reg r, uint64_t val);
int seg_of(x86_reg r);  /* capstone segment register -> enum seg_reg, or -1 */

/* Stack helpers at the current SS and stack size. */
int stack_push(struct vcpu *vcpu, uint64_t val, unsigned size, struct xfault *xf);
int stack_pop(struct vcpu *vcpu, uint64_t *val, unsigned size, struct xfault *xf);
int stack_read(struct vcpu *vcpu, unsigned index, unsigned size, uint64_t *val,
	       struct xfault *xf);

static inline void advance(struct vcpu *vcpu, const struct insn *in)
{
	vcpu->g.rip = (vcpu->g.rip + in->len) & gmem__addr_mask(vcpu);
	vcpu->g.gpr_dirty = true;
}

static inline int gp0(struct xfault *xf) { return xfault_set(xf, X86_GP, true, 0); }

/* Handlers: return as emulate__insn does. */
int emu_mov_cr(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_mov_dr(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_dtr(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_misc_priv(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_flush_line(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_icebp(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_xsave(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_msr(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
/* The model's MSRs (msr_model.c): 0, 1 for #GP, -1 when idx is none of them. */
int msr_model__read(struct vcpu *vcpu, uint32_t idx, uint64_t *val);
int msr_model__write(struct vcpu *vcpu, uint32_t idx, uint64_t val);
/* RDPMC of counter ecx: 0, or 1 for #GP. */
int msr_model__rdpmc(struct vcpu *vcpu, uint32_t ecx, uint64_t *val);
int emu_rdpmc(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_tsc(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_cpuid(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_seg_load(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_far(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_iret(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_softint(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_sysenter(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_swapgs(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_sysret(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_io(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);
int emu_flags(struct vcpu *vcpu, const struct insn *in, struct xfault *xf);

/* The opcode-map checks capstone does not make (opcheck.c). */
struct opscan {
	unsigned npfx;          /* legacy and REX prefix bytes */
	bool lock, rep, repne, opsize, adsize;
	uint8_t rex;
	enum { ESC_NONE, ESC_VEX, ESC_EVEX, ESC_XOP } esc;
	unsigned map;           /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A (VEX: its map field) */
	uint8_t op;
	unsigned opoff;         /* offset of the opcode byte (legacy maps) */
	bool has_modrm;         /* a byte follows the opcode (read as ModRM if it has one) */
	uint8_t modrm;
};
/* Prefixes and opcode of code[0..n): 0, 1 if prefixes alone pass 15 bytes (#GP), -1 if
 * the bytes end before the opcode. */
int opcheck__scan(const uint8_t *code, unsigned n, bool mode64, struct opscan *s);
/* 1 with #UD if the opcode maps make this encoding invalid (LOCK, i64, VEX/EVEX/XOP). */
int opcheck__fault(const struct opscan *s, bool mode64, struct xfault *xf);
/* 1 with #UD if the guest's CPU lacks the instruction's feature (CPUID, control bits). */
int opcheck__feature(struct vcpu *vcpu, const cs_insn *ci, struct xfault *xf);
/* Length of ModRM, SIB and displacement starting at code[at], or 0 if past n. */
unsigned opcheck__modrm_len(const uint8_t *code, unsigned n, unsigned at, unsigned addrsize);

/* Single-step an unprivileged instruction in unicorn (ucstep.c). */
int emu_unicorn_step(struct vcpu *vcpu, struct xfault *xf);
void emu_unicorn_exit(struct vcpu *vcpu);

/* A control-register write that changes the real CPU's CR0/CR4/EFER. */
int emu_set_cr0(struct vcpu *vcpu, uint64_t val, struct xfault *xf);

#endif
