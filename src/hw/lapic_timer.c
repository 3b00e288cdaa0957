/*
 * lapic_timer.c: the local APIC timer in one-shot, periodic and TSC-deadline modes.
 *
 * The counter runs at 1 GHz divided by the divide configuration (as QEMU's and KVM's
 * APIC timers do), on the VM's monotonic clock, so it is computed, never ticked: the
 * state is the next expiry and the period, and TMCCT is derived from them. The vtimer on
 * the VM's timer queue fires at the expiry; every register access first catches up with
 * any expiry that passed (the vtimer may not have run yet), so what the guest reads is
 * always consistent with the time it reads it at. A late periodic expiry delivers one
 * interrupt, keeps the phase and counts the periods it skipped, as the PIT does.
 * Switching between one-shot and periodic keeps the count going (the new mode decides
 * what happens at the expiry); switching to or from TSC-deadline mode stops the timer.
 */
#include <stddef.h>

#include "lapic_internal.h"

/* The host timer of a periodic APIC timer is armed at least this far ahead: a guest
 * programming a tiny period gets its expiries coalesced (and counted), not a host
 * busy loop. */
#define MIN_PERIODIC_SERVICE_NS 20000ULL

static unsigned divisor(uint32_t tdcr)
{
	unsigned v = (tdcr & 3) | ((tdcr >> 1) & 4);
	return 1u << ((v + 1) & 7);
}

enum lapic_timer_mode lapic_timer_mode(const struct lapic *a)
{
	return (enum lapic_timer_mode)((a->lvt[LVT_TIMER] >> 17) & 3);
}

static void arm(struct lapic *a, uint64_t now)
{
	uint64_t d = a->expiry_ns;
	if (d != VTIMER_NEVER && lapic_timer_mode(a) == TIMER_PERIODIC &&
	    d < now + MIN_PERIODIC_SERVICE_NS)
		d = now + MIN_PERIODIC_SERVICE_NS;
	a->timer.deadline_ns = d;
}

void lapic_timer_stop(struct lapic *a)
{
	a->expiry_ns = VTIMER_NEVER;
	a->period_ns = 0;
	a->timer.deadline_ns = VTIMER_NEVER;
}

void lapic_timer_catch_up(struct lapic *a, uint64_t now)
{
	if (a->expiry_ns == VTIMER_NEVER || now < a->expiry_ns)
		return;
	a->stats.timer_fires++;
	lapic_local_deliver(a, LVT_TIMER);
	switch (lapic_timer_mode(a)) {
	case TIMER_TSC_DEADLINE:
		a->tsc_deadline = 0;        /* the MSR reads 0 once the deadline has passed */
		a->expiry_ns = VTIMER_NEVER;
		break;
	case TIMER_PERIODIC: {
		uint64_t skipped = (now - a->expiry_ns) / a->period_ns;
		a->stats.timer_missed += skipped;
		a->expiry_ns += (skipped + 1) * a->period_ns;
		break;
	}
	default:
		a->expiry_ns = VTIMER_NEVER;
		break;
	}
	arm(a, now);
}

static void fire(struct vtimer *t, uint64_t now)
{
	struct lapic *a = (struct lapic *)((char *)t - offsetof(struct lapic, timer));
	lapic_timer_catch_up(a, now);
	arm(a, now);
}

void lapic_timer_init(struct lapic *a)
{
	a->timer.fire = fire;
	a->timer.name = "lapic-timer";
	lapic_timer_stop(a);
}

uint32_t lapic_timer_current(const struct lapic *a, uint64_t now)
{
	if (lapic_timer_mode(a) == TIMER_TSC_DEADLINE || a->expiry_ns == VTIMER_NEVER ||
	    now >= a->expiry_ns)
		return 0;
	return (uint32_t)((a->expiry_ns - now) / divisor(a->tdcr));
}

void lapic_timer_set_lvt(struct lapic *a, uint32_t lvt)
{
	bool was_deadline = lapic_timer_mode(a) == TIMER_TSC_DEADLINE;
	a->lvt[LVT_TIMER] = lvt;
	if (was_deadline != (lapic_timer_mode(a) == TIMER_TSC_DEADLINE)) {
		lapic_timer_stop(a);
		a->tmict = 0;
		a->tsc_deadline = 0;
	}
	arm(a, vclock__mono(a->clock));
}

void lapic_timer_set_initial(struct lapic *a, uint32_t count)
{
	uint64_t now = vclock__mono(a->clock);
	if (lapic_timer_mode(a) == TIMER_TSC_DEADLINE)
		return;     /* ignored in TSC-deadline mode */
	a->tmict = count;
	if (!count) {
		lapic_timer_stop(a);
		return;
	}
	a->period_ns = (uint64_t)count * divisor(a->tdcr);
	a->expiry_ns = now + a->period_ns;
	arm(a, now);
}

void lapic_timer_set_divide(struct lapic *a, uint32_t tdcr)
{
	uint64_t now = vclock__mono(a->clock);
	unsigned old = divisor(a->tdcr);
	a->tdcr = tdcr & 0xb;
	unsigned div = divisor(a->tdcr);
	if (lapic_timer_mode(a) == TIMER_TSC_DEADLINE || a->expiry_ns == VTIMER_NEVER)
		return;
	/* The count left goes on at the new rate. */
	a->expiry_ns = now + (a->expiry_ns - now) / old * div;
	a->period_ns = (uint64_t)a->tmict * div;
	arm(a, now);
}

void lapic_timer_set_deadline(struct lapic *a, uint64_t tsc)
{
	uint64_t now = vclock__mono(a->clock);
	if (lapic_timer_mode(a) != TIMER_TSC_DEADLINE)
		return;     /* writes are ignored in the other modes */
	a->tsc_deadline = tsc;
	if (!tsc) {
		lapic_timer_stop(a);
		return;
	}
	uint64_t tsc_now = a->ops.tsc ? a->ops.tsc(a->ops.ctx) : 0;
	uint64_t khz = a->ops.tsc_khz ? a->ops.tsc_khz(a->ops.ctx) : 0;
	if (tsc <= tsc_now || !khz)
		a->expiry_ns = now;
	else
		a->expiry_ns = now + (uint64_t)((unsigned __int128)(tsc - tsc_now) * 1000000 / khz);
	lapic_timer_catch_up(a, now);
	arm(a, now);
}
