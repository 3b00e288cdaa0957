/*
 * xorshift.h: the cheap pseudo-random numbers that choose pages (sharing's scan order,
 * working-set samples, swap victims): Marsaglia's xorshift64. The state must be odd.
 */
#ifndef SHADE_XORSHIFT_H
#define SHADE_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

#endif
