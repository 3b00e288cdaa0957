/*
 * replay.c: the main() of a harness in the normal build (ctest fuzz.<name>), in place of
 * libFuzzer's. It runs every file of the corpus directories (or single files) it is given,
 * then a fixed number of mutations of them drawn from a fixed seed: bit flips, bytes set
 * to interesting values, inserts, deletes, duplicated chunks and splices of two inputs.
 * No coverage feedback: the same run every time, so a failure reproduces, and what it
 * checks is that nothing the seeds are near crashes or trips a sanitizer. When one does,
 * the input is written to replay-crash-<name>-<n> in the working directory first.
 *
 *   fuzz_<name> [-runs N] [-seed S] [-max_len L] DIR-or-FILE...
 * A harness may set its default number of mutations: const unsigned fuzz_replay_runs = N;
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "xorshift.h"


#define DEFAULT_RUNS 5000
#define DEFAULT_MAX_LEN 65536
#define MAX_CORPUS 4096

/* Weak: present only when the harness, or a sanitizer runtime, defines them. */
extern const unsigned fuzz_replay_runs __attribute__((weak));
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

struct input {
	uint8_t *data;
	size_t len;
};

struct replay {
	struct input corpus[MAX_CORPUS];
	unsigned n;
	size_t max_len;
	uint64_t rng, seed;
	const char *prog;
	/* what is running now, for the crash file */
	const uint8_t *cur;
	size_t cur_len;
	unsigned long cur_no;
};

static struct replay R;   /* the death callback and signal handler can take no argument */

static void save_current(void)
{
	char name[128];
	snprintf(name, sizeof(name), "replay-crash-%s-%lu", R.prog, R.cur_no);
	FILE *f = fopen(name, "wb");
	if (!f)
		return;
	fwrite(R.cur, 1, R.cur_len, f);
	fclose(f);
	fprintf(stderr, "replay: the failing input is in %s (rerun: %s %s)\n", name, R.prog, name);
}

static void on_signal(int sig)
{
	save_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void run(const uint8_t *d, size_t len)
{
	R.cur = d;
	R.cur_len = len;
	R.cur_no++;
	LLVMFuzzerTestOneInput(d, len);
}

static int add_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct input in = { 0 };
	if (!f)
		return -errno;
	in.data = malloc(R.max_len ? R.max_len : 1);
	in.len = in.data ? fread(in.data, 1, R.max_len, f) : 0;
	fclose(f);
	if (!in.data || R.n == MAX_CORPUS) {
		free(in.data);
		return -ENOMEM;
	}
	R.corpus[R.n++] = in;
	return 0;
}

static int add_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;              /* a harness without that corpus directory */
	if (!S_ISDIR(st.st_mode))
		return add_file(path);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	/* Sorted, so the mutations are the same whatever order readdir gives. */
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort), r = 0;
	closedir(d);
	for (int i = 0; i < n; i++) {
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", path, ents[i]->d_name);
		if (!r && ents[i]->d_name[0] != '.' && stat(full, &st) == 0 && S_ISREG(st.st_mode))
			r = add_file(full);
		free(ents[i]);
	}
	free(ents);
	return r;
}

static uint64_t rnd(uint64_t below) { return below ? xorshift64(&R.rng) % below : 0; }

/* One mutation of buf (len bytes, room for max_len) in place; returns the new length. */
static size_t mutate(uint8_t *buf, size_t len)
{
	static const uint32_t interesting[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1000, 0x7fff,
		0x8000, 0xffff, 0x10000, 0x100000, 0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu };
	switch (rnd(len ? 7 : 3)) {
	case 0: {                                   /* insert 1-16 random bytes */
		size_t k = 1 + rnd(16), at = rnd(len + 1);
		if (len + k > R.max_len)
			return len;
		memmove(buf + at + k, buf + at, len - at);
		for (size_t i = 0; i < k; i++)
			buf[at + i] = (uint8_t)rnd(256);
		return len + k;
	}
	case 1: {                                   /* splice: a chunk of another input */
		const struct input *o = &R.corpus[rnd(R.n)];
		if (!o->len)
			return len;
		size_t from = rnd(o->len), k = 1 + rnd(o->len - from), at = rnd(len + 1);
		k = k < R.max_len - at ? k : R.max_len - at;
		memcpy(buf + at, o->data + from, k);
		return at + k > len ? at + k : len;
	}
	case 2: {                                   /* duplicate a chunk of itself */
		uint8_t chunk[256];
		size_t from = rnd(len), k = 1 + rnd(len - from), at = rnd(len + 1);
		k = k < sizeof(chunk) ? k : sizeof(chunk);
		if (len + k > R.max_len)
			return len;
		memcpy(chunk, buf + from, k);
		memmove(buf + at + k, buf + at, len - at);
		memcpy(buf + at, chunk, k);
		return len + k;
	}
	case 3:                                     /* flip a bit */
		buf[rnd(len)] ^= (uint8_t)(1u << rnd(8));
		return len;
	case 4: {                                   /* an interesting value, 1/2/4 bytes */
		uint32_t v = interesting[rnd(sizeof(interesting) / sizeof(interesting[0]))];
		size_t w = (size_t)1 << rnd(3), at = rnd(len);
		w = w < len - at ? w : len - at;
		memcpy(buf + at, &v, w);
		return len;
	}
	case 5: {                                   /* delete a range */
		size_t at = rnd(len), k = 1 + rnd(len - at < 64 ? len - at : 64);
		memmove(buf + at, buf + at + k, len - at - k);
		return len - k;
	}
	default:                                    /* a random byte, or a small change */
		if (rnd(2))
			buf[rnd(len)] = (uint8_t)rnd(256);
		else
			buf[rnd(len)] += (uint8_t)(rnd(35) - 17);
		return len;
	}
}

static int usage(const char *why)
{
	fprintf(stderr, "%s: %s\nusage: %s [-runs N] [-seed S] [-max_len L] DIR-or-FILE...\n",
		R.prog, why, R.prog);
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long runs = &fuzz_replay_runs ? fuzz_replay_runs : DEFAULT_RUNS;
	int i = 1, r;

	R.prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	R.rng = 0x5eed5eedULL;
	R.max_len = DEFAULT_MAX_LEN;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		char *end;
		unsigned long long v = strtoull(argv[i + 1], &end, 0);
		if (*end || !*argv[i + 1])
			return usage("bad number");
		if (!strcmp(argv[i], "-runs"))
			runs = (unsigned long)v;
		else if (!strcmp(argv[i], "-seed"))
			R.rng = v | 1;          /* xorshift's state must be odd */
		else if (!strcmp(argv[i], "-max_len") && v > 0)
			R.max_len = (size_t)v;
		else
			return usage("unknown option");
	}
	if (i >= argc)
		return usage("no corpus given");
	R.seed = R.rng;
	/* A sanitizer reports faults itself and then calls back; without one, catch them. */
	if (__sanitizer_set_death_callback) {
		__sanitizer_set_death_callback(save_current);
	} else {
		signal(SIGSEGV, on_signal);
		signal(SIGBUS, on_signal);
		signal(SIGFPE, on_signal);
	}
	signal(SIGABRT, on_signal);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);

	for (; i < argc; i++)
		if ((r = add_path(argv[i]))) {
			fprintf(stderr, "%s: %s: %s\n", R.prog, argv[i], strerror(-r));
			return 2;
		}
	for (unsigned k = 0; k < R.n; k++)
		run(R.corpus[k].data, R.corpus[k].len);
	if (!R.n)
		run((const uint8_t *)"", 0);

	/* Each mutant stacks 1-8 mutations on a corpus input, or on the previous mutant. */
	uint8_t *buf = malloc(R.max_len), *prev = malloc(R.max_len);
	size_t prev_len = 0;
	if (!buf || !prev)
		return 2;
	for (unsigned long k = 0; k < runs; k++) {
		size_t len;
		if (R.n && (k == 0 || rnd(4))) {
			const struct input *in = &R.corpus[rnd(R.n)];
			len = in->len;
			memcpy(buf, in->data, len);
		} else {
			len = prev_len;
			memcpy(buf, prev, len);
		}
		for (unsigned m = 1 + (unsigned)rnd(8); m; m--)
			len = mutate(buf, len);
		memcpy(prev, buf, len);
		prev_len = len;
		run(buf, len);
	}
	printf("%s: %u corpus inputs and %lu mutations (seed %#llx) ran clean\n", R.prog, R.n,
	       runs, (unsigned long long)R.seed);
	free(buf);
	free(prev);
	for (unsigned k = 0; k < R.n; k++)
		free(R.corpus[k].data);
	return 0;
}
