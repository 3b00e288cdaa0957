/*
 * user.S: u32 user__run(user_fn fn, u32 arg, u32 eflags): IRET to ring 3, call
 * fn(arg) there, come back with INT $USER_EXIT_VECTOR. The exit stub runs on the TSS
 * ring-0 stack and abandons it, switching back to the saved kernel stack.
 */
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b
#define SEL_UDATA 0x23
#define USER_EXIT_VECTOR 0xfd

	.bss
	.align 16
	.globl user__stack_top
user_stack:
	.skip 16384
user__stack_top:

	.data
	.align 4
user_kernel_esp:
	.long 0
	.globl user__entry_ds
user__entry_ds:
	.long 0

	.text
	.globl user__run
user__run:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	pushfl
	movl %esp, user_kernel_esp
	movl 24(%esp), %eax	/* fn */
	movl 28(%esp), %ecx	/* arg */
	movl 32(%esp), %edx	/* eflags */
	movl $user__stack_top - 8, %ebx
	movl %eax, 0(%ebx)
	movl %ecx, 4(%ebx)
	pushl $SEL_UDATA	/* SS */
	pushl %ebx		/* ESP */
	pushl %edx		/* EFLAGS */
	pushl $SEL_UCODE	/* CS */
	pushl $user_entry	/* EIP */
	iret

user_entry:			/* ring 3; DS..GS were nulled by the IRET (DPL0 < CPL3) */
	movl %ds, %eax
	movl %eax, %ss:user__entry_ds
	movl $SEL_UDATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	popl %eax		/* fn; arg is now at (%esp) */
	call *%eax
	int $USER_EXIT_VECTOR
	ud2

	.globl user__exit_stub
user__exit_stub:		/* ring 0 on the TSS stack, EAX = fn's result */
	movl $SEL_KDATA, %ecx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movl user_kernel_esp, %esp
	popfl
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
