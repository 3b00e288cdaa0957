/*
 * test_share_table.c: the page-sharing table alone (src/pageshare/share_table.c):
 * hints and shared frames under one hash, promotion of a hint to a frame, reference
 * counts through the 16-bit field and the overflow table and back, removal, the
 * by-MPN index, dropping a VM's hints, and hash collisions (two frames, one hash).
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "share_table.h"

static struct share_table t;
static int vm_a, vm_b;          /* owners: only their addresses matter */

static void setup(void) { ck_assert_int_eq(share_table__init(&t, 1024, 64), 0); }
static void teardown(void) { share_table__exit(&t); }

START_TEST(a_hint_is_found_by_hash_and_kind)
{
	struct share_entry *h = share_table__add_hint(&t, 0xabcd, &vm_a, GFN(7));
	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_eq(share_table__find(&t, 0xabcd, SHARE_HINT), h);
	ck_assert_ptr_null(share_table__find(&t, 0xabcd, SHARE_FRAME));
	ck_assert_ptr_null(share_table__find(&t, 0xabce, SHARE_HINT));
	ck_assert_ptr_eq(h->owner, &vm_a);
	ck_assert_uint_eq(h->gfn, 7);
	ck_assert_uint_eq(t.st.hints, 1);
}
END_TEST

START_TEST(a_hint_becomes_a_shared_frame)
{
	struct share_entry *h = share_table__add_hint(&t, 0x55, &vm_a, GFN(3));
	struct share_entry *f = share_table__add_frame(&t, 0x55, MFN(100), 2);
	share_table__remove(&t, h);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_null(share_table__find(&t, 0x55, SHARE_HINT));
	ck_assert_ptr_eq(share_table__find(&t, 0x55, SHARE_FRAME), f);
	ck_assert_ptr_eq(share_table__frame_of(&t, MFN(100)), f);
	ck_assert_uint_eq(share_table__refs(&t, f), 2);
	ck_assert_uint_eq(t.st.frames, 1);
	ck_assert_uint_eq(t.st.refs, 2);
	ck_assert_uint_eq(t.st.hints, 0);
	/* A machine frame is in the table once. */
	ck_assert_ptr_null(share_table__add_frame(&t, 0x66, MFN(100), 1));
}
END_TEST

START_TEST(the_last_unref_removes_the_frame)
{
	struct share_entry *f = share_table__add_frame(&t, 0x77, MFN(5), 1);
	ck_assert_int_eq(share_table__ref(&t, f), 0);
	ck_assert_uint_eq(share_table__unref(&t, f), 1);
	ck_assert_ptr_eq(share_table__frame_of(&t, MFN(5)), f);
	ck_assert_uint_eq(share_table__unref(&t, f), 0);
	ck_assert_ptr_null(share_table__frame_of(&t, MFN(5)));
	ck_assert_ptr_null(share_table__find(&t, 0x77, SHARE_FRAME));
	ck_assert_uint_eq(t.st.frames, 0);
	ck_assert_uint_eq(t.st.refs, 0);
}
END_TEST

START_TEST(counts_overflow_past_16_bits_and_come_back)
{
	struct share_entry *f = share_table__add_frame(&t, 0x88, MFN(9), SHARE_REF_MAX - 2);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(share_table__ref(&t, f), 0);
	ck_assert_uint_eq(share_table__refs(&t, f), SHARE_REF_MAX + 3);
	ck_assert_uint_eq(f->refs, SHARE_REF_MAX);            /* the field says "see overflow" */
	ck_assert_uint_eq(t.st.overflows, 1);
	for (int i = 0; i < 5; i++)
		share_table__unref(&t, f);
	ck_assert_uint_eq(share_table__refs(&t, f), SHARE_REF_MAX - 2);
	ck_assert_uint_eq(t.st.overflows, 0);
	/* A frame created above the limit starts in the overflow table. */
	struct share_entry *g = share_table__add_frame(&t, 0x99, MFN(10), 100000);
	ck_assert_uint_eq(share_table__refs(&t, g), 100000);
	share_table__remove(&t, g);
	ck_assert_uint_eq(t.st.overflows, 0);
	ck_assert_uint_eq(t.st.refs, SHARE_REF_MAX - 2);
}
END_TEST

START_TEST(colliding_hashes_keep_both_frames)
{
	/* Same hash, different contents: the caller's compare fails, both may stay
	 * shared frames of their own (found by MPN; by hash the first one). */
	struct share_entry *f1 = share_table__add_frame(&t, 0x1234, MFN(20), 2);
	struct share_entry *f2 = share_table__add_frame(&t, 0x1234, MFN(21), 3);
	ck_assert_ptr_nonnull(f1);
	ck_assert_ptr_nonnull(f2);
	ck_assert_ptr_eq(share_table__frame_of(&t, MFN(20)), f1);
	ck_assert_ptr_eq(share_table__frame_of(&t, MFN(21)), f2);
	ck_assert_ptr_nonnull(share_table__find(&t, 0x1234, SHARE_FRAME));
	share_table__remove(&t, share_table__find(&t, 0x1234, SHARE_FRAME));
	ck_assert_ptr_nonnull(share_table__find(&t, 0x1234, SHARE_FRAME));
	ck_assert_uint_eq(t.st.frames, 1);
	/* Hashes that differ only above the bucket bits land in one chain. */
	ck_assert_ptr_nonnull(share_table__add_hint(&t, 0x1234 + 64 * 7, &vm_a, GFN(1)));
	ck_assert_ptr_null(share_table__find(&t, 0x1234, SHARE_HINT));
}
END_TEST

START_TEST(dropping_a_vm_drops_only_its_hints)
{
	for (unsigned i = 0; i < 100; i++) {
		share_table__add_hint(&t, i * 31, &vm_a, GFN(i));
		share_table__add_hint(&t, i * 37 + 1, &vm_b, GFN(i));
	}
	share_table__add_frame(&t, 5000, MFN(1), 2);
	ck_assert_uint_eq(share_table__drop_owner(&t, &vm_a), 100);
	ck_assert_uint_eq(t.st.hints, 100);
	ck_assert_uint_eq(t.st.frames, 1);
	for (unsigned i = 0; i < 100; i++) {
		struct share_entry *h = share_table__find(&t, i * 37 + 1, SHARE_HINT);
		ck_assert_ptr_nonnull(h);
		ck_assert_ptr_eq(h->owner, &vm_b);
	}
}
END_TEST

START_TEST(out_of_range_frames_are_refused)
{
	ck_assert_ptr_null(share_table__add_frame(&t, 1, MFN(1024), 1));
	ck_assert_ptr_null(share_table__frame_of(&t, MFN(5000)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("share_table");
	TCase *tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_hint_is_found_by_hash_and_kind);
	tcase_add_test(tc, a_hint_becomes_a_shared_frame);
	tcase_add_test(tc, the_last_unref_removes_the_frame);
	tcase_add_test(tc, counts_overflow_past_16_bits_and_come_back);
	tcase_add_test(tc, colliding_hashes_keep_both_frames);
	tcase_add_test(tc, dropping_a_vm_drops_only_its_hints);
	tcase_add_test(tc, out_of_range_frames_are_refused);
	suite_add_tcase(s, tc);
	return check_run(s);
}
