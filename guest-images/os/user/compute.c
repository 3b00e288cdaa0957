/*
 * compute.c: a CPU-bound loop with a checksum (no memory traffic, no system calls).
 *   compute [MILLIONS]   (default 100)
 * The checksum depends only on the count, so every run of the same count must print
 * the same one: under any hypervisor, preempted or not.
 */
#include "lib.h"

int main(int argc, char **argv)
{
	bool ok = true;
	unsigned long m = argc > 1 ? parse_ulong(argv[1], &ok) : 100;
	if (!ok) {
		printf("usage: compute [MILLIONS]\n");
		return 2;
	}
	unsigned long t0 = uptime_ms();
	uint64_t x = 0x9e3779b97f4a7c15ULL, sum = 0;
	for (unsigned long i = 0; i < m * 1000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x * (i | 1);
	}
	printf("compute: %lu million iterations, checksum %016lx, %lu ms\n", m, (unsigned long)sum,
	       uptime_ms() - t0);
	return 0;
}
