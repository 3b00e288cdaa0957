/*
 * test_acpi_pm.c: the PM timer against a hand-moved clock (3.579545 MHz, 24 bits,
 * monotonic, wrapping, TMR_STS on a bit-23 change and write-1-to-clear), PM1 control
 * (SLP_EN with the soft-off types powers off, S3 does not, SLP_EN reads 0), APM
 * enable/disable of SCI_EN, and the reset control register at 0xcf9.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "acpi_pm.h"
#include "fakes.h"

struct env {
	struct bus pio;
	struct fake_clock clk;
	struct acpi_pm pm;
	unsigned offs, resets;
};

static void on_off(void *ctx) { ((struct env *)ctx)->offs++; }
static void on_reset(void *ctx) { ((struct env *)ctx)->resets++; }

static int rcr(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	return acpi_pm__rcr_io(dev, addr, data, len, is_write);
}

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	bus__init(&e->pio, "pio");
	fake_clock__init(&e->clk, 5 * NSEC_PER_SEC, 0);
	acpi_pm__init(&e->pm, &e->clk.vc, on_off, on_reset, e);
	ck_assert_int_eq(acpi_pm__register(&e->pm, &e->pio), 0);
	/* The platform routes 0xcf9 through the PCI host bridge; here it is alone. */
	ck_assert_int_eq(bus__register(&e->pio, ACPI_RESET_PORT, 1, rcr, &e->pm, "rcr"), 0);
}

START_TEST(test_timer)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(inl(&e.pio, 0x608), 0);
	fake_clock__advance(&e.clk, NSEC_PER_SEC);
	ck_assert_uint_eq(inl(&e.pio, 0x608), 3579545);
	/* Not a rounding drift over time: exact at 10 s. */
	fake_clock__advance(&e.clk, 9 * NSEC_PER_SEC);
	ck_assert_uint_eq(inl(&e.pio, 0x608), 35795450 & 0xffffff);
	/* 24 bits: 2^24 ticks is 4.687 s; the top byte always reads 0 */
	uint32_t prev = inl(&e.pio, 0x608), wraps = 0;
	for (int i = 0; i < 200; i++) {
		fake_clock__advance(&e.clk, 100 * 1000 * 1000);
		uint32_t v = inl(&e.pio, 0x608);
		ck_assert_uint_eq(v >> 24, 0);
		/* each step is 357954 or 357955 ticks, modulo 2^24 */
		uint32_t d = (v - prev) & 0xffffff;
		ck_assert(d == 357954 || d == 357955);
		wraps += v < prev;
		prev = v;
	}
	ck_assert_uint_ge(wraps, 4);
	/* The byte and word halves read the same counter. */
	uint32_t lo = inw(&e.pio, 0x608), hi = inb(&e.pio, 0x60a);
	ck_assert_uint_eq(lo | hi << 16, inl(&e.pio, 0x608));
	ck_assert_uint_eq(acpi_pm__timer(&e.pm), inl(&e.pio, 0x608));
	/* writes to the timer are ignored */
	outl(&e.pio, 0x608, 0);
	ck_assert_uint_eq(acpi_pm__timer(&e.pm), inl(&e.pio, 0x608));
}
END_TEST

START_TEST(test_tmr_sts)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(inw(&e.pio, 0x600) & PM1_STS_TMR, 0);
	/* bit 23 changes after 2^23 ticks = 2.343 s */
	fake_clock__advance(&e.clk, 2300 * 1000 * 1000ULL);
	ck_assert_uint_eq(inw(&e.pio, 0x600) & PM1_STS_TMR, 0);
	fake_clock__advance(&e.clk, 100 * 1000 * 1000ULL);
	ck_assert_uint_eq(inw(&e.pio, 0x600) & PM1_STS_TMR, PM1_STS_TMR);
	outw(&e.pio, 0x600, 0);                  /* writing 0 clears nothing */
	ck_assert_uint_eq(inw(&e.pio, 0x600) & PM1_STS_TMR, PM1_STS_TMR);
	outw(&e.pio, 0x600, PM1_STS_TMR);
	ck_assert_uint_eq(inw(&e.pio, 0x600) & PM1_STS_TMR, 0);
	/* PM1_EN is plain storage, per byte as well */
	outw(&e.pio, 0x602, 0x0121);
	ck_assert_uint_eq(inw(&e.pio, 0x602), 0x0121);
	outb(&e.pio, 0x603, 0);
	ck_assert_uint_eq(inw(&e.pio, 0x602), 0x0021);
	ck_assert_uint_eq(inl(&e.pio, 0x600) >> 16, 0x0021);
}
END_TEST

START_TEST(test_sleep_and_apm)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(inw(&e.pio, 0x604) & PM1_CNT_SCI_EN, 0);
	outb(&e.pio, 0xb2, ACPI_ENABLE_CMD);
	ck_assert_uint_eq(inw(&e.pio, 0x604) & PM1_CNT_SCI_EN, PM1_CNT_SCI_EN);
	outb(&e.pio, 0xb2, 0x12);                /* other commands: nothing */
	ck_assert_uint_eq(inw(&e.pio, 0x604) & PM1_CNT_SCI_EN, PM1_CNT_SCI_EN);
	outb(&e.pio, 0xb3, 0x5a);
	ck_assert_uint_eq(inb(&e.pio, 0xb3), 0x5a);
	outb(&e.pio, 0xb2, ACPI_DISABLE_CMD);
	ck_assert_uint_eq(inw(&e.pio, 0x604) & PM1_CNT_SCI_EN, 0);
	/* SLP_TYP without SLP_EN: stored, nothing happens */
	outw(&e.pio, 0x604, 5 << 10);
	ck_assert_uint_eq(inw(&e.pio, 0x604), 5 << 10);
	ck_assert_uint_eq(e.offs, 0);
	/* S3 (type 1) is not modelled: ignored; SLP_EN reads back 0 */
	outw(&e.pio, 0x604, (1 << 10) | PM1_CNT_SLP_EN);
	ck_assert_uint_eq(e.offs, 0);
	ck_assert_uint_eq(inw(&e.pio, 0x604), 1 << 10);
	/* soft-off: type 0 (the DSDT's \_S5), and type 2 (S4) as QEMU */
	outw(&e.pio, 0x604, PM1_CNT_SLP_EN);
	ck_assert_uint_eq(e.offs, 1);
	outb(&e.pio, 0x605, (2 << 2) | (PM1_CNT_SLP_EN >> 8));
	ck_assert_uint_eq(e.offs, 2);
	ck_assert_uint_eq(e.resets, 0);
}
END_TEST

START_TEST(test_reset_register)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(inb(&e.pio, 0xcf9), 0);
	outb(&e.pio, 0xcf9, 0x02);               /* SYS_RST alone: remembered */
	ck_assert_uint_eq(inb(&e.pio, 0xcf9), 0x02);
	ck_assert_uint_eq(e.resets, 0);
	outb(&e.pio, 0xcf9, ACPI_RESET_VALUE);
	ck_assert_uint_eq(e.resets, 1);
	outb(&e.pio, 0xcf9, 0x0e);
	ck_assert_uint_eq(e.resets, 2);
	ck_assert_uint_eq(e.offs, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("acpi_pm");
	TCase *tc = tcase_create("acpi_pm");

	tcase_add_test(tc, test_timer);
	tcase_add_test(tc, test_tmr_sts);
	tcase_add_test(tc, test_sleep_and_apm);
	tcase_add_test(tc, test_reset_register);
	suite_add_tcase(s, tc);
	return check_run(s);
}
