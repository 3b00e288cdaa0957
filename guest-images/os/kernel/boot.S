/*
 * boot.S: the multiboot v1 header and the 32-bit entry. A multiboot loader enters
 * _start in protected mode with paging off, EAX = 0x2BADB002 and EBX = the physical
 * address of the multiboot information. This stub, linked at its load address near
 * 1 MiB, builds the boot page tables (the first GiB identity-mapped for the switch,
 * and mapped again at KERNEL_VMA where the rest of the kernel is linked), turns on
 * PAE, long mode and paging itself, and jumps to the higher half, which zeroes .bss
 * and calls kmain (main.c). vm.c replaces these tables with the kernel's own.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003	/* page-aligned modules, memory information */
#define KERNEL_VMA 0xffffffff80000000

#define CR0_PE 0x00000001
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define EFER_SCE 0x001
#define EFER_LME 0x100
#define EFER_NXE 0x800

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .boot.data, "aw"
	.align 4096
	.globl boot_pml4, boot_pdpt_hi, boot_pd
boot_pml4:
	.skip 4096
boot_pdpt_lo:
	.skip 4096
boot_pdpt_hi:
	.skip 4096
boot_pd:
	.skip 4096

	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 64-bit kernel code */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
boot_gdt_end:
	.align 4
	.word 0
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, %esi		/* multiboot magic and information survive in ESI/EBX */

	/* The boot page directory: 512 x 2 MiB, physical 0 .. 1 GiB. */
	movl $boot_pd, %edi
	movl $0x83, %eax	/* present, writable, 2 MiB page */
	movl $512, %ecx
1:	movl %eax, (%edi)
	movl $0, 4(%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b
	movl $boot_pd + 3, boot_pdpt_lo
	movl $boot_pd + 3, boot_pdpt_hi + 510 * 8	/* KERNEL_VMA -> 0 */
	movl $boot_pdpt_lo + 3, boot_pml4
	movl $boot_pdpt_hi + 3, boot_pml4 + 511 * 8

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE | EFER_SCE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PE | CR0_WP | CR0_PG), %eax
	movl %eax, %cr0
	lgdt boot_gdtr
	ljmp $0x08, $long_entry

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $higher_half, %rax
	jmp *%rax

	.text
higher_half:
	movl %esi, %r12d	/* magic */
	movl %ebx, %r13d	/* multiboot information (physical) */
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq
	leaq boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	pushq $0x2		/* RFLAGS: IF=0, DF=0 */
	popfq
	movl %r12d, %edi
	movl %r13d, %esi
	call kmain
2:	cli
	hlt
	jmp 2b

	.bss
	.align 16
boot_stack:
	.skip 16384
boot_stack_top:
