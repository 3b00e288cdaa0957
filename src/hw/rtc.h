/*
 * rtc.h: the MC146818 real-time clock and CMOS RAM of a PC (index 0x70, data 0x71, IRQ8).
 *
 * The RTC owns guest time of day as an offset from host wall time (UTC), so the guest's
 * clock follows the host's and setting it never stops it; it owns the status registers
 * A-D, the periodic, alarm and update-ended interrupts (through a vtimer) and 114 bytes
 * of CMOS storage, seeded with the memory-size bytes firmware reads.
 * Not modelled: daylight saving (DSE), square-wave output, divider reset in register A.
 */
#ifndef SHADE_RTC_H
#define SHADE_RTC_H

#include "bus.h"
#include "clock.h"
#include "irq.h"

#define RTC_BASE        0x70
#define RTC_IRQ         8
#define RTC_CMOS_SIZE   128
#define RTC_REG_CENTURY 0x32

struct rtc_stats {
	uint64_t reads, writes;
	uint64_t irq_raised;     /* low-to-high transitions of IRQ8 */
	uint64_t periodic;       /* PF set */
	uint64_t update_ended;   /* UF set */
	uint64_t alarm;          /* AF set */
	uint64_t time_sets;      /* guest changed the time */
};

struct rtc {
	const struct vclock *clock;
	struct irq_line irq;
	uint8_t index;
	bool nmi_disabled;       /* bit 7 of the index write; kept for the VMM to honour */
	uint8_t cmos[RTC_CMOS_SIZE]; /* time registers here hold the frozen time while SET */
	int64_t offset_sec;      /* guest time = host wall time + offset */
	int64_t offset_nsec;     /* 0..999999999 */
	int64_t flags_sec;       /* last guest second whose update UF/AF account for */
	uint64_t flags_mono_ns;  /* host monotonic time PF accounts for */
	bool irq_level;
	struct vtimer timer;
	struct rtc_stats stats;
};

/* Guest RAM below and above 4 GiB, for the CMOS memory-size bytes. */
void rtc__init(struct rtc *r, const struct vclock *clock, struct irq_line irq8,
	       uint64_t ram_below_4g, uint64_t ram_above_4g);
/* Claims 0x70-0x71 on pio and puts the interrupt timer on tq. */
int rtc__register(struct rtc *r, struct bus *pio, struct timer_queue *tq);
/* For the VMM (boot order, equipment bytes): -EINVAL for clock or status registers. */
int rtc__cmos_set(struct rtc *r, unsigned idx, uint8_t val);

#endif
