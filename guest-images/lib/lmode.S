/*
 * lmode.S: the 64-bit half of lmode.h: the far call from compatibility mode into 64-bit
 * code and back, the 64-bit exception stubs with the trap.h recovery, and the ring-3
 * excursion. The object is elf32-i386, so 64-bit code addresses memory RIP-relative and
 * takes absolute addresses as zero-extended 32-bit immediates (movl $sym, %eax): all of
 * it lives below 4 GiB, identity-mapped.
 */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x23
#define SEL_KCODE64 0x30
#define SEL_UCODE64 0x3b
#define SEL_TSS64 0x40
#define LMODE_EXIT_VECTOR 0xfd

/* struct trap_record (trap.h); lmode.c asserts the offsets. */
#define TR_VECTOR 0
#define TR_ERROR 4
#define TR_EIP 8
#define TR_CS 12
#define TR_EFLAGS 16
#define TR_ESP 20
#define TR_SS 24
#define TR_CR2 28
#define TR_HEFLAGS 32
#define TR_HESP 36
#define TR_COUNT 40
/* struct lmode_trap (lmode.h) */
#define LT_RIP 0
#define LT_RSP 8
#define LT_RFLAGS 16
#define LT_CR2 24
#define LT_VECTOR 32
#define LT_ERROR 36
#define LT_CS 40
#define LT_SS 44

/* Trap frame offsets after trap_common pushed its 9 scratch registers. */
#define F_VECTOR 72
#define F_ERROR 80
#define F_RIP 88
#define F_CS 96
#define F_RFLAGS 104
#define F_RSP 112
#define F_SS 120

	.bss
	.align 16
	.globl lmode_stack0_top
lmode_stack0:			/* TSS.RSP0: traps and the exit gate from ring 3 */
	.skip 8192
lmode_stack0_top:
	.globl lmode__user_stack_top
lmode_user_stack:
	.skip 8192
lmode__user_stack_top:
	.align 8
lmode_kernel_rsp:
	.skip 8

	.text
	.code32
/* u32 lmode__call64(const void *fn, u32 arg) */
	.globl lmode__call64
lmode__call64:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 20(%esp), %eax
	movl 24(%esp), %edi
	lcall $SEL_KCODE64, $call64
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

	.code64
call64:
	/* The upper halves of the registers are undefined after compatibility mode. */
	movl %esp, %esp
	movl %eax, %eax
	movl %edi, %edi
	call *%rax
	/* Ring-3 excursions leave SS null and DS..GS null: compatibility mode needs them. */
	movl $SEL_KDATA, %ecx
	movl %ecx, %ss
	movl %ecx, %ds
	movl %ecx, %es
	movl %ecx, %fs
	movl %ecx, %gs
	lretl			/* 32-bit far return: pops EIP and CS pushed by lcall */

/* Called once through lmode__call64 right after CR0.PG=1: 64-bit IDTR and TR. */
	.globl lmode_init64
lmode_init64:
	lidt lmode_idtr(%rip)
	movl $SEL_TSS64, %eax
	ltr %ax
	ret

/*
 * lmode_user64: RDI = ring-3 entry. IRETQ to 64-bit ring 3 with IF=0, IOPL=0 on the
 * user stack; the exit gate comes back to lmode_user_return with the ring-3 RAX.
 */
	.globl lmode_user64
lmode_user64:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, lmode_kernel_rsp(%rip)
	movl $SEL_UDATA, %eax
	pushq %rax			/* SS */
	movl $lmode__user_stack_top, %eax
	pushq %rax			/* RSP */
	pushq $2			/* RFLAGS */
	pushq $SEL_UCODE64		/* CS */
	pushq %rdi			/* RIP */
	iretq
lmode_user_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.globl lmode_exit_stub
lmode_exit_stub:		/* DPL3 gate, on TSS.RSP0; RAX = the ring-3 result */
	movq lmode_kernel_rsp(%rip), %rsp
	jmp lmode_user_return

/* One 16-byte stub per vector, as entry.S does for 32-bit mode. */
	.align 16
	.globl lmode_stubs
lmode_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || \
	    (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp lmode_trap_common
	.set vec, vec + 1
	.endr

lmode_trap_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	leaq trap__last(%rip), %rdi
	leaq lmode__last(%rip), %rsi
	movq F_VECTOR(%rsp), %rax
	movl %eax, TR_VECTOR(%rdi)
	movl %eax, LT_VECTOR(%rsi)
	movq F_ERROR(%rsp), %rax
	movl %eax, TR_ERROR(%rdi)
	movl %eax, LT_ERROR(%rsi)
	movq F_RIP(%rsp), %rax
	movl %eax, TR_EIP(%rdi)
	movq %rax, LT_RIP(%rsi)
	movq F_CS(%rsp), %rax
	movl %eax, TR_CS(%rdi)
	movl %eax, LT_CS(%rsi)
	movq F_RFLAGS(%rsp), %rax
	movl %eax, TR_EFLAGS(%rdi)
	movq %rax, LT_RFLAGS(%rsi)
	movq F_RSP(%rsp), %rax
	movl %eax, TR_ESP(%rdi)
	movq %rax, LT_RSP(%rsi)
	movq F_SS(%rsp), %rax
	movl %eax, TR_SS(%rdi)
	movl %eax, LT_SS(%rsi)
	movq %cr2, %rax
	movl %eax, TR_CR2(%rdi)
	movq %rax, LT_CR2(%rsi)
	pushfq
	popq %rax
	movl %eax, TR_HEFLAGS(%rdi)
	leaq F_RIP(%rsp), %rax
	movl %eax, TR_HESP(%rdi)
	incl TR_COUNT(%rdi)
	movl trap__resume(%rip), %eax
	testl %eax, %eax
	jz lmode_unexpected
	movq %rax, F_RIP(%rsp)
	andq $~0x100, F_RFLAGS(%rsp)	/* TF: a single-step test ends at its first #DB */
	movl $0, trap__resume(%rip)
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp
	iretq

lmode_unexpected:		/* report from compatibility mode; never returns */
	movl $SEL_KDATA, %eax
	movl %eax, %ss
	movl %eax, %ds
	movl %eax, %es
	andq $~15, %rsp
	subq $8, %rsp
	movl $lmode__unexpected, (%rsp)
	movl $SEL_KCODE, 4(%rsp)
	lretl
