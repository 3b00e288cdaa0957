/*
 * monitor.h: the VMM side of the CPL0 monitor: builds, per VM, the pages the monitor
 * runs on (IDT, stub text, and per vCPU a GDT, a TSS and two stacks) in machine memory,
 * and the page-table subtree that maps them in the reserved top-level slot. Every real
 * root the shadow MMU builds links that subtree, so the monitor is in every address space.
 */
#ifndef SHADE_MONITOR_H
#define SHADE_MONITOR_H

#include "layout.h"
#include "ptab.h"

#define MON_MAX_CPUS 16

struct mon_cpu {
	mfn_t gdt[MON_CPU_GDT_PAGES];
	mfn_t ldt[MON_CPU_LDT_PAGES];
	mfn_t tss, stack[2], ist;
};

struct monitor {
	struct pool *pool;
	struct ptab pt;               /* private PML4; only its MON_PML4_SLOT entry is used */
	mfn_t pdpt;                   /* the subtree every real root links */
	mfn_t idt;
	mfn_t text[MON_TEXT_PAGES];
	unsigned ncpus;
	struct mon_cpu cpu[MON_MAX_CPUS];
};

int monitor__init(struct monitor *m, struct pool *pool, unsigned ncpus);
void monitor__exit(struct monitor *m);
/* Make the monitor reachable through a real root. */
int monitor__link(struct monitor *m, struct ptab *root);

/* The real GDT entry `i` of vCPU `cpu` (host pointer into machine memory). */
uint64_t *monitor__gdt_entry(struct monitor *m, unsigned cpu, unsigned i);
/* The real LDT entry `i` of vCPU `cpu`. */
uint64_t *monitor__ldt_entry(struct monitor *m, unsigned cpu, unsigned i);
/* Host pointer to `len` bytes at a monitor virtual address inside one page of vCPU
 * `cpu`'s stacks (the RSP0 stack or the IST stack), or NULL. */
void *monitor__stack_ptr(struct monitor *m, unsigned cpu, uint64_t va, size_t len);

#endif
