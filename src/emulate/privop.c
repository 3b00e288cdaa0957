/*
 * privop.c: the privileged system instructions: MOV to/from control and debug registers,
 * the descriptor-table instructions (LGDT ... SMSW, LMSW), CLTS, HLT, INVD, WBINVD,
 * INVLPG. Each checks what the hardware checks (virtual CPL 0, UMIP, reserved bits) and
 * acts on the virtual CPU; what must reach the real CPU goes through
 * vcpu__sync_control_regs().
 */
#include <errno.h>
#include <string.h>

#include "cpuid.h"
#include "devices.h"
#include "emu_internal.h"
#include "lapic.h"
#include "monitor.h"
#include "paging.h"

#define CR0_VALID (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
		   CR0_NW | CR0_CD | CR0_PG)

static int cr_index(x86_reg r) { return (int)(r - X86_REG_CR0); }

int emu_set_cr0(struct vcpu *vcpu, uint64_t val, struct xfault *xf)
{
	struct vcpu_virt *v = &vcpu->v;
	if ((val >> 32) || (val & ~CR0_VALID))
		return gp0(xf);
	if ((val & CR0_PG) && !(val & CR0_PE))
		return gp0(xf);
	if ((val & CR0_NW) && !(val & CR0_CD))
		return gp0(xf);
	val |= CR0_ET;
	if (!(val & CR0_PE)) {
		vm__stop(vcpu->vm, 4, "guest left protected mode (CR0.PE=0): real mode is not supported");
		return -EOPNOTSUPP;
	}
	bool pg_on = (val & CR0_PG) && !(v->cr0 & CR0_PG);
	bool pg_off = !(val & CR0_PG) && (v->cr0 & CR0_PG);
	uint64_t old = v->cr0, old_efer = v->efer;
	if (pg_on && (v->efer & EFER_LME)) {
		/* Activating IA-32e mode needs PAE; from 64-bit code it cannot happen. */
		if (!(v->cr4 & CR4_PAE))
			return gp0(xf);
		v->efer |= EFER_LMA;
	}
	if (pg_off && (v->efer & EFER_LMA)) {
		if (gs_64bit(&vcpu->g))
			return gp0(xf);   /* leaving IA-32e mode from 64-bit code */
		v->efer &= ~EFER_LMA;
	}
	v->cr0 = val;
	vcpu__sync_control_regs(vcpu);
	if ((old_efer ^ v->efer) & EFER_LMA) {
		/* The L bit of code descriptors means something now (or no longer). */
		if (seg__mirror_gdt(vcpu) || seg__mirror_ldt(vcpu)) {
			vm__stop(vcpu->vm, 4, "cannot mirror the guest's descriptor tables");
			return -EINVAL;
		}
	}
	if ((old ^ val) & (CR0_PG | CR0_WP)) {
		int r = paging__update(vcpu, false, xf);
		if (r) {
			v->cr0 = old;     /* a fault leaves CR0 and EFER as they were */
			v->efer = old_efer;
			vcpu__sync_control_regs(vcpu);
			return r;
		}
	}
	return 0;
}

static int set_cr4(struct vcpu *vcpu, uint64_t val, struct xfault *xf)
{
	uint64_t old = vcpu->v.cr4;
	/* CR4 bits a guest may set: those whose features the guest's CPUID shows. */
	if (val & ~cpuid__cr4_valid(&vcpu->vm->cpuid))
		return gp0(xf);
	if ((vcpu->v.efer & EFER_LMA) && !(val & CR4_PAE))
		return gp0(xf);
	vcpu->v.cr4 = val;
	vcpu__sync_control_regs(vcpu);
	if ((vcpu->v.cr0 & CR0_PG) && ((old ^ val) & (CR4_PSE | CR4_PAE | CR4_PGE))) {
		int r = paging__update(vcpu, false, xf);
		if (r) {
			vcpu->v.cr4 = old;
			vcpu__sync_control_regs(vcpu);
			return r;
		}
	}
	return 0;
}

int emu_mov_cr(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	const cs_x86_op *dst = &in->x->operands[0], *src = &in->x->operands[1];
	bool to_cr = dst->reg >= X86_REG_CR0 && dst->reg <= X86_REG_CR15;
	int n = cr_index(to_cr ? dst->reg : src->reg);
	struct vcpu_virt *v = &vcpu->v;
	int r = 0;

	if (n == 1 || (n >= 5 && n <= 7) || n > 8 || (n == 8 && !gs_64bit(&vcpu->g)))
		return xfault_set(xf, X86_UD, false, 0);
	if (vcpu->g.cpl != 0)
		return gp0(xf);
	vcpu->stats.emulated[EMU_MOV_CR]++;
	if (!to_cr) {
		uint64_t val = n == 0 ? v->cr0 : n == 2 ? v->cr2 : n == 3 ? v->cr3 : n == 4 ? v->cr4 : v->cr8;
		struct lapic *apic = devices__lapic(vcpu->vm);
		if (n == 8 && apic)
			val = lapic__cr8(apic);     /* CR8 is the APIC's TPR[7:4] */
		reg_write(vcpu, dst->reg, gs_64bit(&vcpu->g) ? val : (uint32_t)val);
		advance(vcpu, in);
		return 0;
	}
	uint64_t val = reg_read(vcpu, src->reg);
	switch (n) {
	case 0: r = emu_set_cr0(vcpu, val, xf); break;
	case 2: v->cr2 = val; break;
	case 3: {
		uint64_t old = v->cr3;
		v->cr3 = gs_64bit(&vcpu->g) ? val : (uint32_t)val;
		if (v->cr0 & CR0_PG) {
			r = paging__update(vcpu, true, xf);
			if (r)
				v->cr3 = old;
		}
		break;
	}
	case 4: r = set_cr4(vcpu, val, xf); break;
	case 8:
		if (val >> 4)
			return gp0(xf);
		v->cr8 = val;
		if (devices__lapic(vcpu->vm))
			lapic__set_cr8(devices__lapic(vcpu->vm), val);
		break;
	}
	if (r == 0)
		advance(vcpu, in);
	return r;
}

int emu_mov_dr(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	const cs_x86_op *dst = &in->x->operands[0], *src = &in->x->operands[1];
	bool to_dr = dst->reg >= X86_REG_DR0 && dst->reg <= X86_REG_DR15;
	unsigned n = (unsigned)((to_dr ? dst->reg : src->reg) - X86_REG_DR0);
	struct vcpu_virt *v = &vcpu->v;

	if (n > 7)
		return xfault_set(xf, X86_UD, false, 0);
	if (n == 4 || n == 5) {
		if (v->cr4 & CR4_DE)
			return xfault_set(xf, X86_UD, false, 0);
		n += 2;
	}
	if (vcpu->g.cpl != 0)
		return gp0(xf);
	vcpu->stats.emulated[EMU_MOV_DR]++;
	if (to_dr) {
		uint64_t val = reg_read(vcpu, src->reg);
		if (n == 6)
			val = (val & 0xe00f) | 0xffff0ff0ULL;
		else if (n == 7)
			val = (val & 0xffff2fffULL) | 0x400;
		v->dr[n] = val;
		if (n != 6) {
			/* Breakpoints are the real CPU's job: the guest's linear addresses are
			 * the real ones. GD stays virtual (the guest cannot reach real DRs). */
			struct kvm_debugregs d = { .dr6 = 0xffff0ff0, .dr7 = v->dr[7] & ~BIT(13) };
			memcpy(d.db, v->dr, sizeof(d.db));
			if (kvm__set_debugregs(vcpu->fd, &d))
				return -EIO;
		}
	} else {
		reg_write(vcpu, dst->reg, v->dr[n]);
	}
	advance(vcpu, in);
	return 0;
}

static bool umip_blocks(struct vcpu *vcpu)
{
	return (vcpu->v.cr4 & CR4_UMIP) && vcpu->g.cpl > 0;
}

/* LLDT and LTR: a selector of the GDT naming a present LDT / available TSS. */
static int load_system_seg(struct vcpu *vcpu, uint16_t sel, bool ldt, struct xfault *xf)
{
	struct vcpu_virt *v = &vcpu->v;
	uint64_t d;
	struct kvm_segment s;
	int r;

	if ((sel & ~3u) == 0) {
		if (!ldt)
			return gp0(xf);
		memset(&v->ldtr, 0, sizeof(v->ldtr));
		v->ldtr.unusable = 1;
		return seg__mirror_ldt(vcpu);
	}
	if (sel & 4)
		return xfault_set(xf, X86_GP, true, sel & ~3u);
	if ((r = seg__read_desc(vcpu, sel, &d, xf)))
		return r;
	seg__decode(d, sel, &s);
	if (virt_long_mode(v)) {
		/* IA-32e system descriptors are 16 bytes: the upper 8 hold base[63:32], and
		 * the LDT/TSS must be the 64-bit types (no 16-bit TSS). */
		uint64_t hi;
		if (sel + 15u > v->gdtr.limit)
			return xfault_set(xf, X86_GP, true, sel & ~3u);
		if ((r = gmem__read_linear(vcpu, v->gdtr.base + (sel & ~7u) + 8, &hi, 8,
					   ACC_SUPERVISOR, xf)))
			return r;
		if ((hi >> 40) & 0x1f)
			return xfault_set(xf, X86_GP, true, sel & ~3u);
		s.base |= (hi & 0xffffffffULL) << 32;
		if (!ldt && s.type == 1)
			return xfault_set(xf, X86_GP, true, sel & ~3u);
	}
	bool ok = ldt ? (!s.s && s.type == 2) : (!s.s && (s.type == 1 || s.type == 9));
	if (!ok)
		return xfault_set(xf, X86_GP, true, sel & ~3u);
	if (!s.present)
		return xfault_set(xf, X86_NP, true, sel & ~3u);
	if (ldt) {
		v->ldtr = s;
		return seg__mirror_ldt(vcpu);
	}
	/* LTR marks the guest's descriptor busy, in the guest's own GDT. */
	d |= 2ULL << 40;
	r = gmem__write_linear(vcpu, v->gdtr.base + (sel & ~7u), &d, 8, ACC_SUPERVISOR, xf);
	if (r)
		return r;
	s.type |= 2;
	v->tr = s;
	return 0;
}

int emu_dtr(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	const cs_x86_op *op = &in->x->operands[0];
	struct vcpu_virt *v = &vcpu->v;
	bool lm64 = gs_64bit(&vcpu->g);
	unsigned id = in->ci->id;
	enum seg_reg sr;
	uint64_t off, val;
	int r;

	bool is_store = id == X86_INS_SGDT || id == X86_INS_SIDT || id == X86_INS_SLDT ||
			id == X86_INS_STR || id == X86_INS_SMSW;
	if (is_store ? umip_blocks(vcpu) : vcpu->g.cpl != 0)
		return gp0(xf);

	switch (id) {
	case X86_INS_LGDT:
	case X86_INS_LIDT: {
		if (op->type != X86_OP_MEM)
			return xfault_set(xf, X86_UD, false, 0);
		uint8_t buf[10] = { 0 };
		op_mem_addr(vcpu, in, op, &sr, &off);
		if ((r = gmem__read_seg(vcpu, sr, off, buf, lm64 ? 10 : 6, xf)))
			return r;
		struct dtr t = { 0, 0 };
		memcpy(&t.limit, buf, 2);
		memcpy(&t.base, buf + 2, lm64 ? 8 : 4);
		if (!lm64 && in->opsize == 2)
			t.base &= 0xffffff;
		if (id == X86_INS_LGDT) {
			vcpu->stats.emulated[EMU_LGDT]++;
			v->gdtr = t;
			if ((r = seg__mirror_gdt(vcpu)))
				return r;
		} else {
			vcpu->stats.emulated[EMU_LIDT]++;
			v->idtr = t;
		}
		break;
	}
	case X86_INS_SGDT:
	case X86_INS_SIDT: {
		if (op->type != X86_OP_MEM)
			return xfault_set(xf, X86_UD, false, 0);
		const struct dtr *t = id == X86_INS_SGDT ? &v->gdtr : &v->idtr;
		vcpu->stats.emulated[id == X86_INS_SGDT ? EMU_SGDT : EMU_SIDT]++;
		uint8_t buf[10];
		memcpy(buf, &t->limit, 2);
		memcpy(buf + 2, &t->base, 8);
		op_mem_addr(vcpu, in, op, &sr, &off);
		if ((r = gmem__write_seg(vcpu, sr, off, buf, lm64 ? 10 : 6, xf)))
			return r;
		break;
	}
	case X86_INS_LLDT:
	case X86_INS_LTR:
		vcpu->stats.emulated[id == X86_INS_LLDT ? EMU_LLDT : EMU_LTR]++;
		if ((r = op_read(vcpu, in, op, &val, xf)))
			return r;
		if ((r = load_system_seg(vcpu, (uint16_t)val, id == X86_INS_LLDT, xf)))
			return r;
		if (id == X86_INS_LLDT) {
			/* The real LDTR points at the mirror; KVM takes base/limit as given. */
			struct kvm_segment *l = &vcpu->g.seg[S_LDTR];
			*l = v->ldtr;
			l->base = MON_CPU(vcpu->id) + MON_CPU_LDT;
			vcpu->g.seg_dirty = true;
		}
		break;
	case X86_INS_SLDT:
	case X86_INS_STR:
	case X86_INS_SMSW:
		if (id == X86_INS_SMSW) {
			vcpu->stats.emulated[EMU_SMSW]++;
			val = v->cr0;
		} else {
			vcpu->stats.emulated[id == X86_INS_SLDT ? EMU_SLDT : EMU_STR]++;
			val = id == X86_INS_SLDT ? v->ldtr.selector : v->tr.selector;
		}
		if (op->type == X86_OP_MEM) {
			op_mem_addr(vcpu, in, op, &sr, &off);
			uint16_t v16 = (uint16_t)val;
			if ((r = gmem__write_seg(vcpu, sr, off, &v16, 2, xf)))
				return r;
		} else {
			if (id != X86_INS_SMSW)
				val &= 0xffff;
			reg_write(vcpu, op->reg, val);
		}
		break;
	case X86_INS_LMSW: {
		vcpu->stats.emulated[EMU_LMSW]++;
		if ((r = op_read(vcpu, in, op, &val, xf)))
			return r;
		/* Low four bits; PE can be set but not cleared. */
		uint64_t cr0 = (v->cr0 & ~0xeULL) | (val & 0xf) | (v->cr0 & CR0_PE);
		if ((r = emu_set_cr0(vcpu, cr0, xf)))
			return r;
		break;
	}
	default:
		return -ENOSYS;
	}
	advance(vcpu, in);
	return 0;
}

/*
 * CLFLUSH, CLFLUSHOPT, CLWB (their CPUID bits were checked by opcheck.c): shade keeps
 * no cache of guest memory to write back, so what is left is the checks, those of a
 * one-byte read (SDM vol. 2, CLFLUSH: segment, canonical and page checks "as a read";
 * no access to the line, which may be a device's). The backend hands them to shade at
 * CPL 1 (kvm-unit-tests' memory test took #UD for an advertised CLWB).
 */
int emu_flush_line(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	enum seg_reg sr;
	uint64_t off, lin;
	gpa_t gpa;
	op_mem_addr(vcpu, in, &in->x->operands[0], &sr, &off);
	int r = gmem__seg_linear(vcpu, sr, off, 1, ACC_READ, &lin, xf);
	if (!r && (vcpu->v.cr0 & CR0_PG))
		r = paging__translate(vcpu, lin, ACC_READ, &gpa, xf);
	if (r)
		return r;
	advance(vcpu, in);
	return 0;
}

int emu_misc_priv(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	if (vcpu->g.cpl != 0)
		return gp0(xf);
	switch (in->ci->id) {
	case X86_INS_CLTS:
		vcpu->stats.emulated[EMU_CLTS]++;
		vcpu->v.cr0 &= ~CR0_TS;
		vcpu__sync_control_regs(vcpu);
		break;
	case X86_INS_HLT:
		vcpu->stats.emulated[EMU_HLT]++;
		vcpu->halted = true;
		break;
	case X86_INS_INVD:
		vcpu->stats.emulated[EMU_INVD]++;
		break;
	case X86_INS_WBINVD:
		vcpu->stats.emulated[EMU_WBINVD]++;
		break;
	case X86_INS_INVLPG: {
		vcpu->stats.emulated[EMU_INVLPG]++;
		if (vcpu->v.cr0 & CR0_PG) {
			/* INVLPG takes the operand's linear address and never faults. */
			enum seg_reg sr;
			uint64_t off;
			op_mem_addr(vcpu, in, &in->x->operands[0], &sr, &off);
			uint64_t lin = vcpu->g.seg[sr].base + off;
			if (!gs_64bit(&vcpu->g))
				lin &= 0xffffffffULL;
			mmu__invlpg(&vcpu->vm->mmu, lin);
			paging__sync_flush_va(vcpu, lin);
		}
		break;
	}
	default:
		return -ENOSYS;
	}
	advance(vcpu, in);
	return 0;
}

/*
 * ICEBP (F1, INT1): a #DB raised as a trap after the instruction, delivered like a
 * hardware exception (a "privileged software exception", SDM vol. 3 6.4.2: no gate-DPL
 * check, EXT set in any error code of a fault during delivery). The instruction has
 * completed, so RF is clear in the pushed flags. On this backend it reaches shade as an
 * emulation failure (or unicorn's #UD), never through the real IDT.
 */
int emu_icebp(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	(void)xf;
	vcpu->stats.emulated[EMU_OTHER]++;
	advance(vcpu, in);
	vcpu->g.rflags &= ~RFL_RF;
	int r = excp__deliver(vcpu, X86_DB, EV_EXCEPTION, false, 0, 0);
	return r < 0 ? r : 0;   /* a fault in delivery was delivered (or shut down) already */
}
