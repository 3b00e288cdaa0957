/*
 * trap.c: what happens on each exception and interrupt vector. Page faults from user
 * mode go to fault.c; any other fault kills the user process that caused it, and any
 * fault in kernel mode is a kernel bug (panic). The timer interrupt drives sched.c;
 * preemption happens here, on the way back to user mode. Other lines go to the
 * handler a driver registered.
 */
#include "kernel.h"
#include "proc.h"
#include "timer.h"
#include "x86.h"
#include "../common/abi.h"

static const char *const names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 error", "alignment check", "machine check",
	"SIMD error", "virtualization", "control protection",
};

static void (*irq_handlers[16])(void);

void trap__set_irq_handler(int irq, void (*fn)(void))
{
	ASSERT(irq > 0 && irq < 16 && irq != 2);
	irq_handlers[irq] = fn;
}

static void kernel_fault(struct trapframe *tf)
{
	const char *name = tf->vector < 32 && names[tf->vector] ? names[tf->vector] : "exception";
	panic("%s (vector %lu, error %#lx) in the kernel at rip %#lx, rsp %#lx, cr2 %#lx",
	      name, tf->vector, tf->error, tf->rip, tf->rsp, read_cr2());
}

static void kill(struct proc *p, struct trapframe *tf, const char *why, uint64_t addr)
{
	kprintf("pid %d (%s): killed: %s at %#lx, rip %#lx\n", p->pid, p->name, why, addr, tf->rip);
	proc__exit(STATUS_KILLED);
}

static void page_fault(struct trapframe *tf)
{
	uint64_t addr = read_cr2();
	if (!tf_from_user(tf))
		kernel_fault(tf);
	struct proc *p = proc__current();
	int r = fault__handle(p, addr, (tf->error & 2) != 0, true);
	if (r == -E_NOMEM)
		kill(p, tf, "out of memory", addr);
	else if (r)
		kill(p, tf, "bad access", addr);
}

void trap__handle(struct trapframe *tf)
{
	uint64_t v = tf->vector;

	if (v == T_PF) {
		page_fault(tf);
	} else if (v < 32) {
		if (!tf_from_user(tf))
			kernel_fault(tf);
		kill(proc__current(), tf, names[v] ? names[v] : "exception", tf->rip);
	} else if (v < TIMER_VEC_BASE + 16) {
		int irq = (int)(v - TIMER_VEC_BASE);
		/* IRQ 7 and 15 also signal spurious interrupts (unless a driver owns them). */
		if (irq == 0) {
			timer__eoi(0);
			sched__tick();
		} else if (irq_handlers[irq]) {
			irq_handlers[irq]();
			timer__eoi(irq);
		} else if (irq != 7 && irq != 15) {
			timer__eoi(irq);
		}
	}
	if (tf_from_user(tf) && sched_need_resched)
		sched__yield();
}
