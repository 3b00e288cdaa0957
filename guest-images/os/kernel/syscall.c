/*
 * syscall.c: the system calls (numbers and layouts in common/abi.h). Arguments come
 * from the trap frame SYSCALL entry built; user pointers are only followed through
 * copy_to_user/copy_from_user. Interrupts are on while a call runs; the reschedule
 * the timer asked for happens just before the return to user mode.
 */
#include "kernel.h"
#include "proc.h"
#include "pmem.h"
#include "fs.h"
#include "x86.h"
#include "balloon.h"
#include "../common/abi.h"

#define PATH_MAX 128

static long sys_exec(struct proc *p, uint64_t upath, uint64_t uargv)
{
	/* One CPU and exec never sleeps: static buffers are safe and spare the stack. */
	static char path[PATH_MAX], strings[ARG_BYTES];
	static char *argv[ARG_MAX + 1];
	uint64_t used = 0;
	int argc = 0, n;

	if (copy_str_from_user(p, path, upath, sizeof(path)) < 0)
		return -E_FAULT;
	for (;; argc++) {
		uint64_t ustr;
		if (argc == ARG_MAX)
			return -E_INVAL;
		if (copy_from_user(p, &ustr, uargv + 8 * (uint64_t)argc, 8))
			return -E_FAULT;
		if (!ustr)
			break;
		if ((n = copy_str_from_user(p, strings + used, ustr, sizeof(strings) - used)) < 0)
			return n;
		argv[argc] = strings + used;
		used += (uint64_t)n + 1;
	}
	argv[argc] = NULL;
	return exec__load(p, path, argv, argc);
}

static long sys_wait(struct proc *p, uint64_t ustatus)
{
	int status;
	int pid = proc__wait(&status);
	if (pid > 0 && ustatus && copy_to_user(p, ustatus, &status, sizeof(status)))
		return -E_FAULT;
	return pid;
}

static long sys_brk(struct proc *p, uint64_t addr)
{
	struct vma *heap = NULL;
	if (!addr)
		return (long)p->brk;
	for (int i = 0; i < NVMA; i++)
		if ((p->vma[i].flags & VMA_USED) && p->vma[i].start == p->brk_start && !(p->vma[i].flags & VMA_FILE))
			heap = &p->vma[i];
	if (!heap || addr < p->brk_start || addr >= USER_MMAP_BASE)
		return (long)p->brk;
	uint64_t end = PAGE_ROUND_UP(addr);
	if (end < heap->end)
		vm__unmap(&p->as, end, heap->end);
	heap->end = end;
	p->brk = addr;
	return (long)addr;
}

static long sys_mmap(struct proc *p, uint64_t len)
{
	len = PAGE_ROUND_UP(len);
	uint64_t start = p->mmap_next;
	if (!len || start + len < start || start + len > USER_STACK_TOP - (USER_STACK_PAGES + 1) * PAGE_SIZE)
		return -E_NOMEM;
	int r = vma__add(p, start, start + len, VMA_R | VMA_W, -1, 0, 0);
	if (r)
		return r;
	p->mmap_next = start + len + PAGE_SIZE;	/* a guard page between areas */
	return (long)start;
}

static long sys_munmap(struct proc *p, uint64_t addr, uint64_t len)
{
	if ((addr & (PAGE_SIZE - 1)) || !len || addr + len > USER_TOP || addr + len < addr)
		return -E_INVAL;
	return vma__remove(p, addr, addr + PAGE_ROUND_UP(len));
}

static long sys_open(struct proc *p, uint64_t upath)
{
	char path[PATH_MAX];
	if (copy_str_from_user(p, path, upath, sizeof(path)) < 0)
		return -E_FAULT;
	return file__open(p, path);
}

static long sys_meminfo(struct proc *p, uint64_t uinfo, uint64_t uprocs, uint64_t max)
{
	struct pmem_stats s;
	struct meminfo mi;
	long n = 0;

	pmem__stats(&s);
	mi.page_size = PAGE_SIZE;
	mi.total_pages = s.total;
	mi.free_pages = s.free;
	mi.used_pages = s.total - s.free - s.balloon;
	mi.pagecache_pages = pagecache__pages();
	mi.kernel_pages = s.kernel;
	mi.balloon_pages = s.balloon;
	struct balloon_info bi;
	mi.balloon_device = balloon__info(&bi) == 0;
	mi.nproc = 0;
	for (int i = 0; i < NPROC; i++) {
		struct proc *q = &procs[i];
		if (q->state == P_FREE || q->state == P_EMBRYO || q->kthread)
			continue;
		mi.nproc++;
		if (!uprocs || (uint64_t)n >= max)
			continue;
		static const char st[] = { '?', '?', 'R', 'R', 'S', 'W', 'Z' };
		struct procinfo pi = {
			.pid = q->pid, .ppid = q->parent->pid, .resident_pages = q->as.resident,
			.pt_pages = q->as.pt_pages, .state = st[q->state],
		};
		strncpy0(pi.name, q->name, sizeof(pi.name));
		if (copy_to_user(p, uprocs + (uint64_t)n * sizeof(pi), &pi, sizeof(pi)))
			return -E_FAULT;
		n++;
	}
	if (uinfo && copy_to_user(p, uinfo, &mi, sizeof(mi)))
		return -E_FAULT;
	return n;
}

static long sys_balloon(struct proc *p, uint64_t uinfo)
{
	struct balloon_info bi;
	int r = balloon__info(&bi);
	if (r)
		return r;
	if (copy_to_user(p, uinfo, &bi, sizeof(bi)))
		return -E_FAULT;
	return 0;
}

void syscall__handle(struct trapframe *tf)
{
	struct proc *p = proc__current();
	uint64_t a0 = tf->rdi, a1 = tf->rsi, a2 = tf->rdx;
	long r;

	sti();
	switch (tf->rax) {
	case SYS_EXIT: proc__exit((int)a0);
	case SYS_FORK: r = proc__fork(tf); break;
	case SYS_EXEC: r = sys_exec(p, a0, a1); break;
	case SYS_WAIT: r = sys_wait(p, a0); break;
	case SYS_BRK: r = sys_brk(p, a0); break;
	case SYS_MMAP: r = sys_mmap(p, a0); break;
	case SYS_MUNMAP: r = sys_munmap(p, a0, a1); break;
	case SYS_READ: r = file__read(p, (int)a0, a1, a2); break;
	case SYS_WRITE: r = file__write(p, (int)a0, a1, a2); break;
	case SYS_OPEN: r = sys_open(p, a0); break;
	case SYS_CLOSE: r = file__close(p, (int)a0); break;
	case SYS_GETPID: r = p->pid; break;
	case SYS_SLEEP: sched__sleep_ms(a0); r = 0; break;
	case SYS_UPTIME: r = (long)sched__uptime_us(); break;
	case SYS_MEMINFO: r = sys_meminfo(p, a0, a1, a2); break;
	case SYS_SHUTDOWN: kernel__shutdown((int)a0);
	case SYS_YIELD: sched__yield(); r = 0; break;
	case SYS_FSTAT: r = file__size(p, (int)a0); break;
	case SYS_BALLOON: r = sys_balloon(p, a0); break;
	default: r = -E_NOSYS; break;
	}
	/* exec rewrote the frame: its RAX must stay 0, which r is then. */
	tf->rax = (uint64_t)r;
	cli();
	if (sched_need_resched)
		sched__yield();
}
