/*
 * main.c: the shade command line: which command (run: cli_run.c, host: cli_host.c, ctl:
 * control_client.c, top: cli_top.c). Every command ends with the process's status:
 *   (v << 1) | 1   the guest wrote v to the debug-exit port (as QEMU's isa-debug-exit)
 *   0              the guest powered off or halted for good
 *   2              bad command line, configuration or image
 *   4              the guest crashed (triple fault, unsupported instruction) or shade failed
 *   6              the guest asked for a reset (0xcf9, i8042, port 0x92): shade has no
 *                  reboot (DEVICES_RESET_STATUS)
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"

static const char usage_top[] =
	"usage: shade COMMAND [OPTIONS]\n"
	"\n"
	"shade is a userspace x86 virtual machine monitor on KVM that runs guest kernels\n"
	"deprivileged (trap-and-emulate) with shadow page tables.\n"
	"\n"
	"commands:\n"
	"  run [OPTIONS] KERNEL   boot a multiboot (v1) kernel; see 'shade run --help'\n"
	"  host [OPTIONS] --vm NAME --kernel FILE ...\n"
	"                         several VMs on one machine-memory pool; see\n"
	"                         'shade host --help'\n"
	"  ctl SOCKET VM COMMAND  talk to a running host's control socket (balloon SIZE,\n"
	"                         shares N, min SIZE, query-balloon, query-memstats; for the\n"
	"                         host, VM '-': query-vms, query-memsched, tau PCT)\n"
	"  top SOCKET [-d S] [-n N] [-b]\n"
	"                         a running host's memory panel (esxtop-like; -b: CSV)\n"
	"  help                   this text\n"
	"\n"
	"exit status: the guest's debug-exit status ((value << 1) | 1), 0 when the guest\n"
	"halts for good or powers off, 2 for bad input, 4 when the guest or shade fails,\n"
	"6 when the guest asks for a reset (shade has no reboot).\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "shade: error: no command given (see 'shade --help')\n");
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_top, stdout);
		return 0;
	}
#ifdef SHADE_AUDIT
	bool audit = true;     /* built with -DSHADE_AUDIT=ON: every run audits */
#else
	bool audit = false;
#endif
	if (!strcmp(argv[1], "run"))
		return cli__run(argc - 1, argv + 1, audit);
	if (!strcmp(argv[1], "host"))
		return cli__host(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return control__client(argc - 1, argv + 1);
	if (!strcmp(argv[1], "top"))
		return cli__top(argc - 1, argv + 1);
	fprintf(stderr, "shade: error: unknown command '%s' (see 'shade --help')\n", argv[1]);
	return 2;
}
