/*
 * cli_run.c: `shade run [OPTIONS] KERNEL`, one VM in its own machine-memory pool.
 * cli__parse_run turns argv into a struct run_opts (and never prints or exits: the
 * fuzzer drives it); cli__run runs the VM and turns how it ended into the process's
 * exit status (see main.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "devices.h"
#include "vcpu.h"

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

static const struct option run_opts[] = {
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

int cli__parse_run(int argc, char **argv, struct run_opts *o)
{
	static const char shorts[] = ":m:c:M:h";   /* ':' first: getopt reports a missing argument */
	struct vm_config *cfg = &o->cfg;
	unsigned long n;
	int c;

	memset(o, 0, sizeof(*o));
	*cfg = (struct vm_config){ .name = "vm0", .mem_bytes = 128ULL << 20,
				   .console_in = STDIN_FILENO, .console_out = STDOUT_FILENO,
				   .console_log = -1 };
	optind = 0;          /* glibc: 0 also resets getopt's state between calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, run_opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (cli__parse_size(optarg, &cfg->mem_bytes) || cfg->mem_bytes % PAGE_SIZE ||
			    cfg->mem_bytes < CLI_MEM_MIN || cfg->mem_bytes > CLI_MEM_MAX)
				return cli__fail(o->err, "bad --mem size '%s' (guest memory must be between "
						 "2 MiB and 3584 MiB, a multiple of 4K)", optarg);
			break;
		case 'c': cfg->cmdline = optarg; break;
		case 'M':
			if (!*optarg)
				return cli__fail(o->err, "--module needs a path, not ''");
			if (cfg->nmodules == VM_MAX_MODULES)
				return cli__fail(o->err, "too many modules (at most %d): '%s'",
						 VM_MAX_MODULES, optarg);
			cfg->modules[cfg->nmodules++] = optarg;
			break;
		case 'P':
			if (cli__parse_machine_mem(optarg, &o->machine, o->err))
				return -EINVAL;
			break;
		case 'B': cfg->baseline = true; break;
		case 'S': cfg->stats = true; break;
		case 'T': cfg->trace = true; break;
		case 'A': cfg->audit = true; break;
		case 'X':
			if (cli__parse_ulong(optarg, 16, 1UL << 24, &n))
				return cli__fail(o->err, "bad --shadow-max '%s' (pages, 16 to 16777216)",
						 optarg);
			cfg->shadow_max = (unsigned)n;
			break;
		case 'b':
			if (cli__parse_size(optarg, &cfg->balloon_target) ||
			    cfg->balloon_target % PAGE_SIZE)
				return cli__fail(o->err, "bad --balloon size '%s' (want e.g. 64M)", optarg);
			break;
		case 'H':
			if (cli__parse_ulong(optarg, 0, 10000000UL, &n))
				return cli__fail(o->err, "bad --share-rate '%s' (pages per second)", optarg);
			cfg->share_rate = n;
			break;
		case 'R':
			if (strcmp(optarg, "iret") && strcmp(optarg, "direct"))
				return cli__fail(o->err, "bad --resume '%s' (want iret or direct)", optarg);
			cfg->resume_iret = !strcmp(optarg, "iret");
			break;
		case 'h': o->help = true; return 0;
		default: return cli__bad_option(o->err, "run", argv, shorts, run_opts);
		}
	}
	if (optind != argc - 1)
		return cli__fail(o->err, "%s", optind >= argc ? "no KERNEL given (see 'shade run --help')"
							     : "more than one KERNEL given");
	cfg->kernel = argv[optind];
	if (!*cfg->kernel)
		return cli__fail(o->err, "KERNEL must be a path, not ''");
	if (cfg->balloon_target > cfg->mem_bytes)
		return cli__fail(o->err, "--balloon is larger than --mem");
	if (!o->machine)
		o->machine = cfg->mem_bytes + (64ULL << 20);
	if (cfg->baseline)
		o->machine = cfg->mem_bytes;  /* guest-physical is KVM-physical: MPN n is PPN n */
	return 0;
}

static struct vm *the_vm;

static void on_signal(int sig)
{
	if (the_vm)
		vm__stop(the_vm, 4, "stopped by signal %d", sig);
}

int cli__run(int argc, char **argv, bool audit)
{
	static struct run_opts o;
	if (cli__parse_run(argc, argv, &o))
		return cli__die(2, "%s", o.err);
	if (o.help) {
		fputs(usage_run, stdout);
		return 0;
	}
	o.cfg.audit = o.cfg.audit || audit;

	struct host host;
	int ret = host__init(&host, o.machine);
	if (ret == -ENOENT || ret == -EACCES)
		return cli__die(4, "cannot open /dev/kvm: %s", strerror(-ret));
	if (ret)
		return cli__die(4, "cannot set up the host: %s", strerror(-ret));

	static struct vm vm;
	ret = vm__init(&vm, &host, &o.cfg);
	if (ret) {
		host__exit(&host);
		return cli__die(cli__init_status(ret), "%s", vm.stop_reason);
	}
	the_vm = &vm;
	/* As in shade host: a signal stops the VM; a closed stdout is an EPIPE, not a kill. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = vm__run(&vm);
	the_vm = NULL;
	fflush(stdout);
	if (status != 0 && !(status & 1))
		fprintf(stderr, "shade: %s\n", vm.stop_reason);
	else if (o.cfg.stats || status == 0)
		fprintf(stderr, "shade: %s\n", vm.stop_reason);
	if (o.cfg.stats)
		cli__print_vm_stats(&vm, stderr);
	vm__exit(&vm);
	host__exit(&host);
	return status;
}
