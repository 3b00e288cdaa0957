/*
 * sched.c: who runs. Round-robin over the process table with a one-tick quantum:
 * the timer interrupt only counts ticks, wakes sleepers and asks for a reschedule,
 * which happens on the way back to user mode (the kernel itself is not preemptible;
 * one CPU). With nothing to run the CPU halts with interrupts on.
 */
#include "kernel.h"
#include "proc.h"
#include "timer.h"
#include "x86.h"

static struct proc *current;
static uint64_t boot_ksp;	/* the boot stack's context, abandoned after the first switch */
static volatile uint64_t ticks;
static uint64_t next_wake = ~0UL;	/* earliest wake_tick of a sleeper */
volatile int sched_need_resched;

void swtch(uint64_t *save_rsp, uint64_t new_rsp);

struct proc *proc__current(void)
{
	return current;
}

uint64_t sched__ticks(void)
{
	return ticks;
}

void sched__wake(struct proc *p)
{
	if (p->state == P_SLEEPING || p->state == P_WAITING || p->state == P_EMBRYO)
		p->state = P_READY;
}

/* The TSC rate, measured over the first CALIB_TICKS ticks after the first one, makes
 * the clock finer than a tick; until then (and without a TSC rate) it counts ticks. */
#define CALIB_TICKS 10
static uint64_t tsc_tick1, tsc_per_ms;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t sched__uptime_us(void)
{
	uint64_t t = ticks;
	if (!tsc_per_ms)
		return t * (1000000 / HZ);
	return 1000000 / HZ + (rdtsc() - tsc_tick1) * 1000 / tsc_per_ms;
}

void sched__tick(void)
{
	ticks++;
	if (ticks == 1)
		tsc_tick1 = rdtsc();
	else if (ticks == 1 + CALIB_TICKS)
		tsc_per_ms = (rdtsc() - tsc_tick1) / (CALIB_TICKS * 1000 / HZ);
	sched_need_resched = 1;
	if (ticks < next_wake)
		return;
	next_wake = ~0UL;
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state != P_SLEEPING)
			continue;
		if (p->wake_tick <= ticks)
			p->state = P_READY;
		else if (p->wake_tick < next_wake)
			next_wake = p->wake_tick;
	}
}

/* Halts through the first ticks, so the clock is fine-grained before any program runs. */
void sched__calibrate(void)
{
	while (ticks < 1 + CALIB_TICKS) {
		sti_hlt();
		cli();
	}
}

static void switch_to(struct proc *next)
{
	struct proc *prev = current;
	next->state = P_RUNNING;
	if (next == prev)
		return;
	current = next;
	cpu__set_kstack((uint64_t)next->kstack + KSTACK_SIZE);
	vm__load(&next->as);
	swtch(&prev->ksp, next->ksp);
}

/* Picks the next ready process after current (current itself last). Interrupts off. */
static struct proc *pick(void)
{
	int base = current ? (int)(current - procs) : NPROC - 1;
	for (int i = 1; i <= NPROC; i++) {
		struct proc *p = &procs[(base + i) % NPROC];
		if (p->state == P_READY)
			return p;
	}
	return NULL;
}

void sched__block(void)
{
	uint64_t f = irq_save();
	struct proc *next;
	sched_need_resched = 0;
	while (!(next = pick())) {
		sti_hlt();
		cli();
	}
	switch_to(next);
	irq_restore(f);
}

void sched__yield(void)
{
	uint64_t f = irq_save();
	current->state = P_READY;
	sched__block();
	irq_restore(f);
}

void sched__sleep_ms(uint64_t ms)
{
	uint64_t f = irq_save();
	uint64_t n = (ms * HZ + 999) / 1000;
	current->wake_tick = ticks + (n ? n : 1);
	if (current->wake_tick < next_wake)
		next_wake = current->wake_tick;
	current->state = P_SLEEPING;
	sched__block();
	irq_restore(f);
}

void sched__run_first(struct proc *p)
{
	cli();
	p->state = P_RUNNING;
	current = p;
	cpu__set_kstack((uint64_t)p->kstack + KSTACK_SIZE);
	vm__load(&p->as);
	swtch(&boot_ksp, p->ksp);
	panic("the boot context was resumed");
}
