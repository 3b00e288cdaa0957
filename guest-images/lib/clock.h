/*
 * clock.h: TSC-based deadlines for bounded waits. Spin counts are no measure of time
 * under a trap-and-emulate VMM (a port read can cost microseconds, an instruction
 * hundreds of nanoseconds), so every wait that could last forever on a broken device
 * model is bounded by a TSC deadline. The TSC rate is calibrated once against PIT
 * channel 2 (pit.h).
 */
#ifndef GUEST_CLOCK_H
#define GUEST_CLOCK_H

#include "types.h"

/* TSC ticks per second (calibrated on first use; 3 GHz assumed if that fails). */
u64 clock__tsc_hz(void);
u64 clock__deadline_ms(u32 ms);
bool clock__expired(u64 deadline);

#endif
