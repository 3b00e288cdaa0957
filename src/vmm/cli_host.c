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

static struct vm *host_vms;
static unsigned host_nvms;

static void on_signal(int sig)
{
	for (unsigned i = 0; i < host_nvms; i++)
		vm__stop(&host_vms[i], 4, "stopped by signal %d", sig);
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
			cli__vm_name(o, i, k, names[*n]);
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
			/* O_NONBLOCK: a FIFO there with no reader is an error (ENXIO), not a
			 * wait forever; the log is then written blocking as any file. */
			c->console_log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
					      O_NONBLOCK, 0644);
			if (c->console_log >= 0)
				fcntl(c->console_log, F_SETFL, 0);
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

	if (cli__parse_host(argc, argv, &o))
		return cli__die(2, "%s", o.err);
	if (o.help) {
		cli__host_usage(stdout);
		return 0;
	}
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
