/*
 * paging.c: page-table building and the access probe of paging.h for 32-bit paging
 * and PAE (protected mode); in IA-32e mode the probe runs in paging64.S and the switch
 * itself in lmode.c.
 */
#include "paging.h"
#include "cpu.h"
#include "lmode.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "user.h"
#include "x86.h"

_Static_assert(offsetof(struct pg_access, op) == 16, "paging64.S PA_* offsets");
_Static_assert(offsetof(struct pg_access, flags) == 24, "paging64.S PA_* offsets");
_Static_assert(offsetof(struct pg_access, insn) == 56, "paging64.S PA_* offsets");

extern char paging_access64[], paging_invlpg64[];

void pt_pool__init(struct pt_pool *p, void *mem, u32 bytes)
{
	u32 base = ((u32)(uintptr_t)mem + 4095) & ~4095u;

	p->next = base;
	p->end = ((u32)(uintptr_t)mem + bytes) & ~4095u;
}

u32 pt_pool__alloc(struct pt_pool *p)
{
	u32 pa = p->next;

	if (pa >= p->end) {
		test__ok(false, "page-table pool exhausted");
		test__done();
	}
	p->next += 4096;
	memset((void *)(uintptr_t)pa, 0, 4096);
	return pa;
}

const char *paging__mode_name(enum paging_mode mode)
{
	switch (mode) {
	case PAGING_32:
		return "32-bit";
	case PAGING_PAE:
		return "PAE";
	case PAGING_4L:
		return "4-level";
	}
	return "?";
}

int paging__levels(enum paging_mode mode)
{
	return mode == PAGING_32 ? 2 : mode == PAGING_PAE ? 3 : 4;
}

u32 paging__shift(enum paging_mode mode, int level)
{
	if (mode == PAGING_32)
		return level == 1 ? 12 : 22;
	return 12 + 9 * (u32)(level - 1);
}

u32 paging__index(enum paging_mode mode, u64 va, int level)
{
	u32 bits = mode == PAGING_32 ? 10 : (mode == PAGING_PAE && level == 3) ? 2 : 9;

	return (u32)(va >> paging__shift(mode, level)) & ((1u << bits) - 1);
}

u32 paging__entry_size(enum paging_mode mode)
{
	return mode == PAGING_32 ? 4 : 8;
}

u64 paging__get(enum paging_mode mode, const volatile void *e)
{
	const volatile u32 *w = e;

	if (mode == PAGING_32)
		return w[0];
	return ((u64)w[1] << 32) | w[0];
}

void paging__set(enum paging_mode mode, volatile void *e, u64 v)
{
	volatile u32 *w = e;

	if (mode == PAGING_32) {
		w[0] = (u32)v;
	} else if (v & PTE_P) {
		w[1] = (u32)(v >> 32);
		w[0] = (u32)v;
	} else {
		w[0] = (u32)v;
		w[1] = (u32)(v >> 32);
	}
}

void paging__init(struct paging *as, enum paging_mode mode, struct pt_pool *pool)
{
	as->mode = mode;
	as->pool = pool;
	as->root = pt_pool__alloc(pool);
}

static u64 table_flags(enum paging_mode mode, int level)
{
	if (mode == PAGING_PAE && level == 3)
		return PTE_P;
	return PTE_P | PTE_RW | PTE_US;
}

static u64 entry_addr(enum paging_mode mode, u64 e)
{
	return e & (mode == PAGING_32 ? PTE_ADDR_32 : PTE_ADDR);
}

void *paging__entry(const struct paging *as, u64 va, int level, bool create)
{
	u32 table = as->root;
	u32 esz = paging__entry_size(as->mode);
	int l;

	for (l = paging__levels(as->mode); ; l--) {
		u8 *e = (u8 *)(uintptr_t)table + paging__index(as->mode, va, l) * esz;
		u64 v;

		if (l == level)
			return e;
		v = paging__get(as->mode, e);
		if (!(v & PTE_P) || (l > 1 && l < 4 && (v & PTE_PS) &&
				     !(as->mode == PAGING_PAE && l == 3))) {
			if (!create)
				return NULL;
			v = pt_pool__alloc(as->pool) | table_flags(as->mode, l);
			paging__set(as->mode, e, v);
		}
		table = (u32)entry_addr(as->mode, v);
	}
}

void *paging__map(struct paging *as, u64 va, u64 pa, int level, u64 flags)
{
	void *e = paging__entry(as, va, level, true);

	paging__set(as->mode, e, pa | flags | (level > 1 ? PTE_PS : 0));
	return e;
}

void paging__identity(struct paging *as, u32 bytes, u64 flags)
{
	u32 pa;

	for (pa = 0; pa < bytes; pa += 4096)
		paging__map(as, pa, pa, 1, flags);
}

void paging__share(struct paging *dst, const struct paging *src, u64 va, u32 bytes, int level)
{
	u64 step = 1ull << paging__shift(src->mode, level), end = va + bytes;

	for (; va < end; va += step) {
		void *s = paging__entry(src, va, level, false);

		if (s)
			paging__set(dst->mode, paging__entry(dst, va, level, true),
				    paging__get(src->mode, s));
	}
}

bool paging__has_pse(void)
{
	return cpu__info.f1_edx & CPUID1_EDX_PSE;
}

bool paging__has_pae(void)
{
	return cpu__info.f1_edx & CPUID1_EDX_PAE;
}

bool paging__has_pge(void)
{
	return cpu__info.f1_edx & CPUID1_EDX_PGE;
}

bool paging__has_nx(void)
{
	return cpu__info.max_ext_leaf >= 0x80000001 && (cpu__info.e1_edx & CPUID81_EDX_NX);
}

bool paging__has_1g(void)
{
	return cpu__info.max_ext_leaf >= 0x80000001 && (cpu__info.e1_edx & CPUID81_EDX_1GB);
}

u32 paging__maxphyaddr(void)
{
	u32 r[4];

	if (cpu__info.max_ext_leaf >= 0x80000008 && cpu__info.max_ext_leaf < 0x8000ffff) {
		cpuid(0x80000008, 0, r);
		return r[0] & 0xff;
	}
	return paging__has_pae() ? 36 : 32;
}

int paging__enable(const struct paging *as, u32 cr4_set)
{
	u32 cr4 = read_cr4() & ~(CR4_PAE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PCIDE);

	if (as->mode != PAGING_32 && !paging__has_pae())
		return -1;
	if (as->mode == PAGING_4L) {
		if (!lmode__supported())
			return -1;
		write_cr4(cr4 | cr4_set);
		lmode__enter(as->root);
		return 0;
	}
	write_cr4(cr4 | cr4_set | (as->mode == PAGING_PAE ? CR4_PAE : 0));
	write_cr3(as->root);
	write_cr0(read_cr0() | CR0_PG);
	return 0;
}

void paging__disable(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
}

void paging__load(const struct paging *as)
{
	write_cr3(as->root);
}

void paging__invlpg(u64 va)
{
	if (va >> 32)
		lmode__call64(paging_invlpg64, (u32)(uintptr_t)&va);
	else
		invlpg((u32)va);
}

void paging__put_stub(void *p, u32 magic)
{
	u8 *c = p;

	c[0] = 0xb8; /* mov $imm32, %eax */
	memcpy(c + 1, &magic, 4);
	c[5] = 0xc3; /* ret */
}

/* The access itself, at CPL 0 or (from user__run) 3; TRAP_TRY recovers from faults. */
static u32 access32(u32 arg)
{
	struct pg_access *a = (struct pg_access *)(uintptr_t)arg;
	u32 va = (u32)a->va, v = (u32)a->value;

	switch (a->op) {
	case PG_READ:
		asm volatile(TRAP_TRY("movl (%1), %0") : "+a"(v) : "c"(va) : "memory");
		break;
	case PG_WRITE:
		asm volatile(TRAP_TRY("movl %0, (%1)") : : "a"(v), "c"(va) : "memory");
		break;
	default:
		/* A faulting fetch leaves the CALL's return address pushed: ESI restores. */
		asm volatile("movl %%esp, %%esi\n\t" TRAP_TRY("call *%1") "movl %%esi, %%esp"
			     : "+a"(v) : "c"(va) : "esi", "memory", "cc");
		break;
	}
	a->insn = trap__insn;
	a->value = v;
	return 0;
}

void paging__access(struct pg_access *a)
{
	trap__arm();
	if (lmode__active()) {
		lmode__call64(paging_access64, (u32)(uintptr_t)a);
		a->ip = lmode__last.rip;
		a->cr2 = lmode__last.cr2;
	} else {
		if (a->flags & PG_ACCESS_INVLPG)
			invlpg((u32)a->va);
		if (a->cpl == 3)
			user__run(access32, (u32)(uintptr_t)a, FL_FIXED);
		else
			access32((u32)(uintptr_t)a);
		a->ip = trap__last.eip;
		a->cr2 = trap__last.cr2;
	}
	a->vector = trap__last.vector;
	a->error = a->vector == TRAP_NONE ? 0 : trap__last.error;
	a->count = trap__last.count;
}
