/*
 * entry.S: one 16-byte stub per IDT vector (trap__stubs + 16 * vector). Each stub
 * pushes a zero error code when the CPU does not push one, then the vector number,
 * and joins trap_common, which saves all registers into a struct trap_frame (trap.h),
 * loads the kernel data segment and calls trap__dispatch (trap.c).
 */
	.text
	.align 16
	.globl trap__stubs
trap__stubs:
	.set vec, 0
	.rept 256
	.align 16
	/* vectors for which the CPU pushes an error code */
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || \
	    (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushl $0
	.endif
	pushl $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

	.align 16
trap_common:
	pushal
	pushl %ds
	pushl %es
	pushl %fs
	pushl %gs
	movl $0x10, %eax
	movw %ax, %ds
	movw %ax, %es
	cld
	pushl %esp
	call trap__dispatch
	addl $4, %esp
	popl %gs
	popl %fs
	popl %es
	popl %ds
	popal
	addl $8, %esp		/* vector, error code */
	iret
