/* pit.c: i8254 programming, counter latch, period waits and TSC calibration. */
#include "pit.h"
#include "clock.h"
#include "x86.h"

u16 pit__divisor(u32 hz)
{
	return (u16)((PIT_HZ + hz / 2) / hz);
}

void pit__start(int channel, int mode, u16 count)
{
	outb(PIT_CMD, (u8)((channel << 6) | 0x30 | (mode << 1)));
	outb((u16)(PIT_CH0 + channel), count & 0xff);
	outb((u16)(PIT_CH0 + channel), count >> 8);
}

u16 pit__latch(int channel)
{
	u8 lo, hi;

	outb(PIT_CMD, (u8)(channel << 6)); /* counter latch command */
	lo = inb((u16)(PIT_CH0 + channel));
	hi = inb((u16)(PIT_CH0 + channel));
	return (u16)(lo | (hi << 8));
}

void pit__wait_periods(u32 n)
{
	u16 prev = pit__latch(0), cur;
	u64 end = clock__deadline_ms(60 * (n + 1)); /* a period is at most 55 ms */

	/* A down-counter that reads larger than before has reloaded: one period passed. */
	while (n && !clock__expired(end)) {
		cur = pit__latch(0);
		if (cur > prev)
			n--;
		prev = cur;
	}
}

u64 pit__calibrate_tsc(u32 ms)
{
	u32 count = PIT_HZ * ms / 1000;
	u8 p = inb(PORT_61);
	u64 t0, t1;

	if (count > 0xffff)
		count = 0xffff;
	outb(PORT_61, p & (u8)~0x03); /* gate low, speaker off */
	pit__start(2, PIT_MODE_INT_ON_TC, (u16)count);
	/* Mode 0 counts while the gate is high; OUT2 (port 0x61 bit 5) rises at zero. */
	outb(PORT_61, (p & (u8)~0x02) | 0x01);
	t0 = rdtsc();
	while (!(inb(PORT_61) & 0x20)) {
		/* Give up after 2^30 cycles (over 100 ms below 10 GHz). */
		if (rdtsc() - t0 > (1ULL << 30)) {
			outb(PORT_61, p & (u8)~0x03);
			return 0;
		}
	}
	t1 = rdtsc();
	outb(PORT_61, p & (u8)~0x03);
	return (t1 - t0) * PIT_HZ / count;
}
