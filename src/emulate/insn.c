/*
 * insn.c: fetching and decoding the trapping instruction with capstone, operand access,
 * and dispatch to the handler of its family.
 */
#include <errno.h>
#include <string.h>

#include "emu_internal.h"

struct reg_info { int8_t idx; uint8_t size; uint8_t hi; };

static struct reg_info reg_info(x86_reg r)
{
	switch (r) {
#define R64(cs, i) case X86_REG_##cs: return (struct reg_info){ i, 8, 0 }
#define R32(cs, i) case X86_REG_##cs: return (struct reg_info){ i, 4, 0 }
#define R16(cs, i) case X86_REG_##cs: return (struct reg_info){ i, 2, 0 }
#define R8(cs, i)  case X86_REG_##cs: return (struct reg_info){ i, 1, 0 }
#define R8H(cs, i) case X86_REG_##cs: return (struct reg_info){ i, 1, 1 }
	R64(RAX, 0); R64(RCX, 1); R64(RDX, 2); R64(RBX, 3); R64(RSP, 4); R64(RBP, 5);
	R64(RSI, 6); R64(RDI, 7); R64(R8, 8); R64(R9, 9); R64(R10, 10); R64(R11, 11);
	R64(R12, 12); R64(R13, 13); R64(R14, 14); R64(R15, 15);
	R32(EAX, 0); R32(ECX, 1); R32(EDX, 2); R32(EBX, 3); R32(ESP, 4); R32(EBP, 5);
	R32(ESI, 6); R32(EDI, 7); R32(R8D, 8); R32(R9D, 9); R32(R10D, 10); R32(R11D, 11);
	R32(R12D, 12); R32(R13D, 13); R32(R14D, 14); R32(R15D, 15);
	R16(AX, 0); R16(CX, 1); R16(DX, 2); R16(BX, 3); R16(SP, 4); R16(BP, 5);
	R16(SI, 6); R16(DI, 7); R16(R8W, 8); R16(R9W, 9); R16(R10W, 10); R16(R11W, 11);
	R16(R12W, 12); R16(R13W, 13); R16(R14W, 14); R16(R15W, 15);
	R8(AL, 0); R8(CL, 1); R8(DL, 2); R8(BL, 3); R8(SPL, 4); R8(BPL, 5); R8(SIL, 6);
	R8(DIL, 7); R8(R8B, 8); R8(R9B, 9); R8(R10B, 10); R8(R11B, 11); R8(R12B, 12);
	R8(R13B, 13); R8(R14B, 14); R8(R15B, 15);
	R8H(AH, 0); R8H(CH, 1); R8H(DH, 2); R8H(BH, 3);
	case X86_REG_EIP: case X86_REG_RIP: case X86_REG_IP:
		return (struct reg_info){ -2, (uint8_t)(r == X86_REG_RIP ? 8 : r == X86_REG_EIP ? 4 : 2), 0 };
	default:
		return (struct reg_info){ -1, 0, 0 };
	}
}

int seg_of(x86_reg r)
{
	switch (r) {
	case X86_REG_ES: return S_ES;
	case X86_REG_CS: return S_CS;
	case X86_REG_SS: return S_SS;
	case X86_REG_DS: return S_DS;
	case X86_REG_FS: return S_FS;
	case X86_REG_GS: return S_GS;
	default: return -1;
	}
}

uint64_t reg_read(struct vcpu *vcpu, x86_reg r)
{
	struct reg_info ri = reg_info(r);
	if (ri.idx == -2)
		return vcpu->g.rip;
	if (ri.idx < 0) {
		int s = seg_of(r);
		return s >= 0 ? vcpu->g.seg[s].selector : 0;
	}
	uint64_t v = vcpu->g.gpr[ri.idx];
	if (ri.hi)
		return (v >> 8) & 0xff;
	return ri.size == 8 ? v : v & ((1ULL << (ri.size * 8)) - 1);
}

void reg_write(struct vcpu *vcpu, x86_reg r, uint64_t val)
{
	struct reg_info ri = reg_info(r);
	if (ri.idx < 0)
		return;
	uint64_t *p = &vcpu->g.gpr[ri.idx];
	switch (ri.size) {
	case 8: *p = val; break;
	case 4: *p = (uint32_t)val; break;   /* 32-bit writes zero-extend */
	case 2: *p = (*p & ~0xffffULL) | (val & 0xffff); break;
	case 1:
		if (ri.hi)
			*p = (*p & ~0xff00ULL) | ((val & 0xff) << 8);
		else
			*p = (*p & ~0xffULL) | (val & 0xff);
		break;
	}
	vcpu->g.gpr_dirty = true;
}

void op_mem_addr(struct vcpu *vcpu, const struct insn *in, const cs_x86_op *op,
		 enum seg_reg *seg, uint64_t *off)
{
	const x86_op_mem *m = &op->mem;
	uint64_t a = (uint64_t)m->disp;
	if (m->base != X86_REG_INVALID)
		a += reg_read(vcpu, m->base) + (reg_info(m->base).idx == -2 ? in->len : 0);
	if (m->index != X86_REG_INVALID)
		a += reg_read(vcpu, m->index) * (uint64_t)m->scale;
	if (in->addrsize < 8)
		a &= (1ULL << (in->addrsize * 8)) - 1;
	int s = seg_of(m->segment);
	if (s < 0)
		s = (m->base == X86_REG_ESP || m->base == X86_REG_EBP || m->base == X86_REG_RSP ||
		     m->base == X86_REG_RBP || m->base == X86_REG_SP || m->base == X86_REG_BP)
			    ? S_SS : S_DS;
	*seg = (enum seg_reg)s;
	*off = a;
}

int op_read(struct vcpu *vcpu, const struct insn *in, const cs_x86_op *op, uint64_t *val,
	    struct xfault *xf)
{
	switch (op->type) {
	case X86_OP_REG:
		*val = reg_read(vcpu, op->reg);
		return 0;
	case X86_OP_IMM:
		*val = (uint64_t)op->imm;
		if (op->size < 8)
			*val &= (1ULL << (op->size * 8)) - 1;
		return 0;
	case X86_OP_MEM: {
		enum seg_reg s;
		uint64_t off;
		*val = 0;
		op_mem_addr(vcpu, in, op, &s, &off);
		return gmem__read_seg(vcpu, s, off, val, op->size, xf);
	}
	default:
		return -EINVAL;
	}
}

int op_write(struct vcpu *vcpu, const struct insn *in, const cs_x86_op *op, uint64_t val,
	     struct xfault *xf)
{
	switch (op->type) {
	case X86_OP_REG:
		reg_write(vcpu, op->reg, val);
		return 0;
	case X86_OP_MEM: {
		enum seg_reg s;
		uint64_t off;
		op_mem_addr(vcpu, in, op, &s, &off);
		return gmem__write_seg(vcpu, s, off, &val, op->size, xf);
	}
	default:
		return -EINVAL;
	}
}

static uint64_t sp_mask(const struct vcpu *vcpu)
{
	if (gs_64bit(&vcpu->g))
		return UINT64_MAX;
	return vcpu->g.seg[S_SS].db ? 0xffffffffULL : 0xffffULL;
}

static void sp_set(struct vcpu *vcpu, uint64_t sp)
{
	uint64_t m = sp_mask(vcpu);
	vcpu->g.gpr[R_SP] = (vcpu->g.gpr[R_SP] & ~m) | (sp & m);
	vcpu->g.gpr_dirty = true;
}

int stack_push(struct vcpu *vcpu, uint64_t val, unsigned size, struct xfault *xf)
{
	uint64_t sp = (vcpu->g.gpr[R_SP] - size) & sp_mask(vcpu);
	int r = gmem__write_seg(vcpu, S_SS, sp, &val, size, xf);
	if (r)
		return r;
	sp_set(vcpu, sp);
	return 0;
}

int stack_read(struct vcpu *vcpu, unsigned index, unsigned size, uint64_t *val,
	       struct xfault *xf)
{
	uint64_t sp = (vcpu->g.gpr[R_SP] + (uint64_t)index * size) & sp_mask(vcpu);
	*val = 0;
	return gmem__read_seg(vcpu, S_SS, sp, val, size, xf);
}

int stack_pop(struct vcpu *vcpu, uint64_t *val, unsigned size, struct xfault *xf)
{
	int r = stack_read(vcpu, 0, size, val, xf);
	if (r)
		return r;
	sp_set(vcpu, vcpu->g.gpr[R_SP] + size);
	return 0;
}

int emulate__init(struct vcpu *vcpu)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &vcpu->cs32) != CS_ERR_OK)
		return -ENOMEM;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &vcpu->cs64) != CS_ERR_OK) {
		cs_close(&vcpu->cs32);
		return -ENOMEM;
	}
	cs_option(vcpu->cs32, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(vcpu->cs64, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

void emulate__exit(struct vcpu *vcpu)
{
	emu_unicorn_exit(vcpu);
	if (vcpu->cs32)
		cs_close(&vcpu->cs32);
	if (vcpu->cs64)
		cs_close(&vcpu->cs64);
}

static bool is_cr_or_dr(const cs_x86 *x, bool *is_dr)
{
	for (unsigned i = 0; i < x->op_count; i++) {
		if (x->operands[i].type != X86_OP_REG)
			continue;
		x86_reg r = x->operands[i].reg;
		if (r >= X86_REG_CR0 && r <= X86_REG_CR15) {
			*is_dr = false;
			return true;
		}
		if (r >= X86_REG_DR0 && r <= X86_REG_DR15) {
			*is_dr = true;
			return true;
		}
	}
	return false;
}

static bool writes_sreg(const cs_x86 *x)
{
	return x->op_count >= 1 && x->operands[0].type == X86_OP_REG &&
	       seg_of(x->operands[0].reg) >= 0;
}

static int dispatch(struct vcpu *vcpu, struct insn *in, struct xfault *xf)
{
	bool is_dr;
	switch (in->ci->id) {
	case X86_INS_MOV:
		if (is_cr_or_dr(in->x, &is_dr))
			return is_dr ? emu_mov_dr(vcpu, in, xf) : emu_mov_cr(vcpu, in, xf);
		if (writes_sreg(in->x))
			return emu_seg_load(vcpu, in, xf);
		return -ENOSYS;
	case X86_INS_POP:
		if (writes_sreg(in->x))
			return emu_seg_load(vcpu, in, xf);
		return -ENOSYS;
	case X86_INS_LDS: case X86_INS_LES: case X86_INS_LFS: case X86_INS_LGS: case X86_INS_LSS:
		return emu_seg_load(vcpu, in, xf);
	case X86_INS_LGDT: case X86_INS_LIDT: case X86_INS_LLDT: case X86_INS_LTR:
	case X86_INS_SGDT: case X86_INS_SIDT: case X86_INS_SLDT: case X86_INS_STR:
	case X86_INS_SMSW: case X86_INS_LMSW:
		return emu_dtr(vcpu, in, xf);
	case X86_INS_CLTS: case X86_INS_HLT: case X86_INS_INVD: case X86_INS_WBINVD:
	case X86_INS_INVLPG:
		return emu_misc_priv(vcpu, in, xf);
	case X86_INS_RDMSR: case X86_INS_WRMSR:
		return emu_msr(vcpu, in, xf);
	case X86_INS_RDTSC: case X86_INS_RDTSCP:
		return emu_tsc(vcpu, in, xf);
	case X86_INS_RDPMC:
		return emu_rdpmc(vcpu, in, xf);
	case X86_INS_CLFLUSH: case X86_INS_CLFLUSHOPT: case X86_INS_CLWB:
		return emu_flush_line(vcpu, in, xf);
	case X86_INS_XGETBV: case X86_INS_XSETBV: case X86_INS_XSAVE: case X86_INS_XSAVE64:
	case X86_INS_XRSTOR: case X86_INS_XRSTOR64:
		return emu_xsave(vcpu, in, xf);
	case X86_INS_CPUID:
		return emu_cpuid(vcpu, in, xf);
	case X86_INS_LJMP: case X86_INS_LCALL: case X86_INS_RETF: case X86_INS_RETFQ:
		return emu_far(vcpu, in, xf);
	case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ:
		return emu_iret(vcpu, in, xf);
	case X86_INS_INT: case X86_INS_INT3: case X86_INS_INTO:
		return emu_softint(vcpu, in, xf);
	case X86_INS_INT1:
		return emu_icebp(vcpu, in, xf);
	case X86_INS_SYSENTER: case X86_INS_SYSEXIT:
		return emu_sysenter(vcpu, in, xf);
	case X86_INS_SWAPGS:
		return emu_swapgs(vcpu, in, xf);
	case X86_INS_SYSRET:
		return emu_sysret(vcpu, in, xf);
	case X86_INS_IN: case X86_INS_OUT: case X86_INS_INSB: case X86_INS_INSW:
	case X86_INS_INSD: case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
		return emu_io(vcpu, in, xf);
	case X86_INS_CLI: case X86_INS_STI: case X86_INS_PUSHF: case X86_INS_PUSHFD:
	case X86_INS_PUSHFQ: case X86_INS_POPF: case X86_INS_POPFD: case X86_INS_POPFQ:
		return emu_flags(vcpu, in, xf);
	default:
		return -ENOSYS;
	}
}

static bool in_group(const cs_insn *ci, uint8_t grp)
{
	for (unsigned i = 0; i < ci->detail->groups_count; i++)
		if (ci->detail->groups[i] == grp)
			return true;
	return false;
}

/*
 * The checks the CPU makes before it executes an instruction that shade is about to run
 * in software (unicorn knows none of them): device-not-available and undefined-opcode
 * rules for x87/MMX/SSE (SDM vol. 3, 2.5 "CR0.EM/TS/MP", 13.1 "CR4.OSFXSR"), and
 * alignment checking at CPL 3 with CR0.AM and EFLAGS.AC. Returns 1 with the fault.
 */
static int precheck(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	const cs_x86 *x = in->x;
	uint64_t cr0 = vcpu->v.cr0, cr4 = vcpu->v.cr4;
	bool x87 = x->opcode[0] >= 0xd8 && x->opcode[0] <= 0xdf;
	bool fwait = x->opcode[0] == 0x9b;
	bool simd = in_group(in->ci, X86_GRP_MMX) || in_group(in->ci, X86_GRP_SSE1) ||
		    in_group(in->ci, X86_GRP_SSE2) || in_group(in->ci, X86_GRP_SSE3) ||
		    in_group(in->ci, X86_GRP_SSSE3) || in_group(in->ci, X86_GRP_SSE41) ||
		    in_group(in->ci, X86_GRP_SSE42);
	bool mmx = in_group(in->ci, X86_GRP_MMX);

	if (x87 && (cr0 & (CR0_EM | CR0_TS)))
		return xfault_set(xf, X86_NM, false, 0);
	if (fwait && (cr0 & CR0_TS) && (cr0 & CR0_MP))
		return xfault_set(xf, X86_NM, false, 0);
	if (simd) {
		if ((cr0 & CR0_EM) || (!mmx && !(cr4 & CR4_OSFXSR)))
			return xfault_set(xf, X86_UD, false, 0);
		if (cr0 & CR0_TS)
			return xfault_set(xf, X86_NM, false, 0);
	}
	if (vcpu->g.cpl == 3 && (cr0 & CR0_AM) && (vcpu->g.rflags & RFL_AC)) {
		for (unsigned i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];
			enum seg_reg sr;
			uint64_t off;
			if (op->type != X86_OP_MEM || op->size < 2 || op->size > 8)
				continue;
			op_mem_addr(vcpu, in, op, &sr, &off);
			if ((vcpu->g.seg[sr].base + off) & (op->size - 1))
				return xfault_set(xf, X86_AC, true, 0);
		}
	}
	return 0;
}

int emulate__traced_write(struct vcpu *vcpu, struct xfault *xf)
{
	vcpu->stats.emulated[EMU_MEM_WRITE]++;
	return emu_unicorn_step(vcpu, xf);
}

/*
 * Encodings capstone refuses that the CPU executes (and QEMU with it): SALC outside
 * 64-bit mode, the PREFETCH group 0F 0D with a memory operand and the hint-NOP space
 * 0F 18-0F 1F. None of them touches memory or faults. -ENOSYS for anything else.
 */
static int emu_undecoded(struct vcpu *vcpu, const uint8_t *code, unsigned n,
			 const struct opscan *os)
{
	struct gstate *g = &vcpu->g;
	unsigned len = 0;
	if (os->map == 0 && os->op == 0xd6 && !gs_64bit(g)) {
		uint64_t al = (g->rflags & RFL_CF) ? 0xff : 0;
		g->gpr[R_AX] = (g->gpr[R_AX] & ~0xffULL) | al;
		len = os->npfx + 1;
	} else if (os->map == 1 && ((os->op == 0x0d && (os->modrm & 0xc0) != 0xc0) ||
				    (os->op >= 0x18 && os->op <= 0x1f))) {
		unsigned asz = gs_64bit(g) ? (os->adsize ? 4 : 8) : (gs_32bit(g) ^ os->adsize) ? 4 : 2;
		unsigned m = opcheck__modrm_len(code, n, os->opoff + 1, asz);
		if (!m)
			return -ENOSYS;
		len = os->opoff + 1 + m;
	} else {
		return -ENOSYS;
	}
	vcpu->stats.emulated[EMU_OTHER]++;
	g->rip = (g->rip + len) & gmem__addr_mask(vcpu);
	g->gpr_dirty = true;
	return 0;
}

/*
 * What the CPU does with an instruction neither shade's handlers nor the backend ran:
 * a privileged one is #GP(0) outside ring 0; at ring 0 it is one shade does not emulate
 * (-ENOSYS, the VM stops). Anything else runs in unicorn after the checks unicorn does
 * not make.
 */
static int run_unemulated(struct vcpu *vcpu, struct insn *in, struct xfault *xf)
{
	if (in_group(in->ci, X86_GRP_PRIVILEGE)) {
		/* Unicorn runs at CPL 0 with its own system state: never there. */
		return vcpu->g.cpl != 0 ? gp0(xf) : -ENOSYS;
	}
	int r = precheck(vcpu, in, xf);
	return r ? r : emu_unicorn_step(vcpu, xf);
}

int emulate__insn(struct vcpu *vcpu, enum emu_cause cause, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	uint8_t code[15];
	uint64_t lin;
	unsigned n = 15;
	bool limit_cut = false;
	int r;

	/* Fetch up to 15 bytes, fewer if the segment limit or a page boundary cuts in. */
	if (gmem__seg_linear(vcpu, S_CS, g->rip, 1, ACC_FETCH, &lin, xf))
		return 1;
	if (!gs_64bit(g) && g->seg[S_CS].limit - g->rip + 1 < n) {
		n = (unsigned)(g->seg[S_CS].limit - g->rip + 1);
		limit_cut = true;
	}
	r = gmem__read_linear(vcpu, lin, code, n, ACC_FETCH, xf);
	struct xfault page_fault = *xf;
	if (r == 1 && n > PAGE_SIZE - (lin & (PAGE_SIZE - 1))) {
		n = (unsigned)(PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
		r = gmem__read_linear(vcpu, lin, code, n, ACC_FETCH, xf);
	}
	if (r)
		return r;

	/* The opcode-map rules first: they decide #UD before any operand is read. */
	struct opscan os;
	bool m64 = gs_64bit(g);
	int sr = opcheck__scan(code, n, m64, &os);
	if (sr == 1)
		return gp0(xf);               /* longer than 15 bytes */
	if (sr == 0 && opcheck__fault(&os, m64, xf))
		return 1;

	csh h = m64 ? vcpu->cs64 : vcpu->cs32;
	cs_option(h, CS_OPT_MODE, m64 ? CS_MODE_64 : gs_32bit(g) ? CS_MODE_32 : CS_MODE_16);
	cs_insn *ci;
	if (cs_disasm(h, code, n, g->rip, 1, &ci) != 1) {
		/* Cut short by the CS limit or an unmapped page: the fetch faults first. */
		if (n < 15) {
			if (limit_cut)
				return gp0(xf);
			*xf = page_fault;
			return 1;
		}
		r = sr == 0 ? emu_undecoded(vcpu, code, n, &os) : -ENOSYS;
		if (r != -ENOSYS || cause != EMU_CAUSE_KVM)
			return r;
		/* Bytes no CPU decodes: the guest's #UD, not a stop. */
		vcpu->stats.emulated[EMU_OTHER]++;
		return xfault_set(xf, X86_UD, false, 0);
	}
	struct insn in = {
		.ci = ci, .x = &ci->detail->x86, .len = ci->size, .cause = cause,
	};
	in.addrsize = in.x->addr_size ? in.x->addr_size : (m64 ? 8 : gs_32bit(g) ? 4 : 2);
	in.opsize = m64 ? 4 : gs_32bit(g) ? 4 : 2;
	for (unsigned i = 0; i < 4; i++) {
		if (in.x->prefix[i] == 0x66)
			in.opsize = in.opsize == 4 ? 2 : 4;
	}
	if (m64 && (in.x->rex & 8))
		in.opsize = 8;
	r = opcheck__feature(vcpu, ci, xf);
	if (r == 0)
		r = dispatch(vcpu, &in, xf);
	/* What the backend could not run and shade does not emulate. */
	if (r == -ENOSYS && cause == EMU_CAUSE_KVM)
		r = run_unemulated(vcpu, &in, xf);
	cs_free(ci, 1);
	return r;
}
