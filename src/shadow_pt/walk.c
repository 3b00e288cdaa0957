/*
 * walk.c: the guest page-table walker (see walk.h). One loop over the levels of the
 * current mode; what differs between modes is the entry size, the index bits, the
 * address and reserved-bit masks, and where large pages may occur: mode_of() and the
 * small helpers below hold those differences.
 */
#include <errno.h>

#include "walk.h"

#define E_P   BIT(0)
#define E_RW  BIT(1)
#define E_US  BIT(2)
#define E_A   BIT(5)
#define E_D   BIT(6)
#define E_PS  BIT(7)
#define E_G   BIT(8)
#define E_NX  BIT(63)

static unsigned levels_of(enum paging_mode m)
{
	return m == PG_32 ? 2 : m == PG_PAE ? 3 : 4;
}

static unsigned entry_size(enum paging_mode m)
{
	return m == PG_32 ? 4 : 8;
}

static unsigned index_of(enum paging_mode m, uint64_t va, unsigned level)
{
	if (m == PG_32)
		return (unsigned)((va >> (12 + 10 * (level - 1))) & 0x3ff);
	if (m == PG_PAE && level == 3)
		return (unsigned)((va >> 30) & 3);
	return (unsigned)((va >> (12 + 9 * (level - 1))) & 0x1ff);
}

static uint64_t phys_mask(const struct walk_env *env)
{
	return (1ULL << env->maxphyaddr) - 1;
}

/* The address a (non-leaf or 4 KiB leaf) entry points to. */
static uint64_t table_addr(const struct walk_env *env, uint64_t e)
{
	if (env->mode == PG_32)
		return e & 0xfffff000ULL;
	return e & phys_mask(env) & ~0xfffULL;
}

/* A large page can be mapped at this level in this mode (given the entry's PS bit). */
static bool large_allowed(const struct walk_env *env, unsigned level)
{
	switch (env->mode) {
	case PG_32: return level == 2 && env->pse;
	case PG_PAE: return level == 2;
	case PG_LM4: return level == 2 || (level == 3 && env->gbpages);
	default: return false;
	}
}

bool walker__reserved(const struct walk_env *env, unsigned level, uint64_t e)
{
	bool ps = (e & E_PS) != 0;

	if (env->mode == PG_32) {
		/* Only a 4 MiB PDE has reserved bits: 21, and PSE-36 bits above MAXPHYADDR. */
		if (level != 2 || !ps || !env->pse)
			return false;
		uint64_t rsvd = BIT(21);
		for (unsigned b = 13; b <= 20; b++)
			if (32 + (b - 13) >= env->maxphyaddr)
				rsvd |= BIT(b);
		return e & rsvd;
	}
	uint64_t rsvd = ((1ULL << 52) - 1) & ~phys_mask(env);
	if (!env->nxe)
		rsvd |= E_NX;
	if (env->mode == PG_LM4 && level == 4)
		rsvd |= E_PS;
	if (env->mode == PG_LM4 && level == 3 && ps) {
		if (!env->gbpages)
			return true;
		rsvd |= 0x3fffe000ULL;            /* bits 29:13 of a 1 GiB entry */
	}
	if (level == 2 && ps)
		rsvd |= 0x1fe000ULL;              /* bits 20:13 of a 2 MiB entry */
	return e & rsvd;
}

int walker__load_pdptes(struct walk_env *env, const struct walk_mem *mem)
{
	uint64_t base = env->cr3 & 0xffffffe0ULL;
	uint64_t rsvd = (((1ULL << 52) - 1) & ~phys_mask(env)) | E_NX | 0x1e6ULL;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t e;
		if (mem->read(mem->ctx, GPA(base + i * 8), &e, 8))
			return -EFAULT;
		env->pdpte[i] = e;
		if ((e & E_P) && (e & rsvd))
			return 1;
	}
	return 0;
}

static int fault(struct walk *w, uint32_t bits)
{
	w->error = bits;
	return 1;
}

/* Set A in every entry used, and D in the leaf for a write. 1 if an entry changed
 * under us (the caller walks again), -EFAULT on a memory error. */
static int set_accessed_dirty(const struct walk_env *env, const struct walk_mem *mem,
			      struct walk *w, bool write)
{
	unsigned size = entry_size(env->mode);
	for (unsigned level = w->levels; level >= w->leaf; level--) {
		if (env->mode == PG_PAE && level == 3)
			continue;         /* PDPTEs are registers: no A bit */
		uint64_t old = w->pte[level], new = old | E_A;
		if (level == w->leaf && write)
			new |= E_D;
		if (new == old)
			continue;
		int r = mem->cmpxchg(mem->ctx, w->pte_gpa[level], old, new, size);
		if (r)
			return r;
		w->pte[level] = new;
	}
	return 0;
}

static int walk_once(const struct walk_env *env, const struct walk_mem *mem, uint64_t va,
		     uint32_t access, struct walk *w)
{
	enum paging_mode m = env->mode;
	unsigned size = entry_size(m);
	bool fetch_flag = (access & PFERR_F) && m != PG_32 && env->nxe;
	uint32_t acc = (access & (PFERR_W | PFERR_U)) | (fetch_flag ? PFERR_F : 0);
	uint64_t table = m == PG_32 ? env->cr3 & 0xfffff000ULL
		       : m == PG_PAE ? 0 : env->cr3 & phys_mask(env) & ~0xfffULL;
	bool user = true, writable = true, nx = false;

	w->levels = levels_of(m);
	for (unsigned level = w->levels;; level--) {
		uint64_t e = 0;
		unsigned idx = index_of(m, va, level);
		if (m == PG_PAE && level == 3) {
			e = env->pdpte[idx];
			w->pte_gpa[level] = GPA((env->cr3 & 0xffffffe0ULL) + idx * 8);
		} else {
			w->pte_gpa[level] = GPA(table + (uint64_t)idx * size);
			if (mem->read(mem->ctx, w->pte_gpa[level], &e, size))
				return -EFAULT;
		}
		w->pte[level] = e;
		if (!(e & E_P))
			return fault(w, acc);
		if (walker__reserved(env, level, e))
			return fault(w, acc | PFERR_P | PFERR_RSVD);
		if (!(m == PG_PAE && level == 3)) {
			user &= (e & E_US) != 0;
			writable &= (e & E_RW) != 0;
			if (m != PG_32 && env->nxe && (e & E_NX))
				nx = true;
		}
		if (level == 1 || ((e & E_PS) && large_allowed(env, level))) {
			w->leaf = level;
			break;
		}
		table = table_addr(env, e);
	}

	uint64_t leaf = w->pte[w->leaf];
	uint64_t off_mask = (1ULL << (12 + (m == PG_32 ? 10 : 9) * (w->leaf - 1))) - 1;
	uint64_t base;
	if (w->leaf == 1)
		base = table_addr(env, leaf);
	else if (m == PG_32)
		base = (leaf & 0xffc00000ULL) | (((leaf >> 13) & 0xffULL) << 32);
	else
		base = leaf & phys_mask(env) & ~off_mask;
	w->gpa = GPA((base & ~off_mask) | (va & off_mask));
	w->user = user;
	w->writable = writable;
	w->nx = nx;
	w->global = env->pge && (leaf & E_G);

	if ((access & PFERR_U) && !user)
		return fault(w, acc | PFERR_P);
	if ((access & PFERR_W) && !writable && ((access & PFERR_U) || env->wp))
		return fault(w, acc | PFERR_P);
	if ((access & PFERR_F) && nx)
		return fault(w, acc | PFERR_P);
	return 0;
}

int walker__walk(const struct walk_env *env, const struct walk_mem *mem, uint64_t va,
		 uint32_t access, struct walk *w)
{
	if (env->mode == PG_OFF) {
		w->gpa = GPA(va & 0xffffffffULL);
		w->levels = w->leaf = 0;
		w->user = w->writable = true;
		w->nx = w->global = false;
		return 0;
	}
	if (env->mode == PG_32)
		va &= 0xffffffffULL;
	/* A/D updates race with other writers of the entry: walk again if one did. */
	for (int tries = 0; tries < 16; tries++) {
		int r = walk_once(env, mem, va, access, w);
		if (r)
			return r;
		r = set_accessed_dirty(env, mem, w, access & PFERR_W);
		if (r <= 0)
			return r;
	}
	return -EAGAIN;
}
