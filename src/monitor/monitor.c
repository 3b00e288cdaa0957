/*
 * monitor.c: building the monitor's pages and mappings.
 *
 * Init order (monitor__init):
 *   1. a private page-table tree for the monitor slot
 *   2. the stub text, copied from the blob embedded in shade, mapped read-only
 *   3. the IDT: 256 DPL-0 interrupt gates into the stubs (NMI, #DF and #MC on IST1)
 *   4. per vCPU: GDT pages with the monitor's descriptors at the top, TSS, stacks
 * The guest part of each GDT is filled by the segment code (src/emulate/gdt.c).
 */
#include <errno.h>
#include <string.h>

#include "monitor.h"

extern const uint8_t monitor_blob_start[], monitor_blob_end[];

#define KERNEL_RO (PTE_P | PTE_A | PTE_G)
#define KERNEL_RW (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G)

static int map_page(struct monitor *m, uint64_t va, mfn_t *f, uint64_t flags)
{
	*f = pool__alloc(m->pool);
	if (!mfn_valid(*f))
		return -ENOMEM;
	uint64_t *pte = ptab__pte(&m->pt, va, true);
	if (!pte)
		return -ENOMEM;
	*pte = mfn_to_ma(*f) | flags;
	return 0;
}

static void set_gate(uint64_t *idt, unsigned vec, uint64_t target, unsigned ist)
{
	uint64_t lo = (target & 0xffff) | ((uint64_t)MON_SEL_CS << 16) | ((uint64_t)ist << 32) |
		      (0x8eULL << 40) /* P, DPL 0, 64-bit interrupt gate */ |
		      ((target >> 16) & 0xffff) << 48;
	idt[vec * 2] = lo;
	idt[vec * 2 + 1] = target >> 32;
}

static int build_text_and_idt(struct monitor *m)
{
	size_t len = (size_t)(monitor_blob_end - monitor_blob_start);
	int ret;

	if (len > MON_TEXT_PAGES * PAGE_SIZE)
		return -E2BIG;
	for (unsigned i = 0; i < MON_TEXT_PAGES; i++) {
		ret = map_page(m, MON_TEXT + i * PAGE_SIZE, &m->text[i], KERNEL_RO);
		if (ret)
			return ret;
		size_t off = i * PAGE_SIZE;
		if (off < len)
			memcpy(pool__ptr(m->pool, m->text[i]), monitor_blob_start + off,
			       MIN(PAGE_SIZE, len - off));
	}
	ret = map_page(m, MON_IDT, &m->idt, KERNEL_RO);
	if (ret)
		return ret;
	uint64_t *idt = pool__ptr(m->pool, m->idt);
	for (unsigned v = 0; v < 256; v++) {
		unsigned ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
		set_gate(idt, v, MON_TEXT + v * MON_STUB_SIZE, ist);
	}
	return 0;
}

static int build_cpu(struct monitor *m, unsigned n)
{
	struct mon_cpu *c = &m->cpu[n];
	uint64_t base = MON_CPU(n);
	int ret;

	for (unsigned i = 0; i < MON_CPU_GDT_PAGES; i++) {
		/* Writable: the CPU sets accessed and busy bits in descriptors. */
		ret = map_page(m, base + MON_CPU_GDT + i * PAGE_SIZE, &c->gdt[i], KERNEL_RW);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < MON_CPU_LDT_PAGES; i++) {
		ret = map_page(m, base + MON_CPU_LDT + i * PAGE_SIZE, &c->ldt[i], KERNEL_RW);
		if (ret)
			return ret;
	}
	ret = map_page(m, base + MON_CPU_TSS, &c->tss, KERNEL_RW);
	if (!ret)
		ret = map_page(m, base + MON_CPU_STACK_LO, &c->stack[0], KERNEL_RW | PTE_NX);
	if (!ret)
		ret = map_page(m, base + MON_CPU_STACK_LO + PAGE_SIZE, &c->stack[1],
			       KERNEL_RW | PTE_NX);
	if (!ret)
		ret = map_page(m, base + MON_CPU_IST_LO, &c->ist, KERNEL_RW | PTE_NX);
	if (ret)
		return ret;

	uint8_t *tss = pool__ptr(m->pool, c->tss);
	uint64_t rsp0 = base + MON_CPU_STACK_TOP, ist1 = base + MON_CPU_IST_TOP;
	memcpy(tss + 4, &rsp0, 8);          /* RSP0 */
	memcpy(tss + 36, &ist1, 8);         /* IST1 */
	uint16_t iopb = 104;                /* at the limit: no I/O bitmap, all ports #GP */
	memcpy(tss + 102, &iopb, 2);

	*monitor__gdt_entry(m, n, MON_SEL_CS / 8) = 0x00209b0000000000ULL; /* L, P, DPL0, code */
	*monitor__gdt_entry(m, n, MON_SEL_DS / 8) = 0x0000930000000000ULL; /* P, DPL0, data RW */
	uint64_t tss_va = base + MON_CPU_TSS, limit = 103;
	*monitor__gdt_entry(m, n, MON_SEL_TSS / 8) =
		(limit & 0xffff) | ((tss_va & 0xffffff) << 16) | (0x8bULL << 40) /* busy TSS */ |
		((tss_va >> 24) & 0xff) << 56;
	*monitor__gdt_entry(m, n, MON_SEL_TSS / 8 + 1) = tss_va >> 32;
	return 0;
}

int monitor__init(struct monitor *m, struct pool *pool, unsigned ncpus)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->pool = pool;
	if (ncpus == 0 || ncpus > MON_MAX_CPUS)
		return -EINVAL;
	m->ncpus = ncpus;
	ret = ptab__init(&m->pt, pool);
	if (ret)
		return ret;
	ret = build_text_and_idt(m);
	for (unsigned n = 0; !ret && n < ncpus; n++)
		ret = build_cpu(m, n);
	if (ret) {
		monitor__exit(m);
		return ret;
	}
	m->pdpt = pte_mfn(ptab__table(&m->pt, m->pt.root)[MON_PML4_SLOT]);
	return 0;
}

static void free_leaves(struct monitor *m, mfn_t table, int level)
{
	uint64_t *t = ptab__table(&m->pt, table);
	for (unsigned i = 0; i < 512; i++) {
		if (!(t[i] & PTE_P))
			continue;
		if (level == 1)
			pool__free(m->pool, pte_mfn(t[i]));
		else
			free_leaves(m, pte_mfn(t[i]), level - 1);
	}
}

void monitor__exit(struct monitor *m)
{
	if (!m->pool || !mfn_valid(m->pt.root))
		return;
	free_leaves(m, m->pt.root, 4);
	ptab__exit(&m->pt);
}

int monitor__link(struct monitor *m, struct ptab *root)
{
	return ptab__link(root, MON_BASE, 4, m->pdpt);
}

uint64_t *monitor__gdt_entry(struct monitor *m, unsigned cpu, unsigned i)
{
	uint64_t *page = pool__ptr(m->pool, m->cpu[cpu].gdt[i / 512]);
	return &page[i % 512];
}

uint64_t *monitor__ldt_entry(struct monitor *m, unsigned cpu, unsigned i)
{
	uint64_t *page = pool__ptr(m->pool, m->cpu[cpu].ldt[i / 512]);
	return &page[i % 512];
}

void *monitor__stack_ptr(struct monitor *m, unsigned cpu, uint64_t va, size_t len)
{
	uint64_t base = MON_CPU(cpu);
	mfn_t f;

	if (cpu >= m->ncpus || len > PAGE_SIZE || va + len < va)
		return NULL;
	if (va >= base + MON_CPU_STACK_LO && va + len <= base + MON_CPU_STACK_TOP)
		f = m->cpu[cpu].stack[(va - base - MON_CPU_STACK_LO) / PAGE_SIZE];
	else if (va >= base + MON_CPU_IST_LO && va + len <= base + MON_CPU_IST_TOP)
		f = m->cpu[cpu].ist;   /* NMI, #DF and #MC frames */
	else
		return NULL;
	if ((va % PAGE_SIZE) + len > PAGE_SIZE)
		return NULL;
	return (uint8_t *)pool__ptr(m->pool, f) + va % PAGE_SIZE;
}
