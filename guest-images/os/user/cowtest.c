/*
 * cowtest.c: copy-on-write fork keeps both sides' data.
 *   cowtest [MIB]   (default 4)
 * The parent fills MIB MiB with pattern A and forks. The child checks it sees A,
 * writes pattern B everywhere and checks B; meanwhile the parent overwrites the first
 * half with pattern C. After the wait the parent must see C in the first half and A
 * in the second: neither side's writes leak into the other. Then a second fork checks
 * the path where the last sharer takes its page back writable.
 */
#include "lib.h"

static uint64_t pattern(char tag, unsigned long page, unsigned long w)
{
	return mix64(((uint64_t)tag << 56) ^ (page << 9) ^ w);
}

static void fill(uint64_t *mem, unsigned long from, unsigned long to, char tag)
{
	for (unsigned long p = from; p < to; p++)
		for (unsigned long w = 0; w < PAGE / 8; w++)
			mem[p * (PAGE / 8) + w] = pattern(tag, p, w);
}

static unsigned long bad_pages(const uint64_t *mem, unsigned long from, unsigned long to, char tag)
{
	unsigned long bad = 0;
	for (unsigned long p = from; p < to; p++)
		for (unsigned long w = 0; w < PAGE / 8; w++)
			if (mem[p * (PAGE / 8) + w] != pattern(tag, p, w)) {
				bad++;
				break;
			}
	return bad;
}

static int check(const char *what, unsigned long bad)
{
	printf("cowtest: %s: %s (%lu bad pages)\n", what, bad ? "FAILED" : "ok", bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	bool ok = true;
	unsigned long mib = argc > 1 ? parse_ulong(argv[1], &ok) : 4;
	if (!ok || !mib) {
		printf("usage: cowtest [MIB]\n");
		return 2;
	}
	unsigned long pages = mib * MiB / PAGE, half = pages / 2;
	uint64_t *mem = mmap(mib * MiB);
	int status = -1, failed = 0;
	if (mmap_failed(mem))
		return 1;

	fill(mem, 0, pages, 'A');
	int pid = fork();
	if (pid == 0) {
		sleep_ms(20);	/* let the parent write first, usually */
		int f = check("child sees the parent's data", bad_pages(mem, 0, pages, 'A'));
		fill(mem, 0, pages, 'B');
		f |= check("child's own writes", bad_pages(mem, 0, pages, 'B'));
		exit(f);
	}
	fill(mem, 0, half, 'C');
	if (wait(&status) != pid || status != 0)
		failed = check("child", 1);
	failed |= check("parent's writes after fork", bad_pages(mem, 0, half, 'C'));
	failed |= check("parent's untouched half", bad_pages(mem, half, pages, 'A'));

	/* The child exits untouched: the parent is the last sharer of every page. */
	pid = fork();
	if (pid == 0)
		exit(0);
	wait(&status);
	fill(mem, half, pages, 'D');
	failed |= check("last sharer writes", bad_pages(mem, half, pages, 'D') + bad_pages(mem, 0, half, 'C'));
	return failed;
}
