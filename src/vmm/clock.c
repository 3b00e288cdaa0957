/*
 * clock.c: the host clock behind struct vclock and the device deadline queue.
 */
#include <errno.h>
#include <time.h>

#include "clock.h"

static uint64_t host_mono_ns(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int64_t host_wall_ns(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * (int64_t)NSEC_PER_SEC + ts.tv_nsec;
}

const struct vclock vclock_host = { host_mono_ns, host_wall_ns, 0 };

int timers__add(struct timer_queue *q, struct vtimer *t)
{
	if (q->n == TIMERQ_MAX)
		return -ENOSPC;
	q->t[q->n++] = t;
	return 0;
}

uint64_t timers__next(const struct timer_queue *q)
{
	uint64_t next = VTIMER_NEVER;
	for (unsigned i = 0; i < q->n; i++)
		if (q->t[i]->deadline_ns < next)
			next = q->t[i]->deadline_ns;
	return next;
}

void timers__run(struct timer_queue *q, uint64_t now_ns)
{
	for (unsigned i = 0; i < q->n; i++) {
		struct vtimer *t = q->t[i];
		if (t->deadline_ns <= now_ns)
			t->fire(t, now_ns);
	}
}
