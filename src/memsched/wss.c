/*
 * wss.c: the fast and slow moving averages of sampled activity (see wss.h).
 */
#include "wss.h"

void wss__init(struct wss_est *e)
{
	*e = (struct wss_est){ 0 };
}

void wss__update(struct wss_est *e, uint64_t touched, uint64_t sampled)
{
	if (!sampled)
		return;
	double x = (double)(touched > sampled ? sampled : touched) / (double)sampled;
	if (!e->periods) {
		e->fast = e->slow = x;
	} else {
		e->fast += WSS_FAST_GAIN * (x - e->fast);
		e->slow += WSS_SLOW_GAIN * (x - e->slow);
	}
	e->last = x;
	e->periods++;
}

double wss__active(const struct wss_est *e)
{
	if (!e->periods)
		return 1.0;
	return e->fast > e->slow ? e->fast : e->slow;
}
