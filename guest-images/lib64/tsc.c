/* tsc.c: see tsc.h. PIT channel 2 is gated through port 0x61 and counts in mode 0. */
#include "tsc.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_61 0x61

static u64 pit_calibrate(u32 ms)
{
	u32 count = PIT_HZ * ms / 1000;
	u8 p = inb(PORT_61);
	u64 t0, t1;

	outb(PORT_61, p & (u8)~0x03); /* gate low, speaker off */
	outb(PIT_CMD, 0xb0);          /* channel 2, lo/hi, mode 0 */
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, (u8)(count >> 8));
	outb(PORT_61, (p & (u8)~0x02) | 0x01); /* gate high: count; OUT2 (bit 5) rises at 0 */
	t0 = rdtsc();
	while (!(inb(PORT_61) & 0x20))
		if (rdtsc() - t0 > (1ul << 32)) /* no PIT: give up after ~1 s at 4 GHz */
			return 0;
	t1 = rdtsc();
	outb(PORT_61, p & (u8)~0x03);
	return (t1 - t0) * PIT_HZ / count;
}

u64 tsc__hz(const char **source)
{
	u32 r[4], max;

	cpuid(0, 0, r);
	max = r[0];
	if (max >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2]) {
			*source = "CPUID 0x15";
			return (u64)r[2] * r[1] / r[0];
		}
	}
	if (max >= 0x16) {
		cpuid(0x16, 0, r);
		if (r[0] & 0xffff) {
			*source = "CPUID 0x16";
			return (u64)(r[0] & 0xffff) * 1000000;
		}
	}
	*source = "PIT channel 2 (50 ms)";
	return pit_calibrate(50);
}
