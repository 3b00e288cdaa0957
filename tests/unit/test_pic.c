/*
 * test_pic.c: the i8259 pair through its ports: initialisation, masking, priority,
 * EOI variants, spurious interrupts, cascade, ELCR level inputs, auto-EOI and poll.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "fakes.h"
#include "pic.h"

struct env {
	struct bus pio;
	struct pic pic;
	unsigned notifies;
	int out;
};

static void notify(void *ctx, int level)
{
	struct env *e = ctx;
	e->notifies++;
	e->out = level;
}

/* The sequence Linux and SeaBIOS use: vectors 0x20/0x28, cascade on IR2, 8086 mode. */
static void setup(struct env *e, uint8_t icw4)
{
	memset(e, 0, sizeof(*e));
	bus__init(&e->pio, "pio");
	pic__init(&e->pic, notify, e);
	ck_assert_int_eq(pic__register(&e->pic, &e->pio), 0);
	outb(&e->pio, 0x20, 0x11);
	outb(&e->pio, 0x21, 0x20);
	outb(&e->pio, 0x21, 0x04);
	outb(&e->pio, 0x21, icw4);
	outb(&e->pio, 0xa0, 0x11);
	outb(&e->pio, 0xa1, 0x28);
	outb(&e->pio, 0xa1, 0x02);
	outb(&e->pio, 0xa1, icw4);
}

static uint8_t isr(struct env *e, uint16_t base)
{
	outb(&e->pio, base, 0x0b);
	return inb(&e->pio, base);
}

static uint8_t irr(struct env *e, uint16_t base)
{
	outb(&e->pio, base, 0x0a);
	return inb(&e->pio, base);
}

START_TEST(test_init_and_mask)
{
	struct env e;
	setup(&e, 0x01);
	ck_assert_uint_eq(inb(&e.pio, 0x21), 0x00); /* ICW1 cleared the mask */
	outb(&e.pio, 0x21, 0xfb);
	outb(&e.pio, 0xa1, 0xff);
	ck_assert_uint_eq(inb(&e.pio, 0x21), 0xfb);
	ck_assert_uint_eq(inb(&e.pio, 0xa1), 0xff);
	ck_assert_uint_eq(e.pic.chip[0].vector_base, 0x20);
	ck_assert_uint_eq(e.pic.chip[1].vector_base, 0x28);

	/* A masked request waits in IRR and is delivered once unmasked. */
	pic__set_irq(&e.pic, 1, 1);
	pic__set_irq(&e.pic, 1, 0);
	ck_assert(!pic__has_interrupt(&e.pic));
	ck_assert_uint_eq(irr(&e, 0x20), 0x02);
	ck_assert_int_eq(e.out, 0);
	outb(&e.pio, 0x21, 0xf9);
	ck_assert(pic__has_interrupt(&e.pic));
	ck_assert_int_eq(e.out, 1);
	ck_assert_int_eq(pic__ack(&e.pic), 0x21);
	ck_assert_uint_eq(isr(&e, 0x20), 0x02);
	ck_assert_uint_eq(irr(&e, 0x20), 0x00);
	ck_assert_int_eq(e.out, 0);
	outb(&e.pio, 0x20, 0x20);
	ck_assert_uint_eq(isr(&e, 0x20), 0x00);
	ck_assert_uint_eq(e.pic.stats.eois, 1);
}
END_TEST

START_TEST(test_priority_and_nesting)
{
	struct env e;
	setup(&e, 0x01);
	pic__set_irq(&e.pic, 3, 1);
	pic__set_irq(&e.pic, 1, 1);
	ck_assert_int_eq(pic__ack(&e.pic), 0x21);
	/* IR3 ranks below the in-service IR1. */
	ck_assert(!pic__has_interrupt(&e.pic));
	/* IR0 outranks it and nests. */
	pic__set_irq(&e.pic, 0, 1);
	ck_assert(pic__has_interrupt(&e.pic));
	ck_assert_int_eq(pic__ack(&e.pic), 0x20);
	ck_assert_uint_eq(isr(&e, 0x20), 0x03);
	outb(&e.pio, 0x20, 0x20); /* non-specific EOI ends the highest: IR0 */
	ck_assert_uint_eq(isr(&e, 0x20), 0x02);
	ck_assert(!pic__has_interrupt(&e.pic));
	outb(&e.pio, 0x20, 0x61); /* specific EOI for IR1 */
	ck_assert_uint_eq(isr(&e, 0x20), 0x00);
	ck_assert_int_eq(pic__ack(&e.pic), 0x23);
	ck_assert_uint_eq(e.pic.stats.delivered[3], 1);
}
END_TEST

START_TEST(test_edge_needs_new_edge)
{
	struct env e;
	setup(&e, 0x01);
	pic__set_irq(&e.pic, 4, 1);
	ck_assert_int_eq(pic__ack(&e.pic), 0x24);
	outb(&e.pio, 0x20, 0x20);
	/* Still high, but an edge input only requests on a rising edge. */
	ck_assert(!pic__has_interrupt(&e.pic));
	pic__set_irq(&e.pic, 4, 0);
	pic__set_irq(&e.pic, 4, 1);
	ck_assert(pic__has_interrupt(&e.pic));
}
END_TEST

START_TEST(test_level_elcr)
{
	struct env e;
	setup(&e, 0x01);
	outb(&e.pio, 0x4d0, 0xff);
	ck_assert_uint_eq(inb(&e.pio, 0x4d0), 0xf8); /* IRQ0-2 cannot be level */
	outb(&e.pio, 0x4d1, 0xff);
	ck_assert_uint_eq(inb(&e.pio, 0x4d1), 0xde);

	pic__set_irq(&e.pic, 9, 1);
	ck_assert_int_eq(pic__ack(&e.pic), 0x29);
	outb(&e.pio, 0xa0, 0x20);
	outb(&e.pio, 0x20, 0x20);
	/* The line is still asserted: the request comes straight back. */
	ck_assert(pic__has_interrupt(&e.pic));
	ck_assert_int_eq(pic__ack(&e.pic), 0x29);
	pic__set_irq(&e.pic, 9, 0);
	outb(&e.pio, 0xa0, 0x20);
	outb(&e.pio, 0x20, 0x20);
	ck_assert(!pic__has_interrupt(&e.pic));
}
END_TEST

START_TEST(test_spurious_master)
{
	struct env e;
	setup(&e, 0x01);
	outb(&e.pio, 0x4d0, 0x20);
	pic__set_irq(&e.pic, 5, 1);
	ck_assert(pic__has_interrupt(&e.pic));
	pic__set_irq(&e.pic, 5, 0); /* gone before INTA */
	ck_assert_int_eq(pic__ack(&e.pic), 0x27);
	ck_assert_uint_eq(isr(&e, 0x20), 0x00);
	ck_assert_uint_eq(e.pic.stats.spurious, 1);
	ck_assert_uint_eq(e.pic.stats.acks, 1);
}
END_TEST

START_TEST(test_spurious_slave)
{
	struct env e;
	setup(&e, 0x01);
	outb(&e.pio, 0x4d1, 0x04); /* IRQ10 level */
	pic__set_irq(&e.pic, 10, 1);
	ck_assert(pic__has_interrupt(&e.pic));
	pic__set_irq(&e.pic, 10, 0);
	/* Master IR2 latched the edge; the slave has nothing: vector slave base + 7. */
	ck_assert_int_eq(pic__ack(&e.pic), 0x2f);
	ck_assert_uint_eq(isr(&e, 0xa0), 0x00);
	ck_assert_uint_eq(isr(&e, 0x20), 0x04); /* the master still needs its EOI */
	ck_assert_uint_eq(e.pic.stats.spurious, 1);
}
END_TEST

START_TEST(test_cascade)
{
	struct env e;
	setup(&e, 0x01);
	pic__set_irq(&e.pic, 12, 1);
	pic__set_irq(&e.pic, 12, 0);
	ck_assert(pic__has_interrupt(&e.pic));
	ck_assert_uint_eq(irr(&e, 0x20), 0x04);
	ck_assert_int_eq(pic__ack(&e.pic), 0x2c);
	ck_assert_uint_eq(isr(&e, 0x20), 0x04);
	ck_assert_uint_eq(isr(&e, 0xa0), 0x10);

	/* A second slave request while IR2 is in service waits for the master's EOI. */
	pic__set_irq(&e.pic, 14, 1);
	ck_assert(!pic__has_interrupt(&e.pic));
	outb(&e.pio, 0xa0, 0x20);
	ck_assert(!pic__has_interrupt(&e.pic));
	outb(&e.pio, 0x20, 0x20);
	ck_assert(pic__has_interrupt(&e.pic));
	ck_assert_int_eq(pic__ack(&e.pic), 0x2e);

	/* Masking the cascade input hides the whole slave. */
	outb(&e.pio, 0xa0, 0x20);
	outb(&e.pio, 0x20, 0x20);
	outb(&e.pio, 0x21, 0x04);
	pic__set_irq(&e.pic, 8, 1);
	ck_assert(!pic__has_interrupt(&e.pic));
	outb(&e.pio, 0x21, 0x00);
	ck_assert_int_eq(pic__ack(&e.pic), 0x28);
	ck_assert_uint_eq(e.pic.stats.delivered[12], 1);
	ck_assert_uint_eq(e.pic.stats.delivered[14], 1);
	ck_assert_uint_eq(e.pic.stats.delivered[8], 1);
}
END_TEST

START_TEST(test_auto_eoi)
{
	struct env e;
	setup(&e, 0x03);
	pic__set_irq(&e.pic, 1, 1);
	ck_assert_int_eq(pic__ack(&e.pic), 0x21);
	ck_assert_uint_eq(isr(&e, 0x20), 0x00);
	/* Nothing in service, so a lower-priority request goes straight through. */
	pic__set_irq(&e.pic, 6, 1);
	ck_assert(pic__has_interrupt(&e.pic));
}
END_TEST

START_TEST(test_rotate_and_poll)
{
	struct env e;
	setup(&e, 0x01);
	pic__set_irq(&e.pic, 1, 1);
	ck_assert_int_eq(pic__ack(&e.pic), 0x21);
	outb(&e.pio, 0x20, 0xa0); /* rotate on non-specific EOI: IR1 becomes lowest */
	pic__set_irq(&e.pic, 1, 0);
	pic__set_irq(&e.pic, 1, 1);
	pic__set_irq(&e.pic, 3, 1);
	ck_assert_int_eq(pic__ack(&e.pic), 0x23);
	outb(&e.pio, 0x20, 0x20);

	/* Poll: the read acknowledges and returns 0x80 | IR. */
	outb(&e.pio, 0x20, 0x0c);
	ck_assert_uint_eq(inb(&e.pio, 0x20), 0x81);
	ck_assert_uint_eq(isr(&e, 0x20), 0x02);
	outb(&e.pio, 0x20, 0x0c);
	ck_assert_uint_eq(inb(&e.pio, 0x20), 0x00);
}
END_TEST

START_TEST(test_robustness)
{
	struct env e;
	setup(&e, 0x01);
	pic__set_irq(&e.pic, 16, 1);
	pic__set_irq(&e.pic, 1000, 1);
	ck_assert(!pic__has_interrupt(&e.pic));
	/* Spurious ack with nothing pending, and EOIs with nothing in service. */
	ck_assert_int_eq(pic__ack(&e.pic), 0x27);
	outb(&e.pio, 0x20, 0x20);
	outb(&e.pio, 0x20, 0x67);
	/* A word access splits into both registers. */
	outw(&e.pio, 0x20, 0xff0b);
	ck_assert_uint_eq(inb(&e.pio, 0x21), 0xff);
	/* An irq_line from pic__line drives the same input. */
	outb(&e.pio, 0x21, 0x00);
	struct irq_line l = pic__line(&e.pic, 7);
	irq_line__pulse(&l);
	ck_assert_int_eq(pic__ack(&e.pic), 0x27);
	ck_assert_uint_eq(isr(&e, 0x20), 0x80); /* a real IR7, unlike the spurious one */
	ck_assert(e.notifies >= 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pic");
	TCase *tc = tcase_create("i8259");

	tcase_add_test(tc, test_init_and_mask);
	tcase_add_test(tc, test_priority_and_nesting);
	tcase_add_test(tc, test_edge_needs_new_edge);
	tcase_add_test(tc, test_level_elcr);
	tcase_add_test(tc, test_spurious_master);
	tcase_add_test(tc, test_spurious_slave);
	tcase_add_test(tc, test_cascade);
	tcase_add_test(tc, test_auto_eoi);
	tcase_add_test(tc, test_rotate_and_poll);
	tcase_add_test(tc, test_robustness);
	suite_add_tcase(s, tc);

	return check_run(s);
}
