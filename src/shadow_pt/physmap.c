/*
 * physmap.c: the identity shadow for a guest with paging off.
 *
 * Entries are user-accessible and writable: with paging off the guest's rings share one
 * flat physical space, and protection between them is the guest's own business
 * (segments). The monitor's slot is linked into the root like in every real root.
 */
#include <errno.h>

#include "physmap.h"
#include "vm.h"

int physmap__init(struct vm *vm)
{
	int ret = ptab__init(&vm->physmap, &vm->host->pool);
	if (ret)
		return ret;
	ret = monitor__link(&vm->mon, &vm->physmap);
	if (ret)
		ptab__exit(&vm->physmap);
	return ret;
}

void physmap__exit(struct vm *vm)
{
	if (!mfn_valid(vm->physmap.root) || !vm->physmap.pool)
		return;
	/* The monitor subtree is the monitor's: unlink before freeing our tables. */
	ptab__table(&vm->physmap, vm->physmap.root)[MON_PML4_SLOT] = 0;
	ptab__exit(&vm->physmap);
}

int physmap__fill(struct vm *vm, gfn_t g, bool write)
{
	int err = 0;
	mfn_t f = write ? pmap__touch_write(&vm->pmap, g, &err) : pmap__touch(&vm->pmap, g, &err);
	if (!mfn_valid(f))
		return err;
	uint64_t *pte = ptab__pte(&vm->physmap, gfn_to_gpa(g).v, true);
	if (!pte)
		return -ENOMEM;
	/* A, D preset: the CPU need not write the entry back. Traced pages (the guest's
	 * descriptor tables) and shared (copy-on-write) frames are mapped read-only so
	 * writes to them fault. */
	const struct pmap_entry *pe = &vm->pmap.e[g.v];
	bool rw = !(pe->flags & PPN_F_PT) && pe->state == PPN_PRIVATE;
	*pte = mfn_to_ma(f) | PTE_P | (rw ? PTE_RW : 0) | PTE_US | PTE_A | PTE_D;
	return 0;
}

bool physmap__zap(struct vm *vm, gfn_t g)
{
	if (!mfn_valid(vm->physmap.root))
		return false;
	uint64_t *pte = ptab__pte(&vm->physmap, gfn_to_gpa(g).v, false);
	if (!pte || !(*pte & PTE_P))
		return false;
	*pte = 0;
	return true;
}

bool physmap__protect(struct vm *vm, gfn_t g, bool readonly)
{
	if (!mfn_valid(vm->physmap.root))
		return false;
	uint64_t *pte = ptab__pte(&vm->physmap, gfn_to_gpa(g).v, false);
	if (!pte || !(*pte & PTE_P))
		return false;
	bool was_rw = *pte & PTE_RW;
	if (readonly)
		*pte &= ~PTE_RW;
	else
		*pte |= PTE_RW;
	return readonly && was_rw;
}
