/*
 * memtouch.c: a workload with a known memory footprint and working set.
 *   memtouch MIB [fill=zero|same|seed:N|random] [ws=PERCENT] [rate=PAGES_PER_S]
 *            [time=SECONDS] [touch=read|write] [idle]
 * Allocates MIB MiB (demand-zero), fills every page (zero; the same non-zero page
 * everywhere; per-page contents derived from seed N, identical in every VM given the
 * same N; or random), then for `time` seconds touches the first PERCENT % of the pages
 * cyclically at `rate` pages per second (0: as fast as it can), reading one word per
 * page or rewriting it with its own value (which dirties the page, and so breaks any
 * sharing, without changing its contents). `idle` sleeps instead of touching.
 * Progress lines ("memtouch: progress ...") come once a second; at the end every page
 * is checked against the fill, so the run is also an integrity check (exit status 1
 * on a mismatch).
 */
#include "lib.h"

enum fill { FILL_ZERO, FILL_SAME, FILL_SEED, FILL_RANDOM };
static const char *const fill_names[] = { "zero", "same", "seed", "random" };

struct job {
	unsigned long mib, pages, ws_pages, rate, seconds;
	enum fill fill;
	uint64_t seed;
	bool write, idle;
};

static uint64_t word(const struct job *j, unsigned long page, unsigned long w)
{
	switch (j->fill) {
	case FILL_ZERO: return 0;
	case FILL_SAME: return 0x5a5a5a5a00000000ULL | w;
	default: return mix64(j->seed ^ mix64(((uint64_t)page << 9) | w));
	}
}

static void fill(const struct job *j, uint64_t *mem)
{
	for (unsigned long p = 0; p < j->pages; p++) {
		uint64_t *pg = mem + p * (PAGE / 8);
		for (unsigned long w = 0; w < PAGE / 8; w++)
			pg[w] = word(j, p, w);
	}
}

static unsigned long check(const struct job *j, const uint64_t *mem)
{
	unsigned long bad = 0;
	for (unsigned long p = 0; p < j->pages; p++) {
		const uint64_t *pg = mem + p * (PAGE / 8);
		for (unsigned long w = 0; w < PAGE / 8; w++) {
			if (pg[w] != word(j, p, w)) {
				if (bad < 4)
					printf("memtouch: page %lu word %lu is %#lx, expected %#lx\n", p, w,
					       (unsigned long)pg[w], (unsigned long)word(j, p, w));
				bad++;
				break;
			}
		}
	}
	return bad;
}

static void touch(const struct job *j, uint64_t *mem)
{
	volatile uint64_t *v = mem;
	unsigned long t0 = uptime_ms(), end = t0 + j->seconds * 1000, next_report = t0 + 1000;
	unsigned long touched = 0, cursor = 0;

	if (!j->ws_pages || !j->seconds)
		return;
	for (;;) {
		unsigned long now = uptime_ms();
		if (now >= end)
			break;
		/* A batch per 10 ms tick at a fixed rate; big batches at full speed. */
		unsigned long batch = j->rate ? (j->rate + 99) / 100 : 4096;
		for (unsigned long i = 0; i < batch; i++) {
			unsigned long idx = cursor * (PAGE / 8) + (cursor & 511);
			uint64_t x = v[idx];
			if (j->write)
				v[idx] = x;
			cursor = cursor + 1 == j->ws_pages ? 0 : cursor + 1;
		}
		touched += batch;
		if (now >= next_report) {
			printf("memtouch: progress t=%lus touched %lu pages\n", (now - t0) / 1000, touched);
			next_report += 1000;
		}
		if (j->rate)
			sleep_ms(10);
	}
	/* Counts depend on the speed of the machine: a progress line, not a result. */
	printf("memtouch: progress end: touched %lu pages of a %lu-page working set in %lu ms\n",
	       touched, j->ws_pages, uptime_ms() - t0);
}

static int parse(int argc, char **argv, struct job *j)
{
	bool ok = true;
	unsigned long ws = 100;
	const char *v;

	*j = (struct job){ .fill = FILL_SEED, .seed = 1, .seconds = 0 };
	if (argc < 2 || !(j->mib = parse_ulong(argv[1], &ok)) || !ok)
		return -1;
	for (int i = 2; i < argc && ok; i++) {
		if ((v = arg_value(argv[i], "fill"))) {
			if (!strcmp(v, "zero")) j->fill = FILL_ZERO;
			else if (!strcmp(v, "same")) j->fill = FILL_SAME;
			else if (!strcmp(v, "random")) j->fill = FILL_RANDOM, j->seed = rdtsc() | 1;
			else if (!strncmp(v, "seed:", 5)) j->fill = FILL_SEED, j->seed = parse_ulong(v + 5, &ok);
			else ok = false;
		} else if ((v = arg_value(argv[i], "ws"))) {
			ws = parse_ulong(v, &ok);
			ok = ok && ws <= 100;
		} else if ((v = arg_value(argv[i], "rate"))) {
			j->rate = parse_ulong(v, &ok);
		} else if ((v = arg_value(argv[i], "time"))) {
			j->seconds = parse_ulong(v, &ok);
		} else if ((v = arg_value(argv[i], "touch"))) {
			j->write = !strcmp(v, "write");
			ok = j->write || !strcmp(v, "read");
		} else if (!strcmp(argv[i], "idle")) {
			j->idle = true;
		} else {
			ok = false;
		}
	}
	j->pages = j->mib * MiB / PAGE;
	j->ws_pages = j->pages * ws / 100;
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct job j;
	if (parse(argc, argv, &j)) {
		printf("usage: memtouch MIB [fill=zero|same|seed:N|random] [ws=PCT] [rate=N] [time=S] [touch=read|write] [idle]\n");
		return 2;
	}
	uint64_t *mem = mmap(j.mib * MiB);
	if (mmap_failed(mem)) {
		printf("memtouch: mmap of %lu MiB failed: error %ld\n", j.mib, -(long)mem);
		return 1;
	}
	unsigned long t0 = uptime_ms();
	fill(&j, mem);
	printf("memtouch: filled %lu MiB (%lu pages, fill=%s) in %lu ms\n", j.mib, j.pages,
	       fill_names[j.fill], uptime_ms() - t0);
	if (j.idle) {
		printf("memtouch: idle for %lu s\n", j.seconds);
		sleep_ms(j.seconds * 1000);
	} else {
		touch(&j, mem);
	}
	unsigned long bad = check(&j, mem);
	printf("memtouch: checked %lu pages, %lu bad\n", j.pages, bad);
	return bad ? 1 : 0;
}
