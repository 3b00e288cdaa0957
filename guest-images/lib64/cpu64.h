/*
 * cpu64.h: the 64-bit kernel's CPU state: its GDT (kernel and user 64-bit code and
 * data, a 64-bit TSS whose RSP0 is the trap stack), a 64-bit IDT (vectors 0-31 at
 * DPL 0, 0x80 at DPL 3), the SYSCALL MSRs (STAR, LSTAR, FMASK, EFER.SCE) and the
 * per-CPU block the kernel finds through GS (SWAPGS on every entry from and exit to
 * ring 3). Every trap and SYSCALL lands, as a struct trapframe, in the one handler set
 * with cpu64__set_handler; entry64.S has the stubs and the two return paths (IRETQ, and
 * SYSRETQ for frames a SYSCALL built).
 */
#ifndef GUEST64_CPU64_H
#define GUEST64_CPU64_H

#include "x64.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x23 /* STAR[63:48] = 0x18: SYSRETQ loads SS 0x20|3, CS 0x28|3 */
#define SEL_UCODE 0x2b
#define SEL_TSS 0x30

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define VEC_INT80 0x80
#define VEC_SYSCALL 0x100 /* not a vector: the frame was built by the SYSCALL entry */

#define PF_P 1u
#define PF_W 2u
#define PF_U 4u

/* Register save order of entry64.S (lowest address first). */
struct trapframe {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss; /* the hardware frame; SYSCALL's is built alike */
};

/*
 * Called for every trap and SYSCALL from ring 3, with the frame on the trap stack.
 * Returns the frame to resume (possibly another process's), or NULL to return from
 * cpu64__enter_user. Traps from ring 0 are kernel bugs: reported, the run fails.
 */
typedef struct trapframe *(*trap_handler_fn)(struct trapframe *tf);

/* GDT, TSS, IDT, GS, and SYSCALL when CPUID offers it; returns whether it does. */
bool cpu64__init(void);
void cpu64__set_handler(trap_handler_fn fn);
/* Resume `tf` (in ring 3); returns when the handler answers NULL. */
void cpu64__enter_user(struct trapframe *tf);

static inline bool trapframe__user(const struct trapframe *tf) { return (tf->cs & 3) == 3; }

#endif
