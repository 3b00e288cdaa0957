/*
 * alloc.c: targets, rho and free-memory states (see alloc.h).
 */
#include <math.h>

#define MIN_U64(a, b) ((a) < (b) ? (a) : (b))

#include "alloc.h"

static double clamp_tau(double tau)
{
	return tau < 0 ? 0 : tau > TAU_MAX ? TAU_MAX : tau;
}

static double clamp01(double f)
{
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

double alloc__k(double tau)
{
	return 1.0 / (1.0 - clamp_tau(tau));
}

/* The cost of one page of this VM relative to an active page: f + k (1 - f). */
static double page_cost(double f, double tau)
{
	f = clamp01(f);
	return f + alloc__k(tau) * (1.0 - f);
}

double alloc__rho(uint64_t shares, uint64_t pages, double f, double tau)
{
	if (!pages)
		return INFINITY;
	return (double)shares / ((double)pages * page_cost(f, tau));
}

static uint64_t clamp_pages(double x, uint64_t lo, uint64_t hi)
{
	if (x <= (double)lo)
		return lo;
	if (x >= (double)hi)
		return hi;
	return (uint64_t)x;
}

/* A VM's weight: its allocation at water level lambda is lambda * weight (clamped). */
static double weight(const struct alloc_vm *v, double tau)
{
	return (double)v->shares / page_cost(v->active, tau);
}

/* Pages all VMs get at level lambda. */
static double fill_at(const struct alloc_vm *v, unsigned n, double tau, double lambda)
{
	double sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += (double)clamp_pages(lambda * weight(&v[i], tau), v[i].min, v[i].max);
	return sum;
}

void alloc__targets(struct alloc_vm *v, unsigned n, uint64_t avail, double tau)
{
	double sum_min = 0, sum_max = 0, hi = 0;

	for (unsigned i = 0; i < n; i++) {
		if (v[i].min > v[i].max)
			v[i].min = v[i].max;
		double w = weight(&v[i], tau);
		sum_min += (double)v[i].min;
		sum_max += (double)v[i].max;
		if (w > 0 && (double)v[i].max / w > hi)
			hi = (double)v[i].max / w;
	}
	if ((double)avail <= sum_min || (double)avail >= sum_max) {
		for (unsigned i = 0; i < n; i++)
			v[i].target = (double)avail <= sum_min ? v[i].min : v[i].max;
		return;
	}
	/* The water level: fill_at is monotonic in lambda; bisect to well below a page. */
	double lo = 0;
	for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
		double mid = (lo + hi) / 2;
		if (fill_at(v, n, tau, mid) > (double)avail)
			hi = mid;
		else
			lo = mid;
	}
	uint64_t given = 0;
	for (unsigned i = 0; i < n; i++) {
		v[i].target = clamp_pages(lo * weight(&v[i], tau), v[i].min, v[i].max);
		given += v[i].target;
	}
	/* Rounding down leaves a few pages: give them to whoever is below max, in order. */
	for (unsigned i = 0; i < n && given < avail; i++) {
		uint64_t more = MIN_U64(v[i].max - v[i].target, avail - given);
		v[i].target += more;
		given += more;
	}
}

void alloc__reclaim_order(const struct alloc_vm *v, unsigned n, double tau, unsigned *order)
{
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	/* insertion sort: n is small, and the order must be stable for equal rho */
	for (unsigned i = 1; i < n; i++) {
		unsigned x = order[i], j = i;
		double rx = alloc__rho(v[x].shares, v[x].granted, v[x].active, tau);
		while (j > 0 && alloc__rho(v[order[j - 1]].shares, v[order[j - 1]].granted,
					    v[order[j - 1]].active, tau) > rx) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = x;
	}
}

uint64_t alloc__threshold(enum mem_state s, uint64_t total)
{
	double pct = s == MEM_HIGH ? MEM_SOFT_PCT : s == MEM_SOFT ? MEM_HARD_PCT
		   : s == MEM_HARD ? MEM_LOW_PCT : 0;
	return (uint64_t)((double)total * pct / 100.0);
}

enum mem_state alloc__state(uint64_t free, uint64_t total)
{
	if (free >= alloc__threshold(MEM_HIGH, total))
		return MEM_HIGH;
	if (free >= alloc__threshold(MEM_SOFT, total))
		return MEM_SOFT;
	if (free >= alloc__threshold(MEM_HARD, total))
		return MEM_HARD;
	return MEM_LOW;
}

const char *alloc__state_name(enum mem_state s)
{
	static const char *const names[] = { "high", "soft", "hard", "low" };
	return (unsigned)s < 4 ? names[s] : "?";
}
