/*
 * syscallbench.c: the round-trip cost of the cheapest system calls.
 *   syscallbench [N]   (default 10000)
 * N getpid() calls, then N uptime() calls; reports the mean cost of each.
 */
#include "lib.h"

int main(int argc, char **argv)
{
	bool ok = true;
	unsigned long n = argc > 1 ? parse_ulong(argv[1], &ok) : 10000;
	if (!ok || !n) {
		printf("usage: syscallbench [N]\n");
		return 2;
	}
	int pid = getpid();
	unsigned long t0 = uptime_us(), wrong = 0;
	for (unsigned long i = 0; i < n; i++)
		if (getpid() != pid)
			wrong++;
	unsigned long t1 = uptime_us();
	for (unsigned long i = 0; i < n; i++)
		uptime_us();
	unsigned long t2 = uptime_us();
	printf("syscallbench: %lu getpid: %lu ns per call\n", n, (t1 - t0) * 1000 / n);
	printf("syscallbench: %lu uptime: %lu ns per call\n", n, (t2 - t1) * 1000 / n);
	if (wrong)
		printf("syscallbench: getpid returned a wrong pid %lu times\n", wrong);
	return wrong ? 1 : 0;
}
