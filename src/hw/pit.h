/*
 * pit.h: the i8254 programmable interval timer (0x40-0x43) and the PIT bits of the PC's
 * system control port B (0x61: channel 2 gate, speaker enable, OUT2, refresh toggle).
 *
 * Counters are derived from host monotonic time (vclock__mono) at 1193182 Hz, never from
 * guest instruction counts, so a descheduled guest sees real time pass. Channel 0's
 * rising OUT edges reach IRQ0 through a vtimer that the vCPU loop services; a late
 * service raises one edge, keeps the phase and counts the ticks it skipped.
 * BCD counting is not implemented: the BCD bit is ignored (counted in stats).
 */
#ifndef SHADE_PIT_H
#define SHADE_PIT_H

#include "bus.h"
#include "clock.h"
#include "irq.h"

#define PIT_BASE     0x40
#define PIT_PORT_B   0x61
#define PIT_FREQ_HZ  1193182ULL
#define PIT_IRQ      0

struct pit_channel {
	uint32_t count;          /* reload value, 1..65536 (0 written means 65536) */
	uint64_t load_ns;        /* when counting last (re)started or resumed */
	uint64_t base_ticks;     /* ticks counted before a gate pause (modes 0, 4) */
	bool loaded;             /* a count was written since the control word */
	bool running;            /* counting has started (modes 1, 5 need a gate trigger) */
	bool paused;             /* gate low holds the count */
	bool gate;
	bool oneshot_done;       /* the single edge of modes 0, 1, 4, 5 was delivered */
	uint8_t mode, rw_mode;
	uint8_t write_lsb;
	bool write_msb_next, read_msb_next;
	uint16_t latch;
	uint8_t latch_state;     /* 0 none, 1 LSB, 2 MSB, 3 LSB then MSB, 4 MSB of a pair */
	uint8_t status;
	bool status_latched;
	bool null_count;
};

struct pit_stats {
	uint64_t edges;          /* channel 0 rising edges raised on IRQ0 */
	uint64_t missed;         /* channel 0 edges skipped because the service was late */
	uint64_t loads;          /* counts written */
	uint64_t latches;        /* counter latch and read-back count latches */
	uint64_t readbacks;
	uint64_t bcd_ignored;    /* control words asking for BCD, treated as binary */
};

struct pit {
	const struct vclock *clock;
	struct irq_line irq0;
	struct pit_channel ch[3];
	struct vtimer timer;     /* channel 0's next rising edge */
	uint64_t next_edge;      /* index k of the periodic edge the timer is armed for */
	uint8_t port_b;          /* port 0x61 bits 0-3 as last written */
	struct pit_stats stats;
};

/* Power-on state as a PC BIOS leaves it: every channel in mode 3 with count 65536,
 * channel 0 running (18.2 Hz), channel 2 gated off. */
void pit__init(struct pit *p, const struct vclock *clock, struct irq_line irq0);
/* Claims 0x40-0x43 and 0x61 on pio and puts the channel 0 timer on tq. */
int pit__register(struct pit *p, struct bus *pio, struct timer_queue *tq);

#endif
