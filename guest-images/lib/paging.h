/*
 * paging.h: page tables for the three paging modes of SDM vol. 3 ch. 4 (32-bit, PAE,
 * 4-level), built by the guest in identity-mapped memory: entry bits, a pool of zeroed
 * table pages, address spaces (one root each: map, look up, share tables, identity-map
 * low memory, load), turning paging on, and paging__access: one read, write or
 * instruction fetch of a linear address at CPL 0 or 3 and the exception it raised.
 * In IA-32e mode (lmode.h) accesses run in 64-bit mode (paging64.S), so any canonical
 * 64-bit address can be probed; outside it, 32-bit addresses.
 *
 * Levels are numbered from the leaf: 1 = page table, 2 = page directory, 3 = PDPT,
 * 4 = PML4. A level > 1 leaf is a large page (PS=1).
 */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include "types.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull /* PAE and 4-level (up to MAXPHYADDR 52) */
#define PTE_ADDR_32 0xfffff000ull

/* #PF error code bits (SDM 4.7). */
#define PF_P 0x01u
#define PF_W 0x02u
#define PF_U 0x04u
#define PF_RSVD 0x08u
#define PF_ID 0x10u

enum paging_mode { PAGING_32 = 1, PAGING_PAE, PAGING_4L };

/* Page-table pages: carved from caller memory (page-aligned, identity-mapped). */
struct pt_pool {
	u32 next, end;
};
void pt_pool__init(struct pt_pool *p, void *mem, u32 bytes);
/* Physical (= identity) address of a fresh zeroed page; ends the run if exhausted. */
u32 pt_pool__alloc(struct pt_pool *p);

struct paging {
	enum paging_mode mode;
	u32 root; /* the CR3 value: PD, PDPT or PML4 */
	struct pt_pool *pool;
};

const char *paging__mode_name(enum paging_mode mode);
int paging__levels(enum paging_mode mode);
u32 paging__shift(enum paging_mode mode, int level);
u32 paging__index(enum paging_mode mode, u64 va, int level);
/* Entry size in bytes: 4 (32-bit paging) or 8. */
u32 paging__entry_size(enum paging_mode mode);

void paging__init(struct paging *as, enum paging_mode mode, struct pt_pool *pool);
/*
 * The entry for `va` at `level`. With `create`, missing tables on the way are allocated
 * and linked with P|RW|US (P alone for PAE PDPTEs, which have no other flags); without,
 * NULL when an entry on the way is not present or maps a large page.
 */
void *paging__entry(const struct paging *as, u64 va, int level, bool create);
u64 paging__get(enum paging_mode mode, const volatile void *e);
/* Stores a whole entry; for 8-byte entries the half holding P goes last when the new
 * entry is present, first when it is not. */
void paging__set(enum paging_mode mode, volatile void *e, u64 v);
/* Leaf at `level` for va -> pa with `flags` (PS added for level > 1); returns the entry. */
void *paging__map(struct paging *as, u64 va, u64 pa, int level, u64 flags);
/* Identity-map [0, bytes) with 4 KiB pages and the given leaf flags. */
void paging__identity(struct paging *as, u32 bytes, u64 flags);
/* Make dst use src's tables for [va, va + bytes): copy src's level-`level` entries. */
void paging__share(struct paging *dst, const struct paging *src, u64 va, u32 bytes, int level);

/* CPU support, from CPUID. */
bool paging__has_pse(void);
bool paging__has_pae(void);
bool paging__has_pge(void);
bool paging__has_nx(void);
bool paging__has_1g(void);
/* MAXPHYADDR: CPUID.80000008H:EAX[7:0], else 36 with PAE, 32 without (SDM 4.1.4). */
u32 paging__maxphyaddr(void);

/*
 * Turn paging on from paging off: CR4 gets PAE as the mode needs, plus `cr4_set`
 * (PSE, PGE; SMEP/SMAP/PKE/PCIDE are cleared), CR3 = root, CR0.PG = 1; PAGING_4L goes
 * through lmode__enter. Returns -1 if the CPU lacks the mode.
 */
int paging__enable(const struct paging *as, u32 cr4_set);
/* CR0.PG = 0 (not in IA-32e mode). */
void paging__disable(void);
/* MOV to CR3 (a switch to `as`, or a flush of its non-global translations). */
void paging__load(const struct paging *as);
/* INVLPG, from 64-bit mode for addresses beyond 4 GiB. */
void paging__invlpg(u64 va);

enum { PG_READ, PG_WRITE, PG_FETCH };
#define PG_ACCESS_INVLPG 1u /* flags: INVLPG va at CPL 0 just before the access */

struct pg_access {
	u64 va;
	u64 value; /* write: the value stored; read: the value loaded; fetch: EAX returned
		    * by the code at va (see paging__put_stub). 4 bytes wide outside
		    * IA-32e mode, 8 in it. */
	u32 op, cpl, flags;
	/* results */
	u32 vector; /* TRAP_NONE, or the first exception raised */
	u32 error;
	u32 count;  /* exceptions raised (more than 1 is always wrong) */
	u64 ip;     /* their saved RIP/EIP */
	u64 cr2;    /* CR2 in the handler */
	u64 insn;   /* address of the accessing instruction (for fetches: of the call) */
};
void paging__access(struct pg_access *a);
/* "mov $magic, %eax; ret" (6 bytes, the same in 32- and 64-bit mode) for fetch probes. */
void paging__put_stub(void *p, u32 magic);

#endif
