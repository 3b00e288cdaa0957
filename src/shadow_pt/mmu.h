/*
 * mmu.h: the shadow MMU: real page tables that map guest-virtual pages straight to
 * machine frames (VPN -> MPN), built on demand from the guest's own tables (VPN -> PPN,
 * read with the walker) composed with the pmap (PPN -> MPN).
 *
 * A shadow page shadows one guest table (or, "direct", the part of a guest large page
 * that one real table covers) and is identified by (guest frame, role); it is found in a
 * hash, shared by every root that reaches it, and knows the entries that point at it
 * (parents). A reverse map lists, per guest frame, the shadow leaves that map it: it
 * write-protects a frame that becomes a guest page table, and zaps. Roots are cached per
 * guest CR3. The real CPU always walks four levels, so 32-bit and PAE guests get pseudo
 * roots (a PML4 and a PDPT that shadow no guest table) above their shadowed tables.
 */
#ifndef SHADE_MMU_H
#define SHADE_MMU_H

#include <stdio.h>

#include "pmap.h"
#include "spte.h"
#include "walk.h"

struct monitor;

/* The role of a shadow page: what it shadows and how. Two shadow pages of one guest
 * frame differ in role (32-bit quadrants, direct splits, CR0.WP). */
union sp_role {
	struct {
		unsigned level : 3;     /* real level 1..4 */
		unsigned mode : 2;      /* enum paging_mode of the guest */
		unsigned quadrant : 2;  /* 32-bit guests: which part of the guest table */
		unsigned direct : 1;    /* shadows a guest large page, not a guest table */
		unsigned pseudo : 1;    /* 32-bit/PAE root levels: no guest table */
		unsigned wp : 1;        /* guest CR0.WP */
		unsigned nxe : 1;       /* guest EFER.NXE */
		unsigned access : 3;    /* direct: the large page's rights (U, W, NX) */
	};
	uint32_t word;
};

struct shadow_page {
	gfn_t gfn;                        /* the guest table (or the large page's first frame) */
	union sp_role role;
	mfn_t mfn;                        /* the real table */
	uint64_t *spt;                    /* its entries */
	uint64_t *gfns;                   /* level 1: the guest frame behind each leaf */
	struct shadow_page *hash_next;
	struct shadow_page *lru_prev, *lru_next;
	uint64_t **parents;               /* entries that point at this table */
	unsigned nparents, parents_cap;
	unsigned root_count;              /* roots (cached or loaded) holding it */
	unsigned writes;                  /* guest writes since it was last used for a fill */
	struct shadow_page *pdpt;         /* pseudo PML4 of 32-bit/PAE roots: its PDPT */
};

struct rmap {
	uint64_t **sptes;
	unsigned n, cap;
};

struct mmu_stats {
	uint64_t hidden_faults, true_faults, pt_writes, sp_alloc, sp_zapped, sp_reclaimed,
		 sp_unshadowed, root_hits, root_misses, invlpg, cr3_switches, resets,
		 protect_flushes, roots_dropped;
};

#define MMU_HASH_SIZE 1024
#define MMU_ROOT_CACHE 8
#define MMU_UNSHADOW_WRITES 64

struct mmu {
	struct pool *pool;
	struct pmap *pmap;
	struct monitor *mon;
	struct shadow_page *hash[MMU_HASH_SIZE];
	struct shadow_page lru;           /* sentinel: most recently used after it */
	unsigned npages, max_pages;
	struct rmap *rmap;                /* per guest frame */
	struct shadow_page **by_mfn;      /* per pool frame: the shadow page living there */
	struct shadow_page *roots[MMU_ROOT_CACHE];   /* [0] is the loaded one */
	uint64_t root_cr3[MMU_ROOT_CACHE];
	bool flush_needed;                /* a present entry was downgraded */
	struct mmu_stats stats;
};

int mmu__init(struct mmu *m, struct pool *pool, struct pmap *pmap, struct monitor *mon,
	      unsigned max_pages);
void mmu__exit(struct mmu *m);

/* Drop every shadow page (paging mode, CR0.WP, CR4.PSE/PAE/PGE or EFER.NXE changed). */
void mmu__reset(struct mmu *m);

/* Load the root for the guest's CR3 (cached if seen before); its real table address. */
int mmu__load_root(struct mmu *m, const struct walk_env *env, mfn_t *root);

/* Install the shadow path for a successful walk of `va` (a hidden fault). */
int mmu__fill(struct mmu *m, const struct walk_env *env, uint64_t va, const struct walk *w,
	      uint32_t access);

/* INVLPG: forget the shadow translation of `va`. */
void mmu__invlpg(struct mmu *m, uint64_t va);

/* The guest wrote [gpa, gpa+len) of a frame the MMU shadows: zap what it invalidates;
 * a frame written too often without being walked stops being shadowed. */
void mmu__guest_wrote(struct mmu *m, gpa_t gpa, unsigned len);

/* Whether a guest frame is shadowed as a page table (its writes must be seen). */
static inline bool mmu__tracked(const struct mmu *m, gfn_t g)
{
	return pmap__traced(m->pmap, g);
}

/* Reverse-map services for the memory-management layers and the auditor. */
void mmu__write_protect(struct mmu *m, gfn_t g);
unsigned mmu__zap_gfn(struct mmu *m, gfn_t g);
unsigned mmu__rmap_count(const struct mmu *m, gfn_t g);

void mmu__print_stats(const struct mmu *m, const char *who, FILE *f);

/* Check the invariants (audit mode): returns the number of violations, each printed.
 * mmu__audit checks everything; mmu__audit_va only the shadow path of one address. */
unsigned mmu__audit(struct mmu *m, const struct walk_env *env, const struct walk_mem *mem);
unsigned mmu__audit_va(struct mmu *m, const struct walk_env *env, const struct walk_mem *mem,
		       uint64_t va);

/* --audit runs the full check after every MMU_AUDIT_FULL_EVERY-th operation and at
 * every CR3 load, and the one-address check after every other operation. */
#define MMU_AUDIT_FULL_EVERY 256

#endif
