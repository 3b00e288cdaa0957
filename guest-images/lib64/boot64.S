/*
 * boot64.S: multiboot v1 header and the 32-bit entry of a higher-half 64-bit kernel
 * (see boot64.h). The header and this stub live in the low .boot section (VMA = LMA),
 * the rest of the kernel at KERNBASE + LMA. The early tables identity-map the first GiB
 * only for the instructions between CR0.PG and the jump to the higher half.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, provide memory info */
#define PDE_PS_RW_P 0x83
#define PTE_RW_P 0x03

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .boot.data, "aw"
	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code, DPL0 */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
	.align 4
	.word 0
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt
boot_magic:
	.long 0
boot_mbi:
	.long 0

	.section .boot.bss, "aw", @nobits
	.align 4096
boot_pml4:
	.skip 4096
boot_pdpt_low:
	.skip 4096
boot_pdpt_high:
	.skip 4096
boot_pd:
	.skip 4096

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_mbi
	/* The loader zeroed .boot.bss (memsz > filesz): fill in the present entries. */
	movl $boot_pd, %edi
	movl $PDE_PS_RW_P, %eax
	movl $512, %ecx
1:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b
	movl $boot_pd + PTE_RW_P, boot_pdpt_low
	movl $boot_pd + PTE_RW_P, boot_pdpt_high + 510 * 8	/* 0xffffffff80000000 */
	movl $boot_pdpt_low + PTE_RW_P, boot_pml4
	movl $boot_pdpt_high + PTE_RW_P, boot_pml4 + 511 * 8
	/* SDM 9.8.5: PAE, CR3, EFER.LME, then CR0.PG activates IA-32e mode. */
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	lgdt boot_gdtr
	ljmp $0x08, $boot_long

	.code64
boot_long:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movabsq $boot_high, %rax
	jmp *%rax

	.text
boot_high:
	movabsq $__bss_start, %rdi
	movabsq $__bss_end, %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb
	movabsq $boot_stack_top, %rsp
	movl boot_magic, %eax
	movl %eax, boot64__magic(%rip)
	movl boot_mbi, %eax
	movl %eax, boot64__mbi(%rip)
	pushq $2		/* RFLAGS: IF=0, DF=0, AC=0 */
	popfq
	xorl %ebp, %ebp
	call kmain
2:	cli
	hlt
	jmp 2b

	.bss
	.align 16
	.globl boot64__magic, boot64__mbi
boot64__magic:
	.skip 4
boot64__mbi:
	.skip 4
	.align 4096
boot_stack:
	.skip 16384
boot_stack_top:
