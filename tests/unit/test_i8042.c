/*
 * test_i8042.c: the keyboard controller through ports 0x60/0x64 and port 0x92: the
 * post-BIOS state, self-test and interface tests, the command byte, the output port
 * (A20, and reset when its bit 0 is written low), pulse commands (0xfe resets, others
 * not), the keyboard's and mouse's replies with the AUX status bit, IRQ 1/12 levels
 * following the output buffer and the command byte, and port 0x92's reset edge.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "fakes.h"
#include "i8042.h"

struct env {
	struct bus pio;
	struct irq_rec irqs;
	struct i8042 k;
	unsigned resets;
};

static void on_reset(void *ctx) { ((struct env *)ctx)->resets++; }

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	bus__init(&e->pio, "pio");
	i8042__init(&e->k, irq_rec__line(&e->irqs, 1), irq_rec__line(&e->irqs, 12), on_reset, e);
	ck_assert_int_eq(i8042__register(&e->k, &e->pio), 0);
}

/* The next byte, -1 if the output buffer is empty. */
static int next(struct env *e)
{
	if (!(inb(&e->pio, 0x64) & I8042_STS_OBF))
		return -1;
	return inb(&e->pio, 0x60);
}

START_TEST(test_commands)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(inb(&e.pio, 0x64), I8042_STS_SYS | I8042_STS_UNLOCKED);
	outb(&e.pio, 0x64, 0x20);
	ck_assert_uint_eq(inb(&e.pio, 0x64) & (I8042_STS_OBF | I8042_STS_CMD),
			  I8042_STS_OBF | I8042_STS_CMD);
	ck_assert_int_eq(next(&e), 0x61);
	ck_assert_int_eq(next(&e), -1);
	ck_assert_uint_eq(inb(&e.pio, 0x60), 0x61);          /* empty: the last byte again */
	outb(&e.pio, 0x64, 0x60);
	outb(&e.pio, 0x60, 0x44);
	ck_assert_uint_eq(inb(&e.pio, 0x64) & I8042_STS_CMD, 0);
	outb(&e.pio, 0x64, 0x20);
	ck_assert_int_eq(next(&e), 0x44);
	outb(&e.pio, 0x64, 0xaa);
	ck_assert_int_eq(next(&e), 0x55);
	outb(&e.pio, 0x64, 0xab);
	ck_assert_int_eq(next(&e), 0x00);
	outb(&e.pio, 0x64, 0xa9);
	ck_assert_int_eq(next(&e), 0x00);
	outb(&e.pio, 0x64, 0xad);
	outb(&e.pio, 0x64, 0x20);
	ck_assert_int_eq(next(&e) & 0x10, 0x10);
	outb(&e.pio, 0x64, 0xae);
	outb(&e.pio, 0x64, 0xa8);
	outb(&e.pio, 0x64, 0x20);
	ck_assert_int_eq(next(&e) & 0x30, 0);
	outb(&e.pio, 0x64, 0xd0);
	ck_assert_int_eq(next(&e), 0xcf);                    /* ones, A20, reset high */
	outb(&e.pio, 0x64, 0xdd);                            /* A20 off via the output port */
	outb(&e.pio, 0x64, 0xd0);
	ck_assert_int_eq(next(&e) & I8042_OUT_A20, 0);
	ck_assert(i8042__a20(&e.k));                         /* port 0x92 still has it */
	outb(&e.pio, 0x92, 0x00);
	ck_assert(!i8042__a20(&e.k));
	outb(&e.pio, 0x64, 0xdf);
	ck_assert(i8042__a20(&e.k));
	/* Wider accesses decode as nothing. */
	ck_assert_uint_eq(inw(&e.pio, 0x60), 0xffff);
	/* Unknown commands are ignored. */
	outb(&e.pio, 0x64, 0x01);
	ck_assert_int_eq(next(&e), -1);
	ck_assert_uint_eq(e.resets, 0);
}
END_TEST

START_TEST(test_resets)
{
	struct env e;
	setup(&e);
	outb(&e.pio, 0x64, 0xff);                            /* pulse nothing */
	outb(&e.pio, 0x64, 0xf1);
	ck_assert_uint_eq(e.resets, 0);
	outb(&e.pio, 0x64, 0xfe);                            /* pulse the reset line */
	ck_assert_uint_eq(e.resets, 1);
	outb(&e.pio, 0x64, 0xf0);
	ck_assert_uint_eq(e.resets, 2);
	outb(&e.pio, 0x64, 0xd1);
	outb(&e.pio, 0x60, 0xdf);                            /* reset line high: nothing */
	ck_assert_uint_eq(e.resets, 2);
	outb(&e.pio, 0x64, 0xd1);
	outb(&e.pio, 0x60, 0xde);
	ck_assert_uint_eq(e.resets, 3);
	/* Port 0x92: a rising edge of bit 0 resets; reads give what was written. */
	ck_assert_uint_eq(inb(&e.pio, 0x92), 0x02);
	outb(&e.pio, 0x92, 0x03);
	ck_assert_uint_eq(e.resets, 4);
	outb(&e.pio, 0x92, 0x03);
	ck_assert_uint_eq(e.resets, 4);
	ck_assert_uint_eq(inb(&e.pio, 0x92), 0x03);
	ck_assert_uint_eq(e.k.stats.resets, 4);
}
END_TEST

START_TEST(test_devices_and_irqs)
{
	struct env e;
	setup(&e);
	outb(&e.pio, 0x60, 0xff);                            /* keyboard reset */
	ck_assert_int_eq(e.irqs.level[1], 1);                /* KBD_INT is on after POST */
	ck_assert_int_eq(next(&e), 0xfa);
	ck_assert_int_eq(e.irqs.level[1], 1);
	ck_assert_int_eq(next(&e), 0xaa);
	ck_assert_int_eq(e.irqs.level[1], 0);
	outb(&e.pio, 0x60, 0xf2);                            /* identify, translated */
	ck_assert_int_eq(next(&e), 0xfa);
	ck_assert_int_eq(next(&e), 0xab);
	ck_assert_int_eq(next(&e), 0x41);
	outb(&e.pio, 0x60, 0xed);                            /* LEDs: ACK, parameter, ACK */
	ck_assert_int_eq(next(&e), 0xfa);
	outb(&e.pio, 0x60, 0x07);
	ck_assert_int_eq(next(&e), 0xfa);
	outb(&e.pio, 0x60, 0xee);
	ck_assert_int_eq(next(&e), 0xee);
	ck_assert_int_eq(next(&e), -1);
	/* The keyboard disabled in the command byte: data, no interrupt. */
	outb(&e.pio, 0x64, 0xad);
	outb(&e.pio, 0x60, 0xf4);
	ck_assert_int_eq(e.irqs.level[1], 0);
	ck_assert_int_eq(next(&e), 0xfa);
	outb(&e.pio, 0x64, 0xae);
	/* The mouse through 0xd4: AUX status bit, IRQ 12 once its interrupt is on. */
	outb(&e.pio, 0x64, 0xd4);
	outb(&e.pio, 0x60, 0xff);
	ck_assert_uint_eq(inb(&e.pio, 0x64) & I8042_STS_AUX, I8042_STS_AUX);
	ck_assert_int_eq(e.irqs.level[12], 0);
	ck_assert_int_eq(next(&e), 0xfa);
	ck_assert_int_eq(next(&e), 0xaa);
	ck_assert_int_eq(next(&e), 0x00);
	ck_assert_uint_eq(inb(&e.pio, 0x64) & I8042_STS_AUX, 0);
	outb(&e.pio, 0x64, 0x60);
	outb(&e.pio, 0x60, 0x03);
	outb(&e.pio, 0x64, 0xd4);
	outb(&e.pio, 0x60, 0xf2);
	ck_assert_int_eq(e.irqs.level[12], 1);
	ck_assert_int_eq(e.irqs.level[1], 0);
	ck_assert_int_eq(next(&e), 0xfa);
	ck_assert_int_eq(next(&e), 0x00);
	ck_assert_int_eq(e.irqs.level[12], 0);
	/* 0xd2/0xd3 write the output buffer as if from either device. */
	outb(&e.pio, 0x64, 0xd3);
	outb(&e.pio, 0x60, 0x99);
	ck_assert_uint_eq(inb(&e.pio, 0x64) & I8042_STS_AUX, I8042_STS_AUX);
	ck_assert_int_eq(next(&e), 0x99);
	/* A full queue drops, never overflows. */
	for (int i = 0; i < 40; i++)
		outb(&e.pio, 0x60, 0xee);
	int n = 0;
	while (next(&e) >= 0)
		n++;
	ck_assert_int_eq(n, I8042_QUEUE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("i8042");
	TCase *tc = tcase_create("i8042");

	tcase_add_test(tc, test_commands);
	tcase_add_test(tc, test_resets);
	tcase_add_test(tc, test_devices_and_irqs);
	suite_add_tcase(s, tc);
	return check_run(s);
}
