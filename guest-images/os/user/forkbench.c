/*
 * forkbench.c: the cost of process creation.
 *   forkbench N [mem=MIB] [exec]
 * N times: fork, the child exits at once (or execs "true" with `exec`), the parent
 * waits. With mem=MIB the parent first populates MIB MiB, so every fork copies (by
 * copy-on-write) a populated address space. Every child's exit status is checked.
 */
#include "lib.h"

int main(int argc, char **argv)
{
	bool ok = true, do_exec = false;
	unsigned long n = argc > 1 ? parse_ulong(argv[1], &ok) : 0, mib = 0;
	const char *v;

	for (int i = 2; i < argc && ok; i++) {
		if ((v = arg_value(argv[i], "mem")))
			mib = parse_ulong(v, &ok);
		else if (!strcmp(argv[i], "exec"))
			do_exec = true;
		else
			ok = false;
	}
	if (!ok || !n) {
		printf("usage: forkbench N [mem=MIB] [exec]\n");
		return 2;
	}
	if (mib) {
		uint8_t *mem = mmap(mib * MiB);
		if (mmap_failed(mem)) {
			printf("forkbench: mmap failed\n");
			return 1;
		}
		for (unsigned long off = 0; off < mib * MiB; off += PAGE)
			mem[off] = (uint8_t)(off >> 12 | 1);
	}
	unsigned long t0 = uptime_us(), failed = 0;
	for (unsigned long i = 0; i < n; i++) {
		int pid = fork(), status = -1;
		if (pid < 0) {
			printf("forkbench: fork %lu failed: error %d\n", i, -pid);
			return 1;
		}
		if (pid == 0) {
			if (do_exec) {
				char *args[] = { "true", NULL };
				exec("true", args);
				exit(126);
			}
			exit(0);
		}
		if (wait(&status) != pid || status != 0)
			failed++;
	}
	unsigned long us = uptime_us() - t0;
	printf("forkbench: %lu forks%s of a process with %lu MiB, %lu failed, %lu ms (%lu us per fork)\n",
	       n, do_exec ? "+execs" : "", mib, failed, us / 1000, us / n);
	return failed ? 1 : 0;
}
