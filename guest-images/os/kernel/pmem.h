/*
 * pmem.h: physical page frames: the boot-time bump allocator and the page allocator
 * with reference counts (pmem.c), and the pages lent to a balloon device.
 */
#ifndef OS_PMEM_H
#define OS_PMEM_H
#include <stdint.h>

/* Before pmem__init: page-aligned physical memory right after the kernel and modules.
 * Never freed; the caller zeroes it. */
uint64_t pmem__early_alloc(uint64_t npages);

void pmem__init(void);
uint64_t pmem__alloc(void);		/* a zeroed page, reference count 1; 0 if none */
void pmem__ref(uint64_t pa);
void pmem__unref(uint64_t pa);		/* frees (and zeroes) at count 0 */
unsigned pmem__refcount(uint64_t pa);

struct pmem_stats {
	uint64_t total, free, kernel, balloon;
};
void pmem__stats(struct pmem_stats *s);

/* Balloon pages: free pages taken off the free list without being touched (no
 * zeroing: the host may have unmapped them), and given back as pages of unknown
 * content (zeroed when next allocated). take stops while the free list holds no more
 * than reserve pages; find lists up to n ballooned frames (for a deflate). */
uint64_t pmem__balloon_take(uint32_t *pfns, uint64_t n, uint64_t reserve);
void pmem__balloon_give(const uint32_t *pfns, uint64_t n);
uint64_t pmem__balloon_find(uint32_t *pfns, uint64_t n);
/* Called when the free list is empty, before an allocation fails: returns how many
 * pages it put back (a balloon deflating on memory pressure). */
void pmem__set_reclaim(uint64_t (*fn)(void));

#endif
