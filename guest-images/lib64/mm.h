/*
 * mm.h: physical frames and 4-level address spaces of the 64-bit kernel.
 *
 * Frames: every frame above the kernel image up to boot64__ram_top(), handed out from a
 * LIFO free list (through the direct map) before untouched memory is bumped into, so a
 * freed frame is the next one reused, whatever it was used for before: a page-table
 * page of one process becomes a data page of the next and the other way round.
 *
 * Address spaces are named by the physical address of their PML4. The upper half
 * (PML4 slots 256-511) is the kernel's, shared by every space: a direct map of RAM at
 * KERNBASE with 2 MiB pages, global (G=1) when CPUID offers PGE. Slot 256 stays empty
 * on purpose (hypervisors put themselves there). The lower half is the process's, in
 * 4 KiB pages; PTE_SHARED marks a frame the space does not own (never freed or copied).
 */
#ifndef GUEST64_MM_H
#define GUEST64_MM_H

#include "x64.h"

#define PTE_P (1ul << 0)
#define PTE_W (1ul << 1)
#define PTE_U (1ul << 2)
#define PTE_PS (1ul << 7)
#define PTE_G (1ul << 8)
#define PTE_SHARED (1ul << 9) /* software bit */
#define PTE_ADDR 0x000ffffffffff000ul

/* Kernel tables, CR4.PGE when offered; returns whether global pages are on. */
bool mm__init(void);
u64 mm__kernel_pml4(void);
/* A zeroed frame's physical address, or 0 when memory is exhausted. */
u64 mm__alloc(void);
void mm__free(u64 pa);
u64 mm__in_use(void);

/* A new space: empty lower half, the kernel's upper half. 0 when out of memory. */
u64 as__create(void);
/* Map the 4 KiB page at `va` to `pa` with `flags` (PTE_P implied); 0 or -1 (no memory). */
int as__map(u64 pml4, u64 va, u64 pa, u64 flags);
/* The leaf entry for `va`, or 0 when no table on the way is present. */
u64 as__lookup(u64 pml4, u64 va);
/* Remove the mapping of `va` (INVLPG when the space is loaded); its frame or 0. */
u64 as__unmap(u64 pml4, u64 va);
/* A copy: owned pages copied into fresh frames, shared ones mapped again. 0: no memory. */
u64 as__clone(u64 pml4);
/* Free every owned frame and every table of a space that is not loaded. */
void as__destroy(u64 pml4);

/*
 * Post-order walk of the lower half: fn(arg, va, pa, level, entry) for every present
 * leaf (level 0) and then for each table page (level 1 = page table ... 4 = the PML4).
 */
typedef void (*as_visit_fn)(void *arg, u64 va, u64 pa, int level, u64 entry);
void as__walk(u64 pml4, as_visit_fn fn, void *arg);

#endif
