/*
 * pmem.h: physical page frames: the boot-time bump allocator and the page allocator
 * with reference counts (pmem.c).
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
	uint64_t total, free, kernel;
};
void pmem__stats(struct pmem_stats *s);

#endif
