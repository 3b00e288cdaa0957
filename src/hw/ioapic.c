/*
 * ioapic.c: the I/O APIC's indirect registers, its redirection table and when a pin
 * sends a message (see ioapic.h for the rules).
 */
#include <string.h>

#include "ioapic.h"

#define RTE_VECTOR   0xffULL
#define RTE_MODE(e)  (((e) >> 8) & 7)
#define RTE_LOGICAL  (1ULL << 11)
#define RTE_STATUS   (1ULL << 12)
#define RTE_REMOTE   (1ULL << 14)
#define RTE_LEVEL    (1ULL << 15)
#define RTE_MASKED   (1ULL << 16)
/* Writable: vector, mode, destination mode, polarity, trigger, mask, destination. */
#define RTE_WRITABLE (0xffULL | 0x700ULL | RTE_LOGICAL | (1ULL << 13) | RTE_LEVEL | \
		      RTE_MASKED | (0xffULL << 56))

static void send(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];
	bool level = e & RTE_LEVEL;
	if (e & RTE_MASKED) {
		io->stats.masked++;
		return;
	}
	if (level) {
		if (e & RTE_REMOTE)
			return;             /* the last message is not yet EOIed */
		io->redir[pin] |= RTE_REMOTE;
	}
	io->stats.delivered[pin]++;
	io->ops.deliver(io->ops.ctx, (uint8_t)(e >> 56), e & RTE_LOGICAL, RTE_MODE(e),
			(unsigned)(e & RTE_VECTOR), level);
}

void ioapic__set_irq(struct ioapic *io, unsigned pin, int level)
{
	if (pin >= IOAPIC_PINS)
		return;
	uint32_t bit = 1u << pin;
	bool was = io->input & bit;
	if (level)
		io->input |= bit;
	else
		io->input &= ~bit;
	if (!level)
		return;
	if ((io->redir[pin] & RTE_LEVEL) || !was)
		send(io, pin);
}

void ioapic__eoi(struct ioapic *io, unsigned vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];
		if ((e & RTE_VECTOR) != vector || !(e & RTE_LEVEL) || !(e & RTE_REMOTE))
			continue;
		io->redir[pin] &= ~RTE_REMOTE;
		io->stats.eois++;
		if (io->input & (1u << pin))
			send(io, pin);
	}
}

static uint32_t read_reg(struct ioapic *io)
{
	unsigned r = io->regsel;
	if (r == 0)
		return io->id;
	if (r == 1)
		return IOAPIC_VERSION;
	if (r == 2)
		return io->arb;
	if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
		uint64_t e = io->redir[(r - 0x10) / 2];
		return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

static void write_reg(struct ioapic *io, uint32_t v)
{
	unsigned r = io->regsel;
	if (r == 0) {
		io->id = v & 0x0f000000u;
		io->arb = io->id;
		return;
	}
	if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_PINS)
		return;     /* version, arbitration: read-only */
	unsigned pin = (r - 0x10) / 2;
	uint64_t e = io->redir[pin];
	uint64_t w = (r & 1) ? (e & 0xffffffffULL) | ((uint64_t)v << 32)
			     : (e & ~0xffffffffULL) | v;
	e = (w & RTE_WRITABLE) | (e & RTE_REMOTE);
	if (!(e & RTE_LEVEL))
		e &= ~RTE_REMOTE;     /* an edge pin has no remote IRR */
	io->redir[pin] = e;
	/* A level input still asserted delivers once it can (unmasked, remote IRR clear). */
	if ((e & RTE_LEVEL) && (io->input & (1u << pin)) && !(e & (RTE_MASKED | RTE_REMOTE)))
		send(io, pin);
}

static int ioapic_mmio(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct ioapic *io = dev;
	unsigned off = (unsigned)(addr - IOAPIC_BASE);
	uint32_t v = 0;

	if (!is_write) {
		io->stats.reads++;
		if (off == 0x00)
			v = io->regsel;
		else if (off == 0x10)
			v = read_reg(io);
		memcpy(data, &v, len < 4 ? len : 4);
		if (len > 4)
			memset((uint8_t *)data + 4, 0, len - 4);
		return 0;
	}
	io->stats.writes++;
	memcpy(&v, data, len < 4 ? len : 4);
	if (off == 0x00)
		io->regsel = (uint8_t)v;
	else if (off == 0x10 && len >= 4)
		write_reg(io, v);
	else if (off == 0x40)
		ioapic__eoi(io, v & 0xff);    /* the EOI register (version 0x20) */
	return 0;
}

void ioapic__init(struct ioapic *io, const struct ioapic_ops *ops)
{
	memset(io, 0, sizeof(*io));
	io->ops = *ops;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = RTE_MASKED;
}

int ioapic__register(struct ioapic *io, struct bus *mmio)
{
	return bus__register(mmio, IOAPIC_BASE, 0x1000, ioapic_mmio, io, "ioapic");
}
