/*
 * excp.c: exception and interrupt delivery through the guest IDT (protected mode).
 *
 * SDM vol. 3, 6.12 "Exception and interrupt handling" and 6.15 (double fault class
 * table). IA-32e (64-bit IDT) delivery comes with 64-bit guests.
 */
#include <errno.h>
#include <string.h>

#include "excp.h"
#include "seg.h"
#include "vcpu.h"

bool excp__has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

enum { CLASS_BENIGN, CLASS_CONTRIB, CLASS_PF };

static int fault_class(unsigned v)
{
	if (v == X86_PF)
		return CLASS_PF;
	if (v == X86_DE || (v >= X86_TS && v <= X86_GP))
		return CLASS_CONTRIB;
	return CLASS_BENIGN;
}

static uint32_t virt_eflags(struct vcpu *vcpu)
{
	return (uint32_t)((vcpu->g.rflags & ~RFL_IOPL) | ((uint64_t)vcpu->iopl << RFL_IOPL_SHIFT));
}

/* The guest kernel needs real IOPL >= 1 for CLI/STI/POPF to act on IF at real CPL 1;
 * guest user code gets real IOPL 3 only when the guest gave it IOPL 3. */
uint64_t excp_real_rflags(uint64_t f, unsigned iopl, unsigned cpl)
{
	unsigned real = cpl == 3 ? (iopl == 3 ? 3 : 0) : MAX(iopl, 1u);
	return (f & ~RFL_IOPL) | ((uint64_t)real << RFL_IOPL_SHIFT) | RFL_FIXED;
}

/* One push of an event frame onto `ss`, made at privilege `cpl`: the CPU writes the
 * frame of an event from user mode onto the kernel stack as a supervisor access. */
static int push(struct vcpu *vcpu, struct kvm_segment *ss, uint32_t *esp, uint32_t val,
		unsigned size, unsigned cpl, struct xfault *xf)
{
	uint32_t sp = *esp - size;
	if (!ss->db)
		sp = (uint16_t)sp | (*esp & 0xffff0000u);
	/* Check against the (possibly new) SS before it is loaded: use a temporary cache. */
	struct kvm_segment saved = vcpu->g.seg[S_SS];
	unsigned saved_cpl = vcpu->g.cpl;
	vcpu->g.seg[S_SS] = *ss;
	vcpu->g.cpl = cpl;
	int r = gmem__write_seg(vcpu, S_SS, ss->db ? sp : (uint16_t)sp, &val, size, xf);
	vcpu->g.seg[S_SS] = saved;
	vcpu->g.cpl = saved_cpl;
	if (r == 1 && xf->vector == X86_GP)
		xf->vector = X86_SS;  /* stack accesses fault with #SS */
	if (r)
		return r;
	*esp = sp;
	return 0;
}

static int deliver_pm(struct vcpu *vcpu, unsigned vector, enum event_kind kind, bool has_err,
		      uint32_t err, unsigned insn_len, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	struct vcpu_virt *v = &vcpu->v;
	uint32_t ext = kind == EV_EXTINT || kind == EV_EXCEPTION ? 1 : 0;
	uint32_t idt_err = vector * 8 + 2 + ext;
	uint64_t gate;
	int r;

	if (vector * 8 + 7 > v->idtr.limit)
		return xfault_set(xf, X86_GP, true, idt_err);
	r = gmem__read_linear(vcpu, v->idtr.base + vector * 8, &gate, 8, ACC_READ | ACC_SUPERVISOR, xf);
	if (r)
		return r;
	unsigned type = (gate >> 40) & 0x1f, gdpl = (gate >> 45) & 3;
	if (type == 0x05)
		return -EOPNOTSUPP;                /* task gates: no hardware task switching */
	if (type != 0x06 && type != 0x07 && type != 0x0e && type != 0x0f)
		return xfault_set(xf, X86_GP, true, idt_err);
	if ((kind == EV_SOFTINT || kind == EV_SOFTEXC) && gdpl < g->cpl)
		return xfault_set(xf, X86_GP, true, vector * 8 + 2);
	if (!(gate & BIT(47)))
		return xfault_set(xf, X86_NP, true, idt_err);

	bool gate32 = type & 8, trap_gate = type & 1;
	uint16_t sel = (uint16_t)(gate >> 16);
	uint32_t off = (uint32_t)((gate & 0xffff) | ((gate >> 32) & 0xffff0000u));
	if (!gate32)
		off &= 0xffff;

	struct kvm_segment cs;
	uint64_t d;
	if ((sel & ~3u) == 0)
		return xfault_set(xf, X86_GP, true, ext);
	r = seg__read_desc(vcpu, sel, &d, xf);
	if (r == 1)
		return xfault_set(xf, X86_GP, true, (sel & ~3u) | ext);
	if (r)
		return r;
	seg__decode(d, sel, &cs);
	if (!cs.s || !(cs.type & 8) || cs.dpl > g->cpl)
		return xfault_set(xf, X86_GP, true, (sel & ~3u) | ext);
	if (!cs.present)
		return xfault_set(xf, X86_NP, true, (sel & ~3u) | ext);
	bool conforming = cs.type & 4;
	unsigned new_cpl = conforming ? g->cpl : cs.dpl;
	if (new_cpl != 0 && new_cpl != 3)
		return -EOPNOTSUPP;               /* guest rings 1 and 2 */

	/* RF is pushed set only for faults (as the CPU reported them); a software or
	 * external interrupt happens between instructions. */
	uint32_t old_eflags = virt_eflags(vcpu);
	if (kind != EV_EXCEPTION)
		old_eflags &= ~(uint32_t)RFL_RF;
	uint16_t old_cs = seg_virt_sel(g->seg[S_CS].selector);
	uint32_t old_eip = (uint32_t)(g->rip + ((kind == EV_SOFTINT || kind == EV_SOFTEXC) ? insn_len : 0));
	uint16_t old_ss = g->cpl == 0 ? seg_virt_sel(g->seg[S_SS].selector) : g->seg[S_SS].selector;
	uint32_t old_esp = (uint32_t)g->gpr[R_SP];
	unsigned sz = gate32 ? 4 : 2;

	struct kvm_segment ss = g->seg[S_SS];
	uint32_t esp = old_esp;
	if (new_cpl < g->cpl) {
		/* Inner privilege: new stack from the guest's TSS. */
		const struct kvm_segment *tr = &v->tr;
		uint32_t tss_err = (tr->selector & ~3u) | ext;
		unsigned tss32 = (tr->type & 8) != 0;
		unsigned espoff = tss32 ? 4 + new_cpl * 8 : 2 + new_cpl * 4;
		unsigned ssoff = tss32 ? 8 + new_cpl * 8 : 4 + new_cpl * 4;
		uint32_t new_esp = 0;
		uint16_t new_ss = 0;
		if (tr->unusable || !tr->present || ssoff + 1 > tr->limit)
			return xfault_set(xf, X86_TS, true, tss_err);
		r = gmem__read_linear(vcpu, tr->base + espoff, &new_esp, tss32 ? 4 : 2,
				      ACC_READ | ACC_SUPERVISOR, xf);
		if (!r)
			r = gmem__read_linear(vcpu, tr->base + ssoff, &new_ss, 2,
					      ACC_READ | ACC_SUPERVISOR, xf);
		if (r)
			return r;
		r = seg__check_stack(vcpu, new_ss, new_cpl, X86_TS, &ss, xf);
		if (r == 1 && xf->vector == X86_TS)
			xf->err |= ext;
		if (r)
			return r;
		esp = new_esp;
		if ((r = push(vcpu, &ss, &esp, old_ss, sz, new_cpl, xf)) ||
		    (r = push(vcpu, &ss, &esp, old_esp, sz, new_cpl, xf)))
			return r;
	}
	if ((r = push(vcpu, &ss, &esp, old_eflags, sz, new_cpl, xf)) ||
	    (r = push(vcpu, &ss, &esp, old_cs, sz, new_cpl, xf)) ||
	    (r = push(vcpu, &ss, &esp, old_eip, sz, new_cpl, xf)))
		return r;
	if (has_err && (r = push(vcpu, &ss, &esp, err, sz, new_cpl, xf)))
		return r;
	if (off > cs.limit)
		return xfault_set(xf, X86_GP, true, 0);
	if ((r = seg__mark_accessed(vcpu, sel, &d, xf)))
		return r;

	/* Commit: the real caches carry compressed DPLs and real RPLs. */
	uint64_t real = seg__compress(d, virt_long_mode(v));
	seg__decode(real, (uint16_t)((sel & ~3u) | (new_cpl == 0 ? 1 : 3)), &cs);
	if (new_cpl < g->cpl) {
		g->seg[S_SS] = ss;
	}
	g->seg[S_CS] = cs;
	g->seg_dirty = true;
	g->gpr[R_SP] = ss.db ? esp : ((g->gpr[R_SP] & ~0xffffULL) | (esp & 0xffff));
	g->rip = off;
	uint64_t f = old_eflags & ~(RFL_TF | RFL_NT | RFL_RF | RFL_VM);
	if (!trap_gate)
		f &= ~RFL_IF;
	g->cpl = new_cpl;
	g->rflags = excp_real_rflags(f, vcpu->iopl, new_cpl);
	g->gpr_dirty = true;
	return 0;
}

static bool canonical(uint64_t a)
{
	return ((int64_t)(a << 16) >> 16) == (int64_t)a;
}

struct kvm_segment excp__null_ss(unsigned cpl)
{
	unsigned real = cpl == 0 ? 1 : cpl;
	return (struct kvm_segment){ .selector = (uint16_t)real, .type = 3, .s = 1,
				     .dpl = (uint8_t)real, .present = 1, .limit = 0xffffffff,
				     .g = 1, .db = 1 };
}

/* IA-32e: 16-byte gates, IST, RSP from the 64-bit TSS, 8-byte pushes of SS:RSP always
 * (SDM vol. 3, 6.14). */
static int deliver_lm(struct vcpu *vcpu, unsigned vector, enum event_kind kind, bool has_err,
		      uint32_t err, unsigned insn_len, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	struct vcpu_virt *v = &vcpu->v;
	uint32_t ext = kind == EV_EXTINT || kind == EV_EXCEPTION ? 1 : 0;
	uint32_t idt_err = vector * 8 + 2 + ext;
	uint64_t gate[2];
	int r;

	if (vector * 16 + 15 > v->idtr.limit)
		return xfault_set(xf, X86_GP, true, idt_err);
	r = gmem__read_linear(vcpu, v->idtr.base + vector * 16, gate, 16, ACC_READ | ACC_SUPERVISOR, xf);
	if (r)
		return r;
	unsigned type = (gate[0] >> 40) & 0x1f, gdpl = (gate[0] >> 45) & 3;
	unsigned ist = (gate[0] >> 32) & 7;
	if (type != 0x0e && type != 0x0f)
		return xfault_set(xf, X86_GP, true, idt_err);
	if ((kind == EV_SOFTINT || kind == EV_SOFTEXC) && gdpl < g->cpl)
		return xfault_set(xf, X86_GP, true, vector * 8 + 2);
	if (!(gate[0] & BIT(47)))
		return xfault_set(xf, X86_NP, true, idt_err);
	uint16_t sel = (uint16_t)(gate[0] >> 16);
	uint64_t off = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ULL) | (gate[1] << 32);

	struct kvm_segment cs;
	uint64_t d;
	if ((sel & ~3u) == 0)
		return xfault_set(xf, X86_GP, true, ext);
	r = seg__read_desc(vcpu, sel, &d, xf);
	if (r == 1)
		return xfault_set(xf, X86_GP, true, (sel & ~3u) | ext);
	if (r)
		return r;
	seg__decode(d, sel, &cs);
	if (!cs.s || !(cs.type & 8) || !cs.l || cs.db || cs.dpl > g->cpl)
		return xfault_set(xf, X86_GP, true, (sel & ~3u) | ext);
	if (!cs.present)
		return xfault_set(xf, X86_NP, true, (sel & ~3u) | ext);
	unsigned new_cpl = (cs.type & 4) ? g->cpl : cs.dpl;
	if (new_cpl != 0 && new_cpl != 3)
		return -EOPNOTSUPP;
	if (!canonical(off))
		return xfault_set(xf, X86_GP, true, ext);

	uint64_t rsp = g->gpr[R_SP];
	const struct kvm_segment *tr = &v->tr;
	if (ist || new_cpl < g->cpl) {
		unsigned at = ist ? 36 + (ist - 1) * 8 : 4 + new_cpl * 8;
		if (tr->unusable || !tr->present || at + 7 > tr->limit)
			return xfault_set(xf, X86_TS, true, (tr->selector & ~3u) | ext);
		r = gmem__read_linear(vcpu, tr->base + at, &rsp, 8, ACC_READ | ACC_SUPERVISOR, xf);
		if (r)
			return r;
	}
	rsp &= ~0xfULL;

	uint64_t frame[6];
	unsigned n = 0;
	uint64_t flags = (g->rflags & ~RFL_IOPL) | ((uint64_t)vcpu->iopl << RFL_IOPL_SHIFT);
	if (kind != EV_EXCEPTION)
		flags &= ~RFL_RF;
	if (has_err)
		frame[n++] = err;
	frame[n++] = g->rip + ((kind == EV_SOFTINT || kind == EV_SOFTEXC) ? insn_len : 0);
	frame[n++] = seg_virt_sel(g->seg[S_CS].selector);
	frame[n++] = flags;
	frame[n++] = g->gpr[R_SP];
	frame[n++] = g->cpl == 0 ? seg_virt_sel(g->seg[S_SS].selector) : g->seg[S_SS].selector;
	if (!canonical(rsp - n * 8))
		return xfault_set(xf, X86_SS, true, 0);
	r = gmem__write_linear(vcpu, rsp - n * 8, frame, n * 8, ACC_SUPERVISOR, xf);
	if (r)
		return r;
	if ((r = seg__mark_accessed(vcpu, sel, &d, xf)))
		return r;

	uint64_t real = seg__compress(d, true);
	seg__decode(real, (uint16_t)((sel & ~3u) | (new_cpl == 0 ? 1 : 3)), &cs);
	if (new_cpl < g->cpl)
		g->seg[S_SS] = excp__null_ss(new_cpl);
	g->seg[S_CS] = cs;
	g->gpr[R_SP] = rsp - n * 8;
	g->rip = off;
	flags &= ~(RFL_TF | RFL_NT | RFL_RF);
	if (!(type & 1))
		flags &= ~RFL_IF;
	g->cpl = new_cpl;
	g->rflags = excp_real_rflags(flags, vcpu->iopl, new_cpl);
	g->seg_dirty = g->gpr_dirty = true;
	return 0;
}

static int deliver_once(struct vcpu *vcpu, unsigned vector, enum event_kind kind, bool has_err,
			uint32_t err, unsigned insn_len, struct xfault *xf)
{
	struct vcpu_virt *v = &vcpu->v;
	if (!(v->cr0 & CR0_PE))
		return -EOPNOTSUPP;  /* real mode: not supported */
	if (virt_long_mode(v))
		return deliver_lm(vcpu, vector, kind, has_err, err, insn_len, xf);
	return deliver_pm(vcpu, vector, kind, has_err, err, insn_len, xf);
}

int excp__deliver(struct vcpu *vcpu, unsigned vector, enum event_kind kind, bool has_err,
		  uint32_t err, unsigned insn_len)
{
	struct xfault xf;
	int r = deliver_once(vcpu, vector, kind, has_err, err, insn_len, &xf);
	unsigned first = vector;

	for (int depth = 0; r == 1; depth++) {
		if (first == X86_DF || depth > 2) {
			vcpu->shutdown = true;    /* triple fault */
			return 1;
		}
		int c1 = kind == EV_EXCEPTION ? fault_class(first) : CLASS_BENIGN;
		int c2 = fault_class(xf.vector);
		bool df = (c1 == CLASS_CONTRIB && c2 == CLASS_CONTRIB) ||
			  (c1 == CLASS_PF && c2 != CLASS_BENIGN);
		if (xf.vector == X86_PF)
			vcpu->v.cr2 = xf.cr2;
		if (df) {
			first = X86_DF;
			vcpu->stats.reflected[X86_DF]++;
			r = deliver_once(vcpu, X86_DF, EV_EXCEPTION, true, 0, 0, &xf);
		} else {
			/* Serially: the second exception is delivered instead. */
			first = xf.vector;
			kind = EV_EXCEPTION;
			vcpu->stats.reflected[first]++;
			r = deliver_once(vcpu, first, EV_EXCEPTION, xf.has_err, xf.err, 0, &xf);
		}
	}
	if (r == 0)
		vcpu->stats.reflected[vector]++;
	return r;
}

int excp__deliver_fault(struct vcpu *vcpu, const struct xfault *xf)
{
	if (xf->vector == X86_PF)
		vcpu->v.cr2 = xf->cr2;
	return excp__deliver(vcpu, xf->vector, EV_EXCEPTION, xf->has_err, xf->err, 0);
}
