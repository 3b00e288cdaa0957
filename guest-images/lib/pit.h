/*
 * pit.h: the i8254 PIT (channels 0-2 at 0x40-0x42, mode/command at 0x43) and the
 * channel-2 gate/output bits in port 0x61, used to calibrate the TSC.
 */
#ifndef GUEST_PIT_H
#define GUEST_PIT_H

#include "types.h"

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PORT_61 0x61
#define PIT_MODE_INT_ON_TC 0 /* one-shot */
#define PIT_MODE_RATE 2
#define PIT_MODE_SQUARE 3

u16 pit__divisor(u32 hz);
/* Program `channel` (0-2) in `mode` with a 16-bit reload (0 means 65536), lo/hi access. */
void pit__start(int channel, int mode, u16 count);
/* Counter latch command then read the latched count. */
u16 pit__latch(int channel);
/* Busy-wait for `n` complete channel-0 periods (counts wrap) without interrupts;
 * gives up after 60 ms per period. */
void pit__wait_periods(u32 n);
/* TSC ticks per second measured over `ms` (<= 50) milliseconds with the channel-2 gate;
 * 0 if channel 2's output never rose. */
u64 pit__calibrate_tsc(u32 ms);

#endif
