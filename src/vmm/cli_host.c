/*
 * cli_host.c: `shade host`, several VMs in one process on one machine-memory pool, the
 * setting of every memory-overcommit experiment. Each VM has its own vCPU thread and
 * console (a log file, and prefixed lines on the terminal); the pool may be smaller
 * than the sum of guest memory, because a guest frame costs a machine frame only once
 * touched. One VM's crash stops that VM, never the others.
 *
 * Exit status: the largest of the VMs' statuses (see main.c for their meaning), so
 * "every guest reported success" is 1, and any failure shows through.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"
#include "control.h"
#include "vcpu.h"

#define HOST_MAX_VMS 64
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
	"                       VM's run time as in ESX (time halted does not count)\n"
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
	"  -h, --help           this text\n";

struct host_opts {
	struct vm_config vms[HOST_MAX_VMS];
	char names[HOST_MAX_VMS][40];
	unsigned clones[HOST_MAX_VMS];
	unsigned nvms;
	uint64_t machine;
	const char *log_dir;
	bool quiet, stats, audit;
	uint64_t share_rate, share_total;
	const char *ctl;
	unsigned sample_ms;
	bool census;
	struct memsched_config ms;
	bool swap_size_set;
};

static struct vm *host_vms;
static unsigned host_nvms;

static void on_signal(int sig)
{
	for (unsigned i = 0; i < host_nvms; i++)
		vm__stop(&host_vms[i], 4, "stopped by signal %d", sig);
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

/* A decimal number in [lo, hi]: 0, or -1. */
static int parse(int argc, char **argv, struct host_opts *o)
{
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
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct vm_config *vm = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:c:M:h", opts, NULL)) != -1) {
		if ((c < 256 && strchr("kmcMnb", c) && !vm) || (c > 1100 && !vm))
			return cli__die(2, "'%s' comes before any --vm", argv[optind - 1]);
		switch (c) {
		case 'P':
			if (cli__parse_size(optarg, &o->machine) || o->machine % PAGE_SIZE ||
			    !o->machine)
				return cli__die(2, "bad --machine-mem size '%s'", optarg);
			break;
		case 'L': o->log_dir = optarg; break;
		case 'q': o->quiet = true; break;
		case 'C': o->census = true; break;
		case 'X': o->ctl = optarg; break;
		case 'R': {
			unsigned long n;
			if (cli__parse_ulong(optarg, 1, 100000000UL, &n))
				return cli__die(2, "bad --share-total '%s' (pages per second)", optarg);
			o->share_total = n;
			break;
		}
		case 'S': o->stats = true; break;
		case 'A': o->audit = true; break;
		case 'T': {
			unsigned long n;
			if (cli__parse_ulong(optarg, 10, 3600000UL, &n))
				return cli__die(2, "bad --sample-ms '%s' (10 or more)", optarg);
			o->sample_ms = (unsigned)n;
			break;
		}
		case 'H': {
			unsigned long n;
			if (cli__parse_ulong(optarg, 0, 10000000UL, &n))
				return cli__die(2, "bad --share-rate '%s' (pages per second)", optarg);
			o->share_rate = n;
			break;
		}
		case 'V':
			if (o->nvms == HOST_MAX_VMS)
				return cli__die(2, "too many VMs (at most %d)", HOST_MAX_VMS);
			if (!good_name(optarg))
				return cli__die(2, "bad VM name '%s' (1-30 of letters, digits, '-', '_')",
						optarg);
			for (unsigned i = 0; i < o->nvms; i++)
				if (!strcmp(o->vms[i].name, optarg))
					return cli__die(2, "two VMs named '%s'", optarg);
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
				return cli__die(2, "bad --tau '%s' (a percentage, 0 to 99)", optarg);
			o->ms.tau = (double)v / 100.0;
			break;
		}
		case 1002: case 1003: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 10, 3600000UL, &v))
				return cli__die(2, "bad --%s '%s' (10 to 3600000 ms)",
						c == 1002 ? "alloc-ms" : "wss-ms", optarg);
			*(c == 1002 ? &o->ms.alloc_ms : &o->ms.sample_ms) = (unsigned)v;
			break;
		}
		case 1004: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 1, MS_SAMPLE_MAX, &v))
				return cli__die(2, "bad --wss-pages '%s' (1 to %d)", optarg, MS_SAMPLE_MAX);
			o->ms.sample_pages = (unsigned)v;
			break;
		}
		case 1005: o->ms.swap_dir = optarg; break;
		case 1006:
			if (cli__parse_size(optarg, &o->ms.swap_bytes) || o->ms.swap_bytes < PAGE_SIZE)
				return cli__die(2, "bad --swap-size '%s'", optarg);
			o->swap_size_set = true;
			break;
		case 1007: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 1, 100000000UL, &v))
				return cli__die(2, "bad --swap-rate '%s' (pages per second)", optarg);
			o->ms.swap_rate = v;
			break;
		}
		case 1008: o->ms.csv = optarg; break;
		case 1009:
			if (strcmp(optarg, "wall") && strcmp(optarg, "run"))
				return cli__die(2, "bad --wss-clock '%s' (wall or run)", optarg);
			o->ms.run_clock = !strcmp(optarg, "run");
			break;
		case 1101: vm->no_balloon = true; break;
		case 1102:
			if (cli__parse_size(optarg, &vm->min_bytes) || vm->min_bytes % PAGE_SIZE)
				return cli__die(2, "%s: bad --min size '%s'", vm->name, optarg);
			break;
		case 1103: {
			unsigned long v;
			if (cli__parse_ulong(optarg, 1, 1000000000UL, &v))
				return cli__die(2, "%s: bad --shares '%s' (1 or more)", vm->name, optarg);
			vm->shares = v;
			break;
		}
		case 'k': vm->kernel = optarg; break;
		case 'm':
			if (cli__parse_size(optarg, &vm->mem_bytes) || vm->mem_bytes % PAGE_SIZE ||
			    !vm->mem_bytes)
				return cli__die(2, "%s: bad --mem size '%s'", vm->name, optarg);
			break;
		case 'c': vm->cmdline = optarg; break;
		case 'b':
			if (cli__parse_size(optarg, &vm->balloon_target) || vm->balloon_target % PAGE_SIZE)
				return cli__die(2, "%s: bad --balloon size '%s'", vm->name, optarg);
			break;
		case 'M':
			if (vm->nmodules == VM_MAX_MODULES)
				return cli__die(2, "%s: too many modules (at most %d)", vm->name,
						VM_MAX_MODULES);
			vm->modules[vm->nmodules++] = optarg;
			break;
		case 'n': {
			unsigned long n;
			if (cli__parse_ulong(optarg, 1, HOST_MAX_VMS, &n))
				return cli__die(2, "%s: bad --clones '%s' (1 to %d)", vm->name, optarg,
						HOST_MAX_VMS);
			o->clones[vm - o->vms] = (unsigned)n;
			break;
		}
		case 'h': printf(usage_host, HOST_SHARE_RATE); exit(0);
		default: fprintf(stderr, usage_host, HOST_SHARE_RATE); return 2;
		}
	}
	if (optind != argc)
		return cli__die(2, "unexpected argument '%s' (see 'shade host --help')", argv[optind]);
	if (!o->nvms)
		return cli__die(2, "no VM given (--vm NAME --kernel FILE; see 'shade host --help')");
	for (unsigned i = 0; i < o->nvms; i++) {
		if (!o->vms[i].kernel)
			return cli__die(2, "%s: no --kernel given", o->vms[i].name);
		if (o->vms[i].min_bytes > o->vms[i].mem_bytes)
			return cli__die(2, "%s: --min is larger than --mem", o->vms[i].name);
	}
	return 0;
}

/* The VMs to build: clones expanded, names, console logs, shared settings. */
static int expand(struct host_opts *o, struct vm_config *out, char (*names)[40], unsigned *n,
		  pthread_mutex_t *term_lock)
{
	*n = 0;
	for (unsigned i = 0; i < o->nvms; i++) {
		for (unsigned k = 0; k < o->clones[i]; k++) {
			if (*n == HOST_MAX_VMS)
				return cli__die(2, "too many VMs with clones (at most %d)", HOST_MAX_VMS);
			struct vm_config *c = &out[*n];
			*c = o->vms[i];
			if (o->clones[i] > 1)
				snprintf(names[*n], 40, "%s%u", o->vms[i].name, k + 1);
			else
				snprintf(names[*n], 40, "%s", o->vms[i].name);
			c->name = names[*n];
			c->audit = c->audit || o->audit;
			c->share_rate = o->share_rate;
			c->index = *n;
			c->stats = o->stats;
			c->term_lock = term_lock;
			if (o->quiet)
				c->console_out = -1;
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s.log", o->log_dir ? o->log_dir : ".",
				 c->name);
			c->console_log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (c->console_log < 0)
				return cli__die(2, "%s: cannot open the console log %s: %s", c->name,
						path, strerror(errno));
			(*n)++;
		}
	}
	return 0;
}

static void print_pool(const struct pool *p, FILE *f)
{
	fprintf(f, "host.pool.frames %llu\n", (unsigned long long)p->nframes);
	fprintf(f, "host.pool.used %llu\n", (unsigned long long)pool__used(p));
	fprintf(f, "host.pool.allocs %llu\n", (unsigned long long)p->allocs);
	fprintf(f, "host.pool.frees %llu\n", (unsigned long long)p->frees);
	fprintf(f, "host.pool.waits %llu\n", (unsigned long long)p->waits);
	fprintf(f, "host.pool.resident_bytes %lld\n", (long long)pool__resident_bytes(p));
}

/* Shared-memory pages of this process really resident (the memfd's mapped pages). */
static long long rss_shmem_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssShmem: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Backed guest pages of all VMs, and how many of them repeat a content already counted:
 * the frames ideal sharing would save (by 64-bit content hash; read while the guests
 * run, so an estimate for busy guests, exact for idle ones). Shared references count as
 * the pages they are. */
static void census(struct host *h, struct vm *vms, unsigned n, uint64_t *pages, uint64_t *dups)
{
	uint64_t total = 0, k = 0;
	for (unsigned i = 0; i < n; i++)
		total += vms[i].pmap.nframes;
	uint64_t *hs = malloc(total * sizeof(*hs));
	*pages = *dups = 0;
	if (!hs)
		return;
	for (unsigned i = 0; i < n; i++) {
		const struct pmap *pm = &vms[i].pmap;
		for (uint64_t g = 0; g < pm->nframes; g++) {
			uint8_t st = pm->e[g].state;
			if (st == PPN_PRIVATE || st == PPN_SHARED)
				hs[k++] = XXH3_64bits(pool__ptr(&h->pool, MFN(pm->e[g].mfn)), PAGE_SIZE);
		}
	}
	qsort(hs, k, sizeof(*hs), cmp_u64);
	for (uint64_t j = 1; j < k; j++)
		*dups += hs[j] == hs[j - 1];
	*pages = k;
	free(hs);
}

static bool any_running(struct vm *vms, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!atomic_load(&vms[i].stop))
			return true;
	return false;
}

/* The time series of an experiment: one line per period until every VM has stopped. */
static void sample_until_done(struct host *h, struct vm *vms, unsigned n, unsigned ms, bool cen)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (any_running(vms, n)) {
		struct timespec d = { ms / 1000, (long)(ms % 1000) * 1000000L };
		nanosleep(&d, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t t = (uint64_t)(now.tv_sec - t0.tv_sec) * 1000 +
			     (uint64_t)((now.tv_nsec - t0.tv_nsec) / 1000000);
		struct share_table *st = &h->share;
		pthread_mutex_lock(&st->lock);
		uint64_t frames = st->st.frames + (st->zero_refs ? 1 : 0);
		uint64_t refs = st->st.refs + st->zero_refs, zero = st->zero_refs;
		pthread_mutex_unlock(&st->lock);
		uint64_t exits = 0;
		for (unsigned i = 0; i < n; i++)
			for (unsigned k = 0; k < vms[i].nvcpus; k++)
				exits += stats__exits_total(&vms[i].vcpu[k]->stats);
		fprintf(stderr, "sample t_ms=%llu exits=%llu pool_used=%llu resident_bytes=%lld rss_shmem_kb=%lld "
			"pages_shared=%llu pages_sharing=%llu zero_refs=%llu\n", (unsigned long long)t,
			(unsigned long long)exits,
			(unsigned long long)pool__used(&h->pool),
			(long long)pool__resident_bytes(&h->pool), rss_shmem_kb(),
			(unsigned long long)frames, (unsigned long long)(refs - frames),
			(unsigned long long)zero);
		if (cen) {
			uint64_t pages, dups;
			census(h, vms, n, &pages, &dups);
			fprintf(stderr, "census t_ms=%llu backed_pages=%llu identical_pages=%llu\n",
				(unsigned long long)t, (unsigned long long)pages,
				(unsigned long long)dups);
		}
	}
}

int cli__host(int argc, char **argv)
{
	static struct host_opts o;
	static struct vm_config cfgs[HOST_MAX_VMS];
	static char names[HOST_MAX_VMS][40];
	static pthread_mutex_t term_lock = PTHREAD_MUTEX_INITIALIZER;
	unsigned n;
	int ret, status = 0;

	memset(&o, 0, sizeof(o));
	o.share_rate = HOST_SHARE_RATE;
	o.ms = (struct memsched_config){ .tau = 0.75, .alloc_ms = 1000, .sample_ms = 30000,
					 .sample_pages = 100, .swap_rate = 25600 };
	o.ms.swap_dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	if ((ret = parse(argc, argv, &o)))
		return ret;
	if (o.log_dir && mkdir(o.log_dir, 0755) < 0 && errno != EEXIST)
		return cli__die(2, "cannot create the log directory %s: %s", o.log_dir,
				strerror(errno));
	if ((ret = expand(&o, cfgs, names, &n, &term_lock)))
		return ret;
	for (unsigned i = 0; o.share_total && i < n; i++)
		cfgs[i].share_rate = MIN(cfgs[i].share_rate, MAX(o.share_total / n, 1));
	uint64_t machine = o.machine;
	if (!machine)
		for (unsigned i = 0; i < n; i++)
			machine += cfgs[i].mem_bytes + (64ULL << 20);

	struct host host;
	ret = host__init(&host, machine);
	if (ret == -ENOENT || ret == -EACCES)
		return cli__die(4, "cannot open /dev/kvm: %s", strerror(-ret));
	if (ret)
		return cli__die(4, "cannot set up the host: %s", strerror(-ret));
	if (!o.swap_size_set)
		for (unsigned i = 0; i < n; i++)
			o.ms.swap_bytes += cfgs[i].mem_bytes;
	char why[512];
	if (memsched__host_init(&host.ms, &host, &o.ms, why, sizeof(why))) {
		host__exit(&host);
		return cli__die(2, "%s", why);
	}
	{
		uint64_t maxp[HOST_MAX_VMS], minp[HOST_MAX_VMS];
		const char *nm[HOST_MAX_VMS];
		for (unsigned i = 0; i < n; i++) {
			maxp[i] = cfgs[i].mem_bytes / PAGE_SIZE;
			minp[i] = cfgs[i].min_bytes / PAGE_SIZE;
			nm[i] = cfgs[i].name;
		}
		if (!memsched__admit(&host.ms, host.pool.nframes, maxp, minp, n, nm, why, sizeof(why))) {
			host__exit(&host);
			return cli__die(2, "admission control: %s", why);
		}
	}
	struct vm *vms = calloc(n, sizeof(*vms));
	if (!vms) {
		host__exit(&host);
		return cli__die(4, "out of memory");
	}
	for (unsigned i = 0; i < n; i++) {
		ret = vm__init(&vms[i], &host, &cfgs[i]);
		if (ret) {
			status = cli__die(cli__init_status(ret), "%s: %s", cfgs[i].name,
					  vms[i].stop_reason);
			while (i--)
				vm__exit(&vms[i]);
			goto out;
		}
	}
	host_vms = vms;
	host_nvms = n;
	/* INT, TERM and HUP stop the VMs, so everything is torn down (the control socket's
	 * file removed) as at a normal end. A file-size limit makes a swap write fail
	 * (EFBIG), and a reader of stdout or of the control socket going away makes a
	 * write fail (EPIPE); both are handled, neither a kill. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	static struct control ctl;
	if (o.ctl && (ret = control__start(&ctl, o.ctl, vms, n))) {
		status = cli__die(2, "cannot open the control socket %s: %s", o.ctl, strerror(-ret));
		for (unsigned i = 0; i < n; i++)
			vm__exit(&vms[i]);
		goto out;
	}
	for (unsigned i = 0; i < n; i++)
		vm__start(&vms[i]);
	if ((ret = memsched__start(&host.ms, vms, n)))
		for (unsigned i = 0; i < n; i++)
			vm__stop(&vms[i], 4, "cannot start the memory scheduler: %s", strerror(-ret));
	if (o.sample_ms)
		sample_until_done(&host, vms, n, o.sample_ms, o.census);
	while (any_running(vms, n)) {
		struct timespec d = { 0, 50 * 1000000L };
		nanosleep(&d, NULL);
	}
	/* Everything that kicks a VM's vCPU threads (the control socket, the policy, a
	 * signal) stops before they are joined: a joined thread must not be signalled. */
	host_nvms = 0;
	if (o.ctl)
		control__stop(&ctl);
	memsched__stop(&host.ms);
	for (unsigned i = 0; i < n; i++) {
		int s = vm__wait(&vms[i]);
		status = s > status ? s : status;
	}
	fflush(stdout);
	for (unsigned i = 0; i < n; i++)
		fprintf(stderr, "shade: %s: %s (status %d)\n", vms[i].cfg.name, vms[i].stop_reason,
			vms[i].exit_status);
	if (o.stats) {
		for (unsigned i = 0; i < n; i++)
			cli__print_vm_stats(&vms[i], stderr);
		print_pool(&host.pool, stderr);
		pageshare__print_host_stats(&host.share, stderr);
		memsched__print_host_stats(&host.ms, stderr);
	}
	for (unsigned i = 0; i < n; i++)
		vm__exit(&vms[i]);
out:
	for (unsigned i = 0; i < n; i++)
		if (cfgs[i].console_log >= 0)
			close(cfgs[i].console_log);
	free(vms);
	host__exit(&host);
	return status;
}
