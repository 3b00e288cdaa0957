/*
 * ptab.c: allocation and walking of real page tables.
 */
#include <errno.h>

#include "ptab.h"

#define PTE_TABLE (PTE_P | PTE_RW | PTE_US | PTE_A)

uint64_t *ptab__table(const struct ptab *pt, mfn_t table)
{
	return pool__ptr(pt->pool, table);
}

int ptab__init(struct ptab *pt, struct pool *pool)
{
	pt->pool = pool;
	pt->tables = 0;
	pt->root = pool__alloc(pool);
	if (!mfn_valid(pt->root))
		return -ENOMEM;
	pt->tables = 1;
	return 0;
}

/*
 * Frees what this ptab allocated. Entries installed with ptab__link belong to someone
 * else; the caller clears them before calling this.
 */
static void free_level(struct ptab *pt, mfn_t table, int level)
{
	uint64_t *t = ptab__table(pt, table);
	if (level > 1) {
		for (unsigned i = 0; i < 512; i++)
			if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
				free_level(pt, pte_mfn(t[i]), level - 1);
	}
	pool__free(pt->pool, table);
	pt->tables--;
}

void ptab__exit(struct ptab *pt)
{
	if (mfn_valid(pt->root))
		free_level(pt, pt->root, 4);
	pt->root = MFN_INVALID;
}

static uint64_t *walk(struct ptab *pt, uint64_t va, int to_level, bool alloc)
{
	uint64_t *t = ptab__table(pt, pt->root);

	for (int level = 4; level > to_level; level--) {
		uint64_t *e = &t[pt_index(va, level)];
		if (!(*e & PTE_P)) {
			if (!alloc)
				return NULL;
			mfn_t f = pool__alloc(pt->pool);
			if (!mfn_valid(f))
				return NULL;
			pt->tables++;
			*e = mfn_to_ma(f) | PTE_TABLE;
		}
		if (*e & PTE_PS)
			return NULL;
		t = ptab__table(pt, pte_mfn(*e));
	}
	return &t[pt_index(va, to_level)];
}

uint64_t *ptab__pte(struct ptab *pt, uint64_t va, bool alloc)
{
	return walk(pt, va, 1, alloc);
}

int ptab__link(struct ptab *pt, uint64_t va, int level, mfn_t table)
{
	uint64_t *e = walk(pt, va, level, true);
	if (!e)
		return -ENOMEM;
	*e = mfn_to_ma(table) | PTE_TABLE;
	return 0;
}
