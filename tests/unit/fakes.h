/*
 * fakes.h: what device unit tests stand in for the VM: a clock the test moves by hand,
 * a recorder for interrupt lines, and port I/O helpers that go through a real struct bus
 * so every test exercises the device's registered handler.
 */
#ifndef SHADE_TEST_FAKES_H
#define SHADE_TEST_FAKES_H

#include <string.h>

#include "bus.h"
#include "clock.h"
#include "irq.h"

struct fake_clock {
	uint64_t mono;
	int64_t wall;
	struct vclock vc;
};

static inline uint64_t fake_mono(void *ctx) { return ((struct fake_clock *)ctx)->mono; }
static inline int64_t fake_wall(void *ctx) { return ((struct fake_clock *)ctx)->wall; }

static inline void fake_clock__init(struct fake_clock *c, uint64_t mono, int64_t wall)
{
	c->mono = mono;
	c->wall = wall;
	c->vc = (struct vclock){ fake_mono, fake_wall, c };
}

/* Time passes on both clocks alike. */
static inline void fake_clock__advance(struct fake_clock *c, uint64_t ns)
{
	c->mono += ns;
	c->wall += (int64_t)ns;
}

struct irq_rec {
	int level[16];
	unsigned rises[16], falls[16];
};

static inline void irq_rec_set(void *ctx, unsigned irq, int level)
{
	struct irq_rec *r = ctx;
	if (irq >= 16)
		return;
	if (level && !r->level[irq])
		r->rises[irq]++;
	if (!level && r->level[irq])
		r->falls[irq]++;
	r->level[irq] = level;
}

static inline struct irq_line irq_rec__line(struct irq_rec *r, unsigned irq)
{
	return (struct irq_line){ .set = irq_rec_set, .ctx = r, .irq = irq };
}

static inline uint32_t io_in(struct bus *b, uint16_t port, unsigned len)
{
	uint32_t v = 0;
	bus__access(b, port, &v, len, false);
	return v;
}

static inline void io_out(struct bus *b, uint16_t port, uint32_t v, unsigned len)
{
	bus__access(b, port, &v, len, true);
}

static inline uint8_t inb(struct bus *b, uint16_t port) { return io_in(b, port, 1); }
static inline uint16_t inw(struct bus *b, uint16_t port) { return io_in(b, port, 2); }
static inline uint32_t inl(struct bus *b, uint16_t port) { return io_in(b, port, 4); }
static inline void outb(struct bus *b, uint16_t port, uint8_t v) { io_out(b, port, v, 1); }
static inline void outw(struct bus *b, uint16_t port, uint16_t v) { io_out(b, port, v, 2); }
static inline void outl(struct bus *b, uint16_t port, uint32_t v) { io_out(b, port, v, 4); }

#endif
