/*
 * procs64.c: guest "procs64", a higher-half 64-bit kernel (../lib64) that runs ring-3
 * processes, each in its own address space, and checks what a real kernel relies on:
 *   - CR4.PGE and EFER.SCE as programmed (global kernel pages, SYSCALL/SYSRET)
 *   - 8 processes writing pid-specific patterns at the same VA keep them across
 *     hundreds of yields (a MOV CR3 each); getpid through SYSCALL; demand-zero pages
 *   - ring-3 store to its read-only code page: #PF error 7 at that address, killed
 *   - ring-3 load from a kernel address: #PF error 5, killed
 *   - INT 0x80 through a DPL-3 gate as a second system-call path
 *   - fork: the child sees the parent's data, neither sees the other's later writes
 *   - teardown frees every table and frame; the next process reuses them, page-table
 *     frames as data pages and data frames as page tables, and they read zero
 *   - after the kernel unmaps a page and INVLPGs it, the next access faults
 * The kernel command line "bench ..." runs the benchmark instead (procs64-bench.c).
 */
#include "procs64.h"
#include "boot64.h"
#include "console.h"
#include "ktest.h"
#include "mm.h"
#include "proc.h"

#define NISOLATE 8
#define ROUNDS 40
#define TOUCH_PAGES 8
#define MAX_FRAMES 64

void procs64__bench(void);

static u64 kernel_secret = 0x5ec7e7;

static void run_one(struct proc *p)
{
	if (p)
		proc__run();
}

static bool exited_ok(const struct proc *p)
{
	return p && p->state == PROC_ZOMBIE && !p->killed && p->exit_code == 0;
}

static u64 report(const struct proc *p, int key)
{
	return p && (p->reported & (1u << key)) ? p->report[key] : ~0ul;
}

static void check_isolation(void)
{
	struct proc *p[NISOLATE];
	u64 before = mm__in_use(), sw = proc__stats.cr3_switches, bad = 0, rounds = 0;
	int i, exited = 0, pids = 0, zero = 0, flags = 0;

	for (i = 0; i < NISOLATE; i++)
		p[i] = proc__create(u_isolate, ROUNDS, 0, 0);
	proc__run();
	sw = proc__stats.cr3_switches - sw;
	for (i = 0; i < NISOLATE; i++) {
		exited += exited_ok(p[i]);
		pids += p[i] && report(p[i], R_PID) == p[i]->pid;
		zero += report(p[i], R_ZERO) == 0 && p[i]->demand_faults == 4;
		flags += !(report(p[i], R_FLAGS_IRET) & (RFLAGS_IF | RFLAGS_IOPL)) &&
			 !(report(p[i], R_FLAGS_SYSRET) & (RFLAGS_IF | RFLAGS_IOPL));
		bad += report(p[i], R_BAD);
		rounds += report(p[i], R_ROUNDS);
	}
	ktest__ok(exited == NISOLATE, "%d of %d processes ran to their exit", exited, NISOLATE);
	ktest__ok(pids == NISOLATE, "getpid through SYSCALL/SYSRETQ right in %d of %d", pids,
		  NISOLATE);
	ktest__ok(flags == NISOLATE, "ring 3 runs with the kernel's RFLAGS (IF=0, IOPL=0) after "
		  "IRETQ and after SYSRETQ in %d of %d (pid %lu: 0x%lx, 0x%lx)", flags, NISOLATE,
		  p[0] ? p[0]->pid : 0, report(p[0], R_FLAGS_IRET), report(p[0], R_FLAGS_SYSRET));
	ktest__ok(bad == 0 && rounds == NISOLATE * ROUNDS && sw >= NISOLATE * ROUNDS,
		  "own pattern at VA 0x%lx in every process after each of %lu yields (%lu CR3 "
		  "switches, %lu words lost)", USER_DATA_VA, rounds, sw, bad);
	ktest__ok(zero == NISOLATE, "demand-zero: an untouched page reads zero, 4 demand "
		  "faults (3 data pages, 1 stack page) in %d of %d", zero, NISOLATE);
	for (i = 0; i < NISOLATE; i++)
		if (p[i])
			proc__reap(p[i]);
	ktest__eq(before, mm__in_use(), "tearing down %d processes frees every table and frame",
		  NISOLATE);
}

static void check_kill(const void *prog, u64 arg, u64 error, u64 cr2, u64 rip,
		       const char *what)
{
	struct proc *p = proc__create(prog, arg, 0, 0);

	run_one(p);
	ktest__ok(p && p->killed && p->kill_vector == VEC_PF, "%s: #PF kills the process", what);
	if (!p)
		return;
	ktest__eq(error, p->kill_error, "%s: error code", what);
	ktest__eq(cr2, p->kill_cr2, "%s: CR2", what);
	ktest__eq(rip, p->kill_rip, "%s: RIP of the faulting instruction", what);
	proc__reap(p);
}

static void check_int80(void)
{
	u64 n = proc__stats.int80_calls;
	struct proc *p = proc__create(u_int80, 0, 0, 0);

	run_one(p);
	ktest__ok(exited_ok(p) && report(p, R_PID) == p->pid && proc__stats.int80_calls - n == 2,
		  "INT 0x80 from ring 3 (DPL-3 gate): getpid and a report, %lu calls",
		  proc__stats.int80_calls - n);
	if (p)
		proc__reap(p);
}

static u64 data_word(const struct proc *p, u64 va)
{
	u64 e = as__lookup(p->pml4, va);

	return e & PTE_P ? *(u64 *)p2v((e & PTE_ADDR) + (va & (PAGE_SIZE - 1))) : ~0ul;
}

static void check_fork(void)
{
	struct proc *parent = proc__create(u_fork, 0, 0, 0), *child;
	u64 pf, cf;

	run_one(parent);
	child = parent ? proc__find(report(parent, R_PID)) : NULL;
	ktest__ok(exited_ok(parent) && exited_ok(child), "fork: parent and child ran to their exit");
	if (!child)
		return;
	ktest__eq(FORK_BEFORE, report(child, R_VALUE), "fork: the child sees the parent's data");
	ktest__eq(FORK_PARENT, report(parent, R_VALUE),
		  "fork: the parent's data after the child's write is its own");
	ktest__eq(FORK_CHILD, report(child, R_VALUE2),
		  "fork: the child's data after the parent's write is its own");
	pf = as__lookup(parent->pml4, USER_DATA_VA) & PTE_ADDR;
	cf = as__lookup(child->pml4, USER_DATA_VA) & PTE_ADDR;
	ktest__ok(parent->pml4 != child->pml4 && pf && cf && pf != cf &&
		  data_word(parent, USER_DATA_VA) == FORK_PARENT &&
		  data_word(child, USER_DATA_VA) == FORK_CHILD,
		  "fork: own PML4 and data frame (parent %lx/%lx, child %lx/%lx)", parent->pml4,
		  pf, child->pml4, cf);
	proc__reap(child);
	proc__reap(parent);
}

struct frames {
	u64 table[MAX_FRAMES], data[MAX_FRAMES];
	int ntable, ndata;
};

static void collect(void *arg, u64 va, u64 pa, int level, u64 entry)
{
	struct frames *f = arg;

	(void)va;
	if (level > 0 && f->ntable < MAX_FRAMES)
		f->table[f->ntable++] = pa;
	else if (level == 0 && !(entry & PTE_SHARED) && f->ndata < MAX_FRAMES)
		f->data[f->ndata++] = pa;
}

static int common(const u64 *a, int na, const u64 *b, int nb)
{
	int i, j, n = 0;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			n += a[i] == b[j];
	return n;
}

static void check_reuse(void)
{
	static struct frames fa, fb;
	struct proc *a = proc__create(u_touch, USER_DATA_VA, TOUCH_PAGES, 0), *b;
	bool a_ok;
	int t2d, d2t;

	run_one(a);
	a_ok = exited_ok(a) && report(a, R_ZERO) == 0 && report(a, R_BAD) == 0;
	if (a) {
		as__walk(a->pml4, collect, &fa);
		proc__reap(a); /* its slot may be b's: a's fields are gone from here on */
	}
	b = proc__create(u_touch, USER_DATA_VA, TOUCH_PAGES, 0);
	run_one(b);
	ktest__ok(a_ok && exited_ok(b) && report(b, R_ZERO) == 0,
		  "two processes in turn: %d fresh pages each read zero", TOUCH_PAGES);
	if (!b)
		return;
	as__walk(b->pml4, collect, &fb);
	t2d = common(fa.table, fa.ntable, fb.data, fb.ndata);
	d2t = common(fa.data, fa.ndata, fb.table, fb.ntable);
	ktest__ok(t2d > 0 && d2t > 0, "teardown frames reused: %d page-table frames became data "
		  "pages, %d data frames became page tables", t2d, d2t);
	ktest__eq(0, report(b, R_BAD), "reused frames hold the second process's writes across a "
		  "yield (words lost)");
	proc__reap(b);
}

static void check_invlpg(void)
{
	u64 va = USER_DATA_VA + 0x5000;
	struct proc *p = proc__create(u_invlpg, va, 0, 0);

	run_one(p);
	ktest__ok(exited_ok(p) && report(p, R_VALUE) == INVLPG_VALUE,
		  "a data page holds its write before the unmap");
	if (!p)
		return;
	ktest__ok(report(p, R_VALUE2) == 0 && p->demand_faults == 2,
		  "after unmap + INVLPG the next access faults (%lu demand faults) and reads a "
		  "fresh zero page (0x%lx)", p->demand_faults, report(p, R_VALUE2));
	proc__reap(p);
}

void kmain(void)
{
	bool syscall, global;
	u32 r[4];
	u64 before;

	console__init();
	ktest__begin("procs64");
	ktest__info("command line: %s", boot64__cmdline());
	syscall = cpu64__init();
	global = mm__init();
	proc__init();
	if (boot64__cmdline_has("bench")) {
		procs64__bench();
		ktest__done();
	}
	cpuid(1, 0, r);
	ktest__ok(global == !!(r[3] & CPUID1_EDX_PGE) && !!(read_cr4() & CR4_PGE) == global,
		  "CR4.PGE %s (kernel pages global)", global ? "set" : "not offered");
	ktest__ok(syscall && (rdmsr(MSR_EFER) & EFER_SCE), "SYSCALL offered and EFER.SCE set");
	before = mm__in_use();
	check_isolation();
	check_kill(u_write_code, 0, PF_P | PF_W | PF_U, proc__user_va(u_write_code),
		   proc__user_va(u_write_code_insn), "ring-3 write to its read-only code page");
	check_kill(u_read_kernel, (u64)(uintptr_t)&kernel_secret, PF_P | PF_U,
		   (u64)(uintptr_t)&kernel_secret, proc__user_va(u_read_kernel),
		   "ring-3 read of a kernel address");
	check_int80();
	check_fork();
	check_reuse();
	check_invlpg();
	ktest__eq(before, mm__in_use(), "every frame back after all processes (%lu CR3 switches, "
		  "%lu demand faults)", proc__stats.cr3_switches, proc__stats.demand_faults);
	ktest__done();
}
