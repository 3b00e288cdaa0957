/*
 * test_virtqueue.c: the device side of legacy split virtqueues (src/balloon/virtqueue.c)
 * against a guest memory array: chains come out as the driver built them, used entries
 * go where the driver looks, and every malformed thing a driver can write (head or
 * next index out of range, a loop, a chain too long, a buffer outside RAM, an indirect
 * descriptor, an available index that jumped too far, a ring outside RAM) is refused
 * with -EPROTO/-EINVAL, never followed.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_run.h"
#include "virtqueue.h"

#define RAM (64 * 4096)
#define QPFN 4
#define QSIZE 8

static uint8_t ram[RAM];

static int rd(void *ctx, gpa_t gpa, void *buf, unsigned len)
{
	(void)ctx;
	if (gpa.v + len > RAM)
		return -EFAULT;
	memcpy(buf, ram + gpa.v, len);
	return 0;
}

static int wr(void *ctx, gpa_t gpa, const void *buf, unsigned len)
{
	(void)ctx;
	if (gpa.v + len > RAM)
		return -EFAULT;
	memcpy(ram + gpa.v, buf, len);
	return 0;
}

static const struct vq_mem mem = { rd, wr, NULL, RAM };
static struct vq q;

static uint64_t base(void) { return QPFN * 4096ULL; }
static uint64_t avail(void) { return base() + 16 * QSIZE; }
static uint64_t used(void) { return base() + 4096; }   /* 16*8 + 6 + 16 rounds up to 4096 */

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + base() + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(uint16_t head)
{
	uint16_t idx;
	memcpy(&idx, ram + avail() + 2, 2);
	memcpy(ram + avail() + 4 + 2 * (idx % QSIZE), &head, 2);
	idx++;
	memcpy(ram + avail() + 2, &idx, 2);
}

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	ck_assert_int_eq(vq__setup(&q, &mem, QSIZE, QPFN), 0);
}

START_TEST(a_chain_comes_out_as_written_and_is_returned)
{
	struct vq_chain c;
	ck_assert_int_eq(vq__pop(&q, &mem, &c), 0);          /* nothing offered */
	desc(2, 0x10000, 64, VRING_DESC_F_NEXT, 5);
	desc(5, 0x11000, 100, VRING_DESC_F_WRITE, 0);
	offer(2);
	ck_assert_int_eq(vq__pop(&q, &mem, &c), 1);
	ck_assert_uint_eq(c.head, 2);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_uint_eq(c.seg[0].gpa.v, 0x10000);
	ck_assert_uint_eq(c.seg[0].len, 64);
	ck_assert(!c.seg[0].write);
	ck_assert_uint_eq(c.seg[1].gpa.v, 0x11000);
	ck_assert(c.seg[1].write);
	ck_assert_int_eq(vq__pop(&q, &mem, &c), 0);
	ck_assert_int_eq(vq__push(&q, &mem, 2, 7), 0);
	uint16_t uidx;
	uint32_t id, len;
	memcpy(&uidx, ram + used() + 2, 2);
	memcpy(&id, ram + used() + 4, 4);
	memcpy(&len, ram + used() + 8, 4);
	ck_assert_uint_eq(uidx, 1);
	ck_assert_uint_eq(id, 2);
	ck_assert_uint_eq(len, 7);
}
END_TEST

START_TEST(the_layout_is_the_legacy_one)
{
	ck_assert_uint_eq(vq__bytes(128), 4096 + 4 + 8 * 128 + 2);   /* QEMU's 128-entry queue */
	ck_assert_uint_eq(vq__bytes(256), 8192 + 4 + 8 * 256 + 2);
}
END_TEST

START_TEST(bad_heads_and_nexts_are_refused)
{
	struct vq_chain c;
	offer(QSIZE);                                        /* head out of range */
	ck_assert_int_eq(vq__pop(&q, &mem, &c), -EPROTO);
	setup();
	desc(1, 0x10000, 4, VRING_DESC_F_NEXT, 200);         /* next out of range */
	offer(1);
	ck_assert_int_eq(vq__pop(&q, &mem, &c), -EPROTO);
}
END_TEST

START_TEST(a_loop_is_refused)
{
	struct vq_chain c;
	desc(0, 0x10000, 4, VRING_DESC_F_NEXT, 1);
	desc(1, 0x10004, 4, VRING_DESC_F_NEXT, 0);
	offer(0);
	ck_assert_int_eq(vq__pop(&q, &mem, &c), -EPROTO);
}
END_TEST

START_TEST(buffers_outside_ram_are_refused)
{
	struct vq_chain c;
	desc(0, RAM - 8, 16, 0, 0);
	offer(0);
	ck_assert_int_eq(vq__pop(&q, &mem, &c), -EPROTO);
	setup();
	desc(0, 0xfffffffffffffff0ULL, 0x20, 0, 0);          /* wraps around */
	offer(0);
	ck_assert_int_eq(vq__pop(&q, &mem, &c), -EPROTO);
}
END_TEST

START_TEST(indirect_descriptors_are_refused)
{
	struct vq_chain c;
	desc(0, 0x10000, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ck_assert_int_eq(vq__pop(&q, &mem, &c), -EPROTO);
}
END_TEST

START_TEST(an_available_index_that_jumps_is_refused)
{
	struct vq_chain c;
	uint16_t idx = QSIZE + 1;
	memcpy(ram + avail() + 2, &idx, 2);
	ck_assert_int_eq(vq__pop(&q, &mem, &c), -EPROTO);
}
END_TEST

START_TEST(bad_rings_are_refused_at_setup)
{
	struct vq r;
	ck_assert_int_eq(vq__setup(&r, &mem, 100, QPFN), -EINVAL);      /* not a power of two */
	ck_assert_int_eq(vq__setup(&r, &mem, 128, RAM / 4096 - 1), -EINVAL); /* past RAM */
	ck_assert_int_eq(vq__setup(&r, &mem, 128, 0), 0);                /* reset */
	ck_assert_uint_eq(r.size, 0);
	struct vq_chain c;
	ck_assert_int_eq(vq__pop(&r, &mem, &c), 0);
	ck_assert_int_eq(vq__push(&r, &mem, 0, 0), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *tc = tcase_create("legacy");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, a_chain_comes_out_as_written_and_is_returned);
	tcase_add_test(tc, the_layout_is_the_legacy_one);
	tcase_add_test(tc, bad_heads_and_nexts_are_refused);
	tcase_add_test(tc, a_loop_is_refused);
	tcase_add_test(tc, buffers_outside_ram_are_refused);
	tcase_add_test(tc, indirect_descriptors_are_refused);
	tcase_add_test(tc, an_available_index_that_jumps_is_refused);
	tcase_add_test(tc, bad_rings_are_refused_at_setup);
	suite_add_tcase(s, tc);
	return check_run(s);
}
