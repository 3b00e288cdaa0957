/*
 * vm.c: page tables. The kernel half (PML4 slots 257-511: the direct map in slot 273,
 * the kernel image in slot 511) is built once and its PML4 entries are copied into
 * every address space, so kernel mappings never need per-process updates. Slot 256 is
 * never used (hypervisors keep their own code there). The user half (slots 0-255)
 * belongs to one process; what is mapped where is the business of fault.c and exec.c.
 *
 * TLB: entries are only flushed when a present translation is removed or loses
 * rights (INVLPG, or one CR3 reload for a whole fork); a not-present -> present change
 * needs none.
 */
#include "kernel.h"
#include "boot.h"
#include "pmem.h"
#include "vm.h"
#include "x86.h"
#include "../common/abi.h"

#define PML4_USER_SLOTS 256
#define PML4_HYPERVISOR_SLOT 256
#define PML4_DMAP_SLOT 273

static uint64_t kernel_pml4_pa;
static uint64_t loaded_pml4;

/* boot.S: maps KERNEL_VMA -> physical 0..1 GiB; linked at its physical address. */
extern uint64_t boot_pdpt_hi[];

static uint64_t *early_table(void)
{
	uint64_t pa = pmem__early_alloc(1);
	uint64_t *t = (uint64_t *)(pa + KERNEL_VMA);	/* boot mapping: first GiB */
	ASSERT(pa < 0x40000000UL);
	memset(t, 0, PAGE_SIZE);
	return t;
}

void vm__init_kernel(void)
{
	uint64_t *pml4 = early_table(), *pdpt = early_table();
	uint64_t gib = (bootinfo.ram_top + (1UL << 30) - 1) >> 30;

	if (gib > 512)
		panic("more than 512 GiB of RAM");
	/* Direct map with 2 MiB pages, no execute. */
	for (uint64_t g = 0; g < gib; g++) {
		uint64_t *pd = early_table();
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = ((g << 30) | (i << 21)) | PTE_P | PTE_W | PTE_PS | PTE_NX;
		pdpt[g] = ((uint64_t)pd - KERNEL_VMA) | PTE_P | PTE_W;
	}
	pml4[PML4_DMAP_SLOT] = ((uint64_t)pdpt - KERNEL_VMA) | PTE_P | PTE_W;
	pml4[511] = (uint64_t)boot_pdpt_hi | PTE_P | PTE_W;
	kernel_pml4_pa = (uint64_t)pml4 - KERNEL_VMA;
	loaded_pml4 = kernel_pml4_pa;
	write_cr3(kernel_pml4_pa);
}

uint64_t vm__kernel_pml4(void)
{
	return kernel_pml4_pa;
}

static uint64_t *table(uint64_t entry)
{
	return p2v(entry & PTE_ADDR);
}

int vm__create(struct aspace *as)
{
	uint64_t pa = pmem__alloc();
	if (!pa)
		return -E_NOMEM;
	uint64_t *new = p2v(pa), *k = p2v(kernel_pml4_pa);
	for (int i = PML4_USER_SLOTS; i < 512; i++)
		new[i] = k[i];
	ASSERT(!new[PML4_HYPERVISOR_SLOT]);
	as->pml4 = pa;
	as->resident = 0;
	as->pt_pages = 1;
	return 0;
}

uint64_t *vm__pte(struct aspace *as, uint64_t va, bool create)
{
	uint64_t *t = p2v(as->pml4);
	if (va >= USER_TOP)
		return NULL;
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = &t[(va >> shift) & 511];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			uint64_t pa = pmem__alloc();
			if (!pa)
				return NULL;
			as->pt_pages++;
			/* Rights are decided at the leaf; the upper levels allow everything. */
			*e = pa | PTE_P | PTE_W | PTE_U;
		}
		t = table(*e);
	}
	return &t[(va >> 12) & 511];
}

int vm__map(struct aspace *as, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pte = vm__pte(as, va, true);
	if (!pte)
		return -E_NOMEM;
	ASSERT(!(*pte & PTE_P));
	*pte = pa | flags | PTE_P;
	as->resident++;
	return 0;
}

void vm__flush_page(struct aspace *as, uint64_t va)
{
	if (as->pml4 == loaded_pml4)
		invlpg(va);
}

void vm__unmap(struct aspace *as, uint64_t start, uint64_t end)
{
	uint64_t flushes = 0;
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = vm__pte(as, va, false);
		if (!pte) {
			/* Skip to the next page table (2 MiB) when this one is absent. */
			va = (va | 0x1fffff);
			va -= PAGE_SIZE - 1;
			continue;
		}
		if (!(*pte & PTE_P))
			continue;
		uint64_t pa = *pte & PTE_ADDR;
		*pte = 0;
		as->resident--;
		pmem__unref(pa);
		flushes++;
	}
	if (flushes && as->pml4 == loaded_pml4) {
		if (flushes > 32) {
			write_cr3(loaded_pml4);
		} else {
			for (uint64_t va = start; va < end; va += PAGE_SIZE)
				invlpg(va);
		}
	}
}

/* Frees the tables below entry e at the given level (3 = PDPT ... 1 = PT). */
static void free_level(struct aspace *as, uint64_t e, int level)
{
	uint64_t *t = table(e);
	for (int i = 0; i < 512; i++) {
		if (!(t[i] & PTE_P))
			continue;
		if (level == 1) {
			pmem__unref(t[i] & PTE_ADDR);
			as->resident--;
		} else {
			free_level(as, t[i], level - 1);
		}
	}
	/* No entry is cleared one by one: pmem__unref zeroes the whole table at once (under
	 * a hypervisor each store to a page table is a trap). */
	pmem__unref(e & PTE_ADDR);
	as->pt_pages--;
}

void vm__destroy(struct aspace *as)
{
	ASSERT(as->pml4 != loaded_pml4);
	uint64_t *pml4 = p2v(as->pml4);
	for (int i = 0; i < PML4_USER_SLOTS; i++)
		if (pml4[i] & PTE_P)
			free_level(as, pml4[i], 3);
	pmem__unref(as->pml4);	/* zeroed there, kernel half included */
	as->pml4 = 0;
	as->pt_pages = 0;
}

static int fork_level(struct aspace *dst, uint64_t *d, uint64_t *s, int level, bool *downgraded)
{
	for (int i = 0; i < 512; i++) {
		if (!(s[i] & PTE_P))
			continue;
		if (level == 1) {
			if (s[i] & PTE_W) {
				s[i] &= ~PTE_W;
				*downgraded = true;
			}
			pmem__ref(s[i] & PTE_ADDR);
			d[i] = s[i];
			dst->resident++;
			continue;
		}
		uint64_t pa = pmem__alloc();
		if (!pa)
			return -E_NOMEM;
		dst->pt_pages++;
		d[i] = pa | (s[i] & ~PTE_ADDR);
		int r = fork_level(dst, table(d[i]), table(s[i]), level - 1, downgraded);
		if (r)
			return r;
	}
	return 0;
}

int vm__fork(struct aspace *dst, struct aspace *src)
{
	bool downgraded = false;
	uint64_t *d = p2v(dst->pml4), *s = p2v(src->pml4);
	int r = 0;
	for (int i = 0; i < PML4_USER_SLOTS && !r; i++) {
		if (!(s[i] & PTE_P))
			continue;
		uint64_t pa = pmem__alloc();
		if (!pa) {
			r = -E_NOMEM;
			break;
		}
		dst->pt_pages++;
		d[i] = pa | (s[i] & ~PTE_ADDR);
		r = fork_level(dst, table(d[i]), table(s[i]), 3, &downgraded);
	}
	/* One reload for all the entries that lost their write right (even on failure:
	 * those already downgraded stay so, and faults restore them). */
	if (downgraded && src->pml4 == loaded_pml4)
		write_cr3(loaded_pml4);
	return r;
}

void vm__load(struct aspace *as)
{
	uint64_t pml4 = as ? as->pml4 : kernel_pml4_pa;
	if (pml4 != loaded_pml4) {
		loaded_pml4 = pml4;
		write_cr3(pml4);
	}
}
