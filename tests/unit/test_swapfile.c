/*
 * test_swapfile.c: the host swap file alone (src/memsched/swapfile.c): pages come back
 * as written, slots are distinct until freed and the file refuses a slot when full, a
 * write the file system refuses (RLIMIT_FSIZE) is reported and counted rather than
 * lost silently, and the file is gone after exit.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check_run.h"
#include "swapfile.h"

static struct swapfile s;
static char dir[] = "/tmp/shade-swaptest-XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(swapfile__init(&s, dir, 8 * 4096), 0);
}

static void teardown(void)
{
	swapfile__exit(&s);
	rmdir(dir);
	strcpy(dir, "/tmp/shade-swaptest-XXXXXX");
}

START_TEST(pages_come_back_as_written)
{
	static unsigned char a[4096], b[4096], out[4096];
	memset(a, 0xa5, sizeof(a));
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(i * 7);
	uint64_t sa = swapfile__alloc(&s), sb = swapfile__alloc(&s);
	ck_assert_uint_ne(sa, sb);
	ck_assert_int_eq(swapfile__write(&s, sa, a), 0);
	ck_assert_int_eq(swapfile__write(&s, sb, b), 0);
	ck_assert_int_eq(swapfile__read(&s, sa, out), 0);
	ck_assert_mem_eq(out, a, 4096);
	ck_assert_int_eq(swapfile__read(&s, sb, out), 0);
	ck_assert_mem_eq(out, b, 4096);
	ck_assert_uint_eq(s.writes, 2);
	ck_assert_uint_eq(s.reads, 2);
	ck_assert_int_eq(swapfile__read(&s, 99, out), -EINVAL);
}
END_TEST

START_TEST(slots_run_out_and_come_back)
{
	uint64_t slots[8];
	for (int i = 0; i < 8; i++) {
		slots[i] = swapfile__alloc(&s);
		ck_assert_uint_ne(slots[i], SWAP_SLOT_NONE);
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(slots[i], slots[j]);
	}
	ck_assert_uint_eq(swapfile__alloc(&s), SWAP_SLOT_NONE);
	ck_assert_uint_eq(s.full, 1);
	swapfile__free(&s, slots[3]);
	swapfile__free(&s, slots[3]);          /* twice: counted once */
	ck_assert_uint_eq(s.used, 7);
	ck_assert_uint_eq(swapfile__alloc(&s), slots[3]);
}
END_TEST

START_TEST(a_refused_write_is_reported)
{
	static unsigned char a[4096];
	struct rlimit old, lim = { 2 * 4096, 2 * 4096 };
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ck_assert_int_eq(swapfile__write(&s, 0, a), 0);
	ck_assert_int_ne(swapfile__write(&s, 5, a), 0);   /* past the limit: EFBIG */
	setrlimit(RLIMIT_FSIZE, &old);
	ck_assert_uint_eq(s.write_errors, 1);
}
END_TEST

/* The file changed behind shade's back: a truncated slot reads short, an overwritten
 * one reads a different page; both are errors, never a page handed to the guest. */
START_TEST(a_read_of_a_changed_slot_is_an_error)
{
	static unsigned char a[4096], b[4096];
	memset(a, 0x5a, sizeof(a));
	ck_assert_int_eq(swapfile__write(&s, 2, a), 0);
	ck_assert_int_eq(swapfile__write(&s, 3, a), 0);
	ck_assert_int_eq(swapfile__read(&s, 2, b), 0);
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	b[100] ^= 1;
	ck_assert_int_eq(pwrite(s.fd, b, sizeof(b), 2 * 4096), (ssize_t)sizeof(b));
	ck_assert_int_eq(swapfile__read(&s, 2, b), -EBADMSG);
	ck_assert_int_eq(ftruncate(s.fd, 3 * 4096), 0);
	ck_assert_int_eq(swapfile__read(&s, 3, b), -EIO);
	ck_assert_uint_eq(s.bad_sums, 1);
	ck_assert_uint_eq(s.read_errors, 2);
}
END_TEST

START_TEST(the_file_is_removed_at_exit)
{
	char path[sizeof(s.path)];
	strcpy(path, s.path);
	ck_assert_int_eq(access(path, F_OK), 0);
	swapfile__exit(&s);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("swapfile");
	TCase *tc = tcase_create("swapfile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pages_come_back_as_written);
	tcase_add_test(tc, slots_run_out_and_come_back);
	tcase_add_test(tc, a_refused_write_is_reported);
	tcase_add_test(tc, a_read_of_a_changed_slot_is_an_error);
	tcase_add_test(tc, the_file_is_removed_at_exit);
	suite_add_tcase(su, tc);
	return check_run(su);
}
