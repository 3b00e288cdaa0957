/*
 * pmem.c: the physical page allocator. Every usable RAM page above the kernel, the
 * modules and the boot-time allocations goes on a stack of free frame numbers; each
 * page has a reference count (shared copy-on-write and page-cache pages count their
 * mappings) and a state.
 *
 * Pages are ZEROED ON FREE: a page is cleared when its last reference goes, so every
 * page on the free list is all zeroes. A hypervisor that shares pages by content sees
 * the guest's free memory as zero pages and can back all of it with one frame; an
 * allocation then needs no work. The one exception is memory the loader handed us:
 * its content is unknown (bare-metal RAM is not zero), so such a page is zeroed the
 * first time it is allocated, not at boot: untouched memory stays untouched.
 * Single CPU: interrupts are masked around the free stack, nothing else is needed.
 *
 * A balloon driver takes free pages in a fourth state, PG_BALLOON: off the free list,
 * never read or written (the host may have taken the memory back), and given back as
 * PG_FREE_UNKNOWN, zeroed at their next allocation like loader memory. The state
 * array is the balloon's list of pages, so it needs no memory of its own.
 */
#include "kernel.h"
#include "boot.h"
#include "pmem.h"
#include "x86.h"

enum { PG_RESERVED, PG_FREE_UNKNOWN, PG_FREE_ZERO, PG_USED, PG_BALLOON };

static struct {
	uint64_t early_next;	/* bump pointer, physical */
	uint32_t *stack;	/* free frame numbers */
	uint64_t nfree;
	uint16_t *ref;
	uint8_t *state;
	uint64_t npfn;
	uint64_t total, kernel;
	uint64_t balloon;	/* pages in PG_BALLOON */
	uint64_t balloon_scan;	/* pmem__balloon_find resumes here */
	uint64_t (*reclaim)(void);
} pm;

static bool in_ram(uint64_t pa)
{
	for (int i = 0; i < bootinfo.nram; i++)
		if (pa >= bootinfo.ram[i].start && pa < bootinfo.ram[i].end)
			return true;
	return false;
}

uint64_t pmem__early_alloc(uint64_t npages)
{
	if (pm.stack)
		panic("early allocation after pmem__init");
	if (!pm.early_next)
		pm.early_next = bootinfo.reserved_end;
	uint64_t pa = pm.early_next, end = pa + npages * PAGE_SIZE;
	if (!in_ram(pa) || !in_ram(end - 1))
		panic("no RAM after the kernel and modules for %lu boot pages", npages);
	pm.early_next = end;
	return pa;
}

static void zero_page(uint64_t pa)
{
	memset(p2v(pa), 0, PAGE_SIZE);
}

void pmem__init(void)
{
	pm.npfn = bootinfo.ram_top >> PAGE_SHIFT;
	uint64_t bytes = pm.npfn * (sizeof(uint32_t) + sizeof(uint16_t) + sizeof(uint8_t));
	uint64_t pa = pmem__early_alloc(PAGE_ROUND_UP(bytes) / PAGE_SIZE);
	uint8_t *base = p2v(pa);
	pm.stack = (uint32_t *)base;
	pm.ref = (uint16_t *)(base + pm.npfn * sizeof(uint32_t));
	pm.state = base + pm.npfn * (sizeof(uint32_t) + sizeof(uint16_t));
	memset(pm.ref, 0, pm.npfn * (sizeof(uint16_t) + sizeof(uint8_t)));

	/* Highest frames pushed first, so allocation starts low. */
	for (int i = bootinfo.nram - 1; i >= 0; i--) {
		const struct ram_range *r = &bootinfo.ram[i];
		for (uint64_t p = r->end; p > r->start; p -= PAGE_SIZE) {
			uint64_t page = p - PAGE_SIZE;
			pm.total++;
			if (page < pm.early_next) {
				pm.kernel++;
				continue;
			}
			pm.state[page >> PAGE_SHIFT] = PG_FREE_UNKNOWN;
			pm.stack[pm.nfree++] = (uint32_t)(page >> PAGE_SHIFT);
		}
	}
}

uint64_t pmem__alloc(void)
{
	uint64_t f = irq_save();
	if (!pm.nfree) {
		irq_restore(f);
		if (!pm.reclaim || !pm.reclaim())
			return 0;
		f = irq_save();
		if (!pm.nfree) {
			irq_restore(f);
			return 0;
		}
	}
	uint64_t pfn = pm.stack[--pm.nfree];
	uint8_t st = pm.state[pfn];
	pm.state[pfn] = PG_USED;
	pm.ref[pfn] = 1;
	irq_restore(f);
	if (st == PG_FREE_UNKNOWN)
		zero_page(pfn << PAGE_SHIFT);
	return pfn << PAGE_SHIFT;
}

void pmem__ref(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;
	ASSERT(pfn < pm.npfn && pm.state[pfn] == PG_USED);
	if (pm.ref[pfn] == 0xffff)
		panic("page %#lx: reference count overflow", pa);
	pm.ref[pfn]++;
}

void pmem__unref(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;
	ASSERT(pfn < pm.npfn && pm.state[pfn] == PG_USED && pm.ref[pfn] > 0);
	if (--pm.ref[pfn])
		return;
	zero_page(pa);
	uint64_t f = irq_save();
	pm.state[pfn] = PG_FREE_ZERO;
	pm.stack[pm.nfree++] = (uint32_t)pfn;
	irq_restore(f);
}

unsigned pmem__refcount(uint64_t pa)
{
	return pm.ref[pa >> PAGE_SHIFT];
}

void pmem__stats(struct pmem_stats *s)
{
	s->total = pm.total;
	s->free = pm.nfree;
	s->kernel = pm.kernel;
	s->balloon = pm.balloon;
}

void pmem__set_reclaim(uint64_t (*fn)(void))
{
	pm.reclaim = fn;
}

uint64_t pmem__balloon_take(uint32_t *pfns, uint64_t n, uint64_t reserve)
{
	uint64_t got = 0;
	uint64_t f = irq_save();
	while (got < n && pm.nfree > reserve) {
		uint32_t pfn = pm.stack[--pm.nfree];
		pm.state[pfn] = PG_BALLOON;
		pfns[got++] = pfn;
	}
	pm.balloon += got;
	irq_restore(f);
	return got;
}

void pmem__balloon_give(const uint32_t *pfns, uint64_t n)
{
	uint64_t f = irq_save();
	for (uint64_t i = 0; i < n; i++) {
		ASSERT(pfns[i] < pm.npfn && pm.state[pfns[i]] == PG_BALLOON);
		pm.state[pfns[i]] = PG_FREE_UNKNOWN;
		pm.stack[pm.nfree++] = pfns[i];
	}
	pm.balloon -= n;
	irq_restore(f);
}

/* A scan of the state array, resumed where the last one stopped: each deflate batch
 * costs a pass over the frames since the previous batch, not over all of memory. */
uint64_t pmem__balloon_find(uint32_t *pfns, uint64_t n)
{
	uint64_t got = 0;
	if (n > pm.balloon)
		n = pm.balloon;
	for (uint64_t seen = 0; got < n && seen < pm.npfn; seen++) {
		uint64_t pfn = pm.balloon_scan;
		pm.balloon_scan = (pfn + 1) % pm.npfn;
		if (pm.state[pfn] == PG_BALLOON)
			pfns[got++] = (uint32_t)pfn;
	}
	return got;
}
