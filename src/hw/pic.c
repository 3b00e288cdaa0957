/*
 * pic.c: two i8259A controllers, their cascade, and the PIIX ELCR.
 *
 * Priority is resolved as the 8259A does: IRs are ranked from the rotation point
 * (`lowest`), a request wins only if it outranks every in-service IR, and the slave's
 * INT drives master IR2 like any other input. Owns no timing: the VMM decides when an
 * INTA cycle happens.
 */
#include <string.h>

#include "pic.h"

#define MASTER 0
#define SLAVE  1

#define ICW1_IC4  0x01
#define ICW1_SNGL 0x02
#define ICW1_INIT 0x10
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define OCW3_SEL  0x08
#define OCW3_RR   0x02
#define OCW3_RIS  0x01
#define OCW3_POLL 0x04
#define OCW3_ESMM 0x40
#define OCW3_SMM  0x20

/* Rank 0 is highest; 8 means "none". */
static unsigned rank_of(const struct pic_chip *c, uint8_t mask)
{
	if (!mask)
		return 8;
	unsigned r = 0;
	while (!(mask & (1u << ((r + c->lowest) & 7))))
		r++;
	return r;
}

/* The IR this chip would present to an INTA cycle now, or -1. */
static int chip_pending(const struct pic_chip *c, bool is_master)
{
	unsigned req = rank_of(c, c->irr & ~c->imr);
	if (req == 8)
		return -1;

	uint8_t busy = c->isr;
	if (c->special_mask)
		busy &= ~c->imr;
	/* Fully nested mode lets the slave interrupt again while it is in service. */
	if (is_master && c->sfnm)
		busy &= ~(1u << PIC_CASCADE_IRQ);
	if (req < rank_of(c, busy))
		return (req + c->lowest) & 7;
	return -1;
}

static void chip_set_input(struct pic_chip *c, unsigned ir, int level)
{
	uint8_t bit = 1u << ir;

	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->input & bit)) {
		/* Edge inputs latch the rising edge; a pulse leaves the request in IRR. */
		c->irr |= bit;
	}
	if (level)
		c->input |= bit;
	else
		c->input &= ~bit;
}

static void update(struct pic *p)
{
	chip_set_input(&p->chip[MASTER], PIC_CASCADE_IRQ, chip_pending(&p->chip[SLAVE], false) >= 0);

	bool out = chip_pending(&p->chip[MASTER], true) >= 0;
	if (out != p->output) {
		p->output = out;
		if (p->notify)
			p->notify(p->notify_ctx, out);
	}
}

static void eoi_ir(struct pic *p, struct pic_chip *c, unsigned ir, bool rotate)
{
	c->isr &= ~(1u << ir);
	if (rotate)
		c->lowest = (ir + 1) & 7;
	p->stats.eois++;
}

static void chip_intack(struct pic_chip *c, unsigned ir)
{
	c->isr |= 1u << ir;
	/* A level request stays in IRR for as long as the line is held. */
	if (!(c->elcr & (1u << ir)))
		c->irr &= ~(1u << ir);
	if (c->auto_eoi) {
		c->isr &= ~(1u << ir);
		if (c->rotate_on_aeoi)
			c->lowest = (ir + 1) & 7;
	}
}

static void write_icw1(struct pic_chip *c, uint8_t val)
{
	/* ICW1 clears the mask, ISR and rotation and restarts edge detection. LTIM is
	 * ignored: on a PIIX the ELCR alone selects edge or level. */
	c->imr = 0;
	c->isr = 0;
	c->irr &= c->elcr;
	c->input &= c->elcr;
	c->lowest = 0;
	c->read_isr = false;
	c->poll = false;
	c->special_mask = false;
	c->auto_eoi = false;
	c->rotate_on_aeoi = false;
	c->sfnm = false;
	c->need_icw4 = val & ICW1_IC4;
	c->single = val & ICW1_SNGL;
	c->init_step = 2;
}

static void write_ocw2(struct pic *p, struct pic_chip *c, uint8_t val)
{
	unsigned ir = val & 7, cmd = val >> 5;
	unsigned r;

	switch (cmd) {
	case 0: /* rotate in AEOI: clear */
	case 4: /* rotate in AEOI: set */
		c->rotate_on_aeoi = cmd == 4;
		break;
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		r = rank_of(c, c->isr);
		if (r != 8)
			eoi_ir(p, c, (r + c->lowest) & 7, cmd == 5);
		break;
	case 3: /* specific EOI */
	case 7: /* rotate on specific EOI */
		eoi_ir(p, c, ir, cmd == 7);
		break;
	case 6: /* set priority: ir becomes lowest */
		c->lowest = (ir + 1) & 7;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_ocw3(struct pic_chip *c, uint8_t val)
{
	if (val & OCW3_POLL)
		c->poll = true;
	if (val & OCW3_RR)
		c->read_isr = val & OCW3_RIS;
	if (val & OCW3_ESMM)
		c->special_mask = val & OCW3_SMM;
}

static void write_data(struct pic_chip *c, uint8_t val)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = val & 0xf8;
		c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
		break;
	case 3:
		c->icw3 = val;
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = val & ICW4_AEOI;
		c->sfnm = val & ICW4_SFNM;
		c->init_step = 0;
		break;
	default:
		c->imr = val;
		break;
	}
}

/* Poll mode: the read itself is the acknowledge, for this chip alone. */
static uint8_t poll_read(struct pic_chip *c, bool is_master)
{
	int ir = chip_pending(c, is_master);

	c->poll = false;
	if (ir < 0)
		return 0;
	chip_intack(c, ir);
	return 0x80 | ir;
}

static uint8_t chip_io(struct pic *p, unsigned idx, unsigned port, uint8_t val, bool is_write)
{
	struct pic_chip *c = &p->chip[idx];

	if (is_write) {
		if (port == 1)
			write_data(c, val);
		else if (val & ICW1_INIT)
			write_icw1(c, val);
		else if (val & OCW3_SEL)
			write_ocw3(c, val);
		else
			write_ocw2(p, c, val);
		update(p);
		return 0;
	}
	if (c->poll) {
		val = poll_read(c, idx == MASTER);
		update(p);
		return val;
	}
	if (port == 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static int pic_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct pic *p = dev;
	uint8_t *b = data;

	for (unsigned i = 0; i < len; i++) {
		uint64_t port = addr + i;
		unsigned idx;

		if (port >= PIC_ELCR_BASE && port < PIC_ELCR_BASE + 2) {
			struct pic_chip *c = &p->chip[port - PIC_ELCR_BASE];
			if (is_write) {
				c->elcr = b[i] & c->elcr_mask;
				update(p);
			} else {
				b[i] = c->elcr;
			}
			continue;
		}
		if (port >= PIC_MASTER_BASE && port < PIC_MASTER_BASE + 2)
			idx = MASTER;
		else if (port >= PIC_SLAVE_BASE && port < PIC_SLAVE_BASE + 2)
			idx = SLAVE;
		else {
			if (!is_write)
				b[i] = 0xff;
			continue;
		}
		uint8_t v = chip_io(p, idx, port & 1, is_write ? b[i] : 0, is_write);
		if (!is_write)
			b[i] = v;
	}
	return 0;
}

void pic__init(struct pic *p, void (*notify)(void *ctx, int level), void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->notify = notify;
	p->notify_ctx = ctx;
	/* IRQ0-2 (timer, keyboard, cascade), 8 and 13 are edge-only on a PIIX. */
	p->chip[MASTER].elcr_mask = 0xf8;
	p->chip[SLAVE].elcr_mask = 0xde;
}

int pic__register(struct pic *p, struct bus *pio)
{
	int r;

	r = bus__register(pio, PIC_MASTER_BASE, 2, pic_io, p, "pic-master");
	if (r)
		return r;
	r = bus__register(pio, PIC_SLAVE_BASE, 2, pic_io, p, "pic-slave");
	if (r)
		goto out_master;
	r = bus__register(pio, PIC_ELCR_BASE, 2, pic_io, p, "pic-elcr");
	if (r)
		goto out_slave;
	return 0;

out_slave:
	bus__unregister(pio, PIC_SLAVE_BASE, p);
out_master:
	bus__unregister(pio, PIC_MASTER_BASE, p);
	return r;
}

void pic__set_irq(struct pic *p, unsigned irq, int level)
{
	if (irq >= PIC_NR_IRQS)
		return;
	chip_set_input(&p->chip[irq >> 3], irq & 7, level);
	update(p);
}

static void line_set(void *ctx, unsigned irq, int level)
{
	pic__set_irq(ctx, irq, level);
}

struct irq_line pic__line(struct pic *p, unsigned irq)
{
	return (struct irq_line){ .set = line_set, .ctx = p, .irq = irq };
}

bool pic__has_interrupt(const struct pic *p)
{
	return chip_pending(&p->chip[MASTER], true) >= 0;
}

int pic__ack(struct pic *p)
{
	struct pic_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
	int ir = chip_pending(m, true), vector, irq;

	p->stats.acks++;
	if (ir < 0) {
		/* The request vanished before INTA: the 8259A answers IR7, sets no ISR bit. */
		p->stats.spurious++;
		vector = m->vector_base | 7;
		goto out;
	}
	chip_intack(m, ir);
	if (ir != PIC_CASCADE_IRQ) {
		irq = ir;
		vector = m->vector_base | ir;
		p->stats.delivered[irq]++;
		goto out;
	}
	int sir = chip_pending(s, false);
	/* The slave's INT drops during INTA, so a request still pending after this ack
	 * makes a fresh edge on master IR2. */
	chip_set_input(m, PIC_CASCADE_IRQ, 0);
	if (sir < 0) {
		/* Spurious on the slave: the master's IR2 stays in service, as on hardware. */
		p->stats.spurious++;
		vector = s->vector_base | 7;
		goto out;
	}
	chip_intack(s, sir);
	irq = 8 + sir;
	vector = s->vector_base | sir;
	p->stats.delivered[irq]++;
out:
	update(p);
	return vector;
}
