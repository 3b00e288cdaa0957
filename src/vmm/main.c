/*
 * main.c: the shade command line. Parses options into a struct vm_config, runs the VM,
 * and turns how it ended into the process's exit status:
 *   (v << 1) | 1   the guest wrote v to the debug-exit port (as QEMU's isa-debug-exit)
 *   0              the guest powered off or halted for good
 *   2              bad command line, configuration or image
 *   4              the guest crashed (triple fault, unsupported instruction) or shade failed
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "devices.h"
#include "vcpu.h"

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
	"halts for good, 2 for bad input, 4 when the guest or shade fails.\n";

static const char usage_run[] =
	"usage: shade run [OPTIONS] KERNEL\n"
	"\n"
	"Boot KERNEL, a multiboot (v1) ELF or a.out-kludge image, at its 32-bit entry with\n"
	"paging off, as a multiboot loader would. COM1 is the console: guest output goes to\n"
	"stdout, stdin goes to the guest.\n"
	"\n"
	"options:\n"
	"  -m, --mem SIZE       guest RAM (suffix K, M or G; default 128M, at most 3584M)\n"
	"  -c, --cmdline STR    the kernel command line (the multiboot cmdline is\n"
	"                       'KERNEL STR', as QEMU gives it)\n"
	"  -M, --module FILE    load FILE as a multiboot module (repeatable, up to 16)\n"
	"      --machine-mem SIZE  machine memory pool (default: guest RAM + 64M)\n"
	"      --baseline       run the guest directly at CPL0 under KVM, without\n"
	"                       deprivileging, monitor or shadow tables (for comparisons)\n"
	"      --stats          print per-vCPU counters (exits, traps, emulation) at exit\n"
	"      --trace          log every trap and non-I/O exit to stderr\n"
	"      --audit          check the shadow page tables' invariants after every\n"
	"                       shadow operation; stop the VM on the first violation\n"
	"                       (always on in a build configured with -DSHADE_AUDIT=ON)\n"
	"      --shadow-max N   at most N shadow page-table pages (default 8192);\n"
	"                       the least recently used are reclaimed beyond it\n"
	"      --balloon SIZE   ask the guest's virtio-balloon driver to hold SIZE from the\n"
	"                       start (its pages go back to the host)\n"
	"      --share-rate N   scan N pages per second for content-based page sharing\n"
	"                       (default 0: off)\n"
	"      --resume MODE    how a trap returns to the guest: 'direct' (default: KVM's\n"
	"                       registers are rewritten) or 'iret' (the monitor's IRETQ;\n"
	"                       cheaper, but some nested KVM backends lose IOPL on it)\n"
	"  -h, --help           this text\n";

static struct vm *the_vm;

static void on_signal(int sig)
{
	if (the_vm)
		vm__stop(the_vm, 4, "stopped by signal %d", sig);
}


static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mem", required_argument, 0, 'm' },
		{ "cmdline", required_argument, 0, 'c' },
		{ "module", required_argument, 0, 'M' },
		{ "machine-mem", required_argument, 0, 'P' },
		{ "baseline", no_argument, 0, 'B' },
		{ "stats", no_argument, 0, 'S' },
		{ "trace", no_argument, 0, 'T' },
		{ "resume", required_argument, 0, 'R' },
		{ "audit", no_argument, 0, 'A' },
		{ "shadow-max", required_argument, 0, 'X' },
		{ "share-rate", required_argument, 0, 'H' },
		{ "balloon", required_argument, 0, 'b' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct vm_config cfg = {
		.name = "vm0", .mem_bytes = 128ULL << 20, .console_in = STDIN_FILENO,
		.console_out = STDOUT_FILENO, .console_log = -1,
#ifdef SHADE_AUDIT
		.audit = true,    /* built with -DSHADE_AUDIT=ON: every run audits */
#endif
	};
	uint64_t machine = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:c:M:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (cli__parse_size(optarg, &cfg.mem_bytes) || cfg.mem_bytes % PAGE_SIZE)
				return cli__die(2, "bad --mem size '%s' (want e.g. 128M, a multiple of 4K)", optarg);
			break;
		case 'c': cfg.cmdline = optarg; break;
		case 'M':
			if (cfg.nmodules == VM_MAX_MODULES)
				return cli__die(2, "too many modules (at most 16): '%s'", optarg);
			cfg.modules[cfg.nmodules++] = optarg;
			break;
		case 'P':
			if (cli__parse_size(optarg, &machine) || machine % PAGE_SIZE || !machine)
				return cli__die(2, "bad --machine-mem size '%s'", optarg);
			break;
		case 'B': cfg.baseline = true; break;
		case 'S': cfg.stats = true; break;
		case 'T': cfg.trace = true; break;
		case 'A': cfg.audit = true; break;
		case 'X': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || n < 16 || n > (1UL << 24))
				return cli__die(2, "bad --shadow-max '%s' (pages, 16 or more)", optarg);
			cfg.shadow_max = (unsigned)n;
			break;
		}
		case 'b':
			if (cli__parse_size(optarg, &cfg.balloon_target) || cfg.balloon_target % PAGE_SIZE)
				return cli__die(2, "bad --balloon size '%s' (want e.g. 64M)", optarg);
			break;
		case 'H': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || *optarg == '-' || n > 10000000UL)
				return cli__die(2, "bad --share-rate '%s' (pages per second)", optarg);
			cfg.share_rate = n;
			break;
		}
		case 'R':
			if (strcmp(optarg, "iret") && strcmp(optarg, "direct"))
				return cli__die(2, "bad --resume '%s' (want iret or direct)", optarg);
			cfg.resume_iret = !strcmp(optarg, "iret");
			break;
		case 'h': fputs(usage_run, stdout); return 0;
		default: fputs(usage_run, stderr); return 2;
		}
	}
	if (optind != argc - 1)
		return cli__die(2, "%s", optind >= argc ? "no KERNEL given (see 'shade run --help')"
						   : "more than one KERNEL given");
	cfg.kernel = argv[optind];
	if (!machine)
		machine = cfg.mem_bytes + (64ULL << 20);
	if (cfg.baseline)
		machine = cfg.mem_bytes;  /* guest-physical is KVM-physical: MPN n is PPN n */

	struct host host;
	int ret = host__init(&host, machine);
	if (ret == -ENOENT || ret == -EACCES)
		return cli__die(4, "cannot open /dev/kvm: %s", strerror(-ret));
	if (ret)
		return cli__die(4, "cannot set up the host: %s", strerror(-ret));

	static struct vm vm;
	ret = vm__init(&vm, &host, &cfg);
	if (ret) {
		host__exit(&host);
		return cli__die(cli__init_status(ret), "%s", vm.stop_reason);
	}
	the_vm = &vm;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int status = vm__run(&vm);
	the_vm = NULL;
	fflush(stdout);
	if (status != 0 && !(status & 1))
		fprintf(stderr, "shade: %s\n", vm.stop_reason);
	else if (cfg.stats || status == 0)
		fprintf(stderr, "shade: %s\n", vm.stop_reason);
	if (cfg.stats)
		cli__print_vm_stats(&vm, stderr);
	vm__exit(&vm);
	host__exit(&host);
	return status;
}

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
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "host"))
		return cli__host(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return control__client(argc - 1, argv + 1);
	if (!strcmp(argv[1], "top"))
		return cli__top(argc - 1, argv + 1);
	fprintf(stderr, "shade: error: unknown command '%s' (see 'shade --help')\n", argv[1]);
	return 2;
}
