/*
 * test_wss.c: the working-set estimator alone (src/memsched/wss.c): the first sample
 * seeds both averages, the fast one follows a change within a few periods while the
 * slow one lags, the estimate is the larger, and sampling a synthetic VM (100 random
 * pages a period, as ESX) finds working sets of 10, 50 and 90 % within 0.1.
 */
#include <check.h>

#include "check_run.h"
#include "wss.h"

START_TEST(nothing_known_means_active)
{
	struct wss_est e;
	wss__init(&e);
	ck_assert_double_eq_tol(wss__active(&e), 1.0, 1e-12);
	wss__update(&e, 5, 0);                 /* an empty sample changes nothing */
	ck_assert_uint_eq(e.periods, 0);
	wss__update(&e, 30, 100);
	ck_assert_double_eq_tol(e.fast, 0.3, 1e-12);
	ck_assert_double_eq_tol(e.slow, 0.3, 1e-12);
	ck_assert_double_eq_tol(wss__active(&e), 0.3, 1e-12);
}
END_TEST

START_TEST(the_averages_move_by_their_gains)
{
	struct wss_est e;
	wss__init(&e);
	wss__update(&e, 0, 100);
	wss__update(&e, 100, 100);
	ck_assert_double_eq_tol(e.fast, WSS_FAST_GAIN, 1e-12);
	ck_assert_double_eq_tol(e.slow, WSS_SLOW_GAIN, 1e-12);
	ck_assert_double_eq_tol(e.last, 1.0, 1e-12);
	/* touched beyond the sample counts as all of it */
	wss__update(&e, 500, 100);
	ck_assert(e.fast <= 1.0 && e.slow <= 1.0);
}
END_TEST

START_TEST(a_vm_going_idle_is_believed_idle_slowly)
{
	struct wss_est e;
	wss__init(&e);
	for (int i = 0; i < 30; i++)
		wss__update(&e, 90, 100);
	ck_assert_double_eq_tol(wss__active(&e), 0.9, 0.01);
	wss__update(&e, 0, 100);
	wss__update(&e, 0, 100);
	/* fast has mostly forgotten, slow has not: the estimate stays high */
	ck_assert(e.fast < 0.25);
	ck_assert(e.slow > 0.6);
	ck_assert_double_eq_tol(wss__active(&e), e.slow, 1e-12);
	for (int i = 0; i < 40; i++)
		wss__update(&e, 0, 100);
	ck_assert(wss__active(&e) < 0.01);
	/* and busy again is seen at once, through the fast average */
	wss__update(&e, 80, 100);
	ck_assert(wss__active(&e) >= 0.4);
}
END_TEST

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Sample `periods` periods of 100 pages of a 16384-page VM whose first `ws` pages are
 * touched every period; the mean estimate over the last half. */
static double simulate(unsigned ws, unsigned periods, uint64_t seed)
{
	struct wss_est e;
	double sum = 0;
	wss__init(&e);
	for (unsigned p = 0; p < periods; p++) {
		unsigned touched = 0;
		for (int k = 0; k < 100; k++)
			touched += lcg(&seed) % 16384 < ws;
		wss__update(&e, touched, 100);
		if (p >= periods / 2)
			sum += wss__active(&e);
	}
	return sum / (periods - periods / 2);
}

START_TEST(sampling_finds_the_working_set)
{
	static const unsigned pct[] = { 10, 50, 90 };
	for (unsigned i = 0; i < 3; i++)
		for (uint64_t seed = 1; seed <= 5; seed++) {
			double f = simulate(16384 * pct[i] / 100, 40, seed * 977);
			/* max(fast, slow) is biased upward a little by the noise */
			ck_assert_msg(f > pct[i] / 100.0 - 0.05 && f < pct[i] / 100.0 + 0.1,
				      "ws %u%%, seed %llu: estimate %.3f", pct[i],
				      (unsigned long long)seed, f);
		}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wss");
	TCase *tc = tcase_create("estimator");
	tcase_add_test(tc, nothing_known_means_active);
	tcase_add_test(tc, the_averages_move_by_their_gains);
	tcase_add_test(tc, a_vm_going_idle_is_believed_idle_slowly);
	tcase_add_test(tc, sampling_finds_the_working_set);
	suite_add_tcase(s, tc);
	return check_run(s);
}
