/*
 * clock.h: time as device models see it, and the per-VM queue of device deadlines.
 *
 * Devices never call clock_gettime themselves: they read struct vclock, so unit tests
 * can drive them with a fake clock, and the VM can stop time while it is paused.
 * A device that needs to act at a future moment (the PIT's next terminal count, the
 * RTC's next update) sets its struct vtimer's deadline; the vCPU loop arms one host
 * timer for the earliest deadline and calls timers__run() when it expires.
 */
#ifndef SHADE_CLOCK_H
#define SHADE_CLOCK_H

#include <stdint.h>

#define NSEC_PER_SEC 1000000000ULL
#define VTIMER_NEVER UINT64_MAX

struct vclock {
	uint64_t (*mono_ns)(void *ctx);  /* monotonic, for rates and deadlines */
	int64_t (*wall_ns)(void *ctx);   /* wall-clock time since the Unix epoch (RTC) */
	void *ctx;
};

static inline uint64_t vclock__mono(const struct vclock *c) { return c->mono_ns(c->ctx); }
static inline int64_t vclock__wall(const struct vclock *c) { return c->wall_ns(c->ctx); }

/* The host's real clocks. */
extern const struct vclock vclock_host;

struct vtimer {
	uint64_t deadline_ns;           /* VTIMER_NEVER when idle */
	void (*fire)(struct vtimer *t, uint64_t now_ns);
	const char *name;
};

#define TIMERQ_MAX 16

struct timer_queue {
	struct vtimer *t[TIMERQ_MAX];
	unsigned n;
};

int timers__add(struct timer_queue *q, struct vtimer *t);
uint64_t timers__next(const struct timer_queue *q);
/* Fire every timer whose deadline is <= now; a timer re-arms itself inside fire(). */
void timers__run(struct timer_queue *q, uint64_t now_ns);

#endif
