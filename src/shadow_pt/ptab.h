/*
 * ptab.h: real x86-64 page tables in machine memory: the only tables the real MMU walks.
 *
 * This is the low layer of the shadow MMU: it knows the 4-level format and how to get a
 * table frame from the pool, nothing about guests. The shadow code (and, while the guest
 * has paging off, the physical map in physmap.c) decides what goes in the leaves.
 */
#ifndef SHADE_PTAB_H
#define SHADE_PTAB_H

#include "pool.h"

#define PTE_P      BIT(0)
#define PTE_RW     BIT(1)
#define PTE_US     BIT(2)
#define PTE_PWT    BIT(3)
#define PTE_PCD    BIT(4)
#define PTE_A      BIT(5)
#define PTE_D      BIT(6)
#define PTE_PS     BIT(7)
#define PTE_G      BIT(8)
#define PTE_NX     BIT(63)
#define PTE_ADDR   0x000ffffffffff000ULL

static inline mfn_t pte_mfn(uint64_t pte) { return MFN((pte & PTE_ADDR) >> PAGE_SHIFT); }
static inline unsigned pt_index(uint64_t va, int level) /* level 4 = PML4 ... 1 = PT */
{
	return (unsigned)((va >> (PAGE_SHIFT + 9 * (level - 1))) & 511);
}

struct ptab {
	struct pool *pool;
	mfn_t root;
	uint64_t tables;          /* table frames held, root included */
};

int ptab__init(struct ptab *pt, struct pool *pool);
/* Free every table frame below the root and the root itself (not the leaves' frames). */
void ptab__exit(struct ptab *pt);

/*
 * The level-1 entry for va, allocating missing tables when alloc (intermediate entries
 * are P|RW|US: permissions live in the leaves). NULL if a table is missing and !alloc,
 * or the pool is out of frames.
 */
uint64_t *ptab__pte(struct ptab *pt, uint64_t va, bool alloc);
/* Install an existing table frame as the entry at `level` for va (monitor sharing). */
int ptab__link(struct ptab *pt, uint64_t va, int level, mfn_t table);
uint64_t *ptab__table(const struct ptab *pt, mfn_t table);

#endif
