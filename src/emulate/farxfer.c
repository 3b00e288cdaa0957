/*
 * farxfer.c: instructions that load segment registers or change privilege: MOV/POP to a
 * segment register and LDS..LSS, far JMP/CALL/RET, IRET, and the software interrupts
 * INT n / INT3 / INTO. Under ring compression these fault whenever the guest's selector
 * says ring 0 and the real CPU is at ring 1; here they get the full protected-mode
 * semantics against the guest's own descriptor tables (SDM vol. 2: JMP, CALL, RET, IRET,
 * INT n, MOV, POP, LDS).
 */
#include <errno.h>
#include <string.h>

#include "emu_internal.h"

int emu_seg_load(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	const cs_x86 *x = in->x;
	uint64_t val, off;
	int r;

	vcpu->stats.emulated[EMU_SEG_LOAD]++;
	switch (in->ci->id) {
	case X86_INS_MOV: {
		int s = seg_of(x->operands[0].reg);
		if (s == S_CS)
			return xfault_set(xf, X86_UD, false, 0);
		if ((r = op_read(vcpu, in, &x->operands[1], &val, xf)))
			return r;
		if ((r = seg__load(vcpu, (enum seg_reg)s, (uint16_t)val, xf)))
			return r;
		break;
	}
	case X86_INS_POP: {
		int s = seg_of(x->operands[0].reg);
		unsigned size = in->opsize;
		if ((r = stack_read(vcpu, 0, size, &val, xf)))
			return r;
		if ((r = seg__load(vcpu, (enum seg_reg)s, (uint16_t)val, xf)))
			return r;
		stack_pop(vcpu, &val, size, xf);
		break;
	}
	default: {
		/* LxS reg, m16:16/32: offset first, selector after it. */
		int s = in->ci->id == X86_INS_LDS ? S_DS : in->ci->id == X86_INS_LES ? S_ES :
			in->ci->id == X86_INS_LFS ? S_FS : in->ci->id == X86_INS_LGS ? S_GS : S_SS;
		const cs_x86_op *dst = &x->operands[0], *mem = &x->operands[1];
		enum seg_reg ms;
		uint16_t sel;
		if (mem->type != X86_OP_MEM)
			return xfault_set(xf, X86_UD, false, 0);
		op_mem_addr(vcpu, in, mem, &ms, &off);
		unsigned osz = in->opsize;
		val = 0;
		if ((r = gmem__read_seg(vcpu, ms, off, &val, osz, xf)) ||
		    (r = gmem__read_seg(vcpu, ms, off + osz, &sel, 2, xf)))
			return r;
		if ((r = seg__load(vcpu, (enum seg_reg)s, sel, xf)))
			return r;
		reg_write(vcpu, dst->reg, val);
		break;
	}
	}
	advance(vcpu, in);
	return 0;
}

static bool canonical(uint64_t a) { return ((int64_t)(a << 16) >> 16) == (int64_t)a; }

/* Load CS:EIP for a same-privilege transfer after the checks seg__check_code made. A
 * 64-bit code segment has no limit (the minimal descriptor kernels use has limit 0):
 * its target must be canonical instead. */
static int set_cs_eip(struct vcpu *vcpu, const struct kvm_segment *cs, uint64_t eip,
		      struct xfault *xf)
{
	if (cs->l ? !canonical(eip) : eip > cs->limit)
		return gp0(xf);
	vcpu->g.seg[S_CS] = *cs;
	vcpu->g.rip = eip;
	vcpu->g.seg_dirty = vcpu->g.gpr_dirty = true;
	return 0;
}

/* Far pointer operand: immediate ptr16:32 or memory m16:32 / m16:16. */
static int far_target(struct vcpu *vcpu, const struct insn *in, uint16_t *sel, uint64_t *off,
		      struct xfault *xf)
{
	const cs_x86 *x = in->x;
	unsigned osz = in->opsize;
	if (x->op_count == 2 && x->operands[0].type == X86_OP_IMM) {
		*sel = (uint16_t)x->operands[0].imm;
		*off = (uint64_t)x->operands[1].imm;
		return 0;
	}
	if (x->op_count != 1 || x->operands[0].type != X86_OP_MEM)
		return xfault_set(xf, X86_UD, false, 0);
	enum seg_reg ms;
	uint64_t a;
	int r;
	op_mem_addr(vcpu, in, &x->operands[0], &ms, &a);
	*off = 0;
	if ((r = gmem__read_seg(vcpu, ms, a, off, osz, xf)) ||
	    (r = gmem__read_seg(vcpu, ms, a + osz, sel, 2, xf)))
		return r;
	return 0;
}

static int far_jmp_call(struct vcpu *vcpu, const struct insn *in, bool call, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	struct kvm_segment cs;
	uint16_t sel;
	uint64_t off;
	int r;

	if ((r = far_target(vcpu, in, &sel, &off, xf)))
		return r;
	uint64_t desc;
	if ((sel & ~3u) && !seg__read_desc(vcpu, sel, &desc, xf) && !(desc & BIT(44)))
		return -EOPNOTSUPP;  /* call gates, task gates, TSS: not virtualized */
	if ((sel & 3) > g->cpl && !((sel & ~3u) == 0))
		return xfault_set(xf, X86_GP, true, sel & ~3u);
	if ((r = seg__check_code(vcpu, sel, g->cpl, false, &cs, xf)))
		return r;
	if (call) {
		unsigned osz = in->opsize;
		uint16_t old_cs = g->cpl == 0 ? seg_virt_sel(g->seg[S_CS].selector) : g->seg[S_CS].selector;
		uint64_t ret = (g->rip + in->len) & gmem__addr_mask(vcpu);
		uint64_t sp = g->gpr[R_SP];
		if ((r = stack_push(vcpu, old_cs, osz, xf)) || (r = stack_push(vcpu, ret, osz, xf))) {
			g->gpr[R_SP] = sp;
			return r;
		}
	}
	if (in->opsize == 2)
		off &= 0xffff;
	return set_cs_eip(vcpu, &cs, off, xf);
}

/* Null data segment registers a return to an outer level must not keep. */
static void null_inaccessible(struct vcpu *vcpu, unsigned new_cpl)
{
	static const enum seg_reg regs[] = { S_ES, S_DS, S_FS, S_GS };
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
		struct kvm_segment *s = &vcpu->g.seg[regs[i]];
		bool conforming_code = (s->type & 0xc) == 0xc;
		if (!s->unusable && !conforming_code && seg_virt_dpl(s->dpl) < new_cpl) {
			memset(s, 0, sizeof(*s));
			s->unusable = 1;
		}
	}
	vcpu->g.seg_dirty = true;
}


/*
 * Ring compression shows the guest's ring-0 selectors with RPL 1 (MOV r, CS; the CS a
 * natively run far CALL pushed), and guests put what they read into their own IRET and
 * RETF frames (kvm-unit-tests builds its exception-test frames from MOV r, CS). The
 * guest has no ring 1 (shade refuses rings 1 and 2), so RPL 1 in a frame is its RPL 0.
 */
static uint64_t guest_sel(uint64_t sel)
{
	return (sel & 3) == 1 ? sel & ~3ULL : sel;
}

/*
 * The common tail of RETF and IRET: CS:EIP (and SS:ESP when returning outward) were
 * popped as `sel`, `eip`; `sp_after` is the stack pointer past them (and past RETF's
 * immediate), from where an outward return pops ESP and SS.
 */
static int far_return(struct vcpu *vcpu, uint16_t sel, uint64_t eip, unsigned osz,
		      unsigned extra_pop, uint64_t *new_flags, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	struct kvm_segment cs, ss;
	sel = (uint16_t)guest_sel(sel);
	unsigned rpl = sel & 3;
	unsigned nwords = new_flags ? 3 : 2;
	int r;

	if (rpl < g->cpl)
		return xfault_set(xf, X86_GP, true, sel & ~3u);
	if (rpl != 0 && rpl != 3)
		return -EOPNOTSUPP;
	if ((r = seg__check_code(vcpu, sel, g->cpl, true, &cs, xf)))
		return r;
	if (osz == 2)
		eip &= 0xffff;
	if (rpl == g->cpl) {
		if (cs.l ? !canonical(eip) : eip > cs.limit)
			return gp0(xf);
		uint64_t m = gs_64bit(g) ? ~0ULL : g->seg[S_SS].db ? 0xffffffffULL : 0xffffULL;
		uint64_t sp = g->gpr[R_SP] + nwords * osz + extra_pop;
		g->gpr[R_SP] = (g->gpr[R_SP] & ~m) | (sp & m);
		g->seg[S_CS] = cs;
		g->rip = eip;
		g->seg_dirty = g->gpr_dirty = true;
		return 0;
	}
	/* Outer level: ESP and SS follow (after RETF's immediate). */
	uint64_t new_sp = 0, new_ss = 0;
	uint64_t save = g->gpr[R_SP];
	g->gpr[R_SP] += extra_pop;
	r = stack_read(vcpu, nwords, osz, &new_sp, xf);
	if (!r)
		r = stack_read(vcpu, nwords + 1, osz, &new_ss, xf);
	g->gpr[R_SP] = save;
	if (r)
		return r;
	new_ss = guest_sel(new_ss);
	if ((r = seg__check_stack(vcpu, (uint16_t)new_ss, rpl, X86_GP, &ss, xf)))
		return r;
	if (cs.l ? !canonical(eip) : eip > cs.limit)
		return gp0(xf);
	bool from64 = gs_64bit(g);
	g->seg[S_CS] = cs;
	g->seg[S_SS] = ss;
	g->rip = eip;
	g->gpr[R_SP] = from64 && osz == 8 ? new_sp :
		       ss.db ? (uint32_t)new_sp : ((g->gpr[R_SP] & ~0xffffULL) | (new_sp & 0xffff));
	if (extra_pop && !new_flags)
		g->gpr[R_SP] = (g->gpr[R_SP] + extra_pop) & (ss.db ? 0xffffffffULL : 0xffffULL);
	g->cpl = rpl;
	null_inaccessible(vcpu, rpl);
	g->seg_dirty = g->gpr_dirty = true;
	return 0;
}

int emu_far(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	switch (in->ci->id) {
	case X86_INS_LJMP:
		vcpu->stats.emulated[EMU_FAR_JMP]++;
		return far_jmp_call(vcpu, in, false, xf);
	case X86_INS_LCALL:
		vcpu->stats.emulated[EMU_FAR_CALL]++;
		return far_jmp_call(vcpu, in, true, xf);
	case X86_INS_RETF:
	case X86_INS_RETFQ: {
		vcpu->stats.emulated[EMU_FAR_RET]++;
		unsigned osz = in->ci->id == X86_INS_RETFQ ? 8 : in->opsize;
		unsigned imm = in->x->op_count ? (unsigned)in->x->operands[0].imm : 0;
		uint64_t eip, sel;
		int r;
		if ((r = stack_read(vcpu, 0, osz, &eip, xf)) || (r = stack_read(vcpu, 1, osz, &sel, xf)))
			return r;
		return far_return(vcpu, (uint16_t)sel, eip, osz, imm, NULL, xf);
	}
	default:
		return -ENOSYS;
	}
}

/* The EFLAGS an IRET may load, by the old CPL and IOPL (SDM IRET). */
static uint64_t iret_flags(struct vcpu *vcpu, uint64_t fl, unsigned osz)
{
	struct gstate *g = &vcpu->g;
	uint64_t old = (g->rflags & ~RFL_IOPL) | ((uint64_t)vcpu->iopl << RFL_IOPL_SHIFT);
	uint64_t mask = RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_TF | RFL_DF | RFL_OF |
			RFL_NT | RFL_RF | RFL_AC | RFL_ID;
	if (g->cpl == 0)
		mask |= RFL_IF | RFL_IOPL | RFL_VIF | RFL_VIP;
	else if (g->cpl <= vcpu->iopl)
		mask |= RFL_IF;
	if (osz == 2)
		mask &= 0xffff;
	return (old & ~mask) | (fl & mask) | RFL_FIXED;
}

/* IRET from 64-bit code: RIP, CS, RFLAGS, RSP, SS are always popped (SDM vol. 2 IRET,
 * IA-32e mode). */
static int iret64(struct vcpu *vcpu, unsigned osz, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	uint64_t rip, sel, fl, rsp, ss;
	struct kvm_segment cs, sss;
	int r;

	if ((r = stack_read(vcpu, 0, osz, &rip, xf)) || (r = stack_read(vcpu, 1, osz, &sel, xf)) ||
	    (r = stack_read(vcpu, 2, osz, &fl, xf)) || (r = stack_read(vcpu, 3, osz, &rsp, xf)) ||
	    (r = stack_read(vcpu, 4, osz, &ss, xf)))
		return r;
	if (g->rflags & RFL_NT)
		return gp0(xf);           /* no task return in IA-32e mode (the current NT;
					   * the frame's NT is loaded like any flag) */
	sel = guest_sel(sel);
	ss = guest_sel(ss);
	unsigned rpl = sel & 3;
	if (rpl < g->cpl)
		return xfault_set(xf, X86_GP, true, (uint32_t)sel & ~3u);
	if (rpl != 0 && rpl != 3)
		return -EOPNOTSUPP;
	if ((r = seg__check_code(vcpu, (uint16_t)sel, g->cpl, true, &cs, xf)))
		return r;
	bool to64 = cs.l;
	if (to64 ? !canonical(rip) : rip > cs.limit)
		return gp0(xf);
	if ((ss & ~3u) == 0 && to64 && rpl < 3) {
		if ((ss & 3) != rpl)
			return xfault_set(xf, X86_GP, true, 0);
		sss = excp__null_ss(rpl);
	} else if ((r = seg__check_stack(vcpu, (uint16_t)ss, rpl, X86_GP, &sss, xf))) {
		return r;
	}
	uint64_t nf = iret_flags(vcpu, fl, osz);
	bool outer = rpl > g->cpl;
	g->seg[S_CS] = cs;
	g->seg[S_SS] = sss;
	g->rip = to64 ? rip : (uint32_t)rip;
	g->gpr[R_SP] = osz == 8 ? rsp : (uint32_t)rsp;
	g->cpl = rpl;
	if (outer)
		null_inaccessible(vcpu, rpl);
	vcpu->iopl = (unsigned)((nf & RFL_IOPL) >> RFL_IOPL_SHIFT);
	g->rflags = excp_real_rflags(nf, vcpu->iopl, rpl);
	g->seg_dirty = g->gpr_dirty = true;
	return 0;
}

/*
 * IRET with EFLAGS.NT in legacy protected mode: a task switch back to the task in the
 * current TSS's back link (SDM vol. 2 IRET, TASK-RETURN; vol. 3 Table 6-6 for the #TS
 * conditions, checked in this order as QEMU does). shade does not virtualize hardware
 * task switching: a back link that passes every check stops the VM with a report.
 */
static int task_return(struct vcpu *vcpu, struct xfault *xf)
{
	struct vcpu_virt *v = &vcpu->v;
	uint16_t link = 0;
	uint64_t d;
	int r;

	if ((r = gmem__read_linear(vcpu, v->tr.base, &link, 2, ACC_READ | ACC_SUPERVISOR, xf)))
		return r;
	uint32_t err = link & 0xfffcu;
	if ((link & 4) || (link | 7u) > v->gdtr.limit)
		return xfault_set(xf, X86_TS, true, err);
	if ((r = seg__read_desc(vcpu, link, &d, xf)))
		return r;
	unsigned type = (unsigned)(d >> 40) & 0x1f;     /* S and type: a busy TSS */
	if (type != 0x0b && type != 0x03)
		return xfault_set(xf, X86_TS, true, err);
	if (!(d & BIT(47)))
		return xfault_set(xf, X86_NP, true, err);
	struct kvm_segment t;
	seg__decode(d, link, &t);
	if (t.limit < (type == 0x0b ? 0x67u : 0x2bu))
		return xfault_set(xf, X86_TS, true, err);
	vm__stop(vcpu->vm, 4, "guest IRET to nested task %#x (hardware task switch): not supported",
		 link);
	return -EOPNOTSUPP;
}

int emu_iret(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	unsigned osz = in->ci->id == X86_INS_IRET ? 2 : 4;
	uint64_t eip, sel, fl;
	int r;

	vcpu->stats.emulated[EMU_IRET]++;
	if (gs_64bit(g))
		return iret64(vcpu, in->ci->id == X86_INS_IRETQ ? 8 : osz, xf);
	/* Compatibility mode: no task return in IA-32e mode; otherwise the legacy frame
	 * (SS:ESP only on a privilege change), and EFLAGS.VM is never loaded. */
	bool ia32e = virt_long_mode(&vcpu->v);
	if (g->rflags & RFL_NT)
		return ia32e ? gp0(xf) : task_return(vcpu, xf);
	if ((r = stack_read(vcpu, 0, osz, &eip, xf)) || (r = stack_read(vcpu, 1, osz, &sel, xf)) ||
	    (r = stack_read(vcpu, 2, osz, &fl, xf)))
		return r;
	if (osz == 2)
		fl = (g->rflags & ~0xffffULL) | (fl & 0xffff);
	if ((fl & RFL_VM) && g->cpl == 0 && !ia32e) {
		vm__stop(vcpu->vm, 4, "guest IRET to virtual-8086 mode: not supported");
		return -EOPNOTSUPP;
	}
	uint64_t nf = iret_flags(vcpu, fl, osz);

	if ((r = far_return(vcpu, (uint16_t)sel, eip, osz, 0, &nf, xf)))
		return r;
	vcpu->iopl = (unsigned)((nf & RFL_IOPL) >> RFL_IOPL_SHIFT);
	g->rflags = excp_real_rflags(nf, vcpu->iopl, g->cpl);
	return 0;
}

int emu_softint(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	unsigned id = in->ci->id;
	int r;

	if (id == X86_INS_INTO) {
		vcpu->stats.emulated[EMU_INTO]++;
		if (gs_64bit(g))
			return xfault_set(xf, X86_UD, false, 0);
		if (!(g->rflags & RFL_OF)) {
			advance(vcpu, in);
			return 0;
		}
		r = excp__deliver(vcpu, X86_OF, EV_SOFTEXC, false, 0, in->len);
	} else if (id == X86_INS_INT3) {
		vcpu->stats.emulated[EMU_INT3]++;
		r = excp__deliver(vcpu, X86_BP, EV_SOFTEXC, false, 0, in->len);
	} else {
		vcpu->stats.emulated[EMU_INT]++;
		r = excp__deliver(vcpu, (unsigned)in->x->operands[0].imm & 0xff, EV_SOFTINT, false, 0,
				  in->len);
	}
	return r < 0 ? r : 0;   /* a fault in delivery was delivered (or shut down) already */
}

/*
 * CLI/STI/PUSHF/POPF run natively at real CPL 1 with IOPL 1; they trap only where the
 * hardware says so (CPL 3 with IOPL < 3), and that #GP is the guest's (-ENOSYS). A
 * backend that cannot run them hands them over (EMU_CAUSE_KVM): then they are emulated
 * against the guest's own IOPL (SDM CLI, STI, PUSHF, POPF; no VME/PVI for a guest).
 */
int emu_flags(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	unsigned id = in->ci->id, osz = gs_64bit(g) && in->opsize == 4 ? 8 : in->opsize;
	bool iopl_ok = g->cpl <= vcpu->iopl;
	uint64_t virt = (g->rflags & ~RFL_IOPL) | ((uint64_t)vcpu->iopl << RFL_IOPL_SHIFT);
	uint64_t val;
	int r;

	if (in->cause != EMU_CAUSE_KVM)
		return -ENOSYS;
	vcpu->stats.emulated[EMU_OTHER]++;
	switch (id) {
	case X86_INS_CLI:
	case X86_INS_STI:
		if (!iopl_ok)
			return gp0(xf);
		g->rflags = id == X86_INS_STI ? g->rflags | RFL_IF : g->rflags & ~RFL_IF;
		break;
	case X86_INS_PUSHF: case X86_INS_PUSHFD: case X86_INS_PUSHFQ:
		/* The image never shows VM or RF. */
		if ((r = stack_push(vcpu, virt & ~(RFL_VM | RFL_RF), osz, xf)))
			return r;
		break;
	case X86_INS_POPF: case X86_INS_POPFD: case X86_INS_POPFQ: {
		uint64_t mask = RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_TF | RFL_DF |
				RFL_OF | RFL_NT | RFL_AC | RFL_ID;
		if (g->cpl == 0)
			mask |= RFL_IOPL;
		if (iopl_ok)
			mask |= RFL_IF;
		if (osz == 2)
			mask &= 0xffff;
		if ((r = stack_pop(vcpu, &val, osz, xf)))
			return r;
		virt = (virt & ~mask) | (val & mask);
		vcpu->iopl = (unsigned)((virt & RFL_IOPL) >> RFL_IOPL_SHIFT);
		g->rflags = excp_real_rflags(virt, vcpu->iopl, g->cpl);
		break;
	}
	default:
		return -ENOSYS;
	}
	advance(vcpu, in);
	return 0;
}

/*
 * SYSENTER / SYSEXIT (SDM vol. 2): flat segments derived from IA32_SYSENTER_CS, no
 * descriptor-table reads. The caches are built as the CPU builds them, then compressed
 * like any guest ring-0 segment (real RPL/DPL 1).
 */
static struct kvm_segment flat_seg(uint16_t sel, bool code, unsigned dpl)
{
	unsigned real_dpl = dpl == 0 ? 1 : dpl;
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = (uint16_t)((sel & ~3u) | real_dpl),
		.type = code ? 0xb : 0x3, .present = 1, .dpl = (uint8_t)real_dpl, .db = 1, .s = 1,
		.g = 1,
	};
}

int emu_sysenter(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	const struct vmsrs *m = &vcpu->v.msr;
	uint16_t cs = (uint16_t)m->sysenter_cs;

	if (gs_64bit(g) || virt_long_mode(&vcpu->v))
		return -EOPNOTSUPP;         /* comes with 64-bit guests */
	if (!(vcpu->v.cr0 & CR0_PE) || (cs & ~3u) == 0)
		return gp0(xf);
	if (in->ci->id == X86_INS_SYSENTER) {
		vcpu->stats.emulated[EMU_FAR_CALL]++;
		g->seg[S_CS] = flat_seg(cs, true, 0);
		g->seg[S_SS] = flat_seg((uint16_t)(cs + 8), false, 0);
		g->rip = (uint32_t)m->sysenter_eip;
		g->gpr[R_SP] = (uint32_t)m->sysenter_esp;
		g->rflags &= ~(RFL_VM | RFL_IF | RFL_RF);
		g->cpl = 0;
		g->rflags = excp_real_rflags(g->rflags, vcpu->iopl, 0);
	} else {
		if (g->cpl != 0)
			return gp0(xf);
		vcpu->stats.emulated[EMU_FAR_RET]++;
		g->seg[S_CS] = flat_seg((uint16_t)(cs + 16), true, 3);
		g->seg[S_SS] = flat_seg((uint16_t)(cs + 24), false, 3);
		g->rip = (uint32_t)g->gpr[R_DX];
		g->gpr[R_SP] = (uint32_t)g->gpr[R_CX];
		g->cpl = 3;
		g->rflags = excp_real_rflags(g->rflags, vcpu->iopl, 3);
	}
	g->seg_dirty = g->gpr_dirty = true;
	return 0;
}

/* SWAPGS: 64-bit mode, CPL 0: exchange GS.base and IA32_KERNEL_GS_BASE. */
int emu_swapgs(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	if (!gs_64bit(g))
		return xfault_set(xf, X86_UD, false, 0);
	if (g->cpl != 0)
		return gp0(xf);
	vcpu->stats.emulated[EMU_OTHER]++;
	uint64_t t = g->seg[S_GS].base;
	g->seg[S_GS].base = vcpu->v.msr.kernel_gs_base;
	vcpu->v.msr.kernel_gs_base = t;
	g->seg_dirty = true;
	advance(vcpu, in);
	return 0;
}

static struct kvm_segment flat64(uint16_t sel, bool code, bool l, unsigned cpl)
{
	unsigned real = cpl == 0 ? 1 : cpl;
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = (uint16_t)((sel & ~3u) | real),
		.type = code ? 0xb : 0x3, .present = 1, .dpl = (uint8_t)real, .s = 1, .g = 1,
		.l = (uint8_t)(code && l), .db = (uint8_t)(!(code && l)),
	};
}

int emulate__syscall(struct vcpu *vcpu, bool compat, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	const struct vmsrs *m = &vcpu->v.msr;
	if (!(vcpu->v.efer & EFER_SCE) || !virt_long_mode(&vcpu->v))
		return xfault_set(xf, X86_UD, false, 0);
	/* From compatibility mode: AMD's CPUs go to CSTAR, Intel's raise #UD. */
	if (compat && !cpuid__is_amd(&vcpu->vm->cpuid))
		return xfault_set(xf, X86_UD, false, 0);
	vcpu->stats.emulated[EMU_FAR_CALL]++;
	/* The CPU left the return RIP in RCX and RFLAGS in R11 (the real ones: the guest's
	 * IOPL goes back in). */
	uint64_t vflags = (g->gpr[R_11] & ~RFL_IOPL & ~RFL_RF) |
			  ((uint64_t)vcpu->iopl << RFL_IOPL_SHIFT);
	g->gpr[R_11] = vflags;
	uint16_t sel = (uint16_t)(m->star >> 32);
	g->seg[S_CS] = flat64(sel, true, true, 0);
	g->seg[S_SS] = flat64((uint16_t)(sel + 8), false, false, 0);
	g->rip = compat ? m->cstar : m->lstar;
	g->cpl = 0;
	g->rflags = excp_real_rflags(vflags & ~m->fmask, vcpu->iopl, 0);
	g->seg_dirty = g->gpr_dirty = true;
	return 0;
}

int emu_sysret(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	const struct vmsrs *m = &vcpu->v.msr;
	bool to64 = in->x->rex & 8;
	if (!(vcpu->v.efer & EFER_SCE) || !gs_64bit(g))
		return xfault_set(xf, X86_UD, false, 0);
	if (g->cpl != 0 || (to64 && !canonical(g->gpr[R_CX])))
		return gp0(xf);
	vcpu->stats.emulated[EMU_FAR_RET]++;
	uint16_t sel = (uint16_t)(m->star >> 48);
	g->seg[S_CS] = flat64((uint16_t)(sel + (to64 ? 16 : 0)), true, to64, 3);
	g->seg[S_SS] = flat64((uint16_t)(sel + 8), false, false, 3);
	g->rip = to64 ? g->gpr[R_CX] : (uint32_t)g->gpr[R_CX];
	uint64_t vflags = (g->gpr[R_11] & 0x3c7fd7ULL) | RFL_FIXED;
	vcpu->iopl = (unsigned)((vflags & RFL_IOPL) >> RFL_IOPL_SHIFT);
	g->cpl = 3;
	g->rflags = excp_real_rflags(vflags, vcpu->iopl, 3);
	null_inaccessible(vcpu, 3);
	g->seg_dirty = g->gpr_dirty = true;
	return 0;
}
