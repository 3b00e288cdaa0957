/*
 * tsc.h: the TSC rate for benchmarks: CPUID 0x15 (crystal ratio) or 0x16 (base MHz) when
 * the CPU gives them, else measured against PIT channel 2 over 50 ms (the same sources,
 * in the same order, as the 32-bit bench-traps guest, so their numbers compare).
 */
#ifndef GUEST64_TSC_H
#define GUEST64_TSC_H

#include "x64.h"

/* TSC ticks per second (0 if nothing worked); *source names where it came from. */
u64 tsc__hz(const char **source);

#endif
