/*
 * monitor.S: the CPL0 part of shade that runs inside each VM. Nothing else of the VMM
 * runs at real CPL0. It is 256 interrupt stubs and one exit path: every exception and
 * every injected interrupt that leaves the deprivileged guest lands here, reports the
 * vector with a single OUT to the VMM, and returns with IRETQ to whatever frame the VMM
 * left on the stack (the same guest instruction, the next one, or the guest's own
 * handler after the VMM reflected the event through the guest's IDT).
 *
 * The IDT, GDT and TSS are data the VMM writes (src/monitor/monitor.c); this file is the
 * only code. Linked at MON_TEXT, position-dependent, no relocations.
 */
#include "layout.h"

	.code64
	.text
	.globl mon_stubs
mon_stubs:


	.altmacro
	.macro stub v
	.balign MON_STUB_SIZE
	.if !((\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30))
	pushq $0
	.endif
	pushq $\v
	jmp mon_common
	.endm

	.set v, 0
	.rept 256
	stub %v
	.set v, v + 1
	.endr

	.balign MON_STUB_SIZE
	.globl mon_common
mon_common:
	pushq %rax
	movb MON_FRAME_VEC(%rsp), %al
	/* The exit: the VMM reads the frame at RSP and may rewrite all of it. */
	outb %al, $MON_PORT
	.globl mon_resume
mon_resume:
	popq %rax
	addq $16, %rsp
	iretq

/*
 * mon_syscall: the real IA32_LSTAR. A guest SYSCALL from guest kernel mode enters here
 * at CPL 0 on the guest's own stack (SYSCALL switches no stack) with the guest's RCX and
 * R11 set: HLT exits to the VMM without touching a register or memory, and the VMM
 * emulates the guest's SYSCALL. (A backend that runs a CPL 3 SYSCALL to LSTAR without
 * changing privilege faults fetching this supervisor page instead; the VMM recognises
 * that fault's RIP as the same SYSCALL.) Never resumed.
 */
	.balign 16
	.globl mon_syscall
mon_syscall:
	hlt
	ud2

/* mon_syscall32: the real IA32_CSTAR, the same for a SYSCALL from compatibility mode
 * (which goes to the guest's CSTAR, not its LSTAR). */
	.balign 16
	.globl mon_syscall32
mon_syscall32:
	hlt
	ud2
	.globl mon_end
mon_end:
