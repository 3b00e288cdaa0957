/*
 * higher-half-boot.S: the physical entry point of the "higher-half" guest. Runs at its
 * load address with paging off: a page directory of 4 MiB pages maps the first 16 MiB
 * both at 0 and at 0x80000000, paging goes on, and the kernel continues at its linked
 * (virtual) address in boot.S's _start with the loader's EAX and EBX.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003
#define KERNEL_VMA 0x80000000
#define V2P(x) ((x) - KERNEL_VMA)

	.section .hhboot, "ax"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.globl hh_start
hh_start:
	movl %eax, %esi
	movl $V2P(hh_stack_top), %esp	/* the loader leaves ESP undefined */
	call 1f
1:	popl %eax
	movl %eax, V2P(hh_entry_eip)	/* where the loader started us (physical) */
	movl $V2P(hh_pd), %edx
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $22, %eax
	orl $0x83, %eax			/* present, writable, 4 MiB */
	movl %eax, (%edx,%ecx,4)
	movl %eax, 0x800(%edx,%ecx,4)	/* PDE 512: 0x80000000 */
	incl %ecx
	cmpl $4, %ecx
	jb 2b
	movl %cr4, %eax
	orl $0x10, %eax			/* PSE */
	movl %eax, %cr4
	movl %edx, %cr3
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	movl %esi, %eax
	movl $_start, %ecx
	jmp *%ecx

	.data
	.align 4096
hh_pd:
	.fill 1024, 4, 0
	.globl hh_entry_eip
hh_entry_eip:
	.long 0
	.align 16
	.fill 64, 4, 0
hh_stack_top:
