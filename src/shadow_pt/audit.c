/*
 * audit.c: the shadow MMU's invariants, checked after every shadow operation when the
 * VM runs with --audit (tests do). mmu.c owns the structures; this file only reads them
 * and the guest's tables, never changes either.
 *
 * What must hold:
 *  - every present leaf of a cached root, at the virtual address its position in the
 *    real tree gives, agrees with a walk of the guest's tables: same guest frame, the
 *    pmap's machine frame, no right (U, W, X) the guest's translation lacks, A already
 *    set in every guest entry used, W only when the guest's D is set;
 *  - no writable leaf maps a tracked guest table or a frame that is not privately held,
 *    and both software bits agree with the pmap;
 *  - the reverse map holds exactly the present leaves, each under its own frame;
 *  - parent links, root counts, tracking counts and the page count agree.
 *
 * mmu__audit checks all of it (O(guest frames + shadow leaves)); mmu__audit_va checks
 * one address's path and its frame's reverse map, cheap enough for every fault.
 */
#include <stdlib.h>

#include "mmu.h"
#include "monitor.h"

struct audit {
	struct mmu *m;
	struct walk_env env;
	const struct walk_mem *mem;
	unsigned bad;
	bool needed_ad;          /* the guest walk would have set an A/D bit */
};

#define VIOLATION(a, ...)                                   \
	do {                                                \
		fprintf(stderr, "audit: " __VA_ARGS__);     \
		fputc('\n', stderr);                        \
		(a)->bad++;                                 \
	} while (0)

/* Guest memory for a walk that must not change anything: an A/D update is noted, not
 * made, and the walk carries on as if it had been. */
static int probe_read(void *ctx, gpa_t gpa, void *buf, unsigned len)
{
	struct audit *a = ctx;
	return a->mem->read(a->mem->ctx, gpa, buf, len);
}

static int probe_cmpxchg(void *ctx, gpa_t gpa, uint64_t old, uint64_t new, unsigned len)
{
	struct audit *a = ctx;
	(void)gpa; (void)old; (void)new; (void)len;
	a->needed_ad = true;
	return 0;
}

static uint64_t canonical(uint64_t va)
{
	return (va & BIT(47)) ? va | 0xffff000000000000ULL : va;
}

/* One present leaf at `va`, reached with the real path's combined rights. */
static void check_leaf(struct audit *a, struct shadow_page *sp, unsigned i, uint64_t va,
		       bool user, bool writable, bool nx)
{
	struct mmu *m = a->m;
	uint64_t e = sp->spt[i];
	gfn_t g = GFN(sp->gfns[i]);
	struct walk_mem probe = { probe_read, probe_cmpxchg, a };
	struct walk w;

	user &= (e & PTE_US) != 0;
	writable &= (e & PTE_RW) != 0;
	nx |= (e & PTE_NX) != 0;
	a->needed_ad = false;
	int r = walker__walk(&a->env, &probe, va, 0, &w);
	if (r) {
		VIOLATION(a, "va %#llx is mapped in the shadow but not by the guest (walk %d)",
			  (unsigned long long)va, r);
		return;
	}
	if (gpa_to_gfn(w.gpa).v != g.v)
		VIOLATION(a, "va %#llx: shadow leaf is for gfn %#llx, the guest maps gfn %#llx",
			  (unsigned long long)va, (unsigned long long)g.v,
			  (unsigned long long)gpa_to_gfn(w.gpa).v);
	if (a->needed_ad)
		VIOLATION(a, "va %#llx: mapped while an A bit of the guest's walk is clear",
			  (unsigned long long)va);
	if (user && !w.user)
		VIOLATION(a, "va %#llx: user access allowed, the guest says supervisor",
			  (unsigned long long)va);
	/* CR0.WP=0 lets a supervisor write a read-only page: then the leaf is
	 * supervisor-only (spte__make_leaf). */
	if (writable && !w.writable && (a->env.wp || user))
		VIOLATION(a, "va %#llx: writable, the guest's translation is read-only (leaf "
			  "in the shadow of gfn %#llx%s, guest PTE at %#llx = %#llx)",
			  (unsigned long long)va, (unsigned long long)sp->gfn.v,
			  mmu__tracked(m, sp->gfn) ? ", tracked" : ", NOT tracked",
			  (unsigned long long)w.pte_gpa[w.leaf].v, (unsigned long long)w.pte[w.leaf]);
	if (writable && !(w.pte[w.leaf] & PTE_D))
		VIOLATION(a, "va %#llx: writable while the guest's D bit is clear",
			  (unsigned long long)va);
	if (w.nx && !nx)
		VIOLATION(a, "va %#llx: executable, the guest says no-execute",
			  (unsigned long long)va);
	(void)m;
}

/* The tree below `sp` (the real table at `level` covering `base`). */
static void check_tree(struct audit *a, struct shadow_page *sp, uint64_t base, bool user,
		       bool writable, bool nx, unsigned depth)
{
	unsigned level = sp->role.level;
	if (depth > 4) {
		VIOLATION(a, "shadow tree deeper than four levels");
		return;
	}
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = sp->spt[i];
		if (!(e & PTE_P) || (level == 4 && i == MON_PML4_SLOT))
			continue;
		uint64_t va = canonical(base | ((uint64_t)i << (PAGE_SHIFT + 9 * (level - 1))));
		if (level == 1) {
			check_leaf(a, sp, i, va, user, writable, nx);
			continue;
		}
		struct shadow_page *c = a->m->by_mfn[pte_mfn(e).v];
		if (!c || c->role.level != level - 1) {
			VIOLATION(a, "level-%u entry %u does not point at a level-%u shadow page",
				  level, i, level - 1);
			continue;
		}
		check_tree(a, c, va, user && (e & PTE_US), writable && (e & PTE_RW),
			   nx || (e & PTE_NX), depth + 1);
	}
}

/* Links, rights bits and the reverse map of one shadow page. */
static void check_sp(struct audit *a, struct shadow_page *sp, uint16_t *tracked)
{
	struct mmu *m = a->m;
	for (unsigned k = 0; k < sp->nparents; k++)
		if (!(*sp->parents[k] & PTE_P) || pte_mfn(*sp->parents[k]).v != sp->mfn.v)
			VIOLATION(a, "shadow page of gfn %#llx has a parent that does not point at it",
				  (unsigned long long)sp->gfn.v);
	if (!sp->role.direct && !sp->role.pseudo && pmap__in_ram(m->pmap, sp->gfn))
		tracked[sp->gfn.v]++;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = sp->spt[i];
		if (!(e & PTE_P) || (sp->role.level == 4 && i == MON_PML4_SLOT))
			continue;
		if (sp->role.level > 1) {
			struct shadow_page *c = m->by_mfn[pte_mfn(e).v];
			bool linked = false;
			for (unsigned k = 0; c && k < c->nparents; k++)
				linked |= c->parents[k] == &sp->spt[i];
			if (!linked)
				VIOLATION(a, "level-%u entry %u is not a parent of its child",
					  sp->role.level, i);
			continue;
		}
		gfn_t g = GFN(sp->gfns[i]);
		if (!pmap__in_ram(m->pmap, g)) {
			VIOLATION(a, "leaf for gfn %#llx outside guest RAM", (unsigned long long)g.v);
			continue;
		}
		bool in_rmap = false;
		for (unsigned k = 0; k < m->rmap[g.v].n; k++)
			in_rmap |= m->rmap[g.v].sptes[k] == &sp->spt[i];
		if (!in_rmap)
			VIOLATION(a, "leaf for gfn %#llx missing from the rmap", (unsigned long long)g.v);
		if (pte_mfn(e).v != pmap__lookup(m->pmap, g).v)
			VIOLATION(a, "leaf for gfn %#llx maps mfn %#llx, the pmap says %#llx",
				  (unsigned long long)g.v, (unsigned long long)pte_mfn(e).v,
				  (unsigned long long)pmap__lookup(m->pmap, g).v);
		bool private = m->pmap->e[g.v].state == PPN_PRIVATE;
		if (!!(e & SPTE_HOST_WRITABLE) != private)
			VIOLATION(a, "leaf for gfn %#llx: host-writable bit %d, frame %s",
				  (unsigned long long)g.v, !!(e & SPTE_HOST_WRITABLE),
				  private ? "private" : "not private");
		if ((e & SPTE_MMU_WRITABLE) && mmu__tracked(m, g))
			VIOLATION(a, "leaf for tracked gfn %#llx is marked MMU-writable",
				  (unsigned long long)g.v);
		if ((e & PTE_RW) && (!(e & SPTE_HOST_WRITABLE) || !(e & SPTE_MMU_WRITABLE) ||
				     mmu__tracked(m, g)))
			VIOLATION(a, "writable leaf for gfn %#llx that must be read-only",
				  (unsigned long long)g.v);
	}
}

/* The monitor must stay reachable from every root the vCPU may run on: without it the
 * next trap finds no IDT, no stack, and the real CPU double- or triple-faults. */
static void check_monitor_link(struct audit *a, struct shadow_page *root)
{
	struct mmu *m = a->m;
	uint64_t e = root->spt[MON_PML4_SLOT];
	if (!(e & PTE_P) || pte_mfn(e).v != m->mon->pdpt.v)
		VIOLATION(a, "root of gfn %#llx does not link the monitor (entry %#llx)",
			  (unsigned long long)root->gfn.v, (unsigned long long)e);
	if (!pool__allocated(m->pool, root->mfn))
		VIOLATION(a, "root of gfn %#llx lives in a free machine frame %#llx",
			  (unsigned long long)root->gfn.v, (unsigned long long)root->mfn.v);
}

static void check_roots(struct audit *a)
{
	struct mmu *m = a->m;
	uint64_t cr3 = a->env.cr3;
	for (unsigned r = 0; r < MMU_ROOT_CACHE; r++) {
		struct shadow_page *root = m->roots[r];
		unsigned held = 0;
		if (!root)
			continue;
		for (unsigned k = 0; k < MMU_ROOT_CACHE; k++)
			held += m->roots[k] == root;
		if (root->root_count != held)
			VIOLATION(a, "root of gfn %#llx: root count %u, held %u times",
				  (unsigned long long)root->gfn.v, root->root_count, held);
		check_monitor_link(a, root);
		/* A PAE root's PDPTEs are the loaded registers: only the current one can be
		 * compared with a walk. Other roots are keyed by their CR3's frame. */
		if (a->env.mode == PG_PAE && r != 0)
			continue;
		if (a->env.mode != PG_PAE)
			a->env.cr3 = (cr3 & 0xfff) | (root->gfn.v << PAGE_SHIFT);
		check_tree(a, root, 0, true, true, false, 0);
	}
	a->env.cr3 = cr3;
}

unsigned mmu__audit(struct mmu *m, const struct walk_env *env, const struct walk_mem *mem)
{
	struct audit a = { .m = m, .env = *env, .mem = mem };
	uint16_t *tracked = calloc(m->pmap->nframes, sizeof(*tracked));
	unsigned npages = 0;

	if (!tracked) {
		fprintf(stderr, "audit: out of memory\n");
		return 1;
	}
	for (unsigned b = 0; b < MMU_HASH_SIZE; b++)
		for (struct shadow_page *sp = m->hash[b]; sp; sp = sp->hash_next) {
			check_sp(&a, sp, tracked);
			npages++;
			if (sp->pdpt) {
				check_sp(&a, sp->pdpt, tracked);
				npages++;
			}
		}
	check_roots(&a);
	for (uint64_t g = 0; g < m->pmap->nframes; g++) {
		const struct pmap_entry *pe = &m->pmap->e[g];
		if (pe->trace_refs < tracked[g])
			VIOLATION(&a, "gfn %#llx: %u shadow pages, tracking count %u",
				  (unsigned long long)g, tracked[g], pe->trace_refs);
		if (!!(pe->flags & PPN_F_PT) != (pe->trace_refs > 0))
			VIOLATION(&a, "gfn %#llx: tracked flag and count (%u) disagree",
				  (unsigned long long)g, pe->trace_refs);
		for (unsigned i = 0; i < m->rmap[g].n; i++) {
			uint64_t *e = m->rmap[g].sptes[i];
			mfn_t f = MFN(((uint8_t *)e - m->pool->base) >> PAGE_SHIFT);
			struct shadow_page *sp = m->by_mfn[f.v];
			unsigned idx = (unsigned)(e - (uint64_t *)pool__ptr(m->pool, f));
			if (!(*e & PTE_P))
				VIOLATION(&a, "rmap of gfn %#llx holds an absent entry",
					  (unsigned long long)g);
			else if (!sp || sp->role.level != 1 || sp->gfns[idx] != g)
				VIOLATION(&a, "rmap of gfn %#llx holds an entry that is not its leaf",
					  (unsigned long long)g);
		}
	}
	if (npages != m->npages)
		VIOLATION(&a, "%u shadow pages hashed, %u counted", npages, m->npages);
	free(tracked);
	return a.bad;
}

unsigned mmu__audit_va(struct mmu *m, const struct walk_env *env, const struct walk_mem *mem,
		       uint64_t va)
{
	struct audit a = { .m = m, .env = *env, .mem = mem };
	struct shadow_page *sp = m->roots[0];
	bool user = true, writable = true, nx = false;

	if (sp)
		check_monitor_link(&a, sp);

	for (unsigned level = 4; sp && level >= 1; level--) {
		unsigned i = pt_index(va, level);
		uint64_t e = sp->spt[i];
		if (!(e & PTE_P) || (level == 4 && i == MON_PML4_SLOT))
			break;
		if (level == 1) {
			check_leaf(&a, sp, i, canonical(va & PAGE_MASK), user, writable, nx);
			gfn_t g = GFN(sp->gfns[i]);
			bool in_rmap = false;
			for (unsigned k = 0; pmap__in_ram(m->pmap, g) && k < m->rmap[g.v].n; k++)
				in_rmap |= m->rmap[g.v].sptes[k] == &sp->spt[i];
			if (!in_rmap)
				VIOLATION(&a, "leaf for va %#llx missing from the rmap",
					  (unsigned long long)va);
			break;
		}
		user &= (e & PTE_US) != 0;
		writable &= (e & PTE_RW) != 0;
		nx |= (e & PTE_NX) != 0;
		sp = m->by_mfn[pte_mfn(e).v];
	}
	return a.bad;
}
