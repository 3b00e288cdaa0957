/*
 * test_debug_exit.c: isa-debug-exit status encoding ((v << 1) | 1) for every access
 * width and offset, reads returning 0 as in QEMU, and the exit callback.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "debug_exit.h"
#include "fakes.h"

struct env {
	struct bus pio;
	struct debug_exit dx;
	unsigned calls;
	int last;
};

static void on_exit_req(void *ctx, int status)
{
	struct env *e = ctx;
	e->calls++;
	e->last = status;
}

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	bus__init(&e->pio, "pio");
	debug_exit__init(&e->dx, DEBUG_EXIT_BASE, DEBUG_EXIT_SIZE, on_exit_req, e);
	ck_assert_int_eq(debug_exit__register(&e->dx, &e->pio), 0);
}

START_TEST(test_status_encoding)
{
	struct env e;
	setup(&e);
	ck_assert(!e.dx.requested);
	outl(&e.pio, 0xf4, 0x10);
	ck_assert(e.dx.requested);
	ck_assert_int_eq(e.dx.status, 0x21);
	ck_assert_uint_eq(e.calls, 1);
	ck_assert_int_eq(e.last, 0x21);
	outb(&e.pio, 0xf4, 0);
	ck_assert_int_eq(e.last, 1);
	outw(&e.pio, 0xf4, 0x1234);
	ck_assert_int_eq(e.last, 0x2469);
	/* The value counts, not the offset, as in QEMU. */
	outb(&e.pio, 0xf7, 3);
	ck_assert_int_eq(e.last, 7);
	outl(&e.pio, 0xf4, 0x7fffffff);
	ck_assert_int_eq(e.last, -1);
	ck_assert_uint_eq(e.dx.writes, 5);
}
END_TEST

START_TEST(test_reads)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(inl(&e.pio, 0xf4), 0);
	ck_assert_uint_eq(inb(&e.pio, 0xf6), 0);
	ck_assert_uint_eq(e.calls, 0);
	ck_assert(!e.dx.requested);
	/* Outside the range the bus answers, not the device. */
	ck_assert_uint_eq(inb(&e.pio, 0xf8), 0xff);
	outb(&e.pio, 0xf8, 1);
	ck_assert_uint_eq(e.calls, 0);
}
END_TEST

START_TEST(test_no_callback)
{
	struct debug_exit dx;
	struct bus pio;
	bus__init(&pio, "pio");
	debug_exit__init(&dx, 0x501, 2, NULL, NULL);
	ck_assert_int_eq(debug_exit__register(&dx, &pio), 0);
	outb(&pio, 0x501, 0x31);
	ck_assert(dx.requested);
	ck_assert_int_eq(dx.status, 0x63);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("debug_exit");
	TCase *tc = tcase_create("isa-debug-exit");

	tcase_add_test(tc, test_status_encoding);
	tcase_add_test(tc, test_reads);
	tcase_add_test(tc, test_no_callback);
	suite_add_tcase(s, tc);

	return check_run(s);
}
