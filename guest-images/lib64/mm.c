/*
 * mm.c: frame allocator and address spaces (see mm.h). Kernel code is interpreted on
 * nested backends (hundreds of ns an instruction), so table scans skip empty entries
 * with one REPE SCASQ and pages are zeroed and copied with one REP each.
 */
#include "mm.h"
#include "boot64.h"

#define ENTRIES 512
#define USER_SLOTS 256 /* PML4 slots of the lower half */
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)

static u64 *free_list; /* each free frame's first word links to the next */
static u64 bump, ram_top, in_use, kernel_pml4;

static u64 *table(u64 entry)
{
	return p2v(entry & PTE_ADDR);
}

static int index_of(u64 va, int level)
{
	return (int)(va >> (12 + 9 * (level - 1))) & (ENTRIES - 1);
}

/* A frame with whatever it held: only for callers that overwrite all of it. */
static u64 alloc_raw(void)
{
	u64 pa;

	if (free_list) {
		pa = v2p(free_list);
		free_list = (u64 *)*free_list;
	} else if (bump < ram_top) {
		pa = bump;
		bump += PAGE_SIZE;
	} else {
		return 0;
	}
	in_use++;
	return pa;
}

u64 mm__alloc(void)
{
	u64 pa = alloc_raw();

	if (pa)
		page_zero(p2v(pa));
	return pa;
}

void mm__free(u64 pa)
{
	u64 *f = p2v(pa);

	*f = (u64)(uintptr_t)free_list;
	free_list = f;
	in_use--;
}

u64 mm__in_use(void)
{
	return in_use;
}

u64 mm__kernel_pml4(void)
{
	return kernel_pml4;
}

bool mm__init(void)
{
	u64 *pml4, *pdpt, *pd, g = 0, pa;
	u32 r[4];

	ram_top = boot64__ram_top();
	bump = (boot64__reserved_end() + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	cpuid(1, 0, r);
	if (r[3] & CPUID1_EDX_PGE) {
		write_cr4(read_cr4() | CR4_PGE);
		g = PTE_G;
	}
	kernel_pml4 = mm__alloc();
	pml4 = p2v(kernel_pml4);
	pdpt = p2v(mm__alloc());
	pd = p2v(mm__alloc());
	for (pa = 0; pa < ram_top; pa += 2ul << 20)
		pd[pa >> 21] = pa | PTE_P | PTE_W | PTE_PS | g;
	pdpt[index_of(KERNBASE, 3)] = v2p(pd) | PTE_P | PTE_W;
	pml4[index_of(KERNBASE, 4)] = v2p(pdpt) | PTE_P | PTE_W;
	write_cr3(kernel_pml4); /* the boot identity map is gone from here on */
	return g != 0;
}

static int next_present(const u64 *t, int i, int end);

/* The kernel half is a few entries: copy those only (each store to a page a hypervisor
 * tracks as a page table may cost a trap). */
u64 as__create(void)
{
	const u64 *k = p2v(kernel_pml4);
	u64 pml4 = mm__alloc(), *t;
	int i;

	if (!pml4)
		return 0;
	t = p2v(pml4);
	for (i = next_present(k, USER_SLOTS, ENTRIES); i < ENTRIES;
	     i = next_present(k, i + 1, ENTRIES))
		t[i] = k[i];
	return pml4;
}

/* The leaf slot for va, allocating missing tables when `create`; NULL if absent. */
static u64 *leaf_slot(u64 pml4, u64 va, bool create)
{
	u64 *t = p2v(pml4), pa;
	int level;

	for (level = 4; level > 1; level--) {
		u64 *e = &t[index_of(va, level)];

		if (!(*e & PTE_P)) {
			if (!create || !(pa = mm__alloc()))
				return NULL;
			*e = pa | TABLE_FLAGS;
		}
		t = table(*e);
	}
	return &t[index_of(va, 1)];
}

int as__map(u64 pml4, u64 va, u64 pa, u64 flags)
{
	u64 *e = leaf_slot(pml4, va, true);

	if (!e)
		return -1;
	*e = pa | flags | PTE_P;
	return 0;
}

u64 as__lookup(u64 pml4, u64 va)
{
	u64 *e = leaf_slot(pml4, va, false);

	return e ? *e : 0;
}

u64 as__unmap(u64 pml4, u64 va)
{
	u64 *e = leaf_slot(pml4, va, false), old;

	if (!e || !(*e & PTE_P))
		return 0;
	old = *e;
	*e = 0;
	if ((read_cr3() & PTE_ADDR) == pml4)
		invlpg(va);
	return old & PTE_ADDR;
}

/* The first present entry of t[i..end), or end: one REPE SCASQ over the empty ones. */
static int next_present(const u64 *t, int i, int end)
{
	const u64 *p = t + i;
	u64 n = (u64)(end - i);

	if (!n)
		return end;
	asm volatile("repe scasq" : "+D"(p), "+c"(n) : "a"(0ul) : "cc", "memory");
	/* SCASQ stops after the first non-zero entry (ZF=0) or after the last one. */
	if (p[-1] == 0)
		return end;
	return (int)(p - 1 - t);
}

static void walk(u64 pa, int level, u64 base, as_visit_fn fn, void *arg)
{
	const u64 *t = p2v(pa);
	int end = level == 4 ? USER_SLOTS : ENTRIES, i;

	for (i = next_present(t, 0, end); i < end; i = next_present(t, i + 1, end)) {
		u64 va = base + ((u64)i << (12 + 9 * (level - 1)));

		if (level == 1)
			fn(arg, va, t[i] & PTE_ADDR, 0, t[i]);
		else
			walk(t[i] & PTE_ADDR, level - 1, va, fn, arg);
	}
	fn(arg, base, pa, level, 0);
}

void as__walk(u64 pml4, as_visit_fn fn, void *arg)
{
	walk(pml4, 4, 0, fn, arg);
}

static void destroy_one(void *arg, u64 va, u64 pa, int level, u64 entry)
{
	(void)arg;
	(void)va;
	if (level > 0 || !(entry & PTE_SHARED))
		mm__free(pa);
}

void as__destroy(u64 pml4)
{
	as__walk(pml4, destroy_one, NULL);
}

struct clone {
	u64 pml4;
	bool failed;
};

static void clone_one(void *arg, u64 va, u64 pa, int level, u64 entry)
{
	struct clone *c = arg;
	u64 copy = pa;

	if (level > 0 || c->failed)
		return;
	if (!(entry & PTE_SHARED)) {
		/* Not zeroed first: the copy overwrites every byte (a REP of 512 steps is
		 * most of a page's cost where kernel code is interpreted). */
		copy = alloc_raw();
		if (!copy) {
			c->failed = true;
			return;
		}
		page_copy(p2v(copy), p2v(pa));
	}
	if (as__map(c->pml4, va, copy, entry & ~PTE_ADDR) < 0) {
		if (copy != pa)
			mm__free(copy);
		c->failed = true;
	}
}

u64 as__clone(u64 pml4)
{
	struct clone c = { as__create(), false };

	if (!c.pml4)
		return 0;
	as__walk(pml4, clone_one, &c);
	if (c.failed) {
		as__destroy(c.pml4);
		return 0;
	}
	return c.pml4;
}
