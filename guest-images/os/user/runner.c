/*
 * runner.c: the first process: runs a script of commands, one after the other, each
 * external one in a child (fork, exec, wait), and reports what failed. The script is
 * the arguments joined by spaces (from the kernel command line after "--"), or the
 * file given with -f FILE; commands are separated by ';' or newlines, '#' starts a
 * comment. Builtins:
 *   echo WORDS...        print WORDS
 *   meminfo              free/used/total pages and every process's resident pages
 *                        (and the balloon's pages, when it holds any)
 *   balloon [wait N [S]] the balloon device's target and actual pages; with wait,
 *                        first waits until actual is N (fails after S seconds, 60)
 *   repeat N CMD ARGS... run CMD N times (N processes), count failures
 *   sleep MS             sleep
 *   exit [CODE]          stop here and power off with CODE
 * At the end: "runner: script done: N commands, F failed", then power-off with
 * code 0 if nothing failed, 1 otherwise.
 */
#include "lib.h"

#define SCRIPT_MAX 8192
#define MAX_ARGS 32
#define MAX_PROCS 64

static char script[SCRIPT_MAX];
static int ncommands, nfailed;

static int run_external(char **argv, bool quiet)
{
	int pid = fork(), status = -1;
	if (pid < 0) {
		printf("runner: fork failed: error %d\n", -pid);
		return -1;
	}
	if (pid == 0) {
		int r = exec(argv[0], argv);
		printf("runner: %s: cannot run it: error %d\n", argv[0], -r);
		exit(127);
	}
	int got = wait(&status);
	if (got != pid) {
		printf("runner: wait returned %d, expected %d\n", got, pid);
		return -1;
	}
	if (status && !quiet)
		printf("runner: %s exited with status %d\n", argv[0], status);
	return status;
}

static void print_meminfo(void)
{
	static struct procinfo pi[MAX_PROCS];
	struct meminfo mi;
	long n = meminfo(&mi, pi, MAX_PROCS);
	if (n < 0) {
		printf("meminfo: error %ld\n", -n);
		nfailed++;
		return;
	}
	printf("mem: total %lu pages, free %lu, used %lu, page cache %lu, kernel %lu, %lu processes\n",
	       mi.total_pages, mi.free_pages, mi.used_pages, mi.pagecache_pages, mi.kernel_pages, mi.nproc);
	if (mi.balloon_device && mi.balloon_pages)
		printf("balloon: %lu pages (%lu MiB) lent to the host\n", mi.balloon_pages,
		       mi.balloon_pages * mi.page_size / MiB);
	printf("proc:  pid  ppid st resident pt-pages name\n");
	for (long i = 0; i < n; i++)
		printf("proc: %4ld %5ld %c  %8lu %8lu %s\n", pi[i].pid, pi[i].ppid, pi[i].state,
		       pi[i].resident_pages, pi[i].pt_pages, pi[i].name);
}

static int repeat(int argc, char **argv)
{
	bool ok;
	unsigned long n = argc > 2 ? parse_ulong(argv[1], &ok) : 0;
	if (argc < 3 || !ok) {
		printf("repeat: usage: repeat N CMD ARGS...\n");
		return 1;
	}
	unsigned long t0 = uptime_us(), failed = 0;
	for (unsigned long i = 0; i < n; i++)
		if (run_external(argv + 2, true))
			failed++;
	unsigned long us = uptime_us() - t0;
	printf("repeat: %lu runs of %s, %lu failed, %lu ms (%lu us per process)\n", n, argv[2],
	       failed, us / 1000, us / n);
	return failed ? 1 : 0;
}

static int balloon_cmd(int argc, char **argv)
{
	struct balloon_info bi;
	bool ok = true, wait_for = argc > 1 && !strcmp(argv[1], "wait");
	unsigned long want = wait_for && argc > 2 ? parse_ulong(argv[2], &ok) : 0;
	unsigned long timeout_s = 60;
	if (ok && wait_for && argc > 3)
		timeout_s = parse_ulong(argv[3], &ok);
	if (!ok || (argc > 1 && !wait_for) || (wait_for && argc < 3)) {
		printf("balloon: usage: balloon [wait N [SECONDS]]\n");
		return 1;
	}
	int r = balloon(&bi);
	unsigned long t0 = uptime_ms();
	while (!r && wait_for && bi.actual_pages != want && uptime_ms() - t0 < timeout_s * 1000) {
		sleep_ms(50);
		r = balloon(&bi);
	}
	if (r) {
		printf("balloon: no balloon device (error %d)\n", -r);
		return 1;
	}
	printf("balloon: target %lu pages, actual %lu pages\n", bi.target_pages, bi.actual_pages);
	if (bi.oom_pages)
		printf("balloon: %lu pages deflated on memory pressure\n", bi.oom_pages);
	if (wait_for && bi.actual_pages != want) {
		printf("balloon: actual is not %lu after %lu s\n", want, timeout_s);
		return 1;
	}
	return 0;
}

static void run_command(int argc, char **argv)
{
	int status = 0;
	bool ok;

	printf("$");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	ncommands++;
	if (!strcmp(argv[0], "echo")) {
		for (int i = 1; i < argc; i++)
			printf(i > 1 ? " %s" : "%s", argv[i]);
		printf("\n");
	} else if (!strcmp(argv[0], "meminfo")) {
		print_meminfo();
	} else if (!strcmp(argv[0], "sleep")) {
		sleep_ms(argc > 1 ? parse_ulong(argv[1], &ok) : 1000);
	} else if (!strcmp(argv[0], "exit")) {
		shutdown(argc > 1 ? (int)parse_ulong(argv[1], &ok) : 0);
	} else if (!strcmp(argv[0], "balloon")) {
		status = balloon_cmd(argc, argv);
	} else if (!strcmp(argv[0], "repeat")) {
		status = repeat(argc, argv);
	} else {
		status = run_external(argv, false);
	}
	if (status)
		nfailed++;
}

/* Splits the script into commands and words in place and runs them. */
static void run_script(char *s)
{
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	bool comment = false;

	for (;; s++) {
		char c = *s;
		if (c == '\n')
			comment = false;
		if (c == 0 || c == ';' || c == '\n') {
			*s = 0;
			if (argc) {
				argv[argc] = NULL;
				run_command(argc, argv);
				argc = 0;
			}
			if (c == 0)
				return;
			continue;
		}
		if (comment)
			continue;
		if (c == '#') {
			comment = true;
			continue;
		}
		if (c == ' ' || c == '\t') {
			*s = 0;
			continue;
		}
		if ((s == script || s[-1] == 0) && argc < MAX_ARGS)
			argv[argc++] = s;
	}
}

static int load_file(const char *path)
{
	int fd = open(path);
	if (fd < 0) {
		printf("runner: cannot open %s: error %d\n", path, -fd);
		return -1;
	}
	long n = read(fd, script, sizeof(script) - 1);
	close(fd);
	if (n < 0)
		return -1;
	script[n] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	size_t len = 0;
	if (argc > 2 && !strcmp(argv[1], "-f")) {
		if (load_file(argv[2]))
			shutdown(1);
	} else {
		for (int i = 1; i < argc; i++) {
			size_t n = strlen(argv[i]);
			if (len + n + 2 > sizeof(script))
				break;
			memcpy(script + len, argv[i], n);
			len += n;
			script[len++] = ' ';
		}
		script[len] = 0;
	}
	printf("runner: pid %d, starting the script\n", getpid());
	run_script(script);
	printf("runner: script done: %d commands, %d failed\n", ncommands, nfailed);
	shutdown(nfailed ? 1 : 0);
}
