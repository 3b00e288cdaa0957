/*
 * wss.h: the working-set estimator of ESX Server (Waldspurger, OSDI 2002, section 5.3).
 * Each sampling period a random sample of the VM's guest-physical pages is invalidated
 * (memsched.c zaps their shadow mappings); the fraction touched again before the period
 * ends is one sample of the VM's active fraction. Two exponentially weighted moving
 * averages follow the samples, a fast one (quick to see a VM become busy) and a slow one
 * (slow to forget that it was); the estimate is the larger of the two, so a VM is
 * believed idle only after it has been idle for a while. Pure arithmetic, unit-tested.
 */
#ifndef SHADE_WSS_H
#define SHADE_WSS_H

#include <stdbool.h>
#include <stdint.h>

#define WSS_FAST_GAIN 0.5     /* weight of the newest sample: half-life of 1 period */
#define WSS_SLOW_GAIN 0.125   /* half-life of about 5 periods */

struct wss_est {
	double fast, slow;        /* active fraction, EWMA */
	double last;              /* the newest period's sample */
	uint64_t periods;         /* samples taken */
};

void wss__init(struct wss_est *e);
/* One period's result: `touched` of `sampled` pages were accessed again. */
void wss__update(struct wss_est *e, uint64_t touched, uint64_t sampled);
/* The active fraction f in [0, 1]: max(fast, slow); 1 before the first sample (a VM is
 * not taxed before anything is known about it). */
double wss__active(const struct wss_est *e);

#endif
