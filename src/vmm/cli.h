/*
 * cli.h: the command-line layer. Parsing is separate from running: the cli__parse_*
 * functions fill an options struct from argv and never print, exit or touch a device
 * (so tests and the fuzzer drive them), and cli__run/cli__host run what was parsed.
 * Shared here: the one number parser, the one-line error, the exit status of a failed
 * VM setup, and per-VM stats. Only this layer ends the process.
 */
#ifndef SHADE_CLI_H
#define SHADE_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "memsched.h"
#include "vm.h"

#define CLI_ERR_MAX 512
/* Guest RAM the loader can lay out (multiboot.c): below the 32-bit PCI hole. */
#define CLI_MEM_MIN (2ULL << 20)
#define CLI_MEM_MAX 0xe0000000ULL
#define HOST_MAX_VMS 64

/* "128M", "2G", "4096", "0x1000", "512MiB" -> bytes: decimal or 0x hex digits and an
 * optional K/M/G suffix, nothing else (no blank, no sign); -EINVAL when malformed,
 * -ERANGE when above 2^64 - 1. */
int cli__parse_size(const char *s, uint64_t *out);
/* Decimal digits only, in [lo, hi]; -1 when malformed or out of range. */
int cli__parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *v);
/* "2", "0.5", "1.25": seconds with at most 3 decimals -> milliseconds; -1 when not. */
int cli__parse_seconds(const char *s, uint64_t *ms);
/* The largest machine-memory pool this machine can map at KVM guest-physical 0 (its
 * physical-address width). */
uint64_t cli__machine_max(void);
/* --machine-mem's SIZE: a nonzero multiple of 4K up to cli__machine_max(); else the
 * one-line reason in err and -EINVAL. */
int cli__parse_machine_mem(const char *s, uint64_t *out, char *err);
/* The one-line reason for getopt's '?' (opterr must be 0) in err: unknown option,
 * missing or unwanted argument. Returns -EINVAL. */
int cli__bad_option(char *err, const char *cmd, char **argv, const char *shorts,
		     const struct option *opts);
/* snprintf into err (CLI_ERR_MAX bytes); returns -EINVAL, for `return cli__fail(...)`. */
int cli__fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "shade: error: ..." on stderr; returns status for `return cli__die(...)`. */
int cli__die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The process status for a vm__init failure: 2 when the input was bad, else 4. */
int cli__init_status(int err);
/* Every counter of one VM: vCPUs, devices, shadow MMU, memory. */
void cli__print_vm_stats(struct vm *vm, FILE *f);

/* `shade run` (cli_run.c). */
struct run_opts {
	struct vm_config cfg;
	uint64_t machine;       /* 0: guest RAM + 64M */
	bool help;
	char err[CLI_ERR_MAX];
};
int cli__parse_run(int argc, char **argv, struct run_opts *o);
/* Parse and run; audit: every run audits (a -DSHADE_AUDIT=ON build). */
int cli__run(int argc, char **argv, bool audit);

/* `shade host`: several VMs on one machine-memory pool (cli_host.c, its options in
 * cli_host_opts.c). */
struct host_opts {
	struct vm_config vms[HOST_MAX_VMS];
	unsigned clones[HOST_MAX_VMS];
	unsigned nvms;
	uint64_t machine;
	const char *log_dir;
	bool quiet, stats, audit, help;
	uint64_t share_rate, share_total;
	const char *ctl;
	unsigned sample_ms;
	bool census;
	struct memsched_config ms;
	bool swap_size_set;
	char err[CLI_ERR_MAX];
};
int cli__parse_host(int argc, char **argv, struct host_opts *o);
/* The name of clone k of VM description i: NAME, or NAME1..NAMEn with --clones n. */
void cli__vm_name(const struct host_opts *o, unsigned i, unsigned k, char name[40]);
void cli__host_usage(FILE *f);
int cli__host(int argc, char **argv);

#endif
