/*
 * test_rtc.c: the MC146818 against a fake wall and monotonic clock: BCD/binary and
 * 12/24 h rendering, the UIP window, SET mode and running writes as offsets from host
 * time, periodic, update-ended and alarm interrupts on IRQ8, register C/D semantics,
 * CMOS storage and the memory-size bytes.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "fakes.h"
#include "rtc.h"

#define NS    1000000000LL
#define T0    1000000000ULL
#define WALL0 (1709214330LL * NS + NS / 2) /* Thu 2024-02-29 13:45:30.5 UTC */

struct env {
	struct fake_clock clk;
	struct bus pio;
	struct timer_queue tq;
	struct irq_rec irqs;
	struct rtc rtc;
};

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	fake_clock__init(&e->clk, T0, WALL0);
	bus__init(&e->pio, "pio");
	rtc__init(&e->rtc, &e->clk.vc, irq_rec__line(&e->irqs, 8), 32ULL << 20, 1ULL << 30);
	ck_assert_int_eq(rtc__register(&e->rtc, &e->pio, &e->tq), 0);
}

static uint8_t rd(struct env *e, uint8_t idx)
{
	outb(&e->pio, 0x70, idx);
	return inb(&e->pio, 0x71);
}

static void wr(struct env *e, uint8_t idx, uint8_t v)
{
	outb(&e->pio, 0x70, idx);
	outb(&e->pio, 0x71, v);
}

static void run_to(struct env *e, uint64_t mono)
{
	fake_clock__advance(&e->clk, mono - e->clk.mono);
	timers__run(&e->tq, mono);
}

START_TEST(test_bcd_binary_12h)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(rd(&e, 0x0b), 0x02);
	ck_assert_uint_eq(rd(&e, 0x00), 0x30);
	ck_assert_uint_eq(rd(&e, 0x02), 0x45);
	ck_assert_uint_eq(rd(&e, 0x04), 0x13);
	ck_assert_uint_eq(rd(&e, 0x06), 5); /* Thursday, Sunday = 1 */
	ck_assert_uint_eq(rd(&e, 0x07), 0x29);
	ck_assert_uint_eq(rd(&e, 0x08), 0x02);
	ck_assert_uint_eq(rd(&e, 0x09), 0x24);
	ck_assert_uint_eq(rd(&e, 0x32), 0x20);

	wr(&e, 0x0b, 0x06); /* binary, 24 h */
	ck_assert_uint_eq(rd(&e, 0x00), 30);
	ck_assert_uint_eq(rd(&e, 0x04), 13);
	ck_assert_uint_eq(rd(&e, 0x07), 29);
	ck_assert_uint_eq(rd(&e, 0x09), 24);
	ck_assert_uint_eq(rd(&e, 0x32), 20);

	wr(&e, 0x0b, 0x00); /* BCD, 12 h: 1 PM */
	ck_assert_uint_eq(rd(&e, 0x04), 0x81);
	e.clk.wall = 946684799LL * NS; /* Fri 1999-12-31 23:59:59 */
	ck_assert_uint_eq(rd(&e, 0x04), 0x91);
	ck_assert_uint_eq(rd(&e, 0x06), 6);
	ck_assert_uint_eq(rd(&e, 0x32), 0x19);
	e.clk.wall += NS; /* midnight is 12 AM */
	ck_assert_uint_eq(rd(&e, 0x04), 0x12);
	ck_assert_uint_eq(rd(&e, 0x09), 0x00);
	ck_assert_uint_eq(rd(&e, 0x32), 0x20);
	ck_assert_uint_eq(rd(&e, 0x08), 0x01);
}
END_TEST

START_TEST(test_uip_window)
{
	struct env e;
	setup(&e);
	int64_t sec = 1709214330LL * NS;
	e.clk.wall = sec + 999700000;
	ck_assert_uint_eq(rd(&e, 0x0a), 0x26);
	e.clk.wall = sec + 999756000; /* 244 us before the boundary */
	ck_assert_uint_eq(rd(&e, 0x0a), 0xa6);
	e.clk.wall = sec + 999999999;
	ck_assert_uint_eq(rd(&e, 0x0a), 0xa6);
	ck_assert_uint_eq(rd(&e, 0x00), 0x30);
	e.clk.wall = sec + NS;
	ck_assert_uint_eq(rd(&e, 0x0a), 0x26);
	ck_assert_uint_eq(rd(&e, 0x00), 0x31);
	wr(&e, 0x0a, 0xa6); /* UIP is read-only */
	ck_assert_uint_eq(rd(&e, 0x0a), 0x26);
}
END_TEST

START_TEST(test_set_mode)
{
	struct env e;
	setup(&e);
	wr(&e, 0x0a, 0x20); /* no periodic rate: keep PF out of register C */
	wr(&e, 0x0b, 0x92); /* SET (and UIE, which SET clears) */
	ck_assert_uint_eq(rd(&e, 0x0b), 0x82);
	fake_clock__advance(&e.clk, 5 * NS);
	ck_assert_uint_eq(rd(&e, 0x00), 0x30); /* frozen */
	ck_assert_uint_eq(rd(&e, 0x0a) & 0x80, 0);
	wr(&e, 0x09, 0x30);
	wr(&e, 0x08, 0x03);
	wr(&e, 0x07, 0x01);
	ck_assert_uint_eq(rd(&e, 0x09), 0x30);
	wr(&e, 0x0b, 0x02);
	/* 2030-03-01 13:45:30.0 from this instant on, as an offset from host time. */
	ck_assert_int_eq(e.rtc.offset_sec * NS + e.rtc.offset_nsec,
			 1898603130LL * NS - (WALL0 + 5 * NS));
	ck_assert_uint_eq(rd(&e, 0x0c), 0x00); /* the jump is no update cycle */
	ck_assert_uint_eq(rd(&e, 0x06), 6);    /* Friday, derived from the date */
	fake_clock__advance(&e.clk, NS - 1);
	ck_assert_uint_eq(rd(&e, 0x00), 0x30);
	fake_clock__advance(&e.clk, 1);
	ck_assert_uint_eq(rd(&e, 0x00), 0x31);
	ck_assert_uint_eq(rd(&e, 0x09), 0x30);
	ck_assert_uint_eq(rd(&e, 0x0c), 0x10);

	/* A write to a running clock takes effect at once. */
	wr(&e, 0x02, 0x10);
	ck_assert_uint_eq(rd(&e, 0x02), 0x10);
	ck_assert_uint_eq(rd(&e, 0x04), 0x13);
	ck_assert_uint_eq(rd(&e, 0x00), 0x31);
	ck_assert_uint_eq(e.rtc.stats.time_sets, 2);
}
END_TEST

START_TEST(test_periodic)
{
	struct env e;
	setup(&e);
	/* PF is set at the rate even with PIE off, but raises nothing. */
	fake_clock__advance(&e.clk, 2000000);
	ck_assert_uint_eq(rd(&e, 0x0c), 0x40);
	ck_assert_uint_eq(e.irqs.rises[8], 0);

	wr(&e, 0x0a, 0x2f); /* 2 Hz */
	wr(&e, 0x0b, 0x42); /* PIE */
	uint64_t period = NS / 2;
	uint64_t next = (e.clk.mono / period + 1) * period;
	ck_assert_uint_eq(e.rtc.timer.deadline_ns, next);
	run_to(&e, next - 1);
	ck_assert_uint_eq(e.irqs.rises[8], 0);
	run_to(&e, next);
	ck_assert_uint_eq(e.irqs.rises[8], 1);
	ck_assert_int_eq(e.irqs.level[8], 1);
	/* Until C is read nothing new can happen: the timer idles. */
	ck_assert_uint_eq(e.rtc.timer.deadline_ns, VTIMER_NEVER);
	ck_assert_uint_eq(rd(&e, 0x0c), 0xd0); /* a second boundary passed too: UF */
	ck_assert_int_eq(e.irqs.level[8], 0);
	ck_assert_uint_eq(rd(&e, 0x0c), 0x00);
	ck_assert_uint_eq(e.rtc.timer.deadline_ns, next + period);
	run_to(&e, next + period);
	ck_assert_uint_eq(e.irqs.rises[8], 2);

	/* 1024 Hz: the period is 32 ticks of 32768 Hz. */
	rd(&e, 0x0c);
	wr(&e, 0x0a, 0x26);
	uint64_t t = e.clk.mono * 32768 / NS;
	ck_assert_uint_eq(e.rtc.timer.deadline_ns, ((t / 32 + 1) * 32 * NS + 32767) / 32768);
	ck_assert_uint_eq(e.rtc.stats.irq_raised, 2);
}
END_TEST

START_TEST(test_update_ended)
{
	struct env e;
	setup(&e);
	wr(&e, 0x0a, 0x20);
	wr(&e, 0x0b, 0x12); /* UIE */
	uint64_t boundary = e.clk.mono + NS / 2;
	ck_assert_uint_eq(e.rtc.timer.deadline_ns, boundary);
	run_to(&e, boundary);
	ck_assert_int_eq(e.irqs.level[8], 1);
	ck_assert_uint_eq(rd(&e, 0x00), 0x31);
	ck_assert_uint_eq(rd(&e, 0x0c), 0x90);
	ck_assert_int_eq(e.irqs.level[8], 0);
	ck_assert_uint_eq(e.rtc.timer.deadline_ns, boundary + NS);
	ck_assert_uint_eq(e.rtc.stats.update_ended, 1);
}
END_TEST

START_TEST(test_alarm)
{
	struct env e;
	setup(&e);
	wr(&e, 0x0a, 0x20);
	wr(&e, 0x01, 0x32);
	wr(&e, 0x03, 0x45);
	wr(&e, 0x05, 0xc0); /* any hour */
	wr(&e, 0x0b, 0x22); /* AIE */
	run_to(&e, e.clk.mono + NS / 2); /* :31 */
	ck_assert_int_eq(e.irqs.level[8], 0);
	ck_assert_uint_eq(rd(&e, 0x0c), 0x10); /* UF is a flag even with UIE off */
	run_to(&e, e.rtc.timer.deadline_ns); /* :32 */
	ck_assert_int_eq(e.irqs.level[8], 1);
	ck_assert_uint_eq(rd(&e, 0x0c), 0xb0);
	ck_assert_uint_eq(e.rtc.stats.alarm, 1);
	/* A long gap still notices an alarm second that went by unobserved. */
	wr(&e, 0x0b, 0x02);
	fake_clock__advance(&e.clk, 3600 * NS);
	ck_assert_uint_eq(rd(&e, 0x0c) & 0x20, 0x20);
}
END_TEST

START_TEST(test_cmos_and_status)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(rd(&e, 0x0d), 0x80);
	wr(&e, 0x0d, 0x00);
	ck_assert_uint_eq(rd(&e, 0x0d), 0x80);
	wr(&e, 0x40, 0xab);
	ck_assert_uint_eq(rd(&e, 0x40), 0xab);
	wr(&e, 0x7f, 0xcd);
	ck_assert_uint_eq(rd(&e, 0x7f), 0xcd);
	outb(&e.pio, 0x70, 0xc0); /* NMI off, index 0x40 */
	ck_assert(e.rtc.nmi_disabled);
	ck_assert_uint_eq(inb(&e.pio, 0x71), 0xab);
	outb(&e.pio, 0x70, 0x40);
	ck_assert(!e.rtc.nmi_disabled);
	ck_assert_uint_eq(inb(&e.pio, 0x70), 0xff);

	/* 32 MiB below 4 GiB, 1 GiB above. */
	ck_assert_uint_eq(rd(&e, 0x15) | rd(&e, 0x16) << 8, 640);
	ck_assert_uint_eq(rd(&e, 0x17) | rd(&e, 0x18) << 8, 31 * 1024);
	ck_assert_uint_eq(rd(&e, 0x30) | rd(&e, 0x31) << 8, 31 * 1024);
	ck_assert_uint_eq(rd(&e, 0x34) | rd(&e, 0x35) << 8, 256);
	ck_assert_uint_eq(rd(&e, 0x5b) | rd(&e, 0x5c) << 8 | rd(&e, 0x5d) << 16, 16384);

	ck_assert_int_eq(rtc__cmos_set(&e.rtc, 0x3d, 0x21), 0);
	ck_assert_uint_eq(rd(&e, 0x3d), 0x21);
	ck_assert_int_lt(rtc__cmos_set(&e.rtc, 0x0b, 0), 0);
	ck_assert_int_lt(rtc__cmos_set(&e.rtc, 0x80, 0), 0);

	/* Garbage time written by a guest yields some time, never a fault. */
	wr(&e, 0x0b, 0x82);
	for (unsigned i = 0; i < 10; i++)
		wr(&e, i, 0xff);
	wr(&e, 0x32, 0xff);
	wr(&e, 0x0b, 0x02);
	rd(&e, 0x00);
	rd(&e, 0x32);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rtc");
	TCase *tc = tcase_create("mc146818");

	tcase_add_test(tc, test_bcd_binary_12h);
	tcase_add_test(tc, test_uip_window);
	tcase_add_test(tc, test_set_mode);
	tcase_add_test(tc, test_periodic);
	tcase_add_test(tc, test_update_ended);
	tcase_add_test(tc, test_alarm);
	tcase_add_test(tc, test_cmos_and_status);
	suite_add_tcase(s, tc);

	return check_run(s);
}
