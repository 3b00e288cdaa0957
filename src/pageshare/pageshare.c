/*
 * pageshare.c: the scanner, merging, and copy-on-write breaks (see pageshare.h). The
 * share table's lock is held around every table lookup and change, and never while
 * waiting for machine memory.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "pageshare.h"
#include "paging.h"
#include "vcpu.h"
#include "xorshift.h"

#define SHARE_BATCH_MAX 512          /* pages per tick at most (bounded exit latency) */
#define SHARE_IDLE_SLICE_NS 20000000 /* 20 ms: how long an idle vCPU sleeps between scans */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static uint64_t page_hash(const void *p) { return XXH3_64bits(p, PAGE_SIZE); }

static bool all_zero(const uint8_t *p)
{
	static const uint8_t zero[PAGE_SIZE];
	return !memcmp(p, zero, PAGE_SIZE);
}

/* ---- random visiting order ---- */

static uint64_t rnd(struct share_vm *s) { return xorshift64(&s->rng); }

/* A full-period LCG mod 2^k (a = 1 mod 4, c odd), new constants each pass. */
static void new_pass(struct share_vm *s)
{
	uint64_t n = s->vm->pmap.nframes, size = 4;
	while (size < n)
		size <<= 1;
	s->lcg_mask = size - 1;
	s->lcg_a = ((rnd(s) << 2) | 1) & s->lcg_mask;
	s->lcg_c = (rnd(s) | 1) & s->lcg_mask;
	s->lcg_x = rnd(s) & s->lcg_mask;
	s->lcg_left = size;
}

static gfn_t next_gfn(struct share_vm *s)
{
	for (;;) {
		if (!s->lcg_left)
			new_pass(s);
		s->lcg_x = (s->lcg_a * s->lcg_x + s->lcg_c) & s->lcg_mask;
		s->lcg_left--;
		if (s->lcg_x < s->vm->pmap.nframes)
			return GFN(s->lcg_x);
	}
}

/* ---- mappings ---- */

/* Remove every mapping of PPN g from this VM's real tables (shadows or the physmap). */
static void revoke(struct share_vm *s, gfn_t g)
{
	if (vm__unmap_gfn(s->vm, g))
		s->flush = true;
}

static void to_shared(struct pmap *pm, struct pmap_entry *pe, mfn_t f)
{
	pe->mfn = f.v;
	pe->state = PPN_SHARED;
	pm->private_frames--;
	pm->shared_frames++;
}

static void set_hint(struct share_vm *s, uint64_t h, gfn_t g)
{
	struct share_table *t = s->t;
	struct share_entry *e = share_table__add_hint(t, h, s, g);
	if (e)
		s->st.hints_added++;
}

static void queue_rescan(struct share_vm *other, uint64_t gfn)
{
	if (other->qhead - other->qtail < SHARE_QUEUE)
		other->queue[(other->qhead++) % SHARE_QUEUE] = gfn;
	else
		other->st.requeued++;       /* full: the random scan will get there */
}

void pageshare__scan_page(struct share_vm *s, gfn_t g)
{
	struct vm *vm = s->vm;
	struct pmap *pm = &vm->pmap;
	struct share_table *t = s->t;
	struct pmap_entry *pe = &pm->e[g.v];
	mfn_t freed = MFN_INVALID;

	/* Only private, ordinary pages: a tracked guest table is never shared. */
	if (pe->state != PPN_PRIVATE || (pe->flags & PPN_F_PT)) {
		s->st.skipped++;
		return;
	}
	const uint8_t *p = pool__ptr(pm->pool, MFN(pe->mfn));
	uint64_t h = page_hash(p);
	s->st.scanned++;

	pthread_mutex_lock(&t->lock);
	if (h == t->zero_hash && mfn_valid(t->zero_mfn) && all_zero(p)) {
		revoke(s, g);
		freed = MFN(pe->mfn);
		to_shared(pm, pe, t->zero_mfn);
		t->zero_refs++;
		s->st.zero_merged++;
		goto out;
	}
	struct share_entry *f = share_table__find(t, h, SHARE_FRAME);
	if (f) {
		/* A hash match proves nothing: compare every byte before merging. */
		if (memcmp(p, pool__ptr(pm->pool, MFN(f->mfn)), PAGE_SIZE)) {
			s->st.collisions++;
			goto out;
		}
		if (share_table__ref(t, f))
			goto out;
		revoke(s, g);
		freed = MFN(pe->mfn);
		to_shared(pm, pe, MFN(f->mfn));
		s->st.merged++;
		goto out;
	}
	struct share_entry *hint = share_table__find(t, h, SHARE_HINT);
	if (!hint) {
		set_hint(s, h, g);
		goto out;
	}
	if (hint->owner != s) {
		/* Another VM's page looked the same when it was hashed. Make ours a shared
		 * frame and let that VM merge its page into it (after its own compare). */
		struct share_vm *other = hint->owner;
		if (!share_table__add_frame(t, h, MFN(pe->mfn), 1))
			goto out;
		revoke(s, g);
		to_shared(pm, pe, MFN(pe->mfn));
		queue_rescan(other, hint->gfn);
		share_table__remove(t, hint);
		s->st.promoted++;
		goto out;
	}
	if (hint->gfn == g.v)
		goto out;                      /* our own earlier visit of this page */
	/* Our own page elsewhere: it was not write-protected, so hash and compare again. */
	struct pmap_entry *he = &pm->e[hint->gfn];
	const uint8_t *hp = he->state == PPN_PRIVATE ? pool__ptr(pm->pool, MFN(he->mfn)) : NULL;
	if (!hp || (he->flags & PPN_F_PT) || page_hash(hp) != h || memcmp(p, hp, PAGE_SIZE)) {
		s->st.stale_hints++;
		share_table__remove(t, hint);
		set_hint(s, h, g);
		goto out;
	}
	if (!share_table__add_frame(t, h, MFN(he->mfn), 2))
		goto out;
	gfn_t hg = GFN(hint->gfn);
	share_table__remove(t, hint);
	revoke(s, hg);
	revoke(s, g);
	to_shared(pm, he, MFN(he->mfn));
	freed = MFN(pe->mfn);
	to_shared(pm, pe, MFN(he->mfn));
	s->st.merged += 2;
out:
	pthread_mutex_unlock(&t->lock);
	if (mfn_valid(freed))
		pool__free(pm->pool, freed);    /* really back to the host: a punched hole */
}

/* ---- copy-on-write and teardown (pmap ops) ---- */

static int cow_op(void *ctx, gfn_t g)
{
	struct share_vm *s = ctx;
	struct vm *vm = s->vm;
	struct pmap *pm = &vm->pmap;
	struct share_table *t = s->t;
	struct pmap_entry *pe = &pm->e[g.v];
	mfn_t old = MFN(pe->mfn), mine = MFN_INVALID, to_free = MFN_INVALID;

	struct timespec c0, c1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	pthread_mutex_lock(&t->lock);
	struct share_entry *f = share_table__frame_of(t, old);
	if (f && share_table__refs(t, f) == 1) {
		/* The last reference: the frame becomes ours again, no copy. */
		share_table__remove(t, f);
		mine = old;
	}
	pthread_mutex_unlock(&t->lock);
	if (!mfn_valid(mine)) {
		/* Allocate (perhaps reclaiming or waiting) before changing anything. */
		int err = 0;
		mine = pmap__alloc_frame(pm, &err);
		if (!mfn_valid(mine))
			return err;
		pthread_mutex_lock(&t->lock);
		if (old.v == t->zero_mfn.v) {
			t->zero_refs--;          /* a fresh frame is already zero */
		} else {
			memcpy(pool__ptr(pm->pool, mine), pool__ptr(pm->pool, old), PAGE_SIZE);
			f = share_table__frame_of(t, old);
			if (f && share_table__unref(t, f) == 0)
				to_free = old;
		}
		pthread_mutex_unlock(&t->lock);
		s->st.cow_copies++;
	}
	revoke(s, g);
	if (s->flush && vm->nvcpus)
		vcpu__queue_flush(vm->vcpu[0], (uint64_t)-1);
	s->flush = false;
	pe->mfn = mine.v;
	pe->state = PPN_PRIVATE;
	pm->private_frames++;
	pm->shared_frames--;
	s->st.cow_breaks++;
	if (mfn_valid(to_free))
		pool__free(pm->pool, to_free);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	s->st.cow_cpu_ns += (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000ULL +
			    (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
	return 0;
}

static void release_op(void *ctx, mfn_t f)
{
	struct share_vm *s = ctx;
	struct share_table *t = s->t;
	bool free_it = false;

	pthread_mutex_lock(&t->lock);
	if (f.v == t->zero_mfn.v) {
		t->zero_refs--;
	} else {
		struct share_entry *e = share_table__frame_of(t, f);
		free_it = e && share_table__unref(t, e) == 0;
	}
	pthread_mutex_unlock(&t->lock);
	s->vm->pmap.shared_frames--;
	if (free_it)
		pool__free(s->vm->pmap.pool, f);
}

static const struct pmap_share_ops share_ops = { cow_op, release_op };

/* ---- setup and the tick ---- */

int pageshare__host_init(struct share_table *t, struct pool *pool)
{
	/* The zero frame comes with the first VM that shares (--baseline needs every
	 * pool frame for its identity map). */
	return share_table__init(t, pool->nframes, MAX(pool->nframes / 8, 1024));
}

void pageshare__host_exit(struct share_table *t, struct pool *pool)
{
	if (!t->buckets)
		return;
	if (mfn_valid(t->zero_mfn))
		pool__free(pool, t->zero_mfn);
	share_table__exit(t);
}

int pageshare__vm_init(struct share_vm *s, struct vm *vm, struct share_table *t,
		       uint64_t rate, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->t = t;
	s->rate = rate;
	if (rate) {
		pthread_mutex_lock(&t->lock);
		if (!mfn_valid(t->zero_mfn)) {
			mfn_t zero = pool__alloc(vm->pmap.pool);
			if (mfn_valid(zero))
				share_table__set_zero(t, zero, page_hash(pool__ptr(vm->pmap.pool, zero)));
		}
		pthread_mutex_unlock(&t->lock);
		if (!mfn_valid(t->zero_mfn))
			return -ENOMEM;
	}
	s->rng = (seed * 0x9e3779b97f4a7c15ULL) | 1;
	new_pass(s);
	s->last_ns = now_ns();
	vm->pmap.share = &share_ops;
	vm->pmap.share_ctx = s;
	return 0;
}

void pageshare__vm_exit(struct share_vm *s)
{
	if (!s->t)
		return;
	pthread_mutex_lock(&s->t->lock);
	share_table__drop_owner(s->t, s);
	pthread_mutex_unlock(&s->t->lock);
	s->t = NULL;
}

uint64_t pageshare__idle_slice(const struct share_vm *s)
{
	return s->rate ? SHARE_IDLE_SLICE_NS : UINT64_MAX;
}

void pageshare__tick(struct share_vm *s, struct vcpu *vcpu)
{
	struct share_table *t = s->t;
	uint64_t asked[SHARE_QUEUE];
	unsigned nasked = 0;

	if (!s->rate || !t)
		return;
	uint64_t now = now_ns();
	s->tokens += (double)(now - s->last_ns) * (double)s->rate / 1e9;
	s->last_ns = now;
	if (s->tokens > (double)s->rate)
		s->tokens = (double)s->rate;      /* at most one second of backlog */
	if (s->tokens < 1.0)
		return;
	struct timespec c0, c1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	pthread_mutex_lock(&t->lock);
	while (s->qtail != s->qhead)
		asked[nasked++] = s->queue[(s->qtail++) % SHARE_QUEUE];
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 0; i < nasked; i++)
		if (asked[i] < s->vm->pmap.nframes)
			pageshare__scan_page(s, GFN(asked[i]));
	unsigned n = (unsigned)MIN(s->tokens, (double)SHARE_BATCH_MAX);
	for (unsigned i = 0; i < n; i++)
		pageshare__scan_page(s, next_gfn(s));
	s->tokens -= n;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	s->st.scan_cpu_ns += (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000ULL +
			     (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
	if (s->flush) {
		/* One flush for the whole batch. */
		s->flush = false;
		paging__flush_unmapped(vcpu);
	}
}

void pageshare__print_vm_stats(const struct share_vm *s, const char *who, FILE *f)
{
#define P(x) fprintf(f, "%s.share.%s %llu\n", who, #x, (unsigned long long)s->st.x)
	P(scanned); P(skipped); P(merged); P(zero_merged); P(hints_added); P(promoted);
	P(cow_breaks); P(cow_copies); P(collisions); P(stale_hints); P(requeued); P(scan_cpu_ns); P(cow_cpu_ns);
#undef P
	fprintf(f, "%s.share.shared %llu\n", who, (unsigned long long)s->vm->pmap.shared_frames);
	fprintf(f, "%s.share.rate %llu\n", who, (unsigned long long)s->rate);
}

void pageshare__print_host_stats(struct share_table *t, FILE *f)
{
	pthread_mutex_lock(&t->lock);
	uint64_t frames = t->st.frames + (t->zero_refs ? 1 : 0);
	uint64_t refs = t->st.refs + t->zero_refs;
	uint64_t hints = t->st.hints, zero = t->zero_refs, over = t->st.overflows;
	pthread_mutex_unlock(&t->lock);
	/* KSM's names: pages_shared = frames in use, pages_sharing = references saved. */
	fprintf(f, "host.share.pages_shared %llu\n", (unsigned long long)frames);
	fprintf(f, "host.share.pages_sharing %llu\n", (unsigned long long)(refs - frames));
	fprintf(f, "host.share.zero_refs %llu\n", (unsigned long long)zero);
	fprintf(f, "host.share.hints %llu\n", (unsigned long long)hints);
	fprintf(f, "host.share.overflow_counts %llu\n", (unsigned long long)over);
	fprintf(f, "host.share.shared_mib %.1f\n", (double)refs * PAGE_SIZE / (1 << 20));
	fprintf(f, "host.share.common_mib %.1f\n", (double)frames * PAGE_SIZE / (1 << 20));
	fprintf(f, "host.share.saved_mib %.1f\n", (double)(refs - frames) * PAGE_SIZE / (1 << 20));
}
