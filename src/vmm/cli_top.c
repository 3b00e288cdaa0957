/*
 * cli_top.c: `shade top SOCKET [-d SECONDS] [-n COUNT] [-b]`, the memory panel of a
 * running `shade host --ctl SOCKET`, after esxtop's: one line per VM with its size,
 * granted memory, allocation target, estimated working set (slow and fast averages),
 * balloon and swap sizes and targets, swap rates, shared and zero pages, refreshed
 * every -d seconds. -b prints CSV instead (the columns of `shade host --csv`), as
 * esxtop's batch mode does, for experiments. It only reads: query-memsched.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "memsched.h"

static const char usage_top[] =
	"usage: shade top SOCKET [-d SECONDS] [-n COUNT] [-b]\n"
	"  the memory panel of a running 'shade host --ctl SOCKET', refreshed every -d\n"
	"  seconds (default 2), COUNT times (default: until the host exits); -b prints CSV\n";

static double num(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

static uint64_t pages(struct json_object *o, const char *k)
{
	return (uint64_t)(num(o, k) / PAGE_SIZE + 0.5);
}

static void to_snap(struct json_object *v, struct memsched_snap *s)
{
	struct json_object *n;
	memset(s, 0, sizeof(*s));
	if (json_object_object_get_ex(v, "name", &n))
		snprintf(s->name, sizeof(s->name), "%s", json_object_get_string(n));
	s->running = json_object_object_get_ex(v, "running", &n) && json_object_get_boolean(n);
	s->memsz = pages(v, "memsz");
	s->min = pages(v, "min");
	s->shares = (uint64_t)num(v, "shares");
	s->granted = pages(v, "granted");
	s->target = pages(v, "target");
	s->active = num(v, "active");
	s->active_fast = num(v, "active_fast");
	s->active_slow = num(v, "active_slow");
	s->active_last = num(v, "active_last");
	s->balloon = pages(v, "balloon");
	s->balloon_target = pages(v, "balloon_target");
	s->swapped = pages(v, "swapped");
	s->swap_target = pages(v, "swap_target");
	s->swap_in_rate = num(v, "swap_in_rate") / PAGE_SIZE;
	s->swap_out_rate = num(v, "swap_out_rate") / PAGE_SIZE;
	s->shared = pages(v, "shared");
	s->zero = pages(v, "zero");
	s->swap_ins = (uint64_t)num(v, "swap_ins");
	s->swap_outs = (uint64_t)num(v, "swap_outs");
	s->swap_write_errors = (uint64_t)num(v, "swap_write_errors");
	s->blocked_ms = (uint64_t)num(v, "blocked_ms");
	s->rho = num(v, "rho");
}

static double mb(uint64_t p) { return (double)p * PAGE_SIZE / (1 << 20); }

static void panel(struct json_object *ret, const char *path)
{
	struct json_object *vms, *st;
	const char *state = json_object_object_get_ex(ret, "state", &st) ? json_object_get_string(st) : "?";
	/* Clear the screen only on a terminal: piped, the panels follow one another. */
	printf("%sshade top: %s   t=%.0fs   PMEM %.0f MiB, free %.1f MiB, state %s, "
	       "tau %.0f%%\n\n", isatty(STDOUT_FILENO) ? "\033[H\033[2J" : "\n", path, num(ret, "t_ms") / 1000, num(ret, "total") / (1 << 20),
	       num(ret, "free") / (1 << 20), state, num(ret, "tau") * 100);
	printf("%-12s %7s %7s %7s %7s %5s %5s %7s %7s %7s %7s %6s %6s %6s %6s\n", "NAME", "MEMSZ",
	       "GRANT", "SZTGT", "TCHD", "ACTVS", "ACTVF", "MCTLSZ", "MCTLTGT", "SWCUR", "SWTGT",
	       "SWR/s", "SWW/s", "SHRD", "ZERO");
	if (!json_object_object_get_ex(ret, "vms", &vms) || !json_object_is_type(vms, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		struct memsched_snap s;
		to_snap(json_object_array_get_idx(vms, i), &s);
		printf("%-12s %7.1f %7.1f %7.1f %7.1f %4.0f%% %4.0f%% %7.1f %7.1f %7.1f %7.1f %6.2f "
		       "%6.2f %6.1f %6.1f%s\n", s.name, mb(s.memsz), mb(s.granted), mb(s.target),
		       s.active * mb(s.memsz), s.active_slow * 100, s.active_fast * 100, mb(s.balloon),
		       mb(s.balloon_target), mb(s.swapped), mb(s.swap_target),
		       s.swap_in_rate * PAGE_SIZE / (1 << 20), s.swap_out_rate * PAGE_SIZE / (1 << 20),
		       mb(s.shared), mb(s.zero), s.running ? "" : "  (stopped)");
	}
	printf("\n(MiB; SWR/s, SWW/s in MiB/s; ACTVS/ACTVF: slow/fast working-set averages)\n");
	fflush(stdout);
}

int cli__top(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	static const char shorts[] = ":d:n:bh";   /* ':' first: getopt reports a missing argument */
	uint64_t delay_ms = 2000;
	unsigned long count = 0;        /* 0: until the host exits */
	bool batch = false;
	char why[CLI_ERR_MAX];
	int c;
	optind = 0;          /* glibc: 0 also resets getopt's state between calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (cli__parse_seconds(optarg, &delay_ms) || delay_ms < 100 || delay_ms > 3600000)
				return cli__die(2, "bad -d '%s' (0.1 to 3600 seconds)", optarg);
			break;
		case 'n':
			if (cli__parse_ulong(optarg, 1, LONG_MAX, &count))
				return cli__die(2, "bad -n '%s' (1 or more)", optarg);
			break;
		case 'b': batch = true; break;
		case 'h': fputs(usage_top, stdout); return 0;
		default:
			cli__bad_option(why, "top", argv, shorts, opts);
			return cli__die(2, "%s", why);
		}
	}
	if (optind != argc - 1)
		return cli__die(2, "%s (usage: shade top SOCKET [-d SECONDS] [-n COUNT] [-b])",
				optind < argc ? "one SOCKET only" : "no SOCKET given");
	const char *path = argv[optind];
	char *reply = malloc(CONTROL_REPLY_MAX);
	if (!reply)
		return cli__die(4, "out of memory");
	int status = 0;
	for (unsigned long k = 0; !count || k < count; k++) {
		if (k) {
			struct timespec d = { (time_t)(delay_ms / 1000), (long)(delay_ms % 1000) * 1000000L };
			nanosleep(&d, NULL);
		}
		int r = control__request(path, "{\"execute\":\"query-memsched\"}", reply, CONTROL_REPLY_MAX);
		if (r) {
			/* The host going away ends a running view; no host at all is an error. */
			if (!k)
				status = cli__die(control__request_status(r), "cannot reach %s: %s", path,
						  strerror(-r));
			break;
		}
		struct json_object *ans = json_tokener_parse(reply), *ret, *err;
		if (!json_object_is_type(ans, json_type_object) ||
		    json_object_object_get_ex(ans, "error", &err) ||
		    !json_object_object_get_ex(ans, "return", &ret) ||
		    !json_object_is_type(ret, json_type_object)) {
			status = cli__die(4, "%s: %s", path, ans ? json_object_to_json_string(ans) : "not JSON");
			json_object_put(ans);
			break;
		}
		if (batch) {
			struct json_object *vms, *st;
			const char *state = json_object_object_get_ex(ret, "state", &st) ?
					    json_object_get_string(st) : "?";
			if (!k)
				memsched__csv_header(stdout);
			if (json_object_object_get_ex(ret, "vms", &vms) &&
			    json_object_is_type(vms, json_type_array))
				for (size_t i = 0; i < json_object_array_length(vms); i++) {
					struct memsched_snap s;
					to_snap(json_object_array_get_idx(vms, i), &s);
					s.tau = num(ret, "tau");
					memsched__csv_row(stdout, (uint64_t)num(ret, "t_ms"), state, &s);
				}
			fflush(stdout);
		} else {
			panel(ret, path);
		}
		json_object_put(ans);
	}
	free(reply);
	return status;
}
