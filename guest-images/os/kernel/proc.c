/*
 * proc.c: the life cycle of processes: the table, creation of the first one, fork
 * (copy-on-write: vm.c shares every page), exit (the address space goes at once, the
 * slot stays as a zombie for the parent), wait, and the reparenting of orphans to the
 * first process. Scheduling is sched.c's, loading programs exec.c's.
 */
#include "kernel.h"
#include "proc.h"
#include "pmem.h"
#include "x86.h"
#include "../common/abi.h"

struct proc procs[NPROC];
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(PAGE_SIZE)));
static int next_pid = 1;
static struct proc *initproc;

struct proc *proc__alloc(void)
{
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state != P_FREE)
			continue;
		memset(p, 0, sizeof(*p));
		p->state = P_EMBRYO;
		p->pid = next_pid++;
		p->kstack = kstacks[i];
		p->tf = (struct trapframe *)(p->kstack + KSTACK_SIZE) - 1;
		memset(p->tf, 0, sizeof(*p->tf));
		/* swtch pops six callee-saved registers, then returns into trapret. */
		uint64_t *ctx = (uint64_t *)p->tf - 7;
		memset(ctx, 0, 6 * sizeof(uint64_t));
		ctx[6] = (uint64_t)trapret;
		p->ksp = (uint64_t)ctx;
		return p;
	}
	return NULL;
}

void proc__free(struct proc *p)
{
	if (p->as.pml4)
		vm__destroy(&p->as);
	p->state = P_FREE;
}

int proc__fork(struct trapframe *tf)
{
	struct proc *parent = proc__current(), *child = proc__alloc();
	int r;
	if (!child)
		return -E_AGAIN;
	if ((r = vm__create(&child->as)) || (r = vm__fork(&child->as, &parent->as))) {
		proc__free(child);
		return r;
	}
	memcpy(child->vma, parent->vma, sizeof(child->vma));
	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	child->mmap_next = parent->mmap_next;
	file__fork_fds(child, parent);
	memcpy(child->name, parent->name, sizeof(child->name));
	*child->tf = *tf;
	child->tf->rax = 0;
	child->parent = parent;
	child->state = P_READY;
	return child->pid;
}

void proc__exit(int status)
{
	struct proc *p = proc__current();
	if (p == initproc) {
		kprintf("init exited with status %d\n", status);
		kernel__shutdown(status ? 1 : 0);
	}
	/* The address space goes now, not at wait: its memory is free at once. */
	vma__clear(p);
	vm__load(NULL);
	vm__destroy(&p->as);
	for (int i = 0; i < NPROC; i++) {
		struct proc *c = &procs[i];
		if (c->parent != p || c->state == P_FREE)
			continue;
		c->parent = initproc;
		if (c->state == P_ZOMBIE && initproc->state == P_WAITING)
			sched__wake(initproc);
	}
	cli();
	p->exit_status = status;
	p->state = P_ZOMBIE;
	if (p->parent->state == P_WAITING)
		sched__wake(p->parent);
	sched__block();
	panic("zombie %d ran again", p->pid);
}

int proc__wait(int *status_out)
{
	struct proc *p = proc__current();
	for (;;) {
		bool children = false;
		for (int i = 0; i < NPROC; i++) {
			struct proc *c = &procs[i];
			if (c->parent != p || c->state == P_FREE)
				continue;
			children = true;
			if (c->state != P_ZOMBIE)
				continue;
			int pid = c->pid;
			*status_out = c->exit_status;
			proc__free(c);
			return pid;
		}
		if (!children)
			return -E_CHILD;
		uint64_t f = irq_save();
		p->state = P_WAITING;
		sched__block();
		irq_restore(f);
	}
}

struct proc *proc__create_init(const char *path, char *const argv[])
{
	struct proc *p = proc__alloc();
	int argc = 0, r;
	if (!p || vm__create(&p->as))
		panic("no memory for the first process");
	initproc = p;
	p->parent = p;
	file__init_fds(p);
	while (argv[argc])
		argc++;
	if ((r = exec__load(p, path, argv, argc)))
		panic("cannot run %s: error %d", path, -r);
	p->state = P_READY;
	return p;
}

/* swtch "returns" into kthread_start with the function and its argument in the
 * callee-saved registers it restored (r12, r13 in its pop order below). */
__attribute__((noreturn, used)) static void kthread_main(void (*fn)(void *), void *arg)
{
	sti();		/* swtch runs with interrupts off; a new thread starts with them on */
	fn(arg);
	panic("kernel thread returned");
}

__asm__(".text\n"
	"kthread_start:\n"
	"	movq %r12, %rdi\n"
	"	movq %r13, %rsi\n"
	"	andq $-16, %rsp\n"
	"	call kthread_main\n");
extern char kthread_start[];

struct proc *proc__kthread(const char *name, void (*fn)(void *), void *arg)
{
	struct proc *p = proc__alloc();
	if (!p)
		return NULL;
	p->as.pml4 = vm__kernel_pml4();	/* never destroyed: the thread never exits */
	p->parent = p;			/* nobody waits for it */
	p->kthread = true;
	strncpy0(p->name, name, sizeof(p->name));
	/* The context swtch pops (see proc__alloc): r15, r14, r13, r12, rbp, rbx, ret. */
	uint64_t *ctx = (uint64_t *)p->ksp;
	ctx[2] = (uint64_t)arg;		/* r13 */
	ctx[3] = (uint64_t)fn;		/* r12 */
	ctx[6] = (uint64_t)kthread_start;
	p->state = P_READY;
	return p;
}
