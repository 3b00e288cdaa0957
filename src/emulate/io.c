/*
 * io.c: port I/O that traps from guest user mode: IN/OUT/INS/OUTS checked against the
 * guest's IOPL and the I/O permission bitmap of the guest's own TSS (SDM vol. 1, 19.5),
 * then performed on the VM's port bus. Guest kernel port I/O never comes here: it exits
 * straight to the VMM (src/vmm/exit.c).
 */
#include <errno.h>

#include "bus.h"
#include "emu_internal.h"

int emulate__io_permitted(struct vcpu *vcpu, unsigned port, unsigned len, struct xfault *xf)
{
	const struct kvm_segment *tr = &vcpu->v.tr;
	uint16_t base, bits;

	if (vcpu->g.cpl <= vcpu->iopl)
		return 0;
	vcpu->stats.io_user_checked++;
	if (tr->unusable || !tr->present || !(tr->type & 8) || tr->limit < 0x67)
		return gp0(xf);
	if (gmem__read_linear(vcpu, tr->base + 0x66, &base, 2, ACC_READ | ACC_SUPERVISOR, xf))
		return gp0(xf);
	uint64_t at = (uint64_t)base + port / 8;
	if (at + 1 > tr->limit)
		return gp0(xf);
	if (gmem__read_linear(vcpu, tr->base + at, &bits, 2, ACC_READ | ACC_SUPERVISOR, xf))
		return gp0(xf);
	unsigned mask = ((1u << len) - 1) << (port & 7);
	return (bits & mask) ? gp0(xf) : 0;
}

static unsigned op_size_bytes(const cs_x86 *x, unsigned id)
{
	switch (id) {
	case X86_INS_INSB: case X86_INS_OUTSB: return 1;
	case X86_INS_INSW: case X86_INS_OUTSW: return 2;
	case X86_INS_INSD: case X86_INS_OUTSD: return 4;
	}
	for (unsigned i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_REG && x->operands[i].reg != X86_REG_DX)
			return x->operands[i].size;
	return 1;
}

int emu_io(struct vcpu *vcpu, const struct insn *in, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	const cs_x86 *x = in->x;
	unsigned id = in->ci->id;
	unsigned len = op_size_bytes(x, id);
	bool is_in = id == X86_INS_IN || id == X86_INS_INSB || id == X86_INS_INSW || id == X86_INS_INSD;
	bool string = id != X86_INS_IN && id != X86_INS_OUT;
	unsigned port;
	int r;

	if (x->op_count && x->operands[is_in ? 1 : 0].type == X86_OP_IMM)
		port = (unsigned)x->operands[is_in ? 1 : 0].imm & 0xff;
	else
		port = (unsigned)g->gpr[R_DX] & 0xffff;
	if ((r = emulate__io_permitted(vcpu, port, len, xf)))
		return r;
	vcpu->stats.emulated[string ? EMU_IO_STRING : EMU_IO_USER]++;

	if (!string) {
		uint64_t val = is_in ? 0 : g->gpr[R_AX];
		if ((r = bus__access(&vcpu->vm->pio, port, &val, len, !is_in)) < 0)
			return r;
		if (is_in)
			reg_write(vcpu, len == 1 ? X86_REG_AL : len == 2 ? X86_REG_AX : X86_REG_EAX, val);
		advance(vcpu, in);
		return 0;
	}

	/* INS/OUTS, with REP: one element per loop, state committed per element so a fault
	 * leaves the registers as hardware would. */
	bool rep = x->prefix[0] == 0xf3 || x->prefix[0] == 0xf2;
	uint64_t amask = in->addrsize == 8 ? UINT64_MAX : (1ULL << (in->addrsize * 8)) - 1;
	int step = (g->rflags & RFL_DF) ? -(int)len : (int)len;
	while (!rep || (g->gpr[R_CX] & amask)) {
		uint64_t val = 0;
		if (is_in) {
			if ((r = bus__access(&vcpu->vm->pio, port, &val, len, false)) < 0)
				return r;
			if ((r = gmem__write_seg(vcpu, S_ES, g->gpr[R_DI] & amask, &val, len, xf)))
				return r;
			g->gpr[R_DI] = (g->gpr[R_DI] & ~amask) | ((g->gpr[R_DI] + (uint64_t)step) & amask);
		} else {
			int s = seg_of(x->operands[1].mem.segment);
			if ((r = gmem__read_seg(vcpu, s < 0 ? S_DS : (enum seg_reg)s,
						g->gpr[R_SI] & amask, &val, len, xf)))
				return r;
			if ((r = bus__access(&vcpu->vm->pio, port, &val, len, true)) < 0)
				return r;
			g->gpr[R_SI] = (g->gpr[R_SI] & ~amask) | ((g->gpr[R_SI] + (uint64_t)step) & amask);
		}
		g->gpr_dirty = true;
		if (!rep)
			break;
		g->gpr[R_CX] = (g->gpr[R_CX] & ~amask) | ((g->gpr[R_CX] - 1) & amask);
	}
	advance(vcpu, in);
	return 0;
}
