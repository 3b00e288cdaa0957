/*
 * fuzz_cmdline.c: the option parsers of `shade run` and `shade host`
 * (cli__parse_run, cli__parse_host): the same argument vector goes to both; nothing
 * is run, no VM or file is touched. A parse either fails with a one-line reason (not
 * empty, no control character) or yields options that keep what the parser promises:
 * run has one kernel, guest memory a multiple of 4 KiB within the loader's range, a
 * balloon no larger than it and a machine pool; host has 1 to 64 VMs, each with a
 * kernel, a valid name and memory like run's, --min and --balloon no larger than
 * --mem, clones 1 to 64 and at most 64 VMs with them, and tau, periods and rates within
 * their ranges.
 *
 * Input: the arguments, separated by NUL bytes (at most 256 of them; the command's
 * name comes first, as argv[0]).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

#define MAX_ARGS 256

static void check_err(const char *err)
{
	FUZZ_CHECK(err[0] && strlen(err) < CLI_ERR_MAX);
	for (const char *p = err; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void check_mem(const struct vm_config *c)
{
	FUZZ_CHECK(c->kernel && c->mem_bytes % PAGE_SIZE == 0);
	FUZZ_CHECK(c->mem_bytes >= CLI_MEM_MIN && c->mem_bytes <= CLI_MEM_MAX);
	FUZZ_CHECK(c->balloon_target <= c->mem_bytes && c->balloon_target % PAGE_SIZE == 0);
	FUZZ_CHECK(c->nmodules <= VM_MAX_MODULES);
	FUZZ_CHECK(!c->shadow_max || (c->shadow_max >= 16 && c->shadow_max <= (1u << 24)));
}

static void check_run(const struct run_opts *o)
{
	if (o->help)
		return;
	check_mem(&o->cfg);
	FUZZ_CHECK(o->machine && o->machine % PAGE_SIZE == 0 && o->machine <= cli__machine_max() +
		   (64ULL << 20));
}

static void check_host(const struct host_opts *o)
{
	if (o->help)
		return;
	unsigned total = 0;
	FUZZ_CHECK(o->nvms >= 1 && o->nvms <= HOST_MAX_VMS);
	for (unsigned i = 0; i < o->nvms; i++)
		total += o->clones[i];
	FUZZ_CHECK(total <= HOST_MAX_VMS);
	for (unsigned i = 0; i < o->nvms; i++) {
		const struct vm_config *c = &o->vms[i];
		check_mem(c);
		FUZZ_CHECK(c->min_bytes <= c->mem_bytes && c->min_bytes % PAGE_SIZE == 0);
		FUZZ_CHECK(c->name && c->name[0] && strlen(c->name) <= 30);
		FUZZ_CHECK(o->clones[i] >= 1 && o->clones[i] <= HOST_MAX_VMS);
		for (unsigned k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(o->vms[k].name, c->name));
	}
	FUZZ_CHECK(o->machine % PAGE_SIZE == 0 && o->machine <= cli__machine_max());
	FUZZ_CHECK(o->ms.tau >= 0 && o->ms.tau <= 0.99);
	FUZZ_CHECK(o->ms.alloc_ms >= 10 && o->ms.sample_ms >= 10 && o->ms.sample_pages >= 1);
	FUZZ_CHECK(o->share_rate <= 10000000UL && o->ms.swap_rate >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run_opts run;
	static struct host_opts host;
	/* The strings, NUL-terminated, and the vector: the parsers permute the vector. */
	char *buf = malloc(size + 1);
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	for (size_t at = 0; at <= size && argc < MAX_ARGS; at += strlen(buf + at) + 1)
		argv[argc++] = buf + at;
	argv[argc] = NULL;

	char *v[MAX_ARGS + 2];
	memcpy(v, argv, sizeof(argv[0]) * (size_t)(argc + 1));
	if (cli__parse_run(argc, v, &run))
		check_err(run.err);
	else
		check_run(&run);
	memcpy(v, argv, sizeof(argv[0]) * (size_t)(argc + 1));
	if (cli__parse_host(argc, v, &host))
		check_err(host.err);
	else
		check_host(&host);
	free(buf);
	return 0;
}
