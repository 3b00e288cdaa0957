/*
 * excp.h: delivering exceptions and interrupts to the guest through its own IDT, exactly
 * as hardware does: gate checks, privilege change with the stack from the guest's TSS,
 * the frame built with the guest's virtual CS/EFLAGS, IF cleared by interrupt gates, and
 * the double-fault / triple-fault rules when delivery itself faults.
 */
#ifndef SHADE_EXCP_H
#define SHADE_EXCP_H

#include "gmem.h"

struct vcpu;

enum event_kind {
	EV_EXCEPTION,   /* a fault or trap the CPU raised: error code as given */
	EV_EXTINT,      /* an external interrupt: EXT set in any error code */
	EV_SOFTINT,     /* INT n: gate DPL checked, returns after the instruction */
	EV_SOFTEXC,     /* INT3 / INTO: like INT n, but they are #BP / #OF */
};

/*
 * Deliver event `vector` to the guest, updating vcpu->g to the guest's handler.
 * `insn_len` is the length of the instruction for software events (the pushed EIP is
 * after it). Returns 0, or 1 when the guest hit a triple fault (vcpu->shutdown set), or
 * a negative errno when shade cannot deliver it (unsupported gate type, mode).
 */
int excp__deliver(struct vcpu *vcpu, unsigned vector, enum event_kind kind, bool has_err,
		  uint32_t err, unsigned insn_len);
/* Deliver a fault the emulator found (sets CR2 for #PF). */
int excp__deliver_fault(struct vcpu *vcpu, const struct xfault *xf);

/* The real RFLAGS for virtual flags f at virtual CPL cpl (guest IOPL iopl). */
uint64_t excp_real_rflags(uint64_t f, unsigned iopl, unsigned cpl);

/* The null SS (RPL = CPL) that IA-32e privilege changes load, as a real cache. */
struct kvm_segment excp__null_ss(unsigned cpl);

/* Whether the CPU pushes an error code for exception `vector`. */
bool excp__has_error_code(unsigned vector);

#endif
