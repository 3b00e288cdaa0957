/*
 * test_alloc.c: the allocation arithmetic alone (src/memsched/alloc.c): k and rho as in
 * the ESX paper, targets split by shares when tau = 0, moved toward the active VM by the
 * idle tax, min and max respected, the reclaim order (lowest rho first), and the
 * free-memory states at their thresholds.
 */
#include <check.h>
#include <math.h>

#include "check_run.h"
#include "alloc.h"

START_TEST(k_is_one_over_one_minus_tau)
{
	ck_assert_double_eq_tol(alloc__k(0), 1.0, 1e-12);
	ck_assert_double_eq_tol(alloc__k(0.75), 4.0, 1e-12);
	ck_assert_double_eq_tol(alloc__k(0.5), 2.0, 1e-12);
	/* tau is clamped: 1 would make idle memory infinitely expensive */
	ck_assert(isfinite(alloc__k(1.0)));
	ck_assert_double_eq_tol(alloc__k(-1), 1.0, 1e-12);
}
END_TEST

START_TEST(rho_matches_the_paper)
{
	/* S = 1000, P = 250, f = 0.5, tau = 0.75: 1000 / (250 * (0.5 + 4 * 0.5)) = 1.6 */
	ck_assert_double_eq_tol(alloc__rho(1000, 250, 0.5, 0.75), 1.6, 1e-12);
	/* with no tax rho is plain shares per page whatever f is */
	ck_assert_double_eq_tol(alloc__rho(1000, 250, 0.1, 0), 4.0, 1e-12);
	ck_assert_double_eq_tol(alloc__rho(1000, 250, 1.0, 0.75), 4.0, 1e-12);
	/* an idle VM's pages cost k each */
	ck_assert_double_eq_tol(alloc__rho(1000, 250, 0.0, 0.75), 1.0, 1e-12);
	ck_assert(isinf(alloc__rho(1000, 0, 0.5, 0.75)));
}
END_TEST

static uint64_t sum_targets(const struct alloc_vm *v, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += v[i].target;
	return s;
}

START_TEST(no_tax_splits_by_shares)
{
	struct alloc_vm v[2] = {
		{ .max = 10000, .shares = 1000, .granted = 8000, .active = 0.0 },
		{ .max = 10000, .shares = 1000, .granted = 2000, .active = 1.0 },
	};
	alloc__targets(v, 2, 10000, 0);
	ck_assert_uint_eq(v[0].target, 5000);
	ck_assert_uint_eq(v[1].target, 5000);
	/* 2:1 shares */
	v[0].shares = 2000;
	alloc__targets(v, 2, 9000, 0);
	ck_assert_uint_eq(v[0].target, 6000);
	ck_assert_uint_eq(v[1].target, 3000);
}
END_TEST

START_TEST(the_idle_tax_moves_memory_to_the_active_vm)
{
	struct alloc_vm v[2] = {
		{ .max = 10000, .shares = 1000, .granted = 5000, .active = 0.0 },
		{ .max = 10000, .shares = 1000, .granted = 5000, .active = 1.0 },
	};
	alloc__targets(v, 2, 10000, 0.75);
	/* weights 1000/4 and 1000: 1/5 and 4/5 of the memory */
	ck_assert_uint_eq(v[0].target, 2000);
	ck_assert_uint_eq(v[1].target, 8000);
	ck_assert_uint_eq(sum_targets(v, 2), 10000);
	/* at the targets both VMs have the same rho */
	ck_assert_double_eq_tol(alloc__rho(1000, v[0].target, 0.0, 0.75),
				alloc__rho(1000, v[1].target, 1.0, 0.75), 1e-9);
	/* a half-active VM against a fully active one, tau = 0.5: costs 1.5 and 1 */
	v[0].active = 0.5;
	alloc__targets(v, 2, 10000, 0.5);
	ck_assert_uint_eq(v[0].target, 4000);
	ck_assert_uint_eq(v[1].target, 6000);
}
END_TEST

START_TEST(min_and_max_bound_the_targets)
{
	struct alloc_vm v[3] = {
		{ .min = 3000, .max = 10000, .shares = 1000, .active = 0.0 },
		{ .max = 4000, .shares = 1000, .active = 1.0 },
		{ .max = 10000, .shares = 1000, .active = 1.0 },
	};
	alloc__targets(v, 3, 12000, 0.75);
	ck_assert_uint_ge(v[0].target, 3000);      /* its min, though idle */
	ck_assert_uint_eq(v[1].target, 4000);      /* capped at its max */
	ck_assert_uint_eq(v[2].target, 5000);      /* the rest */
	ck_assert_uint_eq(sum_targets(v, 3), 12000);
	/* everything fits: each VM may have its max */
	alloc__targets(v, 3, 30000, 0.75);
	ck_assert_uint_eq(v[0].target, 10000);
	ck_assert_uint_eq(v[1].target, 4000);
	/* not even the mins fit: the mins (admission control keeps this from happening) */
	alloc__targets(v, 3, 1000, 0.75);
	ck_assert_uint_eq(v[0].target, 3000);
	ck_assert_uint_eq(v[1].target, 0);
	/* a min above the max is cut to the max */
	struct alloc_vm w = { .min = 500, .max = 100, .shares = 1 };
	alloc__targets(&w, 1, 50, 0);
	ck_assert_uint_eq(w.target, 100);
}
END_TEST

START_TEST(reclaim_starts_at_the_lowest_rho)
{
	struct alloc_vm v[3] = {
		{ .max = 10000, .shares = 1000, .granted = 4000, .active = 1.0 },  /* 0.25 */
		{ .max = 10000, .shares = 1000, .granted = 4000, .active = 0.0 },  /* 0.0625 */
		{ .max = 10000, .shares = 3000, .granted = 4000, .active = 0.0 },  /* 0.1875 */
	};
	unsigned order[3];
	alloc__reclaim_order(v, 3, 0.75, order);
	ck_assert_uint_eq(order[0], 1);
	ck_assert_uint_eq(order[1], 2);
	ck_assert_uint_eq(order[2], 0);
	/* with no tax the idle VM with many shares is reclaimed last */
	alloc__reclaim_order(v, 3, 0, order);
	ck_assert_uint_eq(order[2], 2);
}
END_TEST

START_TEST(free_memory_states_follow_the_thresholds)
{
	uint64_t total = 100000;
	ck_assert_int_eq(alloc__state(100000, total), MEM_HIGH);
	ck_assert_int_eq(alloc__state(6000, total), MEM_HIGH);
	ck_assert_int_eq(alloc__state(5999, total), MEM_SOFT);
	ck_assert_int_eq(alloc__state(4000, total), MEM_SOFT);
	ck_assert_int_eq(alloc__state(3999, total), MEM_HARD);
	ck_assert_int_eq(alloc__state(2000, total), MEM_HARD);
	ck_assert_int_eq(alloc__state(1999, total), MEM_LOW);
	ck_assert_int_eq(alloc__state(0, total), MEM_LOW);
	ck_assert_uint_eq(alloc__threshold(MEM_HIGH, total), 6000);
	ck_assert_str_eq(alloc__state_name(MEM_HARD), "hard");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("alloc");
	tcase_add_test(tc, k_is_one_over_one_minus_tau);
	tcase_add_test(tc, rho_matches_the_paper);
	tcase_add_test(tc, no_tax_splits_by_shares);
	tcase_add_test(tc, the_idle_tax_moves_memory_to_the_active_vm);
	tcase_add_test(tc, min_and_max_bound_the_targets);
	tcase_add_test(tc, reclaim_starts_at_the_lowest_rho);
	tcase_add_test(tc, free_memory_states_follow_the_thresholds);
	suite_add_tcase(s, tc);
	return check_run(s);
}
