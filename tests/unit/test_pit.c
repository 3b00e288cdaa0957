/*
 * test_pit.c: the i8254 against a fake monotonic clock: mode 2 and 3 periods and OUT,
 * late timer service (one edge, phase kept, misses counted), latch, read-back, access
 * modes, count 0 = 65536, mode 0 one-shot, and channel 2 through port 0x61.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "fakes.h"
#include "pit.h"

#define T0 1000000000ULL

struct env {
	struct fake_clock clk;
	struct bus pio;
	struct timer_queue tq;
	struct irq_rec irqs;
	struct pit pit;
};

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	fake_clock__init(&e->clk, T0, 0);
	bus__init(&e->pio, "pio");
	pit__init(&e->pit, &e->clk.vc, irq_rec__line(&e->irqs, 0));
	ck_assert_int_eq(pit__register(&e->pit, &e->pio, &e->tq), 0);
}

/* The first instant at which `ticks` input clocks have elapsed. */
static uint64_t ticks_ns(uint64_t ticks)
{
	return (ticks * 1000000000ULL + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
}

static void program(struct env *e, unsigned ch, uint8_t mode, uint16_t count)
{
	outb(&e->pio, 0x43, ch << 6 | 0x30 | mode << 1);
	outb(&e->pio, 0x40 + ch, count & 0xff);
	outb(&e->pio, 0x40 + ch, count >> 8);
}

static uint16_t latch_read(struct env *e, unsigned ch)
{
	outb(&e->pio, 0x43, ch << 6);
	uint16_t lo = inb(&e->pio, 0x40 + ch);
	return lo | inb(&e->pio, 0x40 + ch) << 8;
}

static void run_to(struct env *e, uint64_t t)
{
	e->clk.mono = t;
	timers__run(&e->tq, t);
}

START_TEST(test_reset_state)
{
	struct env e;
	setup(&e);
	/* Like a BIOS left it: channel 0 at 18.2 Hz, count 65536. */
	ck_assert_uint_eq(e.pit.timer.deadline_ns, T0 + ticks_ns(65536));
	ck_assert_uint_eq(inb(&e.pio, 0x61) & 0x01, 0); /* channel 2 gated off */
}
END_TEST

START_TEST(test_mode2_period)
{
	struct env e;
	setup(&e);
	program(&e, 0, 2, 1193);
	uint64_t load = e.clk.mono;
	ck_assert_uint_eq(e.pit.timer.deadline_ns, load + ticks_ns(1193));

	run_to(&e, load + ticks_ns(1193) - 1); /* not yet */
	ck_assert_uint_eq(e.irqs.rises[0], 0);
	for (unsigned k = 1; k <= 5; k++) {
		ck_assert_uint_eq(e.pit.timer.deadline_ns, load + ticks_ns(k * 1193));
		run_to(&e, e.pit.timer.deadline_ns);
		ck_assert_uint_eq(e.irqs.rises[0], k);
		ck_assert_int_eq(e.irqs.level[0], 0); /* delivered as a pulse */
	}
	ck_assert_uint_eq(e.pit.stats.edges, 5);
	ck_assert_uint_eq(e.pit.stats.missed, 0);
}
END_TEST

START_TEST(test_late_service_no_storm)
{
	struct env e;
	setup(&e);
	program(&e, 0, 2, 1000);
	uint64_t load = e.clk.mono;
	/* The vCPU loop comes back 10.5 periods late: edge 1 was due, 2..10 passed too. */
	run_to(&e, load + ticks_ns(10500));
	ck_assert_uint_eq(e.irqs.rises[0], 1);
	ck_assert_uint_eq(e.pit.stats.missed, 9);
	/* The next edge keeps the original phase and lies in the future. */
	ck_assert_uint_eq(e.pit.timer.deadline_ns, load + ticks_ns(11000));
	run_to(&e, e.pit.timer.deadline_ns);
	ck_assert_uint_eq(e.irqs.rises[0], 2);
	ck_assert_uint_eq(e.pit.stats.missed, 9);
	ck_assert_uint_eq(e.pit.timer.deadline_ns, load + ticks_ns(12000));
}
END_TEST

START_TEST(test_mode3_square_wave)
{
	struct env e;
	setup(&e);
	outb(&e.pio, 0x61, 0x01); /* gate channel 2 on */
	program(&e, 2, 3, 1000);
	uint64_t load = e.clk.mono;
	e.clk.mono = load + ticks_ns(100);
	ck_assert_uint_eq(inb(&e.pio, 0x61) & 0x20, 0x20); /* high for the first half */
	e.clk.mono = load + ticks_ns(600);
	ck_assert_uint_eq(inb(&e.pio, 0x61) & 0x20, 0x00);
	e.clk.mono = load + ticks_ns(1100);
	ck_assert_uint_eq(inb(&e.pio, 0x61) & 0x20, 0x20);
	/* Mode 3 counts down by two each input clock. */
	e.clk.mono = load + ticks_ns(1100);
	ck_assert_uint_eq(latch_read(&e, 2), 1000 - 200);

	/* Channel 0 in mode 3 interrupts once per period, like mode 2. */
	program(&e, 0, 3, 500);
	load = e.clk.mono;
	run_to(&e, load + ticks_ns(500));
	run_to(&e, load + ticks_ns(1000));
	ck_assert_uint_eq(e.irqs.rises[0], 2);
}
END_TEST

START_TEST(test_latch_and_lohi)
{
	struct env e;
	setup(&e);
	program(&e, 0, 2, 1000);
	uint64_t load = e.clk.mono;
	e.clk.mono = load + ticks_ns(100);
	outb(&e.pio, 0x43, 0x00);
	e.clk.mono = load + ticks_ns(300);
	outb(&e.pio, 0x43, 0x00); /* ignored: the first latch is unread */
	ck_assert_uint_eq(inb(&e.pio, 0x40), 900 & 0xff);
	e.clk.mono = load + ticks_ns(400);
	ck_assert_uint_eq(inb(&e.pio, 0x40), 900 >> 8);
	/* Unlatched lo/hi reads alternate bytes of the live count. */
	ck_assert_uint_eq(inb(&e.pio, 0x40), 600 & 0xff);
	ck_assert_uint_eq(inb(&e.pio, 0x40), 600 >> 8);
	ck_assert_uint_eq(e.pit.stats.latches, 1);

	/* Lobyte-only and hibyte-only access modes. */
	outb(&e.pio, 0x43, 0x14); /* ch0, LSB, mode 2 */
	outb(&e.pio, 0x40, 0x50);
	ck_assert_uint_eq(e.pit.ch[0].count, 0x50);
	ck_assert_uint_eq(inb(&e.pio, 0x40), 0x50);
	outb(&e.pio, 0x43, 0x24); /* ch0, MSB, mode 2 */
	outb(&e.pio, 0x40, 0x12);
	ck_assert_uint_eq(e.pit.ch[0].count, 0x1200);
	ck_assert_uint_eq(inb(&e.pio, 0x40), 0x12);
}
END_TEST

START_TEST(test_readback)
{
	struct env e;
	setup(&e);
	outb(&e.pio, 0x43, 0x34); /* ch0, lo/hi, mode 2, count not yet written */
	outb(&e.pio, 0x43, 0xe2); /* read-back status only, ch0 */
	ck_assert_uint_eq(inb(&e.pio, 0x40), 0xf4); /* OUT high, null count, lohi, mode 2 */
	outb(&e.pio, 0x40, 1000 & 0xff);
	outb(&e.pio, 0x40, 1000 >> 8);
	uint64_t load = e.clk.mono;
	e.clk.mono = load + ticks_ns(250);
	outb(&e.pio, 0x43, 0xc2); /* count and status */
	ck_assert_uint_eq(inb(&e.pio, 0x40), 0xb4); /* status first; count no longer null */
	ck_assert_uint_eq(inb(&e.pio, 0x40), 750 & 0xff);
	ck_assert_uint_eq(inb(&e.pio, 0x40), 750 >> 8);
	ck_assert_uint_eq(e.pit.stats.readbacks, 2);

	/* Several channels at once; channel 2 here is gated off in mode 3. */
	outb(&e.pio, 0x43, 0xec); /* status of ch1 and ch2 */
	ck_assert_uint_eq(inb(&e.pio, 0x41), 0xb6);
	ck_assert_uint_eq(inb(&e.pio, 0x42), 0xb6);
}
END_TEST

START_TEST(test_count_zero_and_bcd)
{
	struct env e;
	setup(&e);
	outb(&e.pio, 0x43, 0x35); /* BCD requested: counted and treated as binary */
	outb(&e.pio, 0x40, 0);
	outb(&e.pio, 0x40, 0);
	ck_assert_uint_eq(e.pit.stats.bcd_ignored, 1);
	ck_assert_uint_eq(e.pit.ch[0].count, 65536);
	ck_assert_uint_eq(e.pit.timer.deadline_ns, e.clk.mono + ticks_ns(65536));
	e.clk.mono += ticks_ns(1);
	ck_assert_uint_eq(latch_read(&e, 0), 65535);
}
END_TEST

START_TEST(test_mode0_oneshot)
{
	struct env e;
	setup(&e);
	program(&e, 0, 0, 500);
	uint64_t load = e.clk.mono;
	run_to(&e, load + ticks_ns(500));
	ck_assert_uint_eq(e.irqs.rises[0], 1);
	ck_assert_uint_eq(e.pit.timer.deadline_ns, VTIMER_NEVER);
	run_to(&e, load + ticks_ns(5000));
	ck_assert_uint_eq(e.irqs.rises[0], 1);
	/* The counter wraps through zero and keeps counting. */
	ck_assert_uint_eq(latch_read(&e, 0), (uint16_t)(500 - 5000));

	/* Channel 2 mode 0 as Linux calibrates with it: OUT2 rises at terminal count, and
	 * a low gate suspends counting. */
	outb(&e.pio, 0x61, 0x01);
	program(&e, 2, 0, 1000);
	load = e.clk.mono;
	e.clk.mono = load + ticks_ns(400);
	ck_assert_uint_eq(inb(&e.pio, 0x61) & 0x20, 0);
	outb(&e.pio, 0x61, 0x00);
	e.clk.mono = load + ticks_ns(5000);
	ck_assert_uint_eq(latch_read(&e, 2), 600);
	ck_assert_uint_eq(inb(&e.pio, 0x61) & 0x20, 0);
	outb(&e.pio, 0x61, 0x01);
	e.clk.mono += ticks_ns(600);
	ck_assert_uint_eq(inb(&e.pio, 0x61) & 0x21, 0x21);
}
END_TEST

START_TEST(test_robustness)
{
	struct env e;
	setup(&e);
	/* Mode 1 on channel 0 waits for a gate edge that never comes: no edges, no crash. */
	program(&e, 0, 1, 10);
	ck_assert_uint_eq(e.pit.timer.deadline_ns, VTIMER_NEVER);
	run_to(&e, e.clk.mono + 1000000);
	ck_assert_uint_eq(e.irqs.rises[0], 0);
	/* Modes 6 and 7 alias 2 and 3; count 1 in mode 3 still behaves. */
	outb(&e.pio, 0x43, 0x3e);
	outb(&e.pio, 0x40, 1);
	outb(&e.pio, 0x40, 0);
	ck_assert_uint_eq(e.pit.ch[0].mode, 3);
	run_to(&e, e.clk.mono + 10000000);
	ck_assert_uint_eq(e.irqs.rises[0], 1);
	ck_assert(e.pit.timer.deadline_ns > e.clk.mono);
	ck_assert_uint_eq(inb(&e.pio, 0x43), 0);
	ck_assert_uint_eq(inl(&e.pio, 0x40) >> 24, 0); /* a dword spans 0x40-0x43 */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pit");
	TCase *tc = tcase_create("i8254");

	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_mode2_period);
	tcase_add_test(tc, test_late_service_no_storm);
	tcase_add_test(tc, test_mode3_square_wave);
	tcase_add_test(tc, test_latch_and_lohi);
	tcase_add_test(tc, test_readback);
	tcase_add_test(tc, test_count_zero_and_bcd);
	tcase_add_test(tc, test_mode0_oneshot);
	tcase_add_test(tc, test_robustness);
	suite_add_tcase(s, tc);

	return check_run(s);
}
