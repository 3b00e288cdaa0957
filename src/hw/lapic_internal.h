/*
 * lapic_internal.h: what lapic.c (registers, delivery) and lapic_timer.c (the timer)
 * share. Not for use outside src/hw/lapic*.c.
 */
#ifndef SHADE_LAPIC_INTERNAL_H
#define SHADE_LAPIC_INTERNAL_H

#include "lapic.h"

#define LVT_MASKED 0x10000u

enum lapic_timer_mode { TIMER_ONESHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE, TIMER_RESERVED };

static inline bool lapic_x2apic_mode(const struct lapic *a)
{
	return (a->base & APIC_BASE_EXTD) && lapic__hw_enabled(a);
}

/* lapic.c */
/* Register access by index (offset >> 4): 0, or -1 for a register that is not there in
 * this mode (reads), or an access that is #GP in x2APIC mode (writes). */
int lapic_reg_read(struct lapic *a, unsigned r, uint64_t *val, bool x2);
int lapic_reg_write(struct lapic *a, unsigned r, uint64_t val, bool x2);
/* Claim the xAPIC page where IA32_APIC_BASE now says. */
int lapic_remap(struct lapic *a);
void lapic_accept(struct lapic *a, unsigned vector, bool level);
void lapic_local_deliver(struct lapic *a, enum lapic_lvt which);
void lapic_reset(struct lapic *a, bool keep_base);

/* lapic_timer.c */
void lapic_timer_init(struct lapic *a);
void lapic_timer_stop(struct lapic *a);
enum lapic_timer_mode lapic_timer_mode(const struct lapic *a);
/* Deliver every expiry up to now (the vtimer may not have run yet). */
void lapic_timer_catch_up(struct lapic *a, uint64_t now);
uint32_t lapic_timer_current(const struct lapic *a, uint64_t now);
void lapic_timer_set_lvt(struct lapic *a, uint32_t lvt);
void lapic_timer_set_initial(struct lapic *a, uint32_t count);
void lapic_timer_set_divide(struct lapic *a, uint32_t tdcr);
void lapic_timer_set_deadline(struct lapic *a, uint64_t tsc);

#endif
