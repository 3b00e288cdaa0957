/*
 * cli_host_opts.c: the options of `shade host` (cli_host.c runs them): argv into a
 * struct host_opts, every value checked here, before any VM exists. It never prints,
 * exits or touches a device, so the fuzzer drives it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define HOST_SHARE_RATE 1000      /* pages per second per VM: 4 MiB/s */

static const char usage_host[] =
	"usage: shade host [HOST OPTIONS] --vm NAME --kernel FILE [VM OPTIONS]\n"
	"                  [--vm NAME --kernel FILE [VM OPTIONS]]...\n"
	"\n"
	"Run several VMs at once on one pool of machine memory. Options after a --vm apply\n"
	"to that VM. Each VM's console goes to LOG_DIR/NAME.log and, prefixed with\n"
	"[NAME], to stdout.\n"
	"\n"
	"host options:\n"
	"      --machine-mem SIZE  the machine-memory pool shared by all VMs (default: the\n"
	"                       sum of guest memory + 64M per VM); may be smaller than the\n"
	"                       guests' memory: untouched guest memory costs nothing\n"
	"      --log-dir DIR    console logs (default: the current directory)\n"
	"      --quiet          no console lines on stdout (logs only)\n"
	"      --stats          print every VM's counters and the pool's at exit\n"
	"      --sample-ms N    every N ms, one 'sample' line on stderr: machine memory in\n"
	"                       use and really resident (memfd blocks, RssShmem), sharing\n"
	"      --census         samples also count the guest pages whose contents another\n"
	"                       backed guest page already has (what sharing could save)\n"
	"      --audit          check shadow page-table invariants after every operation\n"
	"      --ctl SOCKET     a control socket (QMP-like JSON; see 'shade ctl')\n"
	"      --share-rate N   page-sharing scan rate per VM, pages per second (default\n"
	"                       %d; 0 turns sharing off)\n"
	"      --share-total N  at most N pages per second for all VMs together (each VM\n"
	"                       gets an equal part, at most its --share-rate)\n"
	"\n"
	"memory allocation (ESX-style; see docs/architecture.md):\n"
	"      --tau PCT        idle memory tax rate, 0 to 99 (default 75)\n"
	"      --alloc-ms N     allocation period: targets, balloon and swap (default 1000)\n"
	"      --wss-ms N       working-set sampling period (default 30000, as ESX)\n"
	"      --wss-pages N    pages per working-set sample (default 100, as ESX)\n"
	"      --wss-clock C    what a sampling period counts: wall (default) or run, the\n"
	"                       VM's run time as in ESX (the CPU time its vCPU used)\n"
	"      --swap-dir DIR   where the host swap file goes (default $TMPDIR or /var/tmp);\n"
	"                       it is removed at exit\n"
	"      --swap-size SIZE its capacity (default: the sum of guest memory)\n"
	"      --swap-rate N    swap-out pages per second per VM at most (default 25600)\n"
	"      --csv FILE       one row per VM per allocation period (esxtop's names)\n"
	"\n"
	"VM options:\n"
	"      --vm NAME        start a VM description (letters, digits, '-', '_')\n"
	"      --kernel FILE    its multiboot kernel (required)\n"
	"  -m, --mem SIZE       its RAM (default 128M)\n"
	"  -c, --cmdline STR    its kernel command line\n"
	"  -M, --module FILE    a multiboot module (repeatable)\n"
	"      --clones N       N identical VMs NAME1..NAMEN from this description\n"
	"      --balloon SIZE   its virtio balloon's target from the start\n"
	"      --no-balloon     no virtio balloon device (reclaimed by swapping only)\n"
	"      --min SIZE       machine memory guaranteed to it (default 0)\n"
	"      --shares N       its proportional share (default 10 per MiB of --mem)\n"
	"      --shadow-max N   at most N shadow page-table pages (default 8192)\n"
	"  -h, --help           this text\n";

void cli__host_usage(FILE *f)
{
	fprintf(f, usage_host, HOST_SHARE_RATE);
}

static bool good_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 30)
		return false;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || (*s >= '0' && *s <= '9') ||
		      ((*s | 32) >= 'a' && (*s | 32) <= 'z')))
			return false;
	return true;
}

static const char *opt_name(const struct option *opts, int val)
{
	unsigned i = 0;
	while (opts[i].name && opts[i].val != val)
		i++;
	return opts[i].name ? opts[i].name : "?";
}

void cli__vm_name(const struct host_opts *o, unsigned i, unsigned k, char name[40])
{
	if (o->clones[i] > 1)
		snprintf(name, 40, "%s%u", o->vms[i].name, k + 1);
	else
		snprintf(name, 40, "%s", o->vms[i].name);
}

/* Clones expanded (NAME1..NAMEn): at most HOST_MAX_VMS VMs,
 * every name once ("--vm a --clones 2 --vm a1" would make two a1). */
static int check_clones(struct host_opts *o)
{
	char names[HOST_MAX_VMS][40];
	unsigned n = 0;
	for (unsigned i = 0; i < o->nvms; i++)
		for (unsigned k = 0; k < o->clones[i]; k++) {
			if (n == HOST_MAX_VMS)
				return cli__fail(o->err, "too many VMs with clones (at most %d)",
						 HOST_MAX_VMS);
			cli__vm_name(o, i, k, names[n]);
			for (unsigned j = 0; j < n; j++)
				if (!strcmp(names[j], names[n]))
					return cli__fail(o->err, "two VMs named '%s' (with clones)", names[n]);
			n++;
		}
	return 0;
}

int cli__parse_host(int argc, char **argv, struct host_opts *o)
{
	static const char shorts[] = ":m:c:M:h";   /* ':' first: getopt reports a missing argument */
	static const struct option opts[] = {
		{ "machine-mem", required_argument, 0, 'P' },
		{ "log-dir", required_argument, 0, 'L' },
		{ "quiet", no_argument, 0, 'q' },
		{ "stats", no_argument, 0, 'S' },
		{ "audit", no_argument, 0, 'A' },
		{ "vm", required_argument, 0, 'V' },
		{ "kernel", required_argument, 0, 'k' },
		{ "mem", required_argument, 0, 'm' },
		{ "cmdline", required_argument, 0, 'c' },
		{ "module", required_argument, 0, 'M' },
		{ "clones", required_argument, 0, 'n' },
		{ "balloon", required_argument, 0, 'b' },
		{ "share-rate", required_argument, 0, 'H' },
		{ "sample-ms", required_argument, 0, 'T' },
		{ "census", no_argument, 0, 'C' },
		{ "share-total", required_argument, 0, 'R' },
		{ "ctl", required_argument, 0, 'X' },
		{ "tau", required_argument, 0, 1001 },
		{ "alloc-ms", required_argument, 0, 1002 },
		{ "wss-ms", required_argument, 0, 1003 },
		{ "wss-pages", required_argument, 0, 1004 },
		{ "swap-dir", required_argument, 0, 1005 },
		{ "swap-size", required_argument, 0, 1006 },
		{ "swap-rate", required_argument, 0, 1007 },
		{ "csv", required_argument, 0, 1008 },
		{ "wss-clock", required_argument, 0, 1009 },
		{ "no-balloon", no_argument, 0, 1101 },
		{ "min", required_argument, 0, 1102 },
		{ "shares", required_argument, 0, 1103 },
		{ "shadow-max", required_argument, 0, 1104 },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct vm_config *vm = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->share_rate = HOST_SHARE_RATE;
	o->ms = (struct memsched_config){ .tau = 0.75, .alloc_ms = 1000, .sample_ms = 30000,
					  .sample_pages = 100, .swap_rate = 25600 };
	o->ms.swap_dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	optind = 0;          /* glibc: 0 also resets getopt's state between calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if ((c < 256 && strchr("kmcMnb", c) && !vm) || (c > 1100 && !vm))
			return cli__fail(o->err, "--%s comes before any --vm", opt_name(opts, c));
		/* An empty path names nothing (and "" + "/file" would be in the root). */
		if (((c < 256 && strchr("LXkM", c)) || c == 1005 || c == 1008) && !*optarg)
			return cli__fail(o->err, "--%s needs a path, not ''", opt_name(opts, c));
		switch (c) {
		case 'P':
			if (cli__parse_machine_mem(optarg, &o->machine, o->err))
				return -EINVAL;
			break;
		case 'L': o->log_dir = optarg; break;
		case 'q': o->quiet = true; break;
		case 'C': o->census = true; break;
		case 'X': o->ctl = optarg; break;
		case 'R': {
			unsigned long n;
			if (cli__parse_ulong(optarg, 1, 100000000UL, &n))
				return cli__fail(o->err, "bad --share-total '%s' (pages per second)", optarg);
			o->share_total = n;
			break;
		}
		case 'S': o->stats = true; break;
		case 'A': o->audit = true; break;
		case 'T': {
			unsigned long n;
			if (cli__parse_ulong(optarg, 10, 3600000UL, &n))
				return cli__fail(o->err, "bad --sample-ms '%s' (10 or more)", optarg);
			o->sample_ms = (unsigned)n;
			break;
		}
		case 'H': {
			unsigned long n;
			if (cli__parse_ulong(optarg, 0, 10000000UL, &n))
				return cli__fail(o->err, "bad --share-rate '%s' (pages per second)", optarg);
			o->share_rate = n;
			break;
		}
		case 'V':
			if (o->nvms == HOST_MAX_VMS)
				return cli__fail(o->err, "too many VMs (at most %d)", HOST_MAX_VMS);
			if (!good_name(optarg))
				return cli__fail(o->err, "bad VM name '%s' (1-30 of letters, digits, '-', '_')",
						optarg);
			for (unsigned i = 0; i < o->nvms; i++)
				if (!strcmp(o->vms[i].name, optarg))
					return cli__fail(o->err, "two VMs named '%s'", optarg);
			vm = &o->vms[o->nvms];
			o->clones[o->nvms] = 1;
			o->nvms++;
			*vm = (struct vm_config){ .name = optarg, .mem_bytes = 128ULL << 20,
						  .console_in = -1, .console_out = STDOUT_FILENO,
						  .console_log = -1, .console_prefix = true };
			break;
		case 1001: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 0, 99, &v))
				return cli__fail(o->err, "bad --tau '%s' (a percentage, 0 to 99)", optarg);
			o->ms.tau = (double)v / 100.0;
			break;
		}
		case 1002: case 1003: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 10, 3600000UL, &v))
				return cli__fail(o->err, "bad --%s '%s' (10 to 3600000 ms)",
						c == 1002 ? "alloc-ms" : "wss-ms", optarg);
			*(c == 1002 ? &o->ms.alloc_ms : &o->ms.sample_ms) = (unsigned)v;
			break;
		}
		case 1004: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 1, MS_SAMPLE_MAX, &v))
				return cli__fail(o->err, "bad --wss-pages '%s' (1 to %d)", optarg, MS_SAMPLE_MAX);
			o->ms.sample_pages = (unsigned)v;
			break;
		}
		case 1005: o->ms.swap_dir = optarg; break;
		case 1006:
			if (cli__parse_size(optarg, &o->ms.swap_bytes) || o->ms.swap_bytes < PAGE_SIZE ||
			    o->ms.swap_bytes > HOST_MAX_VMS * CLI_MEM_MAX)
				return cli__fail(o->err, "bad --swap-size '%s' (4K up to %llu GiB, all the "
						 "guest memory a host can have)", optarg,
						 (unsigned long long)(HOST_MAX_VMS * CLI_MEM_MAX >> 30));
			o->swap_size_set = true;
			break;
		case 1007: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 1, 100000000UL, &v))
				return cli__fail(o->err, "bad --swap-rate '%s' (pages per second)", optarg);
			o->ms.swap_rate = v;
			break;
		}
		case 1008: o->ms.csv = optarg; break;
		case 1009:
			if (strcmp(optarg, "wall") && strcmp(optarg, "run"))
				return cli__fail(o->err, "bad --wss-clock '%s' (wall or run)", optarg);
			o->ms.run_clock = !strcmp(optarg, "run");
			break;
		case 1101: vm->no_balloon = true; break;
		case 1102:
			if (cli__parse_size(optarg, &vm->min_bytes) || vm->min_bytes % PAGE_SIZE)
				return cli__fail(o->err, "%s: bad --min size '%s'", vm->name, optarg);
			break;
		case 1103: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 1, 1000000000UL, &v))
				return cli__fail(o->err, "%s: bad --shares '%s' (1 or more)", vm->name, optarg);
			vm->shares = v;
			break;
		}
		case 1104: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 16, 1UL << 24, &v))
				return cli__fail(o->err, "%s: bad --shadow-max '%s' (pages, 16 to 16777216)",
						vm->name, optarg);
			vm->shadow_max = (unsigned)v;
			break;
		}
		case 'k': vm->kernel = optarg; break;
		case 'm':
			if (cli__parse_size(optarg, &vm->mem_bytes) || vm->mem_bytes % PAGE_SIZE ||
			    vm->mem_bytes < CLI_MEM_MIN || vm->mem_bytes > CLI_MEM_MAX)
				return cli__fail(o->err, "%s: bad --mem size '%s' (guest memory must be "
						 "between 2 MiB and 3584 MiB, a multiple of 4K)", vm->name,
						 optarg);
			break;
		case 'c': vm->cmdline = optarg; break;
		case 'b':
			if (cli__parse_size(optarg, &vm->balloon_target) || vm->balloon_target % PAGE_SIZE)
				return cli__fail(o->err, "%s: bad --balloon size '%s'", vm->name, optarg);
			break;
		case 'M':
			if (vm->nmodules == VM_MAX_MODULES)
				return cli__fail(o->err, "%s: too many modules (at most %d)", vm->name,
						VM_MAX_MODULES);
			vm->modules[vm->nmodules++] = optarg;
			break;
		case 'n': {
			unsigned long n;
			if (cli__parse_ulong(optarg, 1, HOST_MAX_VMS, &n))
				return cli__fail(o->err, "%s: bad --clones '%s' (1 to %d)", vm->name, optarg,
						HOST_MAX_VMS);
			o->clones[vm - o->vms] = (unsigned)n;
			break;
		}
		case 'h': o->help = true; return 0;
		default: return cli__bad_option(o->err, "host", argv, shorts, opts);
		}
	}
	if (optind != argc)
		return cli__fail(o->err, "unexpected argument '%s' (see 'shade host --help')", argv[optind]);
	if (!o->nvms)
		return cli__fail(o->err, "no VM given (--vm NAME --kernel FILE; see 'shade host --help')");
	for (unsigned i = 0; i < o->nvms; i++) {
		if (!o->vms[i].kernel)
			return cli__fail(o->err, "%s: no --kernel given", o->vms[i].name);
		if (o->vms[i].min_bytes > o->vms[i].mem_bytes)
			return cli__fail(o->err, "%s: --min is larger than --mem", o->vms[i].name);
		if (o->vms[i].balloon_target > o->vms[i].mem_bytes)
			return cli__fail(o->err, "%s: --balloon is larger than --mem", o->vms[i].name);
	}
	return check_clones(o);
}

