/*
 * mmu.c: shadow pages, their hash, parent links and reverse map, roots, fills, zaps and
 * reclaim (see mmu.h). The exit path (src/vmm/paging.c) decides when to call what; this
 * file owns the real tables' contents.
 *
 * Real table levels against guest levels (the real CPU always walks four):
 *   IA-32e  real level L shadows guest level L
 *   PAE     real 4 and 3 are pseudo (PML4 entry 0 -> PDPT whose 4 entries follow the
 *           guest's PDPTEs), real 2 and 1 shadow the guest PD and PT
 *   32-bit  real 4 and 3 are pseudo; real PDPT entry q points to quadrant q of the
 *           guest PD (256 guest PDEs of 4 MiB = 512 real PDEs of 2 MiB); a guest PT
 *           (1024 x 4 KiB) is shadowed by two level-1 pages, quadrants 0 and 1
 * A guest large page is shadowed by "direct" tables of 4 KiB leaves: machine frames
 * are not contiguous, so a real large page is never used for guest memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmu.h"
#include "monitor.h"

static unsigned bucket(gfn_t g) { return (unsigned)(g.v % MMU_HASH_SIZE); }

/* ---- small vectors: parents and reverse map ---- */

static int vec_add(uint64_t ***v, unsigned *n, unsigned *cap, uint64_t *e)
{
	if (*n == *cap) {
		unsigned nc = *cap ? *cap * 2 : 4;
		uint64_t **nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = e;
	return 0;
}

static void vec_del(uint64_t **v, unsigned *n, uint64_t *e)
{
	for (unsigned i = 0; i < *n; i++) {
		if (v[i] == e) {
			v[i] = v[--*n];
			return;
		}
	}
}

static int rmap_add(struct mmu *m, gfn_t g, uint64_t *e)
{
	struct rmap *r = &m->rmap[g.v];
	return vec_add(&r->sptes, &r->n, &r->cap, e);
}

static void rmap_del(struct mmu *m, gfn_t g, uint64_t *e)
{
	if (pmap__in_ram(m->pmap, g))
		vec_del(m->rmap[g.v].sptes, &m->rmap[g.v].n, e);
}

unsigned mmu__rmap_count(const struct mmu *m, gfn_t g)
{
	return pmap__in_ram(m->pmap, g) ? m->rmap[g.v].n : 0;
}

static struct shadow_page *sp_of_entry(struct mmu *m, uint64_t e)
{
	return m->by_mfn[pte_mfn(e).v];
}

/* ---- LRU ---- */

static void lru_unlink(struct shadow_page *sp)
{
	if (sp->lru_next) {
		sp->lru_prev->lru_next = sp->lru_next;
		sp->lru_next->lru_prev = sp->lru_prev;
	}
	sp->lru_prev = sp->lru_next = NULL;
}

static void lru_touch(struct mmu *m, struct shadow_page *sp)
{
	lru_unlink(sp);
	sp->lru_next = m->lru.lru_next;
	sp->lru_prev = &m->lru;
	m->lru.lru_next->lru_prev = sp;
	m->lru.lru_next = sp;
}

/* ---- write protection of guest tables ---- */

void mmu__write_protect(struct mmu *m, gfn_t g)
{
	struct rmap *r = &m->rmap[g.v];
	for (unsigned i = 0; i < r->n; i++) {
		uint64_t *e = r->sptes[i];
		if (*e & PTE_RW)
			m->flush_needed = true;
		*e &= ~(PTE_RW | SPTE_MMU_WRITABLE);
	}
	m->stats.protect_flushes += r->n ? 1 : 0;
}

static void track(struct mmu *m, gfn_t g)
{
	struct pmap_entry *pe = &m->pmap->e[g.v];
	if (pe->state == PPN_SHARED) {
		/* A guest table is never shared: the walker and shade's own writes must
		 * reach this VM's copy only. */
		int err = 0;
		pmap__touch_write(m->pmap, g, &err);
	}
	if (pe->trace_refs++ == 0) {
		pe->flags |= PPN_F_PT;
		mmu__write_protect(m, g);
	}
}

/* Writable leaves come back lazily: the next write faults, finds the frame untracked,
 * and refills writable. */
static void untrack(struct mmu *m, gfn_t g)
{
	struct pmap_entry *pe = &m->pmap->e[g.v];
	if (pe->trace_refs && --pe->trace_refs == 0)
		pe->flags &= (uint8_t)~PPN_F_PT;
	(void)m;
}

/* ---- shadow pages ---- */

static void zap_sp(struct mmu *m, struct shadow_page *sp);

static void unlink_entry(struct mmu *m, struct shadow_page *sp, unsigned i)
{
	uint64_t *e = &sp->spt[i];
	if (!(*e & PTE_P) || (sp->role.level == 4 && i == MON_PML4_SLOT))
		return;     /* the monitor's link is not the guest's to change */
	if (sp->role.level == 1) {
		rmap_del(m, GFN(sp->gfns[i]), e);
	} else {
		struct shadow_page *child = sp_of_entry(m, *e);
		if (child) {
			vec_del(child->parents, &child->nparents, e);
			if (!child->nparents && !child->root_count)
				zap_sp(m, child);
		}
	}
	*e = 0;
	m->flush_needed = true;
}

static void hash_del(struct mmu *m, struct shadow_page *sp)
{
	struct shadow_page **pp = &m->hash[bucket(sp->gfn)];
	for (; *pp; pp = &(*pp)->hash_next) {
		if (*pp == sp) {
			*pp = sp->hash_next;
			return;
		}
	}
}

static void zap_sp(struct mmu *m, struct shadow_page *sp)
{
	for (unsigned i = 0; i < 512; i++) {
		if (sp->role.level == 4 && i == MON_PML4_SLOT)
			continue;     /* the monitor's subtree is the monitor's */
		unlink_entry(m, sp, i);
	}
	while (sp->nparents) {
		uint64_t *p = sp->parents[--sp->nparents];
		*p = 0;
	}
	if (sp->pdpt) {
		sp->pdpt->root_count = 0;
		zap_sp(m, sp->pdpt);
	}
	hash_del(m, sp);
	lru_unlink(sp);
	if (!sp->role.direct && !sp->role.pseudo)
		untrack(m, sp->gfn);
	m->by_mfn[sp->mfn.v] = NULL;
	pool__free(m->pool, sp->mfn);
	free(sp->parents);
	free(sp->gfns);
	free(sp);
	m->npages--;
	m->stats.sp_zapped++;
	m->flush_needed = true;
}

static void reclaim(struct mmu *m)
{
	struct shadow_page *sp = m->lru.lru_prev;
	while (m->npages >= m->max_pages && sp != &m->lru) {
		struct shadow_page *prev = sp->lru_prev;
		if (!sp->root_count && !sp->role.pseudo) {
			zap_sp(m, sp);
			m->stats.sp_reclaimed++;
			/* a zap may free neighbours: start again from the tail */
			prev = m->lru.lru_prev;
		}
		sp = prev;
	}
}

static struct shadow_page *find_sp(struct mmu *m, gfn_t g, union sp_role role)
{
	for (struct shadow_page *sp = m->hash[bucket(g)]; sp; sp = sp->hash_next)
		if (sp->gfn.v == g.v && sp->role.word == role.word)
			return sp;
	return NULL;
}

static struct shadow_page *get_sp(struct mmu *m, gfn_t g, union sp_role role, bool hashed)
{
	struct shadow_page *sp = hashed ? find_sp(m, g, role) : NULL;
	if (sp)
		return sp;
	if (m->npages >= m->max_pages)
		reclaim(m);
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->mfn = pool__alloc(m->pool);
	if (!mfn_valid(sp->mfn) && m->npages > 64) {
		/* Machine memory is short: give back our own least recently used tables
		 * first: 16 from the LRU tail (the pages of the path being filled were
		 * just touched and stay). */
		unsigned cap = m->max_pages;
		m->max_pages = m->npages - 16;
		reclaim(m);
		m->max_pages = cap;
		sp->mfn = pool__alloc(m->pool);
	}
	if (!mfn_valid(sp->mfn)) {
		/* Then as any allocation of the VM: the swap layer may reclaim the VM's own
		 * pages before it waits for another VM's. (A bare wait on the pool here hung
		 * every VM of an overcommitted host at once, each filling its shadow.) */
		int err = 0;
		sp->mfn = pmap__alloc_frame(m->pmap, &err);
		if (!mfn_valid(sp->mfn)) {
			free(sp);
			return NULL;
		}
	}
	if (role.level == 1 && !(sp->gfns = calloc(512, sizeof(uint64_t)))) {
		pool__free(m->pool, sp->mfn);
		free(sp);
		return NULL;
	}
	sp->gfn = g;
	sp->role = role;
	sp->spt = pool__ptr(m->pool, sp->mfn);
	m->by_mfn[sp->mfn.v] = sp;
	if (hashed) {
		sp->hash_next = m->hash[bucket(g)];
		m->hash[bucket(g)] = sp;
	}
	lru_touch(m, sp);
	m->npages++;
	m->stats.sp_alloc++;
	if (!role.direct && !role.pseudo)
		track(m, g);
	return sp;
}

int mmu__init(struct mmu *m, struct pool *pool, struct pmap *pmap, struct monitor *mon,
	      unsigned max_pages)
{
	memset(m, 0, sizeof(*m));
	m->pool = pool;
	m->pmap = pmap;
	m->mon = mon;
	m->max_pages = max_pages;
	m->lru.lru_next = m->lru.lru_prev = &m->lru;
	m->rmap = calloc(pmap->nframes, sizeof(*m->rmap));
	m->by_mfn = calloc(pool->nframes, sizeof(*m->by_mfn));
	if (!m->rmap || !m->by_mfn) {
		free(m->rmap);
		free(m->by_mfn);
		m->rmap = NULL;
		return -ENOMEM;
	}
	return 0;
}

void mmu__reset(struct mmu *m)
{
	for (unsigned i = 0; i < MMU_ROOT_CACHE; i++) {
		if (m->roots[i])
			m->roots[i]->root_count--;
		m->roots[i] = NULL;
	}
	for (unsigned b = 0; b < MMU_HASH_SIZE; b++)
		while (m->hash[b])
			zap_sp(m, m->hash[b]);
	m->stats.resets++;
}

void mmu__exit(struct mmu *m)
{
	if (!m->rmap)
		return;
	mmu__reset(m);
	for (uint64_t g = 0; g < m->pmap->nframes; g++)
		free(m->rmap[g].sptes);
	free(m->rmap);
	free(m->by_mfn);
	m->rmap = NULL;
	m->by_mfn = NULL;
}

/* ---- roots ---- */

static union sp_role base_role(const struct walk_env *env, unsigned level)
{
	union sp_role r = { .word = 0 };
	r.level = level;
	r.mode = env->mode;
	r.wp = env->wp;
	r.nxe = env->nxe;
	return r;
}

static gfn_t root_key(const struct walk_env *env)
{
	/* PAE CR3 is 32-byte aligned: key the pseudo root by the whole value. */
	return GFN(env->mode == PG_PAE ? (env->cr3 & 0xffffffe0ULL) >> 5 : env->cr3 >> PAGE_SHIFT);
}

static int link_monitor(struct mmu *m, struct shadow_page *root)
{
	root->spt[MON_PML4_SLOT] = mfn_to_ma(m->mon->pdpt) | PTE_P | PTE_RW | PTE_US | PTE_A;
	return 0;
}

int mmu__load_root(struct mmu *m, const struct walk_env *env, mfn_t *out)
{
	union sp_role role = base_role(env, 4);
	bool pseudo = env->mode != PG_LM4;
	role.pseudo = pseudo;
	gfn_t key = root_key(env);
	struct shadow_page *root = NULL;
	unsigned i;

	m->stats.cr3_switches++;
	for (i = 0; i < MMU_ROOT_CACHE; i++) {
		struct shadow_page *r = m->roots[i];
		if (r && r->gfn.v == key.v && r->role.word == role.word) {
			root = r;
			break;
		}
	}
	if (root) {
		m->stats.root_hits++;
		memmove(&m->roots[1], &m->roots[0], i * sizeof(m->roots[0]));
		m->roots[0] = root;
	} else {
		m->stats.root_misses++;
		root = get_sp(m, key, role, true);
		if (!root)
			return -ENOMEM;
		if (pseudo && !root->pdpt) {
			union sp_role pr = role;
			pr.level = 3;
			root->pdpt = get_sp(m, key, pr, false);
			if (!root->pdpt)
				return -ENOMEM;
			root->pdpt->root_count = 1;
			root->spt[0] = spte__make_table(root->pdpt->mfn, true, true, false);
			if (vec_add(&root->pdpt->parents, &root->pdpt->nparents,
				    &root->pdpt->parents_cap, &root->spt[0]))
				return -ENOMEM;
		}
		link_monitor(m, root);
		struct shadow_page *old = m->roots[MMU_ROOT_CACHE - 1];
		memmove(&m->roots[1], &m->roots[0], (MMU_ROOT_CACHE - 1) * sizeof(m->roots[0]));
		m->roots[0] = root;
		root->root_count++;
		if (old && --old->root_count == 0 && !old->nparents)
			zap_sp(m, old);
	}
	/* PAE PDPTEs are registers loaded with CR3: whatever they pointed to before may have
	 * changed, so the pseudo PDPT is refilled lazily from the loaded values. */
	if (env->mode == PG_PAE)
		for (unsigned q = 0; q < 4; q++)
			unlink_entry(m, root->pdpt, q);
	lru_touch(m, root);
	*out = root->mfn;
	return 0;
}

/* ---- fill ---- */

struct child {
	gfn_t gfn;
	union sp_role role;
	bool hashed;
	bool user, writable, nx;     /* rights of the real entry pointing at it */
};

static uint64_t guest_table_gfn(const struct walk_env *env, uint64_t e)
{
	return env->mode == PG_32 ? (e & 0xfffff000ULL) >> 12
				  : (e & ((1ULL << env->maxphyaddr) - 1) & ~0xfffULL) >> 12;
}

/* The role rights of a direct table under a guest large page: as KVM does, W only
 * once the guest's entry is dirty, so that leaves made under a clean entry (read-only,
 * to catch the first write) and under a dirty one never share a table. */
static unsigned direct_access(const struct walk *w)
{
	bool dirty = w->pte[w->leaf] & PTE_D;
	return (w->user ? 1 : 0) | (w->writable && dirty ? 2 : 0) | (w->nx ? 4 : 0);
}

/* What the real entry at `level` for va points to: the shadow of the guest's next table
 * (with its rights), a pseudo PDPT's target, or a direct table under a guest large page
 * (keyed by the first frame it maps, with the large page's rights in its role). */
static void child_for(const struct walk_env *env, const struct walk *w, uint64_t va,
		      unsigned level, struct child *c)
{
	enum paging_mode mode = env->mode;
	c->role = base_role(env, level - 1);
	c->hashed = true;
	c->user = c->writable = true;
	c->nx = false;

	if (mode == PG_PAE && level == 3) {
		c->gfn = GFN(guest_table_gfn(env, env->pdpte[(va >> 30) & 3]));
		return;                             /* PDPTEs carry no rights */
	}
	if (mode == PG_32 && level == 3) {
		c->gfn = GFN(env->cr3 >> 12);
		c->role.quadrant = (va >> 30) & 3;
		return;
	}
	uint64_t span = 1ULL << (12 + 9 * (level - 1));
	if (level < w->leaf) {
		/* Inside a direct split of a large page: the leaves below carry the rights
		 * (the walk read no guest entry at this level). */
		c->gfn = GFN((w->gpa.v & ~(span - 1)) >> 12);
		c->role.direct = 1;
		c->role.access = direct_access(w);
		return;
	}
	uint64_t ge = w->pte[level];
	c->user = ge & PTE_US;
	c->writable = !env->wp || (ge & PTE_RW);
	c->nx = mode != PG_32 && env->nxe && (ge & PTE_NX);
	if (level > w->leaf) {
		c->gfn = GFN(guest_table_gfn(env, ge));
		if (mode == PG_32 && level == 2)
			c->role.quadrant = (va >> 21) & 1;
		return;
	}
	c->gfn = GFN((w->gpa.v & ~(span - 1)) >> 12);
	c->role.direct = 1;
	c->role.access = direct_access(w);
}

int mmu__fill(struct mmu *m, const struct walk_env *env, uint64_t va, const struct walk *w,
	      uint32_t access)
{
	struct shadow_page *sp = m->roots[0];
	if (!sp)
		return -EINVAL;
	if (env->mode == PG_LM4 && pt_index(va, 4) == MON_PML4_SLOT)
		return -EADDRINUSE;

	for (unsigned level = 4; level > 1; level--) {
		uint64_t *e = &sp->spt[pt_index(va, level)];
		struct shadow_page *child = NULL;
		if (level == 4 && env->mode != PG_LM4) {
			/* Pseudo PML4 of a 32-bit/PAE guest: entry 0 is its own PDPT. */
			child = sp->pdpt;
			if (!(*e & PTE_P)) {
				*e = spte__make_table(child->mfn, true, true, false);
				if (vec_add(&child->parents, &child->nparents, &child->parents_cap, e))
					return -ENOMEM;
			}
		} else if ((*e & PTE_P) && (child = sp_of_entry(m, *e)) && !child->role.direct) {
			/* A guest table's shadow: coherent by write tracking. */
		} else {
			struct child c;
			child_for(env, w, va, level, &c);
			if (*e & PTE_P) {
				/* A direct table made for other rights (the guest's large page
				 * became dirty, or another large page is mapped here): replace. */
				if (child && child->gfn.v == c.gfn.v && child->role.word == c.role.word)
					goto next;
				unlink_entry(m, sp, pt_index(va, level));
			}
			child = get_sp(m, c.gfn, c.role, c.hashed);
			if (!child)
				return -ENOMEM;
			*e = spte__make_table(child->mfn, c.user, c.writable, c.nx);
			if (vec_add(&child->parents, &child->nparents, &child->parents_cap, e)) {
				*e = 0;
				return -ENOMEM;
			}
		}
next:
		child->writes = 0;
		lru_touch(m, child);
		sp = child;
	}

	gfn_t g = gpa_to_gfn(w->gpa);
	int err = 0;
	/* A write to a shared frame gets its private copy here (pageshare's cow op). */
	mfn_t f = (access & PFERR_W) ? pmap__touch_write(m->pmap, g, &err)
					 : pmap__touch(m->pmap, g, &err);
	if (!mfn_valid(f))
		return err;
	unsigned i = pt_index(va, 1);
	uint64_t *e = &sp->spt[i];
	if (*e & PTE_P)
		rmap_del(m, GFN(sp->gfns[i]), e);
	struct spte_rights r = {
		.user = w->user,
		.writable = w->writable,
		.nx = w->nx,
		.dirty = w->pte[w->leaf] & PTE_D,
		.kernel_write_wp0 = !env->wp && (access & PFERR_W) && !(access & PFERR_U) &&
				    !w->writable,
	};
	bool host_w = m->pmap->e[g.v].state == PPN_PRIVATE;
	*e = spte__make_leaf(f, &r, host_w, !mmu__tracked(m, g));
	sp->gfns[i] = g.v;
	if (rmap_add(m, g, e)) {
		*e = 0;
		return -ENOMEM;
	}
	m->stats.hidden_faults++;
	return 0;
}

/* ---- invalidation ---- */

void mmu__invlpg(struct mmu *m, uint64_t va)
{
	struct shadow_page *sp = m->roots[0];
	m->stats.invlpg++;
	for (unsigned level = 4; sp && level >= 1; level--) {
		unsigned i = pt_index(va, level);
		uint64_t e = sp->spt[i];
		if (!(e & PTE_P) || (level == 4 && i == MON_PML4_SLOT))
			return;
		if (level == 1) {
			unlink_entry(m, sp, i);
			return;
		}
		struct shadow_page *child = sp_of_entry(m, e);
		if (child && child->role.direct) {
			/* The guest's large page: all of it goes. */
			unlink_entry(m, sp, i);
			return;
		}
		sp = child;
	}
}

unsigned mmu__zap_gfn(struct mmu *m, gfn_t g)
{
	unsigned n = 0;
	struct rmap *r = &m->rmap[g.v];
	while (r->n) {
		uint64_t *e = r->sptes[r->n - 1];
		*e = 0;
		r->n--;
		n++;
	}
	if (n)
		m->flush_needed = true;
	return n;
}

/* Take `root` out of the root cache (it is not the loaded one). */
static void uncache_root(struct mmu *m, struct shadow_page *root)
{
	for (unsigned i = 1; i < MMU_ROOT_CACHE; i++) {
		if (m->roots[i] != root)
			continue;
		memmove(&m->roots[i], &m->roots[i + 1], (MMU_ROOT_CACHE - 1 - i) * sizeof(m->roots[0]));
		m->roots[MMU_ROOT_CACHE - 1] = NULL;
		root->root_count--;
		m->stats.roots_dropped++;
		return;
	}
}

void mmu__guest_wrote(struct mmu *m, gpa_t gpa, unsigned len)
{
	gfn_t g = gpa_to_gfn(gpa);
	unsigned off = (unsigned)(gpa.v & (PAGE_SIZE - 1));
	struct shadow_page *sp = m->hash[bucket(g)];

	m->stats.pt_writes++;
	while (sp) {
		struct shadow_page *next = sp->hash_next;
		if (sp->gfn.v != g.v || sp->role.direct || sp->role.pseudo) {
			sp = next;
			continue;
		}
		unsigned es = sp->role.mode == PG_32 ? 4 : 8;
		bool misaligned = (off % es) + len > es && len <= es;
		/* A string write counts once per entry it covers. */
		sp->writes += (len + es - 1) / es;
		if (sp->writes > MMU_UNSHADOW_WRITES || misaligned) {
			/* A cached root the guest is not running on may go too (a freed
			 * address space whose PML4 frame is being reused). */
			if (sp->root_count && sp != m->roots[0])
				uncache_root(m, sp);
			if (!sp->root_count) {
				/* Not (or no longer) a page table: stop shadowing it. */
				m->stats.sp_unshadowed++;
				zap_sp(m, sp);
				sp = next;
				continue;
			}
		}
		for (unsigned gi = off / es; gi <= (off + len - 1) / es && gi < PAGE_SIZE / es; gi++) {
			if (sp->role.mode != PG_32) {
				unlink_entry(m, sp, gi);
			} else if (sp->role.level == 1) {
				if (gi / 512 == sp->role.quadrant)
					unlink_entry(m, sp, gi % 512);
			} else if (gi / 256 == sp->role.quadrant) {
				unlink_entry(m, sp, (gi % 256) * 2);
				unlink_entry(m, sp, (gi % 256) * 2 + 1);
			}
		}
		sp = next;
	}
}

void mmu__print_stats(const struct mmu *m, const char *who, FILE *f)
{
#define P(x) fprintf(f, "%s.shadow.%s %llu\n", who, #x, (unsigned long long)m->stats.x)
	P(hidden_faults); P(true_faults); P(pt_writes); P(sp_alloc); P(sp_zapped);
	P(sp_reclaimed); P(sp_unshadowed); P(root_hits); P(root_misses); P(invlpg);
	P(cr3_switches); P(resets); P(roots_dropped);
#undef P
	fprintf(f, "%s.shadow.pages %u\n", who, m->npages);
}
