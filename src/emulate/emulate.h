/*
 * emulate.h: emulating one guest instruction that trapped (a #GP/#UD from deprivileged
 * code, or one KVM could not execute), against the virtual CPU state.
 */
#ifndef SHADE_EMULATE_H
#define SHADE_EMULATE_H

#include "gmem.h"

struct vcpu;

enum emu_cause {
	EMU_CAUSE_GP,          /* #GP from the guest: emulate if privileged, else reflect */
	EMU_CAUSE_UD,          /* #UD: software interrupts at CPL 3 on some backends */
	EMU_CAUSE_KVM,         /* KVM could not execute it (internal error, emulation) */
};

/*
 * Emulate the instruction at the guest's CS:RIP. Returns 0 when done (state in vcpu->g
 * advanced or redirected), 1 when the instruction faults for the guest (*xf holds the
 * fault to reflect), -ENOSYS when it is not an instruction shade emulates for this
 * cause, or another negative errno for an error that stops the VM.
 */
int emulate__insn(struct vcpu *vcpu, enum emu_cause cause, struct xfault *xf);

/* 0 if the guest's IOPL or its TSS I/O bitmap permits `len` bytes at `port` at the
 * current CPL, 1 with #GP(0) in *xf otherwise. */
int emulate__io_permitted(struct vcpu *vcpu, unsigned port, unsigned len, struct xfault *xf);

/* Execute, in software, the guest instruction that wrote to a write-traced page (the
 * page stays protected; the descriptor mirrors are refreshed). Returns as
 * emulate__insn; -ENOSYS or -EOPNOTSUPP when it cannot (the caller single-steps). */
int emulate__traced_write(struct vcpu *vcpu, struct xfault *xf);

/* After emulate__insn returned 0 for an instruction that began at cs0:rip0 with the
 * guest's EFLAGS.TF set: raise the single-step #DB the CPU would (DR6.BS), unless the
 * instruction was MOV/POP SS or moved control elsewhere. 0, or a negative errno when
 * the #DB cannot be delivered. */
int emulate__single_step(struct vcpu *vcpu, uint64_t rip0, uint16_t cs0);

/* The guest executed SYSCALL (the real one landed in the monitor): enter the guest
 * kernel at its IA32_LSTAR as the CPU would. 0, or 1 with #UD. */
int emulate__syscall(struct vcpu *vcpu, bool compat, struct xfault *xf);

/* RDMSR/WRMSR at guest CPL 0 without an instruction: 0, or 1 where the CPU raises #GP. */
int msr__read(struct vcpu *vcpu, uint32_t idx, uint64_t *val);
int msr__write(struct vcpu *vcpu, uint32_t idx, uint64_t val);
int emulate__init(struct vcpu *vcpu);
void emulate__exit(struct vcpu *vcpu);

#endif
