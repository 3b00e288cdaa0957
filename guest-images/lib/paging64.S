/*
 * paging64.S: paging__access (paging.h) in IA-32e mode: the access runs in 64-bit mode,
 * at CPL 0 or, through lmode_user64, at CPL 3, with the trap.h recovery armed around the
 * one accessing instruction. Called through lmode__call64; see lmode.S for the rules of
 * 64-bit code in this elf32 object.
 */
#define LMODE_EXIT_VECTOR 0xfd
/* struct pg_access (paging.h); paging.c asserts the offsets. */
#define PA_VA 0
#define PA_VALUE 8
#define PA_OP 16
#define PA_CPL 20
#define PA_FLAGS 24
#define PA_INSN 56
#define PG_WRITE 1
#define PG_FETCH 2
#define PG_ACCESS_INVLPG 1

	.text
	.code64
/* u32 paging_access64(struct pg_access *a) */
	.globl paging_access64
paging_access64:
	pushq %r12
	movq %rdi, %r12
	movq PA_VA(%r12), %rsi
	testl $PG_ACCESS_INVLPG, PA_FLAGS(%r12)
	jz 1f
	invlpg (%rsi)
1:	cmpl $3, PA_CPL(%r12)
	je 2f
	call access_body
	jmp 3f
2:	leaq access_user(%rip), %rdi
	call lmode_user64		/* RSI and R12 pass through to ring 3 */
3:	popq %r12
	xorl %eax, %eax
	ret

access_user:			/* 64-bit ring 3 */
	call access_body
	int $LMODE_EXIT_VECTOR

/* R12 = the struct pg_access, RSI = va. A fault resumes at 4: with RSP from R9 (a
 * faulting fetch leaves the call's return address pushed). */
access_body:
	movq %rsp, %r9
	movq PA_VALUE(%r12), %rdx
	movl PA_OP(%r12), %ecx
	cmpl $PG_WRITE, %ecx
	je 2f
	cmpl $PG_FETCH, %ecx
	je 3f
	leaq 1f(%rip), %rax
	movq %rax, PA_INSN(%r12)
	movq %rdx, %rax
	movl $4f, trap__resume(%rip)
1:	movq (%rsi), %rax
	jmp 4f
2:	leaq 5f(%rip), %rax
	movq %rax, PA_INSN(%r12)
	movq %rdx, %rax
	movl $4f, trap__resume(%rip)
5:	movq %rdx, (%rsi)
	jmp 4f
3:	leaq 6f(%rip), %rax
	movq %rax, PA_INSN(%r12)
	movq %rdx, %rax
	movl $4f, trap__resume(%rip)
6:	call *%rsi
4:	movl $0, trap__resume(%rip)
	movq %r9, %rsp
	movq %rax, PA_VALUE(%r12)
	ret

/* u32 paging_invlpg64(u32 *va): INVLPG of the 64-bit address at va. */
	.globl paging_invlpg64
paging_invlpg64:
	movq (%rdi), %rax
	invlpg (%rax)
	xorl %eax, %eax
	ret
