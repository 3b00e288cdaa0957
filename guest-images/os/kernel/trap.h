/*
 * trap.h: the trap frame every kernel entry builds (entry.S), the descriptor tables
 * (cpu.c) and the dispatch of exceptions and interrupts (trap.c).
 */
#ifndef OS_TRAP_H
#define OS_TRAP_H
#include <stdint.h>

struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;     /* as the CPU pushes them */
};

#define T_PF 14
#define T_IRQ0 32
#define T_SYSCALL 0x80

static inline int tf_from_user(const struct trapframe *tf) { return (tf->cs & 3) == 3; }

/* cpu.c */
void cpu__init(void);
void cpu__set_kstack(uint64_t top);

/* trap.c */
void trap__handle(struct trapframe *tf);
void trap__return_to_user(struct trapframe *tf);
/* A device's interrupt handler for PIC line irq (1-15), called before the EOI (a
 * level-triggered device must have lowered its line by then). Short: no sleeping. */
void trap__set_irq_handler(int irq, void (*fn)(void));

/* syscall.c */
void syscall__handle(struct trapframe *tf);

extern char trapret[];

#endif
