/* clock.c: cached TSC calibration and deadlines (see clock.h). */
#include "clock.h"
#include "pit.h"
#include "x86.h"

static u64 tsc_hz;

u64 clock__tsc_hz(void)
{
	if (!tsc_hz) {
		tsc_hz = pit__calibrate_tsc(50);
		if (tsc_hz < 1000000)
			tsc_hz = 3000000000ULL;
	}
	return tsc_hz;
}

u64 clock__deadline_ms(u32 ms)
{
	return rdtsc() + clock__tsc_hz() * ms / 1000;
}

bool clock__expired(u64 deadline)
{
	return rdtsc() > deadline;
}
