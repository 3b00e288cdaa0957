/*
 * singlestep.c: the single-step trap (EFLAGS.TF) after an instruction shade ran in
 * software. The CPU raises #DB, DR6.BS set, at the boundary after every instruction
 * that began with TF set (SDM vol. 3 17.3.1.4); an instruction shade emulated never
 * reached the CPU, so without this the guest's #DB came one instruction late (after
 * the next native one). Not raised here after MOV SS or POP SS, whose shadow blocks
 * it at that boundary, nor when the emulation moved control elsewhere (an event it
 * delivered, a far transfer: those set their own flags), nor when the guest halted.
 */
#include <stdbool.h>

#include "emu_internal.h"

#define DR6_BS (1ULL << 14)
#define MAX_INSN_LEN 15

/* Whether the instruction at CS:rip is MOV SS (8E /2) or POP SS (17), after its
 * prefixes (and REX in 64-bit mode). Bytes that cannot be read answer no. */
static bool loads_ss(struct vcpu *vcpu, uint64_t rip)
{
	bool m64 = gs_64bit(&vcpu->g);
	struct xfault xf;

	for (unsigned i = 0; i < MAX_INSN_LEN - 1; i++) {
		uint8_t b[2];
		if (gmem__read_seg(vcpu, S_CS, rip + i, b, 1, &xf))
			return false;
		switch (b[0]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
		case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
			continue;
		case 0x17:
			return !m64;
		case 0x8e:
			if (gmem__read_seg(vcpu, S_CS, rip + i + 1, &b[1], 1, &xf))
				return false;
			return ((b[1] >> 3) & 7) == 2;
		default:
			if (m64 && (b[0] & 0xf0) == 0x40)
				continue;
			return false;
		}
	}
	return false;
}

int emulate__single_step(struct vcpu *vcpu, uint64_t rip0, uint16_t cs0)
{
	struct gstate *g = &vcpu->g;
	uint64_t len = g->rip - rip0;

	if (!(g->rflags & RFL_TF) || vcpu->halted || g->seg[S_CS].selector != cs0 ||
	    len == 0 || len > MAX_INSN_LEN || loads_ss(vcpu, rip0))
		return 0;
	vcpu->v.dr[6] = 0xffff0ff0ULL | DR6_BS;
	int r = excp__deliver(vcpu, X86_DB, EV_EXCEPTION, false, 0, 0);
	return r < 0 ? r : 0;
}
