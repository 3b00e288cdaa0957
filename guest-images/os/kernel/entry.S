/*
 * entry.S: every way into the kernel and back out. The interrupt and exception stubs
 * (vectors 0-47) and the SYSCALL entry all build the same struct trapframe (trap.h) on
 * the current process's kernel stack, call C (trap__handle, syscall__handle) and leave
 * through trapret with IRETQ. swtch is the context switch between kernel stacks.
 * There is one CPU, so SYSCALL finds its kernel stack in a plain variable (no SWAPGS).
 */
#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define T_SYSCALL 0x80

.macro PUSH_REGS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro STUB vec
	.align 16
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	pushq $\vec		/* the CPU pushed an error code */
	.else
	pushq $0
	pushq $\vec
	.endif
	jmp alltraps
.endm

	.text
	.align 16
	.globl trap_stubs
trap_stubs:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	STUB \n
	.endr

alltraps:
	cld
	PUSH_REGS
	movq %rsp, %rdi
	call trap__handle
	.globl trapret
trapret:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp		/* vector, error code */
	iretq

/* SYSCALL: RCX = user RIP, R11 = user RFLAGS; FMASK cleared IF, so nothing can
 * interrupt us before the switch to the kernel stack. */
	.globl syscall_entry
syscall_entry:
	movq %rsp, syscall_user_rsp(%rip)
	movq syscall_kstack_top(%rip), %rsp
	pushq $SEL_UDATA
	pushq syscall_user_rsp(%rip)
	pushq %r11
	pushq $SEL_UCODE
	pushq %rcx
	pushq $0
	pushq $T_SYSCALL
	cld
	PUSH_REGS
	movq %rsp, %rdi
	call syscall__handle
	jmp trapret

/* void swtch(uint64_t *save_rsp, uint64_t new_rsp): callee-saved registers stay on
 * the old stack; a new process's stack is prepared by proc.c to "return" to trapret. */
	.globl swtch
swtch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.data
	.globl syscall_kstack_top
	.align 8
syscall_kstack_top:
	.quad 0
syscall_user_rsp:
	.quad 0
