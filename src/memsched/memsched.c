/*
 * memsched.c: the sampler, host swapping and the allocation policy (see memsched.h).
 *
 * Threads: a VM's pmap and mappings change only on its vCPU thread (sampling, swap-out
 * at ticks and when its own allocation finds the pool empty, swap-in on a touch). The
 * policy thread only reads counters and writes the targets (atomics) and balloon
 * requests (posted to the vCPU thread).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "memsched.h"
#include "paging.h"
#include "vcpu.h"
#include "xorshift.h"

#define SWAP_BATCH 256            /* pages per tick at most (bounded exit latency) */
#define RECLAIM_BATCH 32          /* pages per reclaim call from an empty-pool touch */
#define VICTIM_TRIES 64           /* random picks per victim before giving up */
#define BLOCK_SLICE_NS 200000000ULL /* at most this long not running the guest per tick */
#define IDLE_SLICE_NS 20000000ULL
#define STALL_PERIODS 3           /* a balloon that has not moved in this many periods */
#define VM_OVERHEAD_PAGES 256     /* admission: monitor, physmap and first shadow tables */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static uint64_t rnd(struct memsched_vm *v) { return xorshift64(&v->rng); }

static uint64_t granted(const struct pmap *pm)
{
	return pm->private_frames + pm->shared_frames;
}

static uint64_t to_ppm(double f) { return (uint64_t)llround(f * 1e6); }

/* ---- the working-set sampler ---- */

/* End a period (count which sampled pages were touched) and start the next. */
static void sample_period(struct memsched_vm *v)
{
	struct vm *vm = v->vm;
	struct pmap *pm = &vm->pmap;
	uint64_t touched = 0;

	for (unsigned i = 0; i < v->nsample; i++) {
		struct pmap_entry *e = &pm->e[v->sample[i]];
		if (e->flags & PPN_F_SAMPLED)
			e->flags &= (uint8_t)~PPN_F_SAMPLED;
		else
			touched++;
	}
	if (v->nsample) {
		wss__update(&v->est, touched, v->nsample);
		v->st.samples++;
		v->st.sampled_pages += v->nsample;
		v->st.sample_touched += touched;
		atomic_store(&v->active_ppm, to_ppm(wss__active(&v->est)));
		atomic_store(&v->fast_ppm, to_ppm(v->est.fast));
		atomic_store(&v->slow_ppm, to_ppm(v->est.slow));
		atomic_store(&v->last_ppm, to_ppm(v->est.last));
	}
	/* A new sample of distinct pages, drawn from all of guest-physical memory; each
	 * loses its mappings so that the next access, if any, is seen. Traced page tables
	 * are left out (their mappings carry the write tracking). */
	unsigned want = (unsigned)MIN((uint64_t)v->ms->cfg.sample_pages, pm->nframes);
	want = MIN(want, MS_SAMPLE_MAX);
	v->nsample = 0;
	for (unsigned tries = 0; v->nsample < want && tries < want * 4; tries++) {
		gfn_t g = GFN(rnd(v) % pm->nframes);
		struct pmap_entry *e = &pm->e[g.v];
		if (e->flags & (PPN_F_SAMPLED | PPN_F_PT))
			continue;
		e->flags |= PPN_F_SAMPLED;
		if (vm__unmap_gfn(vm, g))
			v->flush = true;
		v->sample[v->nsample++] = g.v;
	}
}

/* ---- swapping ---- */

/* Victims: private, not a traced table (its mappings carry the write tracking), and not
 * just touched (the guest is using it). */
static bool victim_ok(const struct pmap *pm, gfn_t g)
{
	const struct pmap_entry *e = &pm->e[g.v];
	return e->state == PPN_PRIVATE && !(e->flags & PPN_F_PT) && !pmap__recent(pm, g) &&
	       !pmap__pinned(pm, g);
}

/* Write PPN g to the swap file and free its frame. A write that fails leaves the page
 * resident (and says so, once per VM). */
static int swap_out(struct memsched_vm *v, gfn_t g)
{
	struct vm *vm = v->vm;
	struct pmap *pm = &vm->pmap;
	struct pmap_entry *e = &pm->e[g.v];
	struct swapfile *sw = &v->ms->swap;

	uint64_t slot = swapfile__alloc(sw);
	if (slot == SWAP_SLOT_NONE) {
		v->st.swap_full++;
		return -ENOSPC;
	}
	if (vm__unmap_gfn(vm, g))
		v->flush = true;
	int r = swapfile__write(sw, slot, pool__ptr(pm->pool, MFN(e->mfn)));
	if (r) {
		swapfile__free(sw, slot);
		v->st.swap_write_errors++;
		if (!v->warned_write) {
			v->warned_write = true;
			fprintf(stderr, "shade: %s: swap write failed (%s); the page stays resident\n",
				vm->cfg.name, strerror(-r));
		}
		return r;
	}
	mfn_t f = MFN(e->mfn);
	e->mfn = slot;
	e->state = PPN_SWAPPED;
	pm->private_frames--;
	pm->swapped_frames++;
	pool__free(pm->pool, f);            /* a punched hole: really back to the host */
	v->st.swap_outs++;
	return 0;
}

/* One random victim swapped out: 0, or a negative errno (-ESRCH: none found). */
static int swap_out_random(struct memsched_vm *v)
{
	struct pmap *pm = &v->vm->pmap;
	for (unsigned t = 0; t < VICTIM_TRIES; t++) {
		gfn_t g = GFN(rnd(v) % pm->nframes);
		if (victim_ok(pm, g))
			return swap_out(v, g);
	}
	v->st.no_victim++;
	return -ESRCH;
}

static unsigned swap_out_batch(struct memsched_vm *v, unsigned n)
{
	uint64_t t0 = now_ns();
	unsigned done = 0;
	while (done < n && !swap_out_random(v))
		done++;
	v->st.swap_out_ns += now_ns() - t0;
	return done;
}

static void flush(struct memsched_vm *v, struct vcpu *vcpu)
{
	if (!v->flush)
		return;
	v->flush = false;
	paging__flush_unmapped(vcpu);
}

/* pmap swap ops */

static int swap_in_op(void *ctx, gfn_t g, mfn_t f, uint64_t slot)
{
	struct memsched_vm *v = ctx;
	uint64_t t0 = now_ns();
	int r = swapfile__read(&v->ms->swap, slot, pool__ptr(v->vm->pmap.pool, f));
	if (r) {
		/* The slot keeps the data; the guest must not run on without it. */
		vm__stop(v->vm, 4, "cannot read guest page %#llx back from swap slot %llu: %s",
			 (unsigned long long)g.v, (unsigned long long)slot,
			 r == -EBADMSG ? "the swap file does not hold what was written there "
					 "(changed behind shade's back)" : strerror(-r));
		return -EIO;
	}
	swapfile__free(&v->ms->swap, slot);
	v->st.swap_ins++;
	v->st.swap_in_ns += now_ns() - t0;
	return 0;
}

static void release_op(void *ctx, uint64_t slot)
{
	struct memsched_vm *v = ctx;
	swapfile__free(&v->ms->swap, slot);
}

static uint64_t reclaim_op(void *ctx, bool force)
{
	struct memsched_vm *v = ctx;
	struct vm *vm = v->vm;
	v->st.reclaim_calls++;
	if (!force && granted(&vm->pmap) <= atomic_load(&v->target))
		return 0;
	unsigned n = swap_out_batch(v, RECLAIM_BATCH);
	if (v->flush && vm->nvcpus) {
		v->flush = false;
		vcpu__queue_flush(vm->vcpu[0], (uint64_t)-1);
	}
	return n;
}

static const struct pmap_swap_ops swap_ops = { swap_in_op, release_op, reclaim_op };

/* ---- per VM ---- */

int memsched__vm_init(struct memsched_vm *v, struct vm *vm, struct memsched *ms,
		      uint64_t min, uint64_t shares)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	if (!ms || !ms->on)
		return 0;
	v->ms = ms;
	atomic_store(&v->min, MIN(min, vm->pmap.nframes));
	atomic_store(&v->shares, shares);
	wss__init(&v->est);
	atomic_store(&v->active_ppm, 1000000);
	atomic_store(&v->target, vm->pmap.nframes);
	atomic_store(&v->swap_todo, 0);
	v->rng = ((uint64_t)(vm->cfg.index + 1) * 0xbf58476d1ce4e5b9ULL) | 1;
	v->last_ns = now_ns();
	atomic_store(&v->run_ns, 0);
	v->period_end_ns = (ms->cfg.run_clock ? 0 : v->last_ns) + (uint64_t)ms->cfg.sample_ms * 1000000ULL;
	v->p_balloon_target = vm->cfg.balloon_target / PAGE_SIZE;
	atomic_store(&v->limit, vm->pmap.nframes - MIN(v->p_balloon_target, vm->pmap.nframes));
	vm->pmap.swap = &swap_ops;
	vm->pmap.swap_ctx = v;
	return 0;
}

/*
 * The run clock: CPU time of the calling vCPU thread, added to the VM's total by the
 * delta since that thread's last tick. It is the VM's own (virtual) time: it stands
 * still while the vCPU sleeps in HLT, and also while a loaded host leaves the thread
 * waiting for a CPU. Wall time less time halted counted the latter, so on a busy host
 * a sleeping VM's periods ran almost as fast as a busy one's (host.wss_clock with two
 * CPU hogs and parallel tests: 77 s of "run time" for a VM that slept, against 121 s).
 */
static uint64_t run_ns_tick(struct memsched_vm *v, struct vcpu *vcpu)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	uint64_t cpu = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (cpu > vcpu->ms_cpu_ns)
		atomic_fetch_add(&v->run_ns, cpu - vcpu->ms_cpu_ns);
	vcpu->ms_cpu_ns = cpu;
	return atomic_load(&v->run_ns);
}

uint64_t memsched__run_ns(const struct memsched_vm *v)
{
	return atomic_load(&v->run_ns);
}

uint64_t memsched__idle_slice(const struct memsched_vm *v)
{
	return v->ms ? IDLE_SLICE_NS : UINT64_MAX;
}

void memsched__tick(struct memsched_vm *v, struct vcpu *vcpu)
{
	struct memsched *ms = v->ms;
	if (!ms)
		return;
	struct vm *vm = v->vm;
	uint64_t now = now_ns(), run = run_ns_tick(v, vcpu);
	uint64_t clock = ms->cfg.run_clock ? run : now;
	if (clock >= v->period_end_ns) {
		sample_period(v);
		v->period_end_ns = clock + (uint64_t)ms->cfg.sample_ms * 1000000ULL;
	}
	/* Toward the swap target, at the swap rate. */
	v->tokens += (double)(now - v->last_ns) * (double)ms->cfg.swap_rate / 1e9;
	v->last_ns = now;
	if (v->tokens > (double)ms->cfg.swap_rate / 10)
		v->tokens = (double)ms->cfg.swap_rate / 10;   /* at most 100 ms of backlog */
	uint64_t todo = atomic_load(&v->swap_todo);
	if (todo && v->tokens >= 1) {
		unsigned n = (unsigned)MIN(MIN(todo, (uint64_t)v->tokens), SWAP_BATCH);
		unsigned done = swap_out_batch(v, n);
		v->tokens -= done;
		atomic_store(&v->swap_todo, todo > done && done ? todo - done : 0);
	}
	/* Low state: a VM above its target does not run until it is under it, as long as
	 * swapping makes progress (no swap space or failing writes end the wait: a stuck
	 * VM helps no one) and at most for a slice. */
	if (atomic_load(&v->block)) {
		uint64_t t0 = now_ns();
		while (atomic_load(&v->block) && !atomic_load(&vm->stop) &&
		       granted(&vm->pmap) > atomic_load(&v->target) && now_ns() - t0 < BLOCK_SLICE_NS) {
			if (!swap_out_batch(v, 64))
				break;
		}
		v->st.blocked_ms += (now_ns() - t0) / 1000000;
	}
	flush(v, vcpu);
}

/* ---- the policy ---- */

static void snap_vm(struct memsched *ms, struct vm *vm, struct memsched_snap *s,
		    const struct alloc_vm *a, double tau, double period_s)
{
	struct memsched_vm *v = &vm->ms;
	struct pmap *pm = &vm->pmap;
	mfn_t zero = ms->host->share.zero_mfn;
	uint64_t nzero = 0;
	if (mfn_valid(zero))
		for (uint64_t g = 0; g < pm->nframes; g++)
			nzero += pm->e[g].state == PPN_SHARED && pm->e[g].mfn == zero.v;
	snprintf(s->name, sizeof(s->name), "%s", vm->cfg.name);
	s->running = !atomic_load(&vm->stop);
	s->memsz = pm->nframes;
	s->min = a->min;
	s->shares = a->shares;
	s->granted = a->granted;
	s->target = a->target;
	s->active = (double)atomic_load(&v->active_ppm) / 1e6;
	s->active_fast = (double)atomic_load(&v->fast_ppm) / 1e6;
	s->active_slow = (double)atomic_load(&v->slow_ppm) / 1e6;
	s->active_last = (double)atomic_load(&v->last_ppm) / 1e6;
	uint32_t actual = 0;
	s->balloon = devices__balloon_actual(vm, &actual) ? 0 : actual;
	s->balloon_target = v->p_balloon_target;
	s->swapped = pm->swapped_frames;
	s->swap_target = pm->swapped_frames + atomic_load(&v->swap_todo);
	s->shared = pm->shared_frames;
	s->zero = nzero;
	uint64_t ins = v->st.swap_ins, outs = v->st.swap_outs;
	s->swap_in_rate = (double)(ins - v->p_last_ins) / period_s;
	s->swap_out_rate = (double)(outs - v->p_last_outs) / period_s;
	v->p_last_ins = ins;
	v->p_last_outs = outs;
	s->swap_ins = ins;
	s->swap_outs = outs;
	s->swap_write_errors = v->st.swap_write_errors;
	s->blocked_ms = v->st.blocked_ms;
	s->tau = tau;
	s->rho = alloc__rho(a->shares, a->granted, s->active, tau);
	s->balloon_stalled = v->p_stall >= STALL_PERIODS;
}

/* The balloon's part for one VM: its target is what the VM holds above its allocation
 * target, never inflated in the high state by the policy, and never less than a balloon
 * set by hand. Returns whether the balloon can deliver. */
static bool set_balloon(struct vm *vm, const struct alloc_vm *a, enum mem_state state)
{
	struct memsched_vm *v = &vm->ms;
	uint32_t actual;
	if (devices__balloon_actual(vm, &actual))
		return false;                                  /* no balloon device */
	uint64_t size = vm->pmap.nframes, want = size - a->target;
	want = MIN(want, size - a->min);
	if (state == MEM_HIGH)
		want = MIN(want, v->p_balloon_target);
	want = MAX(want, size - a->max);              /* a->max is the hand-set limit */
	if (want != v->p_balloon_target && !devices__balloon_request(vm, want))
		v->p_balloon_target = want;
	/* A balloon short of its target that has not grown for a while (no driver, a
	 * driver that refuses, a guest at its limit) cannot deliver. */
	if (actual < v->p_balloon_target && actual <= v->p_last_balloon)
		v->p_stall++;
	else
		v->p_stall = 0;
	v->p_last_balloon = actual;
	return v->p_stall < STALL_PERIODS;
}

static void policy_period(struct memsched *ms, double period_s)
{
	unsigned n = ms->n;
	struct alloc_vm a[MEMSCHED_MAX_VMS];
	unsigned order[MEMSCHED_MAX_VMS];
	struct pool *pool = &ms->host->pool;
	uint64_t total = pool->nframes, free_pages = pool->nframes - pool__used(pool), sum = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vm *vm = &ms->vms[i];
		uint64_t g = granted(&vm->pmap);
		uint64_t max = MIN(vm->pmap.nframes, atomic_load(&vm->ms.limit));
		a[i] = (struct alloc_vm){ .min = MIN(atomic_load(&vm->ms.min), max), .max = max,
					  .shares = atomic_load(&vm->ms.shares), .granted = g,
					  .active = (double)atomic_load(&vm->ms.active_ppm) / 1e6 };
		if (atomic_load(&vm->stop))
			a[i].min = a[i].max = g;     /* nothing runs there to reclaim from */
		sum += g;
	}
	/* What the VMs can hold between them: what they hold plus what is free, less the
	 * free memory the high state keeps in reserve. */
	uint64_t reserve = alloc__threshold(MEM_HIGH, total);
	uint64_t avail = free_pages + sum > reserve ? free_pages + sum - reserve : 0;
	double tau = atomic_load(&ms->tau);
	alloc__targets(a, n, avail, tau);
	enum mem_state state = alloc__state(free_pages, total);
	atomic_store(&ms->state, (int)state);
	alloc__reclaim_order(a, n, tau, order);

	/* Swap covers what free memory lacks of the high state, lowest rho first. */
	uint64_t deficit = reserve > free_pages ? reserve - free_pages : 0;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = order[k];
		struct vm *vm = &ms->vms[i];
		struct memsched_vm *v = &vm->ms;
		atomic_store(&v->target, a[i].target);
		if (atomic_load(&vm->stop))
			continue;
		bool balloon_ok = set_balloon(vm, &a[i], state);
		uint64_t excess = a[i].granted > a[i].target ? a[i].granted - a[i].target : 0;
		uint64_t r = 0;
		if (state >= MEM_HARD || (state == MEM_SOFT && !balloon_ok)) {
			r = MIN(excess, deficit);
			deficit -= r;
		}
		atomic_store(&v->swap_todo, r);
		atomic_store(&v->block, state == MEM_LOW && excess > 0);
		if (r || state == MEM_LOW)
			vm__kick(vm);
	}

	uint64_t t_ms = (now_ns() - ms->t0_ns) / 1000000;
	pthread_mutex_lock(&ms->lock);
	for (unsigned i = 0; i < n; i++)
		snap_vm(ms, &ms->vms[i], &ms->snap[i], &a[i], tau, period_s);
	ms->periods++;
	ms->state_periods[state]++;
	ms->free_pages = free_pages;
	ms->total_pages = total;
	ms->t_ms = t_ms;
	if (ms->csv) {
		for (unsigned i = 0; i < n; i++)
			memsched__csv_row(ms->csv, t_ms, alloc__state_name(state), &ms->snap[i]);
		fflush(ms->csv);
	}
	pthread_mutex_unlock(&ms->lock);
}

static void *policy_thread(void *arg)
{
	struct memsched *ms = arg;
	uint64_t last = now_ns();
	while (!atomic_load(&ms->quit)) {
		struct timespec d = { ms->cfg.alloc_ms / 1000, (long)(ms->cfg.alloc_ms % 1000) * 1000000L };
		nanosleep(&d, NULL);
		uint64_t now = now_ns();
		policy_period(ms, (double)(now - last) / 1e9);
		last = now;
	}
	return NULL;
}

/* ---- the host ---- */

int memsched__host_init(struct memsched *ms, struct host *h, const struct memsched_config *cfg,
			char *why, size_t whylen)
{
	memset(ms, 0, sizeof(*ms));
	ms->host = h;
	ms->cfg = *cfg;
	atomic_store(&ms->tau, cfg->tau);
	ms->swap.fd = -1;
	pthread_mutex_init(&ms->lock, NULL);
	int r = swapfile__init(&ms->swap, cfg->swap_dir, cfg->swap_bytes);
	if (r) {
		snprintf(why, whylen, "cannot create the swap file in %s: %s", cfg->swap_dir,
			 strerror(-r));
		return r;
	}
	/* The file is sparse and grows as pages go out; say so now if it cannot grow as far
	 * as it may have to (writes that fail then keep their pages resident). */
	struct statvfs fs;
	if (!fstatvfs(ms->swap.fd, &fs) && (uint64_t)fs.f_bavail * fs.f_frsize < cfg->swap_bytes)
		fprintf(stderr, "shade: warning: %s has %llu MiB free for a swap file of up to %llu MiB\n",
			cfg->swap_dir, (unsigned long long)((uint64_t)fs.f_bavail * fs.f_frsize >> 20),
			(unsigned long long)(cfg->swap_bytes >> 20));
	if (cfg->csv) {
		ms->csv = fopen(cfg->csv, "w");
		if (!ms->csv) {
			r = -errno;
			snprintf(why, whylen, "cannot create the CSV file %s: %s", cfg->csv, strerror(-r));
			swapfile__exit(&ms->swap);
			return r;
		}
		memsched__csv_header(ms->csv);
	}
	ms->on = true;
	return 0;
}

void memsched__host_exit(struct memsched *ms)
{
	if (!ms->on)
		return;
	memsched__stop(ms);
	if (ms->csv)
		fclose(ms->csv);
	ms->csv = NULL;
	swapfile__exit(&ms->swap);
	free(ms->snap);
	ms->snap = NULL;
	ms->on = false;
}

static double mib(uint64_t pages) { return (double)pages * PAGE_SIZE / (1 << 20); }

bool memsched__admit(const struct memsched *ms, uint64_t pool_pages, const uint64_t *max,
		     const uint64_t *min, unsigned n, const char *const *names, char *why,
		     size_t whylen)
{
	uint64_t reserve = alloc__threshold(MEM_HIGH, pool_pages), mins = reserve, maxes = 0;
	uint64_t swap = ms->on ? ms->swap.nslots : 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t need = min[i] + VM_OVERHEAD_PAGES;
		if (mins + need > pool_pages) {
			snprintf(why, whylen, "%s cannot start: its guaranteed --min %.0f MiB (+%.0f MiB "
				 "overhead) does not fit in %.0f MiB of machine memory with %.0f MiB "
				 "already guaranteed or reserved", names[i], mib(min[i]),
				 mib(VM_OVERHEAD_PAGES), mib(pool_pages), mib(mins));
			return false;
		}
		mins += need;
		maxes += max[i] + VM_OVERHEAD_PAGES;
		if (maxes > pool_pages - reserve + swap) {
			snprintf(why, whylen, "%s cannot start: the VMs' memory (%.0f MiB with overhead) "
				 "exceeds machine memory (%.0f MiB, %.0f MiB of it kept free) plus swap "
				 "(%.0f MiB), so not all of it could be reclaimed", names[i],
				 mib(maxes), mib(pool_pages), mib(reserve), mib(swap));
			return false;
		}
	}
	return true;
}

void memsched__set_limit(struct memsched_vm *v, uint64_t keep)
{
	atomic_store(&v->limit, MIN(keep, v->vm->pmap.nframes));
}

int memsched__set_tau(struct memsched *ms, double tau, char *why, size_t whylen)
{
	if (!ms->on) {
		snprintf(why, whylen, "memory allocation is off in this host");
		return -EINVAL;
	}
	if (!(tau >= 0 && tau <= 0.99)) {
		snprintf(why, whylen, "tau must be between 0 and 0.99 (the idle tax rate)");
		return -EINVAL;
	}
	atomic_store(&ms->tau, tau);
	return 0;
}

int memsched__set_alloc(struct memsched *ms, struct memsched_vm *v, uint64_t shares,
			uint64_t min, char *why, size_t whylen)
{
	if (!ms->on || !v->ms) {
		snprintf(why, whylen, "memory allocation is off in this host");
		return -EINVAL;
	}
	if (shares == 0) {
		snprintf(why, whylen, "shares must be at least 1");
		return -EINVAL;
	}
	if (min != UINT64_MAX) {
		if (min > v->vm->pmap.nframes) {
			snprintf(why, whylen, "min %.0f MiB is more than the VM's %.0f MiB", mib(min),
				 mib(v->vm->pmap.nframes));
			return -EINVAL;
		}
		/* Admission control's first rule, with this VM's new min. */
		uint64_t total = ms->host->pool.nframes, need = alloc__threshold(MEM_HIGH, total);
		for (unsigned i = 0; i < ms->n; i++)
			need += (&ms->vms[i].ms == v ? min : atomic_load(&ms->vms[i].ms.min)) +
				VM_OVERHEAD_PAGES;
		if (need > total) {
			snprintf(why, whylen, "min %.0f MiB does not fit: the VMs' guaranteed mins with "
				 "overhead and the free reserve would be %.0f MiB, more than the %.0f MiB "
				 "of machine memory", mib(min), mib(need), mib(total));
			return -EINVAL;
		}
		atomic_store(&v->min, min);
	}
	if (shares != UINT64_MAX)
		atomic_store(&v->shares, shares);
	return 0;
}

int memsched__start(struct memsched *ms, struct vm *vms, unsigned n)
{
	if (!ms->on)
		return 0;
	if (n > MEMSCHED_MAX_VMS)
		return -E2BIG;
	ms->vms = vms;
	ms->n = n;
	ms->snap = calloc(n ? n : 1, sizeof(*ms->snap));
	if (!ms->snap)
		return -ENOMEM;
	ms->t0_ns = now_ns();
	atomic_store(&ms->quit, false);
	if (pthread_create(&ms->thread, NULL, policy_thread, ms))
		return -EAGAIN;
	ms->started = true;
	return 0;
}

void memsched__stop(struct memsched *ms)
{
	if (!ms->started)
		return;
	atomic_store(&ms->quit, true);
	pthread_join(ms->thread, NULL);
	ms->started = false;
}

unsigned memsched__snapshot(struct memsched *ms, struct memsched_snap *out, unsigned max,
			    int *state, uint64_t *free_pages, uint64_t *total_pages)
{
	if (!ms->on || !ms->snap)
		return 0;
	pthread_mutex_lock(&ms->lock);
	unsigned n = MIN(ms->n, max);
	memcpy(out, ms->snap, n * sizeof(*out));
	*state = atomic_load(&ms->state);
	*free_pages = ms->free_pages;
	*total_pages = ms->total_pages;
	pthread_mutex_unlock(&ms->lock);
	return n;
}

/* ---- stats ---- */

void memsched__print_vm_stats(const struct memsched_vm *v, const char *who, FILE *f)
{
	if (!v->ms)
		return;
#define P(x) fprintf(f, "%s.mem.%s %llu\n", who, #x, (unsigned long long)v->st.x)
	P(samples); P(sampled_pages); P(sample_touched); P(swap_outs); P(swap_ins);
	P(swap_write_errors); P(swap_full); P(no_victim); P(blocked_ms); P(reclaim_calls);
	P(swap_out_ns); P(swap_in_ns);
#undef P
	fprintf(f, "%s.mem.run_ms %llu\n", who, (unsigned long long)(memsched__run_ns(v) / 1000000));
	fprintf(f, "%s.mem.active %.4f\n", who, wss__active(&v->est));
	fprintf(f, "%s.mem.active_fast %.4f\n", who, v->est.fast);
	fprintf(f, "%s.mem.active_slow %.4f\n", who, v->est.slow);
	fprintf(f, "%s.mem.swapped %llu\n", who, (unsigned long long)v->vm->pmap.swapped_frames);
	fprintf(f, "%s.mem.target %llu\n", who, (unsigned long long)atomic_load(&v->target));
}

void memsched__print_host_stats(struct memsched *ms, FILE *f)
{
	if (!ms->on)
		return;
	struct swapfile *s = &ms->swap;
	pthread_mutex_lock(&s->lock);
	fprintf(f, "host.mem.tau %.2f\n", atomic_load(&ms->tau));
	fprintf(f, "host.mem.periods %llu\n", (unsigned long long)ms->periods);
	for (int i = 0; i < 4; i++)
		fprintf(f, "host.mem.periods_%s %llu\n", alloc__state_name((enum mem_state)i),
			(unsigned long long)ms->state_periods[i]);
	fprintf(f, "host.swap.slots %llu\n", (unsigned long long)s->nslots);
	fprintf(f, "host.swap.used %llu\n", (unsigned long long)s->used);
	fprintf(f, "host.swap.writes %llu\n", (unsigned long long)s->writes);
	fprintf(f, "host.swap.reads %llu\n", (unsigned long long)s->reads);
	fprintf(f, "host.swap.write_errors %llu\n", (unsigned long long)s->write_errors);
	fprintf(f, "host.swap.read_errors %llu\n", (unsigned long long)s->read_errors);
	fprintf(f, "host.swap.bad_checksums %llu\n", (unsigned long long)s->bad_sums);
	fprintf(f, "host.swap.full %llu\n", (unsigned long long)s->full);
	fprintf(f, "host.swap.write_ns %llu\n", (unsigned long long)s->write_ns);
	fprintf(f, "host.swap.read_ns %llu\n", (unsigned long long)s->read_ns);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Columns follow esxtop's memory panel (MB there, MiB here): MEMSZ, GRANT, SZTGT,
 * TCHD (estimated active = f * MEMSZ), ACTVS/ACTVF (slow and fast averages), MCTLSZ and
 * MCTLTGT (balloon), SWCUR and SWTGT (swap), SWR/s and SWW/s (MiB/s), SHRD, ZERO.
 */
void memsched__csv_header(FILE *f)
{
	fprintf(f, "t_ms,vm,state,MEMSZ,MIN,SHARES,GRANT,SZTGT,TCHD,active,ACTVS,ACTVF,last_sample,"
		"MCTLSZ,MCTLTGT,SWCUR,SWTGT,SWR_s,SWW_s,SHRD,ZERO,rho,swap_ins,swap_outs,"
		"swap_write_errors,blocked_ms,tau\n");
}

void memsched__csv_row(FILE *f, uint64_t t_ms, const char *state, const struct memsched_snap *s)
{
	fprintf(f, "%llu,%s,%s,%.2f,%.2f,%llu,%.2f,%.2f,%.2f,%.4f,%.4f,%.4f,%.4f,%.2f,%.2f,%.2f,"
		"%.2f,%.3f,%.3f,%.2f,%.2f,%.6g,%llu,%llu,%llu,%llu,%.2f\n",
		(unsigned long long)t_ms, s->name, state, mib(s->memsz), mib(s->min),
		(unsigned long long)s->shares, mib(s->granted), mib(s->target),
		s->active * mib(s->memsz), s->active, s->active_slow, s->active_fast, s->active_last,
		mib(s->balloon), mib(s->balloon_target), mib(s->swapped), mib(s->swap_target),
		s->swap_in_rate * PAGE_SIZE / (1 << 20), s->swap_out_rate * PAGE_SIZE / (1 << 20),
		mib(s->shared), mib(s->zero), isinf(s->rho) ? -1.0 : s->rho,
		(unsigned long long)s->swap_ins, (unsigned long long)s->swap_outs,
		(unsigned long long)s->swap_write_errors, (unsigned long long)s->blocked_ms, s->tau);
}
