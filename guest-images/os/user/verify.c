/*
 * verify.c: the memory integrity check used under page sharing, ballooning and host
 * swapping.
 *   verify MIB [passes=N] [sleep=MS] [seed=S] [fill=unique|dup]
 * Writes a pattern over MIB MiB (every page different with fill=unique; with dup,
 * pairs of identical pages, so a hypervisor can share them), then N times: sleeps MS
 * (so the hypervisor can share, balloon or swap the idle pages), re-reads every page
 * and checks it, and rewrites half of the pages with the next pass's pattern (so
 * shared pages get written and must be copied). Every corrupted page is counted and
 * the first ones are reported; the exit status is 1 if any was found.
 */
#include "lib.h"

struct cfg {
	unsigned long pages, passes, sleep_ms;
	uint64_t seed;
	bool dup;
};

/* The pattern of page p in generation g. */
static uint64_t value(const struct cfg *c, unsigned long p, unsigned long g, unsigned long w)
{
	unsigned long id = c->dup ? p / 2 : p;
	return mix64(c->seed ^ ((uint64_t)g << 48) ^ ((uint64_t)id << 9) ^ w);
}

static void write_page(const struct cfg *c, uint64_t *pg, unsigned long p, unsigned long g)
{
	for (unsigned long w = 0; w < PAGE / 8; w++)
		pg[w] = value(c, p, g, w);
}

static bool page_ok(const struct cfg *c, const uint64_t *pg, unsigned long p, unsigned long g)
{
	for (unsigned long w = 0; w < PAGE / 8; w++)
		if (pg[w] != value(c, p, g, w))
			return false;
	return true;
}

int main(int argc, char **argv)
{
	struct cfg c = { .passes = 2, .sleep_ms = 100, .seed = 0x5eed };
	bool ok = true;
	unsigned long mib = argc > 1 ? parse_ulong(argv[1], &ok) : 0;
	const char *v;

	for (int i = 2; i < argc && ok; i++) {
		if ((v = arg_value(argv[i], "passes"))) c.passes = parse_ulong(v, &ok);
		else if ((v = arg_value(argv[i], "sleep"))) c.sleep_ms = parse_ulong(v, &ok);
		else if ((v = arg_value(argv[i], "seed"))) c.seed = parse_ulong(v, &ok);
		else if ((v = arg_value(argv[i], "fill"))) c.dup = !strcmp(v, "dup"), ok = c.dup || !strcmp(v, "unique");
		else ok = false;
	}
	if (!ok || !mib) {
		printf("usage: verify MIB [passes=N] [sleep=MS] [seed=S] [fill=unique|dup]\n");
		return 2;
	}
	c.pages = mib * MiB / PAGE;
	uint64_t *mem = mmap(mib * MiB);
	if (mmap_failed(mem))
		return 1;
	/* gen[p]: the generation page p was last written with; one byte per page. */
	uint8_t *gen = mmap(c.pages);
	if (mmap_failed(gen))
		return 1;

	unsigned long t0 = uptime_ms(), bad = 0;
	for (unsigned long p = 0; p < c.pages; p++)
		write_page(&c, mem + p * (PAGE / 8), p, 0);
	for (unsigned long pass = 1; pass <= c.passes; pass++) {
		sleep_ms(c.sleep_ms);
		unsigned long bad_pass = 0;
		for (unsigned long p = 0; p < c.pages; p++) {
			uint64_t *pg = mem + p * (PAGE / 8);
			if (!page_ok(&c, pg, p, gen[p])) {
				if (bad + bad_pass < 8)
					printf("verify: pass %lu: page %lu (address %p) is corrupted\n", pass, p, (void *)pg);
				bad_pass++;
			}
			/* Pairs of pages change together so that dup pages stay duplicates. */
			if (((p / 2) + pass) % 2 == 0) {
				gen[p] = (uint8_t)pass;
				write_page(&c, pg, p, pass);
			}
		}
		bad += bad_pass;
	}
	unsigned long final_bad = 0;
	for (unsigned long p = 0; p < c.pages; p++)
		if (!page_ok(&c, mem + p * (PAGE / 8), p, gen[p]))
			final_bad++;
	bad += final_bad;
	printf("verify: %lu MiB, %lu passes, %lu corrupted pages, %lu ms\n", mib, c.passes, bad,
	       uptime_ms() - t0);
	return bad ? 1 : 0;
}
