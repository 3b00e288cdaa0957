/*
 * hx-run.S: recovery and entry for hostile code. hx__asm_try saves the callee-saved
 * registers and the stack pointer and calls fn(arg); hx__bail, called from a trap
 * handler on whatever stack the trap used, reloads the kernel's GDT, IDT and segments
 * (the code that trapped may have changed all of them), restores the saved context and
 * returns from hx__asm_try with its argument. hx__jump_kernel and hx__jump_user start
 * random code with given registers at CPL 0 or 3.
 */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b
#define SEL_UDATA 0x23

	.data
	.align 4
hx_jb:	.long 0, 0, 0, 0, 0	/* ebx esi edi ebp esp (pointing at the return address) */
hx_target:
	.long 0

	.text
	.globl hx__asm_try
hx__asm_try:
	movl %ebx, hx_jb
	movl %esi, hx_jb + 4
	movl %edi, hx_jb + 8
	movl %ebp, hx_jb + 12
	movl %esp, hx_jb + 16
	movl 4(%esp), %eax
	pushl 8(%esp)
	call *%eax
	addl $4, %esp
	xorl %eax, %eax
	ret

	.globl hx__bail
hx__bail:
	movl 4(%esp), %eax
	lgdt gdt__dtr
	lidt idt__dtr
	ljmp $SEL_KCODE, $1f
1:	movl $SEL_KDATA, %ecx
	movw %cx, %ss
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movl hx_jb + 16, %esp
	movl hx_jb, %ebx
	movl hx_jb + 4, %esi
	movl hx_jb + 8, %edi
	movl hx_jb + 12, %ebp
	pushl $0x2		/* IF, TF, DF, AC, NT, IOPL all clear */
	popfl
	ret

	.globl hx__reload_segments
hx__reload_segments:
	ljmp $SEL_KCODE, $1f
1:	movl $SEL_KDATA, %ecx
	movw %cx, %ss
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	ret

/* struct hx_regs: eax 0, ecx 4, edx 8, ebx 12, esp 16, ebp 20, esi 24, edi 28,
 * eip 32, eflags 36 */
	.globl hx__jump_kernel
hx__jump_kernel:
	movl 4(%esp), %eax
	movl 32(%eax), %ecx
	movl %ecx, hx_target
	movl 4(%eax), %ecx
	movl 8(%eax), %edx
	movl 12(%eax), %ebx
	movl 20(%eax), %ebp
	movl 24(%eax), %esi
	movl 28(%eax), %edi
	pushl 36(%eax)
	popfl			/* IF on: the watchdog can end it */
	movl 16(%eax), %esp
	movl 0(%eax), %eax
	jmp *hx_target

	.globl hx__jump_user
hx__jump_user:
	movl 4(%esp), %eax
	movl $SEL_UDATA, %ecx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	pushl $SEL_UDATA
	pushl 16(%eax)
	pushl 36(%eax)
	pushl $SEL_UCODE
	pushl 32(%eax)
	movl 4(%eax), %ecx
	movl 8(%eax), %edx
	movl 12(%eax), %ebx
	movl 20(%eax), %ebp
	movl 24(%eax), %esi
	movl 28(%eax), %edi
	movl 0(%eax), %eax
	iret
