/*
 * entry64.S: the 64-bit kernel's way in and out of ring 3 (cpu64.h): one 16-byte stub
 * per exception vector 0-31 plus INT 0x80, the SYSCALL entry, and trap64_resume, which
 * resumes a struct trapframe with SYSRETQ when a SYSCALL built it and with IRETQ
 * otherwise. SWAPGS happens exactly when crossing to or from ring 3, so %gs:0 is the
 * per-CPU block (trap stack top, scratch for the user RSP) inside the kernel.
 */
#define SEL_UDATA 0x23
#define SEL_UCODE 0x2b
#define VEC_SYSCALL 0x100
#define PC_KSTACK 0
#define PC_USER_RSP 8
/* struct trapframe, after the 15 saved registers */
#define TF_VECTOR 0
#define TF_RIP 16
#define TF_CS 24
#define TF_RFLAGS 32
#define TF_RSP 40

.macro SAVE_REGS
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

	.text
	.align 16
	.globl trap64_stubs
trap64_stubs:			/* vectors 0-31, then 0x80 as the 33rd stub */
	.set vec, 0
	.rept 33
	.align 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || \
	    (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0		/* no error code: keep one frame layout */
	.endif
	.if vec == 32
	pushq $0x80
	.else
	pushq $vec
	.endif
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	testb $3, 24(%rsp)	/* CS of the hardware frame: from ring 3? */
	jz 1f
	swapgs
1:	SAVE_REGS
	movq %rsp, %rdi
	cld
	call trap64__dispatch
	jmp trap64_resume

	.globl syscall64_entry
syscall64_entry:		/* RCX = user RIP, R11 = user RFLAGS; FMASK cleared IF/TF/DF/AC */
	swapgs
	movq %rsp, %gs:PC_USER_RSP
	movq %gs:PC_KSTACK, %rsp
	pushq $SEL_UDATA
	pushq %gs:PC_USER_RSP
	pushq %r11
	pushq $SEL_UCODE
	pushq %rcx
	pushq $0
	pushq $VEC_SYSCALL
	SAVE_REGS
	movq %rsp, %rdi
	call trap64__dispatch
	/* fall through */

trap64_resume:			/* RAX: the frame to resume, or NULL: back to the kernel */
	testq %rax, %rax
	jz back_to_kernel
	movq %rax, %rsp
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
	cmpq $VEC_SYSCALL, TF_VECTOR(%rsp)
	je 2f
	testb $3, TF_CS(%rsp)
	jz 1f
	swapgs
1:	addq $16, %rsp		/* vector, error code */
	iretq
2:	movq TF_RIP(%rsp), %rcx
	movq TF_RFLAGS(%rsp), %r11
	movq TF_RSP(%rsp), %rsp
	swapgs
	sysretq

/* void cpu64__enter_user(struct trapframe *tf) */
	.globl cpu64__enter_user
cpu64__enter_user:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, kernel_rsp(%rip)
	movq %rdi, %rax
	jmp trap64_resume
back_to_kernel:			/* from a trap out of ring 3: GS is the kernel's already */
	movq kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.bss
	.align 8
kernel_rsp:
	.skip 8
