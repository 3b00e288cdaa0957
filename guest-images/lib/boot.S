/*
 * boot.S: multiboot v1 header and the 32-bit entry point. A multiboot loader enters
 * here in protected mode with paging off, EAX = 0x2BADB002, EBX = info, flat CS/DS
 * from a GDT we must not rely on: load our own GDT at once, reload every segment
 * register, zero .bss, set up the boot stack and call boot__main (boot.c).
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, provide memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.data
	.align 16
	.globl gdt__table
gdt__table:
	.quad 0			/* 0x00 null */
	.quad 0x00cf9a000000ffff	/* 0x08 kernel code: base 0, 4 GiB, 32-bit, DPL0 */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
	.quad 0x00cffa000000ffff	/* 0x18 user code, DPL3 */
	.quad 0x00cff2000000ffff	/* 0x20 user data, DPL3 */
	.fill 27, 8, 0		/* 0x28 TSS (tss__init), then free slots for tests */
gdt_end:

	.align 4
	.word 0
	.globl gdt__dtr
gdt__dtr:
	.word gdt_end - gdt__table - 1
	.long gdt__table

	.globl boot__magic, boot__mbi
boot__magic:
	.long 0
boot__mbi:
	.long 0

	.bss
	.align 16
boot_stack:
	.skip 32768
boot_stack_top:

	.text
	.globl _start
_start:
	cli
	cld
	movl %eax, boot__magic
	movl %ebx, boot__mbi
	lgdt gdt__dtr
	ljmp $0x08, $1f
1:	movw $0x10, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $boot_stack_top, %esp
	xorl %ebp, %ebp
	pushl $0x2		/* EFLAGS: IF=0, DF=0, IOPL=0, NT=0, AC=0, TF=0 */
	popfl
	call boot__main
2:	cli
	hlt
	jmp 2b
