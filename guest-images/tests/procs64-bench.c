/*
 * procs64-bench.c: the procs64 kernel's benchmark mode, selected by the command line
 * "bench [iterations=N] [pages=P]" (defaults 200 and 64). Two kinds, one line each in
 * the format of bench-traps ("bench: KIND iterations=N cycles_per_op=C ns_per_op=X.Y")
 * plus the pages per operation and the guest page faults taken:
 *   demand-touch  create an address space, a process stores once to each of P pages
 *                 (P demand faults), exits, the kernel tears the space down
 *   fork-copy     copy a stopped process's populated P-page space (fresh frames, new
 *                 PML4), run the copy, which reads every page and exits, tear it down
 * Ring 3 enters the kernel here only by faults (#PF, and UD2 as the call; see proc.h):
 * plain KVM on nested backends (`shade run --baseline`) runs those, not SYSCALL/INT n.
 */
#include "procs64.h"
#include "boot64.h"
#include "ktest.h"
#include "console.h"
#include "mm.h"
#include "proc.h"
#include "tsc.h"

void procs64__bench(void);

static u64 tsc_hz;

static void report(const char *kind, u64 n, u64 cycles, u64 pages, u64 faults)
{
	u64 per = n ? cycles / n : 0;
	u64 ns10 = tsc_hz ? per * 10000000000ul / tsc_hz : 0; /* per op first: no overflow */

	kprintf("bench: %s iterations=%lu cycles_per_op=%lu ns_per_op=%lu.%lu pages=%lu "
		"guest_pf=%lu\n", kind, n, per, ns10 / 10, ns10 % 10, pages, faults);
}

static void bench_demand(u64 iterations, u64 pages)
{
	u64 f0 = proc__stats.demand_faults, bad = 0, i, t0, t;
	struct proc *p;

	t0 = rdtsc();
	for (i = 0; i < iterations; i++) {
		p = proc__create(u_bench_touch, USER_DATA_VA, pages, 0);
		if (!p) {
			bad++;
			break;
		}
		proc__run();
		bad += p->killed || p->exit_code != 0;
		proc__reap(p);
	}
	t = rdtsc() - t0;
	report("demand-touch", i, t, pages, proc__stats.demand_faults - f0);
	ktest__ok(bad == 0 && proc__stats.demand_faults - f0 == iterations * pages,
		  "demand-touch: %lu address spaces, one demand fault per page (%lu failed)",
		  i, bad);
}

static void bench_fork(u64 iterations, u64 pages)
{
	struct proc *parent = proc__create(u_bench_parent, USER_DATA_VA, pages, 0), *c;
	u64 sum = pages * (pages + 1) / 2, bad = 0, f0, i, t0, t;

	if (parent)
		proc__run();
	if (!ktest__ok(parent && parent->state == PROC_STOPPED &&
		       parent->demand_faults == pages,
		       "fork-copy: parent populated %lu pages and stopped", pages))
		return;
	f0 = proc__stats.demand_faults;
	t0 = rdtsc();
	for (i = 0; i < iterations; i++) {
		c = proc__fork(parent);
		if (!c) {
			bad++;
			break;
		}
		proc__run();
		bad += c->killed || c->exit_code != sum;
		proc__reap(c);
	}
	t = rdtsc() - t0;
	report("fork-copy", i, t, pages, proc__stats.demand_faults - f0);
	ktest__ok(bad == 0 && proc__stats.demand_faults == f0,
		  "fork-copy: %lu copies read the parent's %lu pages without a fault (%lu failed)",
		  i, pages, bad);
	proc__reap(parent);
}

void procs64__bench(void)
{
	u64 iterations = boot64__cmdline_u64("iterations=", 200);
	u64 pages = boot64__cmdline_u64("pages=", 64), before = mm__in_use();
	const char *source = "?";

	if (pages < 1)
		pages = 1;
	if (pages > (USER_DATA_END - USER_DATA_VA) / PAGE_SIZE)
		pages = (USER_DATA_END - USER_DATA_VA) / PAGE_SIZE;
	tsc_hz = tsc__hz(&source);
	kprintf("# tsc: %lu Hz from %s\n", tsc_hz, source);
	ktest__ok(tsc_hz > 1000000, "TSC frequency known (%lu Hz)", tsc_hz);
	bench_demand(iterations, pages);
	bench_fork(iterations, pages);
	ktest__eq(before, mm__in_use(), "every frame back after the benchmark");
}
