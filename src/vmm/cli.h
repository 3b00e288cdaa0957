/*
 * cli.h: what the shade commands (main.c: run; cli_host.c: host) share: size
 * arguments, the one-line error, the exit status of a failed VM setup, and per-VM stats.
 * Only the command-line layer uses these; it is the only layer that ends the process.
 */
#ifndef SHADE_CLI_H
#define SHADE_CLI_H

#include <stdio.h>

#include "vm.h"

/* "128M", "2G", "4096", "512MiB" -> bytes; -EINVAL when malformed. */
int cli__parse_size(const char *s, uint64_t *out);
/* A decimal number in [lo, hi]; -1 when malformed or out of range. */
int cli__parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *v);
/* "shade: error: ..." on stderr; returns status for `return cli__die(...)`. */
int cli__die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The process status for a vm__init failure: 2 when the input was bad, else 4. */
int cli__init_status(int err);
/* Every counter of one VM: vCPUs, devices, shadow MMU, memory. */
void cli__print_vm_stats(struct vm *vm, FILE *f);
/* `shade host`: several VMs on one machine-memory pool (cli_host.c). */
int cli__host(int argc, char **argv);

#endif
