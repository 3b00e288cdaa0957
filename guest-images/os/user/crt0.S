/*
 * crt0.S: the entry of every user program and the one system-call instruction.
 * exec leaves argc at (%rsp) and argv right above it.
 */
	.text
	.globl _start
_start:
	movq (%rsp), %rdi
	leaq 8(%rsp), %rsi
	andq $-16, %rsp
	xorl %ebp, %ebp
	call main
	movl %eax, %edi
	call exit

/* long syscall3(long nr, long a0, long a1, long a2) */
	.globl syscall3
syscall3:
	movq %rdi, %rax
	movq %rsi, %rdi
	movq %rdx, %rsi
	movq %rcx, %rdx
	syscall
	ret
