/*
 * proc.c: processes, the scheduler, and everything ring 3 does to enter the kernel
 * (see proc.h). One trap stack serves all: at every entry the ring-3 frame is saved
 * into the running process, and the handler answers the frame of the process to run
 * next; CR3 changes only here.
 */
#include "proc.h"
#include "boot64.h"
#include "mm.h"

struct proc_stats proc__stats;
static struct proc procs[NPROC];
static struct proc *current;
static u64 next_pid = 1;

static struct trapframe *trap(struct trapframe *tf);

void proc__init(void)
{
	cpu64__set_handler(trap);
}

u64 proc__user_va(const void *sym)
{
	return USER_CODE_VA + ((u64)(uintptr_t)sym - (u64)(uintptr_t)__utext_start);
}

static struct proc *alloc_slot(void)
{
	struct proc *p;

	for (p = procs; p < procs + NPROC; p++)
		if (p->state == PROC_FREE) {
			memset(p, 0, sizeof(*p));
			p->pid = next_pid++;
			return p;
		}
	return NULL;
}

struct proc *proc__create(const void *entry, u64 a0, u64 a1, u64 a2)
{
	struct proc *p = alloc_slot();

	if (!p || !(p->pml4 = as__create()))
		return NULL;
	if (as__map(p->pml4, USER_CODE_VA, v2p(__utext_start), PTE_U | PTE_SHARED) < 0) {
		as__destroy(p->pml4);
		return NULL;
	}
	p->tf.rip = proc__user_va(entry);
	p->tf.cs = SEL_UCODE;
	p->tf.rflags = RFLAGS_FIXED; /* IF=0: nothing here takes interrupts */
	p->tf.rsp = USER_STACK_TOP;
	p->tf.ss = SEL_UDATA;
	p->tf.rdi = a0;
	p->tf.rsi = a1;
	p->tf.rdx = a2;
	p->state = PROC_RUNNABLE;
	return p;
}

struct proc *proc__fork(struct proc *parent)
{
	struct proc *p = alloc_slot();

	if (!p || !(p->pml4 = as__clone(parent->pml4)))
		return NULL;
	p->tf = parent->tf;
	p->tf.rax = 0;
	p->state = PROC_RUNNABLE;
	return p;
}

struct proc *proc__find(u64 pid)
{
	struct proc *p;

	for (p = procs; p < procs + NPROC; p++)
		if (p->state != PROC_FREE && p->pid == pid)
			return p;
	return NULL;
}

void proc__resume(struct proc *p)
{
	p->state = PROC_RUNNABLE;
}

void proc__reap(struct proc *p)
{
	as__destroy(p->pml4);
	p->state = PROC_FREE;
}

/* The next runnable process after `from` (round robin), or NULL. */
static struct proc *pick(struct proc *from)
{
	int start = from ? (int)(from - procs) + 1 : 0, k;

	for (k = 0; k < NPROC; k++) {
		struct proc *p = &procs[(start + k) % NPROC];

		if (p->state == PROC_RUNNABLE)
			return p;
	}
	return NULL;
}

/* Load p's address space and return its frame; NULL (and the kernel's CR3) if none. */
static struct trapframe *switch_to(struct proc *p)
{
	current = p;
	if (!p) {
		write_cr3(mm__kernel_pml4());
		return NULL;
	}
	write_cr3(p->pml4);
	proc__stats.cr3_switches++;
	return &p->tf;
}

void proc__run(void)
{
	struct trapframe *tf = switch_to(pick(NULL));

	if (tf)
		cpu64__enter_user(tf);
}

static struct trapframe *finish(struct proc *p, enum proc_state state)
{
	p->state = state;
	return switch_to(pick(p));
}

static struct trapframe *kill(struct proc *p, u64 cr2)
{
	p->killed = true;
	p->kill_vector = p->tf.vector;
	p->kill_error = p->tf.error;
	p->kill_cr2 = cr2;
	p->kill_rip = p->tf.rip;
	return finish(p, PROC_ZOMBIE);
}

static struct trapframe *do_syscall(struct proc *p)
{
	struct trapframe *tf = &p->tf;
	struct proc *child;
	u64 frame;

	proc__stats.syscalls++;
	switch (tf->rax) {
	case SYS_EXIT:
		p->exit_code = tf->rdi;
		return finish(p, PROC_ZOMBIE);
	case SYS_YIELD:
		return switch_to(pick(p));
	case SYS_GETPID:
		tf->rax = p->pid;
		return tf;
	case SYS_REPORT:
		if (tf->rdi < PROC_NREPORT) {
			p->report[tf->rdi] = tf->rsi;
			p->reported |= 1u << tf->rdi;
		}
		return tf;
	case SYS_FORK:
		child = proc__fork(p);
		tf->rax = child ? child->pid : (u64)-1;
		return tf;
	case SYS_UNMAP:
		frame = tf->rdi >= USER_DATA_VA && tf->rdi < USER_DATA_END ?
				as__unmap(p->pml4, tf->rdi & ~(PAGE_SIZE - 1)) : 0;
		if (frame)
			mm__free(frame);
		tf->rax = frame != 0;
		return tf;
	case SYS_STOP:
		return finish(p, PROC_STOPPED);
	}
	tf->rax = (u64)-1;
	return tf;
}

static bool demand_range(u64 va)
{
	return (va >= USER_DATA_VA && va < USER_DATA_END) ||
	       (va >= USER_STACK_TOP - USER_STACK_SIZE && va < USER_STACK_TOP);
}

static struct trapframe *page_fault(struct proc *p)
{
	u64 cr2 = read_cr2(), frame;

	if ((p->tf.error & PF_P) || !demand_range(cr2))
		return kill(p, cr2);
	frame = mm__alloc();
	if (!frame || as__map(p->pml4, cr2 & ~(PAGE_SIZE - 1), frame, PTE_U | PTE_W) < 0) {
		if (frame)
			mm__free(frame);
		return kill(p, cr2);
	}
	p->demand_faults++;
	proc__stats.demand_faults++;
	return &p->tf;
}

static struct trapframe *trap(struct trapframe *tf)
{
	struct proc *p = current;
	const u8 *insn;

	p->tf = *tf;
	switch (tf->vector) {
	case VEC_SYSCALL:
		return do_syscall(p);
	case VEC_INT80:
		proc__stats.int80_calls++;
		return do_syscall(p);
	case VEC_PF:
		return page_fault(p);
	case VEC_UD:
		/* The user code page is mapped in every process, so its bytes can be read. */
		insn = (const u8 *)(uintptr_t)tf->rip;
		if (tf->rip >= USER_CODE_VA && tf->rip + 2 <= USER_CODE_VA + PAGE_SIZE &&
		    insn[0] == 0x0f && insn[1] == 0x0b) {
			proc__stats.ud2_calls++;
			p->tf.rip += 2;
			return do_syscall(p);
		}
		break;
	}
	return kill(p, 0);
}
