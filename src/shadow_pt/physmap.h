/*
 * physmap.h: the real page tables of a guest that has paging off: guest-virtual equals
 * guest-physical, so the table maps VA x to the MPN behind PPN x, filled one page at a
 * time on first touch (a hidden fault). It is the degenerate shadow, and the one the
 * guest runs on from its multiboot entry until it turns paging on.
 */
#ifndef SHADE_PHYSMAP_H
#define SHADE_PHYSMAP_H

#include "types.h"

struct vm;

int physmap__init(struct vm *vm);
void physmap__exit(struct vm *vm);
/* Map PPN g (backing it if needed; for a write, breaking sharing first). -EFAULT
 * outside guest RAM, -ENOMEM if no frame. */
int physmap__fill(struct vm *vm, gfn_t g, bool write);
/* Remove the mapping of PPN g; true if one was present (the caller flushes). */
bool physmap__zap(struct vm *vm, gfn_t g);

/* Make the identity mapping of PPN g read-only (traced) or writable again. Returns true
 * when a present writable entry was downgraded: the caller must flush that address. */
bool physmap__protect(struct vm *vm, gfn_t g, bool readonly);

#endif
