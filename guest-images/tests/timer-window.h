/*
 * timer-window.h: rate measurement for the timer guest (timer.c): the TSC calibrated
 * against RTC second edges, and windows that count IRQ0s and IRQ8s with the host's
 * pauses accounted (timer-window.c gives the bounds and why). Also the CMOS access
 * both files use.
 */
#ifndef TIMER_WINDOW_H
#define TIMER_WINDOW_H

#include "types.h"
#include "x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SEC 0x00
#define RTC_REG_B 0x0b
#define REG_B_BINARY 0x04

enum { SRC_IRQ0, SRC_IRQ8 };

/*
 * One window: its TSC length; time paused (in `pauses` pauses) and time the guest ran
 * with interrupts on; of that, time each source's next tick was overdue; IRQs counted.
 */
struct window {
	u64 len, paused, running, overdue[2];
	u32 pauses, irqs[2];
};

/*
 * Index then data: not safe against the IRQ8 handler (it selects register C), so the
 * main line never touches the CMOS while the RTC periodic interrupt is enabled and IF=1.
 */
static inline u8 cmos_read(u8 reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static inline void cmos_write(u8 reg, u8 v)
{
	outb(CMOS_INDEX, reg);
	outb(CMOS_DATA, v);
}

static inline u32 bcd(u8 v)
{
	return (u32)(v >> 4) * 10 + (v & 0x0f);
}

/* Calibrates the TSC against the RTC (one check: the RTC's seconds advance). */
void window__calibrate_tsc(void);
/* TSC ticks per second, at least and at most. */
u64 window__tsc_lo(void);
u64 window__tsc_hi(void);
/* Periods of a source at num/den Hz in t TSC ticks, at the slowest TSC. */
u32 window__periods_max(u64 t, u64 num, u64 den);
/* Interrupt handlers call begin at entry (false: leave the ISR bit set, the window is
 * over) and end as their last act. */
bool window__irq_begin(int src, u64 entry);
void window__irq_end(u64 entry);
/* Source src runs at num/den Hz in the next windows. */
void window__set_due(int src, u64 num, u64 den);
/* Measures until a window is calm for the source at num/den Hz (or enough tries). */
void window__measure(struct window *w, u64 num, u64 den);
/* The count, lost-tick and overdue checks for source src at num/den Hz. */
void window__check_rate(const struct window *w, int src, u64 num, u64 den,
			const char *what);

#endif
