/*
 * pit.c: i8254 counting, latching and read-back, computed from elapsed host time, and
 * the channel 0 deadline that turns its OUT rising edges into IRQ0 pulses.
 *
 * A counter's state is (count, load_ns, base_ticks): the elapsed ticks d since counting
 * began fully determine its value and OUT, so nothing runs between guest accesses.
 */
#include <stddef.h>
#include <string.h>

#include "pit.h"

#define PORT_B_GATE2   0x01
#define PORT_B_SPKR    0x02
#define PORT_B_RW      0x0f
#define PORT_B_REFRESH 0x10
#define PORT_B_OUT2    0x20
#define REFRESH_NS     15085 /* DRAM refresh request period that bit 4 toggles with */

enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_LOHI = 3 };
enum { LATCH_NONE, LATCH_LSB, LATCH_MSB, LATCH_WORD0, LATCH_WORD1 };

static struct pit *pit_of_timer(struct vtimer *t)
{
	return (struct pit *)((char *)t - offsetof(struct pit, timer));
}

static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_FREQ_HZ / NSEC_PER_SEC);
}

/* Rounded up, so that ns_to_ticks(ticks_to_ns(t)) >= t and a deadline is never early. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * NSEC_PER_SEC + PIT_FREQ_HZ - 1) /
			  PIT_FREQ_HZ);
}

static bool periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
	if (!c->running)
		return 0;
	if (c->paused || now < c->load_ns)
		return c->base_ticks;
	return c->base_ticks + ns_to_ticks(now - c->load_ns);
}

/* The tick at which a one-shot mode raises OUT (modes 4, 5 strobe low for one tick). */
static uint64_t oneshot_edge(const struct pit_channel *c)
{
	return (c->mode == 4 || c->mode == 5) ? (uint64_t)c->count + 1 : c->count;
}

static uint16_t counter_value(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = elapsed(c, now);

	if (!c->running)
		return c->count;
	switch (c->mode) {
	case 2:
		return c->count - d % c->count;
	case 3:
		return c->count - (2 * d) % c->count;
	default: /* one-shots keep counting down through zero, wrapping at 16 bits */
		return c->count - d;
	}
}

static bool out_level(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = elapsed(c, now);

	if (!c->running)
		return c->mode != 0;
	switch (c->mode) {
	case 0:
	case 1:
		return d >= c->count;
	case 2:
		return c->paused || d % c->count != c->count - 1;
	case 3:
		return c->paused || d % c->count < (c->count + 1) / 2;
	default:
		return d != c->count;
	}
}

static void start_counting(struct pit_channel *c, uint64_t now)
{
	c->running = true;
	c->paused = false;
	c->base_ticks = 0;
	c->load_ns = now;
	c->oneshot_done = false;
}

/* When counter c reaches tick target (now, if it already has). */
static uint64_t tick_deadline(const struct pit_channel *c, uint64_t target, uint64_t now)
{
	if (target <= elapsed(c, now))
		return now;
	return c->load_ns + ticks_to_ns(target - c->base_ticks);
}

/* Points the timer at channel 0's next rising edge (periodic edges lie after now). */
static void arm_ch0(struct pit *p, uint64_t now)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t target;

	p->timer.deadline_ns = VTIMER_NEVER;
	if (!c->running || c->paused)
		return;
	if (periodic(c)) {
		p->next_edge = elapsed(c, now) / c->count + 1;
		target = p->next_edge * c->count;
	} else {
		if (c->oneshot_done)
			return;
		target = oneshot_edge(c);
	}
	p->timer.deadline_ns = tick_deadline(c, target, now);
}

static void ch0_fire(struct vtimer *t, uint64_t now)
{
	struct pit *p = pit_of_timer(t);
	struct pit_channel *c = &p->ch[0];
	uint64_t d = elapsed(c, now);

	if (!c->running || c->paused) {
		t->deadline_ns = VTIMER_NEVER;
		return;
	}
	if (periodic(c)) {
		uint64_t reached = d / c->count;
		if (reached < p->next_edge) { /* early: the deadline still stands */
			t->deadline_ns = tick_deadline(c, p->next_edge * c->count, now);
			return;
		}
		/* One edge now however late we are; the rest are counted, not replayed. */
		p->stats.missed += reached - p->next_edge;
	} else {
		if (c->oneshot_done || d < oneshot_edge(c)) {
			arm_ch0(p, now);
			return;
		}
		c->oneshot_done = true;
	}
	p->stats.edges++;
	irq_line__pulse(&p->irq0);
	arm_ch0(p, now);
}

static void set_gate(struct pit_channel *c, bool gate, uint64_t now)
{
	if (gate == c->gate)
		return;
	c->gate = gate;
	switch (c->mode) {
	case 1:
	case 5: /* rising edge (re)triggers */
		if (gate && c->loaded)
			start_counting(c, now);
		break;
	case 2:
	case 3: /* low holds OUT high; rising edge reloads */
		if (!c->running)
			break;
		if (gate) {
			start_counting(c, now);
		} else {
			c->base_ticks = elapsed(c, now);
			c->paused = true;
		}
		break;
	default: /* 0, 4: low suspends counting, high resumes */
		if (!c->running)
			break;
		if (gate) {
			c->load_ns = now;
			c->paused = false;
		} else {
			c->base_ticks = elapsed(c, now);
			c->paused = true;
		}
		break;
	}
}

static void load_count(struct pit *p, unsigned n, uint32_t raw, uint64_t now)
{
	struct pit_channel *c = &p->ch[n];

	c->count = raw ? raw : 0x10000;
	c->loaded = true;
	c->null_count = false;
	p->stats.loads++;
	if (c->mode == 1 || c->mode == 5) {
		c->running = false; /* waits for a gate trigger */
	} else {
		start_counting(c, now);
		c->paused = !c->gate;
	}
	if (n == 0)
		arm_ch0(p, now);
}

static void latch_count(struct pit *p, struct pit_channel *c, uint64_t now)
{
	/* A second latch before the first is read is ignored, as on the 8254. */
	if (c->latch_state != LATCH_NONE)
		return;
	c->latch = counter_value(c, now);
	c->latch_state = c->rw_mode == RW_LOHI ? LATCH_WORD0 : c->rw_mode;
	p->stats.latches++;
}

static void latch_status(struct pit_channel *c, uint64_t now)
{
	if (c->status_latched)
		return;
	c->status = (out_level(c, now) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
		    c->rw_mode << 4 | c->mode << 1;
	c->status_latched = true;
}

static void write_control(struct pit *p, uint8_t val, uint64_t now)
{
	unsigned sel = val >> 6, rw = (val >> 4) & 3;

	if (sel == 3) { /* read-back: bits 5/4 are active-low COUNT/STATUS */
		p->stats.readbacks++;
		for (unsigned n = 0; n < 3; n++) {
			if (!(val & (2u << n)))
				continue;
			if (!(val & 0x20))
				latch_count(p, &p->ch[n], now);
			if (!(val & 0x10))
				latch_status(&p->ch[n], now);
		}
		return;
	}
	struct pit_channel *c = &p->ch[sel];
	if (rw == RW_LATCH) {
		latch_count(p, c, now);
		return;
	}
	if (val & 1)
		p->stats.bcd_ignored++;
	c->rw_mode = rw;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5) /* 6 and 7 alias 2 and 3 */
		c->mode -= 4;
	c->loaded = false;
	c->running = false;
	c->null_count = true;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->latch_state = LATCH_NONE;
	c->status_latched = false;
	if (sel == 0)
		arm_ch0(p, now);
}

static void write_counter(struct pit *p, unsigned n, uint8_t val, uint64_t now)
{
	struct pit_channel *c = &p->ch[n];

	switch (c->rw_mode) {
	case RW_LSB:
		load_count(p, n, val, now);
		break;
	case RW_MSB:
		load_count(p, n, (uint32_t)val << 8, now);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = val;
			c->write_msb_next = true;
			/* Mode 0 stops counting when the first byte of a new count arrives. */
			if (c->mode == 0 && c->running) {
				c->running = false;
				if (n == 0)
					arm_ch0(p, now);
			}
		} else {
			c->write_msb_next = false;
			load_count(p, n, c->write_lsb | (uint32_t)val << 8, now);
		}
		break;
	}
}

static uint8_t read_counter(struct pit_channel *c, uint64_t now)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	switch (c->latch_state) {
	case LATCH_LSB:
		c->latch_state = LATCH_NONE;
		return c->latch & 0xff;
	case LATCH_MSB:
		c->latch_state = LATCH_NONE;
		return c->latch >> 8;
	case LATCH_WORD0:
		c->latch_state = LATCH_WORD1;
		return c->latch & 0xff;
	case LATCH_WORD1:
		c->latch_state = LATCH_NONE;
		return c->latch >> 8;
	}
	v = counter_value(c, now);
	switch (c->rw_mode) {
	case RW_MSB:
		return v >> 8;
	case RW_LOHI:
		c->read_msb_next = !c->read_msb_next;
		return c->read_msb_next ? v & 0xff : v >> 8;
	default:
		return v & 0xff;
	}
}

static uint8_t port_b_read(struct pit *p, uint64_t now)
{
	return (p->port_b & PORT_B_RW) | ((now / REFRESH_NS) & 1 ? PORT_B_REFRESH : 0) |
	       (out_level(&p->ch[2], now) ? PORT_B_OUT2 : 0);
}

static int pit_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct pit *p = dev;
	uint8_t *b = data;
	uint64_t now = vclock__mono(p->clock);

	for (unsigned i = 0; i < len; i++) {
		uint64_t port = addr + i;

		if (port == PIT_PORT_B) {
			if (is_write) {
				p->port_b = b[i] & PORT_B_RW;
				set_gate(&p->ch[2], b[i] & PORT_B_GATE2, now);
			} else {
				b[i] = port_b_read(p, now);
			}
		} else if (port >= PIT_BASE && port < PIT_BASE + 3) {
			if (is_write)
				write_counter(p, port - PIT_BASE, b[i], now);
			else
				b[i] = read_counter(&p->ch[port - PIT_BASE], now);
		} else if (port == PIT_BASE + 3) {
			if (is_write)
				write_control(p, b[i], now);
			else
				b[i] = 0; /* write-only; QEMU reads 0 */
		} else if (!is_write) {
			b[i] = 0xff;
		}
	}
	return 0;
}

void pit__init(struct pit *p, const struct vclock *clock, struct irq_line irq0)
{
	uint64_t now = vclock__mono(clock);

	memset(p, 0, sizeof(*p));
	p->clock = clock;
	p->irq0 = irq0;
	p->timer.deadline_ns = VTIMER_NEVER;
	p->timer.fire = ch0_fire;
	p->timer.name = "pit";
	for (unsigned n = 0; n < 3; n++) {
		struct pit_channel *c = &p->ch[n];
		c->mode = 3;
		c->rw_mode = RW_LOHI;
		c->gate = n != 2;
		load_count(p, n, 0, now);
	}
	p->stats.loads = 0;
}

int pit__register(struct pit *p, struct bus *pio, struct timer_queue *tq)
{
	int r;

	r = bus__register(pio, PIT_BASE, 4, pit_io, p, "pit");
	if (r)
		return r;
	r = bus__register(pio, PIT_PORT_B, 1, pit_io, p, "port-b");
	if (r)
		goto out_pit;
	r = timers__add(tq, &p->timer);
	if (r)
		goto out_port_b;
	return 0;

out_port_b:
	bus__unregister(pio, PIT_PORT_B, p);
out_pit:
	bus__unregister(pio, PIT_BASE, p);
	return r;
}
