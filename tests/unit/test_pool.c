/*
 * test_pool.c: the machine-memory pool: frames come back zeroed, a freed frame's memory
 * really goes back to the host (the memfd's allocated blocks shrink), and a VM that
 * finds the pool empty first asks the swap layer to reclaim (on any touch, forced after
 * about a second of waiting), then waits until a frame is freed (or its VM is stopped)
 * instead of overcommitting; pinned pages are reported as pinned until unpinned.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmap.h"

static struct pool pool;

static void setup(void) { ck_assert_int_eq(pool__init(&pool, 64 * PAGE_SIZE), 0); }
static void teardown(void) { pool__exit(&pool); }

START_TEST(freed_frames_return_to_the_host_and_come_back_zeroed)
{
	int64_t empty = pool__resident_bytes(&pool);
	mfn_t f = pool__alloc(&pool);
	ck_assert(mfn_valid(f));
	memset(pool__ptr(&pool, f), 0xa5, PAGE_SIZE);
	ck_assert_int_ge(pool__resident_bytes(&pool), empty + PAGE_SIZE);
	pool__free(&pool, f);
	ck_assert_int_eq(pool__resident_bytes(&pool), empty);
	mfn_t g = pool__alloc(&pool);
	ck_assert(mfn_valid(g));
	const uint8_t *p = pool__ptr(&pool, g);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		ck_assert_uint_eq(p[i], 0);
	ck_assert_uint_eq(pool__used(&pool), 1);
}
END_TEST

struct waiter {
	struct pmap pm;
	atomic_bool stop;
	mfn_t got;
	int err;
	atomic_bool done;
};

static void *touch_thread(void *arg)
{
	struct waiter *w = arg;
	w->got = pmap__touch(&w->pm, GFN(0), &w->err);
	atomic_store(&w->done, true);
	return NULL;
}

static void exhaust(mfn_t *held)
{
	for (unsigned i = 0; i < 64; i++) {
		held[i] = pool__alloc(&pool);
		ck_assert(mfn_valid(held[i]));
	}
	ck_assert(!mfn_valid(pool__alloc(&pool)));
}

START_TEST(an_empty_pool_makes_the_vm_wait_for_a_free_frame)
{
	static struct waiter w;
	mfn_t held[64];
	pthread_t t;

	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(pmap__init(&w.pm, &pool, 16 * PAGE_SIZE), 0);
	w.pm.stop = &w.stop;
	w.pm.owner = "test";
	exhaust(held);
	ck_assert_int_eq(pthread_create(&t, NULL, touch_thread, &w), 0);
	usleep(200 * 1000);
	ck_assert(!atomic_load(&w.done));            /* waiting, not failing */
	pool__free(&pool, held[17]);
	pthread_join(t, NULL);
	ck_assert(mfn_valid(w.got));
	ck_assert_uint_eq(w.got.v, held[17].v);
	ck_assert_uint_eq(w.pm.alloc_waits, 1);
	ck_assert_uint_eq(pool.waits, 1);
	pmap__exit(&w.pm);
}
END_TEST

START_TEST(a_stopped_vm_stops_waiting)
{
	static struct waiter w;
	mfn_t held[64];
	pthread_t t;

	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(pmap__init(&w.pm, &pool, 16 * PAGE_SIZE), 0);
	w.pm.stop = &w.stop;
	exhaust(held);
	ck_assert_int_eq(pthread_create(&t, NULL, touch_thread, &w), 0);
	usleep(100 * 1000);
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	ck_assert(!mfn_valid(w.got));
	ck_assert_int_eq(w.err, -ENOMEM);
	ck_assert_uint_eq(pool__used(&pool), 64);     /* nothing allocated behind our back */
	pmap__exit(&w.pm);
}
END_TEST

START_TEST(without_a_stop_flag_an_empty_pool_fails_at_once)
{
	struct pmap pm;
	mfn_t held[64];
	int err = 0;
	ck_assert_int_eq(pmap__init(&pm, &pool, 16 * PAGE_SIZE), 0);
	exhaust(held);
	ck_assert(!mfn_valid(pmap__touch(&pm, GFN(3), &err)));
	ck_assert_int_eq(err, -ENOMEM);
	pmap__exit(&pm);
}
END_TEST

/* A stand-in swap layer: its reclaim "swaps out" by freeing one frame the test holds. */
struct fake_swap {
	mfn_t *held;
	unsigned next;         /* the next held frame to free */
	bool only_forced;      /* give nothing unless forced */
	unsigned calls, forced;
};

static uint64_t fake_reclaim(void *ctx, bool force)
{
	struct fake_swap *fs = ctx;
	fs->calls++;
	fs->forced += force;
	if (fs->only_forced && !force)
		return 0;
	pool__free(&pool, fs->held[fs->next++]);
	return 1;
}

static const struct pmap_swap_ops fake_ops = { NULL, NULL, fake_reclaim };

/* A waiting VM's pmap with the fake swap layer, on an exhausted pool. */
static void with_fake_swap(struct pmap *pm, struct fake_swap *fs, mfn_t *held)
{
	static atomic_bool stop;
	ck_assert_int_eq(pmap__init(pm, &pool, 16 * PAGE_SIZE), 0);
	pm->stop = &stop;
	pm->swap = &fake_ops;
	pm->swap_ctx = fs;
	exhaust(held);
	fs->held = held;
}

/* Any touch, not only a page fault's: two VMs in the low state once deadlocked because
 * an interrupt delivery (an emulator touch of a swapped IDT page) could only wait. */
START_TEST(an_empty_pool_asks_the_swap_layer_to_reclaim_on_any_touch)
{
	struct pmap pm;
	struct fake_swap fs = { 0 };
	mfn_t held[64];
	int err = 0;
	with_fake_swap(&pm, &fs, held);
	mfn_t f = pmap__touch(&pm, GFN(5), &err);
	ck_assert(mfn_valid(f));
	ck_assert_uint_eq(f.v, held[0].v);
	ck_assert_uint_eq(fs.calls, 1);
	ck_assert_uint_eq(fs.forced, 0);
	ck_assert_uint_eq(pm.alloc_waits, 0);         /* reclaimed at once, no waiting */
	mfn_t c = pmap__alloc_frame(&pm, &err);       /* a copy-on-write break's frame */
	ck_assert(mfn_valid(c));
	ck_assert_uint_eq(fs.calls, 2);
	pool__free(&pool, c);
	pmap__exit(&pm);
}
END_TEST

START_TEST(a_reclaim_that_gives_nothing_is_forced_after_about_a_second)
{
	struct pmap pm;
	struct fake_swap fs = { .only_forced = true };
	mfn_t held[64];
	int err = 0;
	with_fake_swap(&pm, &fs, held);
	ck_assert(mfn_valid(pmap__touch(&pm, GFN(1), &err)));
	ck_assert_uint_eq(fs.forced, 1);
	ck_assert_uint_eq(fs.calls, 11);              /* 10 rounds of 100 ms, then forced */
	ck_assert_uint_eq(pm.alloc_waits, 1);
	pmap__exit(&pm);
}
END_TEST

START_TEST(pins_hold_until_unpinned)
{
	struct pmap pm;
	ck_assert_int_eq(pmap__init(&pm, &pool, 16 * PAGE_SIZE), 0);
	for (unsigned i = 0; i < PMAP_PINS; i++)
		ck_assert(pmap__pin(&pm, GFN(i + 1)));
	ck_assert(!pmap__pin(&pm, GFN(0)));           /* full: the caller is told */
	ck_assert(pmap__pinned(&pm, GFN(PMAP_PINS)));
	ck_assert(!pmap__pinned(&pm, GFN(0)));
	pmap__unpin_all(&pm);
	ck_assert(!pmap__pinned(&pm, GFN(1)));
	pmap__exit(&pm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, freed_frames_return_to_the_host_and_come_back_zeroed);
	tcase_add_test(tc, an_empty_pool_makes_the_vm_wait_for_a_free_frame);
	tcase_add_test(tc, a_stopped_vm_stops_waiting);
	tcase_add_test(tc, without_a_stop_flag_an_empty_pool_fails_at_once);
	tcase_add_test(tc, an_empty_pool_asks_the_swap_layer_to_reclaim_on_any_touch);
	tcase_add_test(tc, a_reclaim_that_gives_nothing_is_forced_after_about_a_second);
	tcase_add_test(tc, pins_hold_until_unpinned);
	suite_add_tcase(s, tc);
	return check_run(s);
}
