/*
 * procs64-user.S: the ring-3 programs of the procs64 kernel (see procs64.h). They live
 * in .utext, the one code page every process maps read-only at USER_CODE_VA, so they
 * are position independent (RIP-relative or absolute user addresses only) and call
 * nothing outside this page. The test programs enter the kernel with SYSCALL (one with
 * INT 0x80); the benchmark programs only fault (page faults, and UD2 as the call: see
 * proc.h for why).
 */
#include "procs64.h"

#define SYS_EXIT 1
#define SYS_YIELD 2
#define SYS_GETPID 3
#define SYS_REPORT 4
#define SYS_FORK 5
#define SYS_UNMAP 6
#define SYS_STOP 7
#define USER_DATA_VA 0x10000000

/* SYSCALL clobbers RCX and R11 (and the result lands in RAX); the rest is kept. */
.macro SYS nr
	movl $\nr, %eax
	syscall
.endm
.macro REPORT key, reg
	movq \reg, %rsi
	movl $\key, %edi
	SYS SYS_REPORT
.endm
.macro EXIT code
	movl $\code, %edi
	SYS SYS_EXIT
.endm

	.section .utext, "ax"
	.code64

/* u_isolate(rounds): a pid-specific pattern at the same VA in every process, checked
 * after every yield (a CR3 switch each); an untouched page must read zero. */
	.globl u_isolate
u_isolate:
	pushfq			/* the stack's demand fault */
	popq %rbp
	movq %rdi, %r12
	SYS SYS_GETPID
	movq %rax, %rbx
	pushfq
	popq %r13
	REPORT R_FLAGS_IRET, %rbp
	REPORT R_FLAGS_SYSRET, %r13
	REPORT R_PID, %rbx
	movq $USER_DATA_VA + 0x3000, %rdi
	call page_or
	REPORT R_ZERO, %rax
	movabsq $0x0101010101010101, %r13
	imulq %rbx, %r13
	movq %r13, USER_DATA_VA
	notq %r13
	movq %r13, USER_DATA_VA + 0x1008
	notq %r13
	xorl %r14d, %r14d
	xorl %r15d, %r15d
1:	SYS SYS_YIELD
	cmpq %r13, USER_DATA_VA
	je 2f
	incq %r14
2:	notq %r13
	cmpq %r13, USER_DATA_VA + 0x1008
	je 3f
	incq %r14
3:	notq %r13
	incq %r15
	cmpq %r12, %r15
	jb 1b
	REPORT R_BAD, %r14
	REPORT R_ROUNDS, %r15
	EXIT 0

/* RAX = OR of the 512 words of the page at RDI. */
page_or:
	xorl %eax, %eax
	movl $512, %ecx
1:	orq (%rdi), %rax
	addq $8, %rdi
	decl %ecx
	jnz 1b
	ret

/* u_write_code: a store into this (read-only) code page: #PF, error 7. */
	.globl u_write_code, u_write_code_insn
u_write_code:
	leaq u_write_code(%rip), %rax
u_write_code_insn:
	movb $0x90, (%rax)
	EXIT 1

/* u_read_kernel(address): a ring-3 load from a supervisor page: #PF, error 5. */
	.globl u_read_kernel
u_read_kernel:
	movq (%rdi), %rax
	EXIT 1

/* u_int80: getpid and its report through the DPL-3 INT 0x80 gate. */
	.globl u_int80
u_int80:
	movl $SYS_GETPID, %eax
	int $0x80
	movq %rax, %rsi
	movl $R_PID, %edi
	movl $SYS_REPORT, %eax
	int $0x80
	EXIT 0

/* u_fork: the parent's data before the fork must show in the child, and neither's
 * later writes in the other. Round robin: parent, child, parent, child. */
	.globl u_fork
u_fork:
	movq $FORK_BEFORE, USER_DATA_VA
	SYS SYS_FORK
	testq %rax, %rax
	jz 1f
	REPORT R_PID, %rax	/* the child's pid */
	movq $FORK_PARENT, USER_DATA_VA
	SYS SYS_YIELD
	REPORT R_VALUE, USER_DATA_VA
	EXIT 0
1:	REPORT R_VALUE, USER_DATA_VA
	movq $FORK_CHILD, USER_DATA_VA
	SYS SYS_YIELD
	REPORT R_VALUE2, USER_DATA_VA
	EXIT 0

/* u_invlpg(page): write, read back, have the kernel unmap the page, read again: the
 * read must fault (a fresh zero page), not hit a stale TLB entry. No stack use, so
 * the page's are the only demand faults. */
	.globl u_invlpg
u_invlpg:
	movq %rdi, %rbx
	movq $INVLPG_VALUE, (%rbx)
	REPORT R_VALUE, (%rbx)
	movq %rbx, %rdi
	SYS SYS_UNMAP
	REPORT R_VALUE2, (%rbx)
	EXIT 0

/* u_touch(first, pages): every page must read zero, then holds its own fill (pid and
 * page number) across a yield. */
	.globl u_touch
u_touch:
	movq %rdi, %r12
	movq %rsi, %r13
	SYS SYS_GETPID
	movq %rax, %rbx
	shlq $32, %rbx
	xorl %r14d, %r14d	/* OR of what the pages held */
	xorl %r15d, %r15d	/* i */
1:	movq %r15, %rdi
	shlq $12, %rdi
	addq %r12, %rdi
	call page_or
	orq %rax, %r14
	movq %r15, %rdi
	shlq $12, %rdi
	addq %r12, %rdi
	leaq (%rbx,%r15), %rax
	movl $512, %ecx
	rep stosq
	incq %r15
	cmpq %r13, %r15
	jb 1b
	REPORT R_ZERO, %r14
	SYS SYS_YIELD
	xorl %r14d, %r14d	/* words that lost their fill */
	xorl %r15d, %r15d
2:	movq %r15, %rdi
	shlq $12, %rdi
	addq %r12, %rdi
	leaq (%rbx,%r15), %rax
	movl $512, %ecx
3:	cmpq %rax, (%rdi)
	je 4f
	incq %r14
4:	addq $8, %rdi
	decl %ecx
	jnz 3b
	incq %r15
	cmpq %r13, %r15
	jb 2b
	REPORT R_BAD, %r14
	EXIT 0

/* u_bench_touch(first, pages): one store per page (a demand fault each), then exit. */
	.globl u_bench_touch
u_bench_touch:
1:	movq %rsi, (%rdi)
	addq $4096, %rdi
	decq %rsi
	jnz 1b
	xorl %edi, %edi
	movl $SYS_EXIT, %eax
	ud2

/* u_bench_parent(first, pages): page i holds i + 1; then stop. Each fork of the stopped
 * process resumes after the stop, sums the first word of every page and exits with
 * the sum (pages * (pages + 1) / 2 if the copy is right). */
	.globl u_bench_parent
u_bench_parent:
	movq %rdi, %r12
	movq %rsi, %r13
	xorl %ecx, %ecx
1:	leaq 1(%rcx), %rax
	movq %rax, (%rdi)
	addq $4096, %rdi
	incq %rcx
	cmpq %r13, %rcx
	jb 1b
	movl $SYS_STOP, %eax
	ud2
	movq %r12, %rdi
	movq %r13, %rcx
	xorl %eax, %eax
2:	addq (%rdi), %rax
	addq $4096, %rdi
	decq %rcx
	jnz 2b
	movq %rax, %rdi
	movl $SYS_EXIT, %eax
	ud2
