/*
 * paging-edit.c: live page-table edits, shared by the guests paging-edit-32 (32-bit
 * paging) and paging-edit-64 (4-level paging in IA-32e mode; the C code runs in
 * compatibility mode, the accesses in 64-bit mode). SDM vol. 3 4.8 (A/D), 4.10.2.3
 * (page-size changes), 4.10.2.4 (global pages), 4.10.4 (invalidation: what needs
 * INVLPG or MOV CR3, what does not), 4.6 (CR0.WP).
 *
 * Only defined behaviour is checked: an edit that may leave a stale translation is
 * followed by INVLPG, MOV CR3 or a CR4.PGE toggle before the access that checks it;
 * the checks without one are those the SDM defines (a not-present entry is never
 * cached; a write after a read must set D; R/W 0->1 may fault once, and that fault
 * invalidates). Nothing depends on a stale translation surviving.
 *
 * Every test VA gets its own page directory entry (region R_*), all below 4 GiB;
 * frames FRAME(k) carry TAG(k) at DATA_OFF and "mov $STUB(k), %eax; ret" at CODE_OFF.
 */
#include "cpu.h"
#include "desc.h"
#include "lmode.h"
#include "paging.h"
#include "pgcheck.h"
#include "printf.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "user.h"
#include "x86.h"

#define IDENT_BYTES (16u << 20)
#define FRAMES_PA 0x900000u
#define FRAME(k) (FRAMES_PA + (u32)(k) * 4096u)
#define TAG(k) (0xf0f00000u | (u32)(k))
#define STUB(k) (0xc0de0000u | (u32)(k))
#define LARGE_PA 0xc00000u /* 4 MiB and 2 MiB aligned */
#define LTAG(k) (0x1a200000u | (u32)(k))
#define DATA_OFF 0x5d8u
#define CODE_OFF 0x1e3u
#define N_FRAMES 16
#define WVAL(n) (0x5e5e0000u | (u32)(n)) /* values the checks write */

#define R_MAP 0x40000000u    /* map/remap/unmap; its page table is also aliased */
#define R_RW 0x40800000u     /* R/W, U/S, CR0.WP */
#define R_AD 0x41000000u     /* accessed and dirty */
#define R_AS 0x42000000u     /* per-address-space mapping */
#define R_SHARED 0x42800000u /* a page table shared by all address spaces */
#define R_LARGE 0x43000000u  /* large page, split, merged */
#define R_GLOBAL 0x44000000u
#define R_NEWPT 0x45000000u  /* a page table installed through the self-map */
#define R_NX 0x46000000u
#define R_KSTACK 0x46800000u /* a supervisor page probed from user mode */
#define SELF_SLOT_32 1023u
#define SELF_SLOT_4L 510u

void edit__run(enum paging_mode mode, const char *name);

static struct {
	enum paging_mode mode;
	struct paging as;
	struct pt_pool pool;
	struct pg_rules r; /* only for #PF error codes: the checks compute the rest */
} e;

static u8 pool_mem[64 * 4096] __aligned(4096);

static u64 eget(volatile void *p)
{
	return paging__get(e.mode, p);
}

static void eset(volatile void *p, u64 v)
{
	paging__set(e.mode, p, v);
}

static volatile void *ent(u64 va, int level)
{
	return paging__entry(&e.as, va, level, false);
}

static u64 addr_of(u64 entry)
{
	return entry & PTE_ADDR;
}

static volatile u64 *fdata(u32 pa)
{
	return (volatile u64 *)(uintptr_t)(pa + DATA_OFF);
}

static u64 probe_va(int op, u64 page)
{
	return page + (op == PG_FETCH ? CODE_OFF : DATA_OFF);
}

/* One access to the probe offset of the page at `page`. */
static struct pg_access go(int op, int cpl, u64 page, u64 value)
{
	return pgcheck__access(op, cpl, probe_va(op, page), value);
}

/* No fault; reads see TAG `want`, fetches return STUB `want`, writes store `want`. */
static bool expect_ok(int op, int cpl, u64 page, u32 want, const char *what)
{
	return pgcheck__ok(op, cpl, probe_va(op, page), want, "%s", what);
}

/* Exactly one #PF with P = `present`, CR2 and RIP right. */
static bool expect_pf(int op, int cpl, u64 page, bool present, const char *what)
{
	u32 err = pgcheck__error(&e.r, op, cpl) | (present ? PF_P : 0);

	return pgcheck__pf(op, cpl, probe_va(op, page), err, "%s", what);
}

static void set_wp(bool on)
{
	e.r.wp = on;
	write_cr0(on ? read_cr0() | CR0_WP : read_cr0() & ~CR0_WP);
}

static void prepare_frames(void)
{
	int k;

	for (k = 0; k < N_FRAMES; k++) {
		memset((void *)(uintptr_t)FRAME(k), 0xcc, 4096);
		*fdata(FRAME(k)) = TAG(k);
		paging__put_stub((u8 *)(uintptr_t)FRAME(k) + CODE_OFF, STUB(k));
	}
}

/* Map, remap, unmap; present again without INVLPG. */
static void check_map(void)
{
	u64 va = R_MAP + 0x3000, prw = PTE_P | PTE_RW | PTE_US;
	volatile void *pte, *pde;

	pte = paging__map(&e.as, va, FRAME(0), 1, prw);
	expect_ok(PG_READ, 0, va, TAG(0), "map a never-used VA (no INVLPG needed): read frame 0");
	eset(pte, FRAME(1) | prw);
	paging__invlpg(va);
	expect_ok(PG_READ, 0, va, TAG(1), "remap to frame 1 + INVLPG: read frame 1");
	expect_ok(PG_WRITE, 0, va, WVAL(0), "write through the remapped VA");
	test__ok((u32)*fdata(FRAME(1)) == WVAL(0) && (u32)*fdata(FRAME(0)) == TAG(0),
		 "the write landed in frame 1, frame 0 untouched");
	*fdata(FRAME(1)) = TAG(1);

	eset(pte, FRAME(1) | PTE_RW | PTE_US);
	paging__invlpg(va);
	expect_pf(PG_READ, 0, va, false, "PTE P=0 + INVLPG: CPL0 read #PF, P=0");
	expect_pf(PG_WRITE, 0, va, false, "PTE P=0: CPL0 write #PF, P=0 W=1");
	expect_pf(PG_READ, 3, va, false, "PTE P=0: CPL3 read #PF, P=0 U=1");
	expect_pf(PG_FETCH, 0, va, false, "PTE P=0: CPL0 fetch #PF, P=0");
	eset(pte, FRAME(1) | prw);
	expect_ok(PG_READ, 0, va, TAG(1), "P 0->1 without INVLPG (not-present is never cached)");

	pde = ent(va, 2);
	eset(pde, eget(pde) & ~PTE_P);
	paging__invlpg(va);
	expect_pf(PG_READ, 0, va, false, "PDE P=0 + INVLPG: read #PF, P=0");
	eset(pde, eget(pde) | PTE_P);
	expect_ok(PG_READ, 3, va, TAG(1), "PDE P 0->1 without INVLPG: CPL3 read works");

	if (e.mode == PAGING_4L) {
		u64 high = (3ull << 39) | (1ull << 30) | 0x5000;

		pte = paging__map(&e.as, high, FRAME(2), 1, prw);
		expect_ok(PG_READ, 0, high, TAG(2), "a VA above 4 GiB (64-bit mode): read frame 2");
		eset(pte, FRAME(3) | prw);
		paging__invlpg(high);
		expect_ok(PG_READ, 3, high, TAG(3), "remap it + INVLPG (64-bit): CPL3 read frame 3");
	}
}

/* R/W and U/S downgrades and upgrades, at the PTE and the PDE; CR0.WP. */
static void check_rights(void)
{
	u64 va = R_RW + 0x9000, prw = PTE_P | PTE_RW | PTE_US;
	volatile void *pte = paging__map(&e.as, va, FRAME(2), 1, prw), *pde = ent(va, 2);
	struct pg_access a;
	bool ok;

	set_wp(true);
	expect_ok(PG_WRITE, 0, va, WVAL(0), "R/W=1: CPL0 write");
	eset(pte, FRAME(2) | PTE_P | PTE_US);
	paging__invlpg(va);
	*fdata(FRAME(2)) = TAG(2);
	expect_pf(PG_WRITE, 0, va, true, "R/W 1->0 + INVLPG, WP=1: CPL0 write #PF, P=1 W=1");
	test__eq(TAG(2), (u32)*fdata(FRAME(2)), "the faulting write stored nothing");
	expect_ok(PG_READ, 0, va, TAG(2), "read-only: CPL0 read still works");
	expect_pf(PG_WRITE, 3, va, true, "read-only: CPL3 write #PF, P=1 W=1 U=1");
	expect_ok(PG_READ, 3, va, TAG(2), "read-only: CPL3 read works");

	set_wp(false);
	paging__invlpg(va);
	expect_ok(PG_WRITE, 0, va, WVAL(0), "CR0.WP=0: CPL0 write to a read-only page works");
	test__eq(WVAL(0), (u32)*fdata(FRAME(2)), "CR0.WP=0: the write landed");
	expect_pf(PG_WRITE, 3, va, true, "CR0.WP=0: CPL3 write to it still #PF");
	set_wp(true);
	paging__invlpg(va);
	expect_pf(PG_WRITE, 0, va, true, "CR0.WP=1 again: CPL0 write #PF");

	/* SDM 4.10.4.3: R/W 0->1 without invalidation may cause one spurious #PF; the
	 * fault invalidates the translation (4.10.4.1), so the retry must succeed. The
	 * read first lets the TLB hold the read-only translation. */
	expect_ok(PG_READ, 0, va, WVAL(0), "read-only page: CPL0 read (cached translation)");
	eset(pte, FRAME(2) | prw);
	a = go(PG_WRITE, 0, va, WVAL(1));
	ok = a.vector == TRAP_NONE ||
	     (a.vector == VEC_PF && a.count == 1 && a.error == (PF_P | PF_W) && a.cr2 == a.va);
	test__ok(ok, "R/W 0->1 without INVLPG: write works or #PF(0x3) once (%s)",
		 a.vector == TRAP_NONE ? "no fault" : trap__name(a.vector));
	if (a.vector != TRAP_NONE)
		expect_ok(PG_WRITE, 0, va, WVAL(1), "... and the retry after that #PF works");
	else
		test__ok(true, "... (no spurious #PF to retry)");
	test__eq(WVAL(1), (u32)*fdata(FRAME(2)), "R/W 0->1: the write landed");

	eset(pte, FRAME(2) | PTE_P | PTE_US);
	paging__invlpg(va);
	eset(pte, FRAME(2) | prw);
	paging__invlpg(va);
	expect_ok(PG_WRITE, 3, va, WVAL(2), "R/W 1->0->1 with INVLPG each: CPL3 write works");

	eset(pde, eget(pde) & ~PTE_RW);
	paging__invlpg(va);
	expect_pf(PG_WRITE, 0, va, true, "PDE R/W=0 + INVLPG: CPL0 write #PF, P=1 W=1");
	eset(pde, eget(pde) | PTE_RW);
	paging__invlpg(va);
	expect_ok(PG_WRITE, 0, va, WVAL(3), "PDE R/W=1 + INVLPG: CPL0 write works");

	eset(pte, FRAME(2) | PTE_P | PTE_RW);
	paging__invlpg(va);
	*fdata(FRAME(2)) = TAG(2);
	expect_pf(PG_READ, 3, va, true, "PTE U/S=0 + INVLPG: CPL3 read #PF, P=1 U=1");
	expect_ok(PG_READ, 0, va, TAG(2), "PTE U/S=0: CPL0 read works");
	eset(pte, FRAME(2) | prw);
	paging__invlpg(va);
	expect_ok(PG_READ, 3, va, TAG(2), "PTE U/S=1 + INVLPG: CPL3 read works");
	eset(pde, eget(pde) & ~PTE_US);
	paging__invlpg(va);
	expect_pf(PG_FETCH, 3, va, true, "PDE U/S=0 + INVLPG: CPL3 fetch #PF");
	eset(pde, eget(pde) | PTE_US);
	paging__invlpg(va);
	expect_ok(PG_FETCH, 3, va, STUB(2), "PDE U/S=1 + INVLPG: CPL3 fetch works");
}

/* A/D flags as the CPU sets them; all levels of the walk. */
static bool ad_is(u64 va, int top, u64 leaf_want, u64 upper_want, char *why, u32 size)
{
	int l;

	for (l = 1; l <= top; l++) {
		u64 v = eget(ent(va, l)), want = l == 1 ? leaf_want : upper_want;

		if ((v & (PTE_A | PTE_D)) != want) {
			snprintf(why, size, "level %d A=%d D=%d", l, (v & PTE_A) != 0, (v & PTE_D) != 0);
			return false;
		}
	}
	snprintf(why, size, "as expected");
	return true;
}

static void clear_ad(u64 va, int top, u64 bits)
{
	int l;

	for (l = 1; l <= top; l++)
		eset(ent(va, l), eget(ent(va, l)) & ~bits);
	paging__invlpg(va);
}

static void check_ad(void)
{
	u64 va = R_AD + 0x4000;
	int top = paging__levels(e.mode);
	char why[48];

	paging__map(&e.as, va, FRAME(3), 1, PTE_P | PTE_RW | PTE_US);
	clear_ad(va, top, PTE_A | PTE_D);
	go(PG_READ, 0, va, 0);
	test__ok(ad_is(va, top, PTE_A, PTE_A, why, sizeof(why)),
		 "read: A set at every level, D clear (%s)", why);
	go(PG_WRITE, 0, va, 0);
	test__ok(ad_is(va, top, PTE_A | PTE_D, PTE_A, why, sizeof(why)),
		 "write after the read, no INVLPG: D set in the PTE only (%s)", why);
	clear_ad(va, top, PTE_D);
	go(PG_WRITE, 3, va, 0);
	test__ok(ad_is(va, top, PTE_A | PTE_D, PTE_A, why, sizeof(why)),
		 "D cleared + INVLPG: CPL3 write sets it again (%s)", why);
	clear_ad(va, top, PTE_A | PTE_D);
	go(PG_FETCH, 3, va, 0);
	test__ok(ad_is(va, top, PTE_A, PTE_A, why, sizeof(why)),
		 "A/D cleared + INVLPG: CPL3 fetch sets A everywhere, not D (%s)", why);
	*fdata(FRAME(3)) = TAG(3);
}

/* Three address spaces sharing the kernel's tables and one more page table. */
static void check_spaces(void)
{
	static struct paging r[3];
	static const int order[] = { 0, 1, 2, 1, 0, 2 };
	u64 va = R_AS + 0x5000, sva = R_SHARED + 0x2000, prw = PTE_P | PTE_RW | PTE_US;
	int share_level = e.mode == PAGING_32 ? 2 : 3;
	u32 share_bytes = e.mode == PAGING_32 ? IDENT_BYTES : 1u << 30;
	u32 bad_own = 0, bad_shared = 0, i;
	volatile void *pte[3];

	r[0] = e.as;
	paging__map(&r[0], sva, FRAME(7), 1, prw);
	for (i = 0; i < 3; i++) {
		if (i)
			paging__init(&r[i], e.mode, &e.pool);
		if (i)
			paging__share(&r[i], &e.as, 0, share_bytes, share_level);
		pte[i] = paging__map(&r[i], va, FRAME(4 + i), 1, prw);
		if (i)
			paging__share(&r[i], &e.as, sva, 4096, 2);
	}
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		struct pg_access a;

		paging__load(&r[order[i]]);
		a = go(PG_READ, 0, va, 0);
		bad_own += a.vector != TRAP_NONE || (u32)a.value != TAG(4 + order[i]);
		a = go(PG_READ, 3, sva, 0);
		bad_shared += a.vector != TRAP_NONE || (u32)a.value != TAG(7);
	}
	test__eq_dec(0, bad_own, "6 MOV CR3 among 3 roots: each reads its own frame at one VA");
	test__eq_dec(0, bad_shared, "... and all read the shared page table's frame");

	paging__load(&r[1]);
	eset(paging__entry(&r[1], sva, 1, false), FRAME(8) | prw);
	paging__invlpg(sva);
	expect_ok(PG_READ, 0, sva, TAG(8), "root 1 remaps in the shared table + INVLPG: sees it");
	paging__load(&r[0]);
	expect_ok(PG_READ, 0, sva, TAG(8), "root 0 (after MOV CR3) sees the shared edit");
	paging__load(&r[2]);
	expect_ok(PG_READ, 3, sva, TAG(8), "root 2 (after MOV CR3) sees the shared edit");
	expect_ok(PG_WRITE, 0, va, WVAL(0), "root 2: write its own VA");
	test__ok((u32)*fdata(FRAME(6)) == WVAL(0) && (u32)*fdata(FRAME(4)) == TAG(4) &&
		 (u32)*fdata(FRAME(5)) == TAG(5), "root 2's write landed in its frame only");
	*fdata(FRAME(6)) = TAG(6);

	/* A is set only in tables the walk used: root 1 is not loaded after the clear. */
	for (i = 0; i < 3; i++)
		eset(pte[i], eget(pte[i]) & ~PTE_A);
	paging__load(&r[0]);
	go(PG_READ, 0, va, 0);
	paging__load(&r[2]);
	go(PG_READ, 0, va, 0);
	test__ok((eget(pte[0]) & PTE_A) && !(eget(pte[1]) & PTE_A) && (eget(pte[2]) & PTE_A),
		 "A set in the PTEs of roots 0 and 2 (used), not root 1 (never loaded since)");
	paging__load(&e.as);
}

/* A large page; split into a page table with one page moved; merged back. */
static void check_large(void)
{
	u32 size = e.mode == PAGING_32 ? 4u << 20 : 2u << 20, n = size / 4096, i;
	static const u32 probe[] = { 0, 1, 3, 5 };
	u64 prw = PTE_P | PTE_RW | PTE_US;
	volatile void *pde;
	u32 bad = 0, pt;

	for (i = 0; i < n; i++)
		*fdata(LARGE_PA + i * 4096) = LTAG(i);
	pde = paging__map(&e.as, R_LARGE, LARGE_PA, 2, prw);
	for (i = 0; i < ARRAY_SIZE(probe); i++) {
		struct pg_access a = go(PG_READ, 0, R_LARGE + probe[i] * 4096, 0);

		bad += a.vector != TRAP_NONE || (u32)a.value != LTAG(probe[i]);
	}
	expect_ok(PG_READ, 3, R_LARGE + (n - 1) * 4096, LTAG(n - 1),
		  "large page: CPL3 read of its last 4 KiB");
	test__eq_dec(0, bad, "%u KiB page: reads at 4 KiB offsets 0, 1, 3, 5 see those frames",
		     size >> 10);
	test__eq(PTE_A, eget(pde) & (PTE_A | PTE_D), "large page after reads: PDE A=1 D=0");
	expect_ok(PG_WRITE, 0, R_LARGE + 3 * 4096, WVAL(0), "large page: write at 4 KiB offset 3");
	test__eq(PTE_A | PTE_D, eget(pde) & (PTE_A | PTE_D), "... sets D in the PDE");
	test__eq(WVAL(0), (u32)*fdata(LARGE_PA + 3 * 4096), "... and landed in that frame");
	*fdata(LARGE_PA + 3 * 4096) = LTAG(3);

	/* SDM 4.10.2.3: change the page size only through a not-present entry and an
	 * invalidation, or the TLB may hold both sizes for one address. */
	pt = pt_pool__alloc(&e.pool);
	for (i = 0; i < n; i++)
		eset((u8 *)(uintptr_t)pt + i * paging__entry_size(e.mode),
		     (i == 5 ? FRAME(9) : LARGE_PA + i * 4096) | prw);
	eset(pde, 0);
	paging__load(&e.as);
	eset(pde, pt | prw);
	bad = 0;
	for (i = 0; i < 4; i++) {
		struct pg_access a = go(PG_READ, 0, R_LARGE + probe[i] * 4096, 0);

		bad += a.vector != TRAP_NONE ||
		       (u32)a.value != (probe[i] == 5 ? TAG(9) : LTAG(probe[i]));
	}
	test__eq_dec(0, bad, "split into 4 KiB pages (PDE P=0, MOV CR3, PDE -> table): "
			     "same frames, page 5 moved");
	test__ok((eget((u8 *)(uintptr_t)pt + 5 * paging__entry_size(e.mode)) & PTE_A) &&
		 (eget((u8 *)(uintptr_t)pt) & PTE_A), "split: the used PTEs have A set");
	eset(pde, 0);
	paging__load(&e.as);
	eset(pde, LARGE_PA | PTE_PS | prw);
	expect_ok(PG_READ, 0, R_LARGE + 5 * 4096, LTAG(5), "merged back into the large page: "
							   "page 5 is the large page's again");
}

/* Global pages: INVLPG and a CR4.PGE toggle flush them; with PGE=0 G is ignored. */
static void check_global(void)
{
	u64 va = R_GLOBAL + 0x2000, g = PTE_P | PTE_RW | PTE_US | PTE_G;
	u32 cr4 = read_cr4();
	volatile void *pte;

	if (!paging__has_pge()) {
		test__skip("global pages", "CPUID.1:EDX.PGE=0");
		return;
	}
	pte = paging__map(&e.as, va, FRAME(10), 1, g);
	write_cr4(cr4 | CR4_PGE);
	expect_ok(PG_READ, 0, va, TAG(10), "CR4.PGE=1, G=1 page: read");
	eset(pte, FRAME(11) | g);
	paging__invlpg(va);
	expect_ok(PG_READ, 0, va, TAG(11), "remap the global page + INVLPG: new frame");
	eset(pte, FRAME(12) | g);
	write_cr4(cr4 & ~CR4_PGE);
	write_cr4(cr4 | CR4_PGE);
	expect_ok(PG_READ, 0, va, TAG(12), "remap + CR4.PGE 1->0->1: new frame");
	write_cr4(cr4 & ~CR4_PGE);
	expect_ok(PG_READ, 0, va, TAG(12), "CR4.PGE=0: read the G=1 page");
	eset(pte, FRAME(13) | g);
	paging__load(&e.as);
	expect_ok(PG_READ, 0, va, TAG(13), "CR4.PGE=0: remap + MOV CR3 flushes it (G ignored)");
	write_cr4(cr4);
}

/* The root table mapped into itself at `slot`: the entries of every level as data. */
static u64 self_va(int level, u64 va)
{
	u32 slot = e.mode == PAGING_32 ? SELF_SLOT_32 : SELF_SLOT_4L;
	int levels = paging__levels(e.mode), l;
	u32 top_shift = paging__shift(e.mode, levels), esz = paging__entry_size(e.mode);
	u64 base = (u64)slot << top_shift, index;

	for (l = 2; l <= level; l++)
		base |= (u64)slot << paging__shift(e.mode, levels - l + 1);
	if (e.mode == PAGING_4L) {
		if (base & (1ull << 47))
			base |= 0xffff000000000000ull;
		va &= (1ull << 48) - 1;
	}
	index = va >> paging__shift(e.mode, level);
	return base + index * esz;
}

/* Reads and writes of page-table entries through the self-map, at CPL0. */
static struct pg_access self_rw(int op, int level, u64 va, u64 value)
{
	return pgcheck__access(op, 0, self_va(level, va), value);
}

static void check_selfmap(void)
{
	u32 slot = e.mode == PAGING_32 ? SELF_SLOT_32 : SELF_SLOT_4L;
	int top = paging__levels(e.mode);
	u64 mask = e.mode == PAGING_32 ? 0xffffffffull : ~0ull;
	u64 va = R_MAP + 0x3000, prw = PTE_P | PTE_RW | PTE_US, nva = R_NEWPT + 0x1000;
	volatile void *self = (u8 *)(uintptr_t)e.as.root + slot * paging__entry_size(e.mode);
	struct pg_access a;
	u32 pt;

	eset(self, e.as.root | PTE_P | PTE_RW); /* supervisor only; was not present */
	a = self_rw(PG_READ, 1, va, 0);
	test__ok(a.vector == TRAP_NONE && (a.value & mask) == eget(ent(va, 1)),
		 "self-map (slot %u): read the PTE of a VA at 0x%llx", slot, a.va);
	a = self_rw(PG_READ, 2, va, 0);
	test__ok(a.vector == TRAP_NONE && (a.value & mask) == eget(ent(va, 2)),
		 "self-map: read its PDE at 0x%llx", a.va);
	a = self_rw(PG_READ, top, self_va(1, 0), 0);
	test__ok(a.vector == TRAP_NONE && addr_of(a.value & mask) == e.as.root,
		 "self-map: the root's own slot, read through itself, points at the root");

	a = self_rw(PG_WRITE, 1, va, FRAME(14) | prw);
	paging__invlpg(va);
	test__ok(a.vector == TRAP_NONE && eget(ent(va, 1)) == (FRAME(14) | prw),
		 "self-map: write a PTE through it");
	expect_ok(PG_READ, 0, va, TAG(14), "... + INVLPG: the VA maps the new frame");

	pt = pt_pool__alloc(&e.pool);
	a = self_rw(PG_WRITE, 2, nva, pt | prw);
	test__ok(a.vector == TRAP_NONE, "self-map: install a new page table (PDE was not present)");
	a = self_rw(PG_WRITE, 1, nva, FRAME(15) | prw);
	test__ok(a.vector == TRAP_NONE, "self-map: fill a PTE of the new table, no flush needed");
	expect_ok(PG_READ, 3, nva, TAG(15), "the new mapping works without INVLPG");

	a = self_rw(PG_WRITE, 1, va, (FRAME(14) | prw) & ~PTE_A);
	paging__invlpg(va);
	go(PG_READ, 0, va, 0);
	a = self_rw(PG_READ, 1, va, 0);
	test__ok(a.vector == TRAP_NONE && (a.value & PTE_A),
		 "self-map: A cleared through it + INVLPG, read, A visible through it");

	eset(self, e.as.root | PTE_P);
	paging__load(&e.as);
	a = self_rw(PG_WRITE, 1, va, FRAME(1) | prw);
	test__ok(a.vector == VEC_PF && a.error == (PF_P | PF_W) && a.cr2 == a.va,
		 "self-map with R/W=0 (+ MOV CR3): write #PF(0x3) (got %s(0x%x))",
		 trap__name(a.vector), a.error);
	a = self_rw(PG_READ, 1, va, 0);
	test__ok(a.vector == TRAP_NONE && addr_of(a.value) == FRAME(14),
		 "self-map with R/W=0: reads still work");
	eset(self, 0);
	paging__load(&e.as);
	eset(ent(va, 1), FRAME(1) | prw);
	paging__invlpg(va);
}

/* A page table mapped read-only into its own range: write protection of PT pages. */
static void check_pt_alias(void)
{
	u64 va = R_MAP + 0x3000, alias = R_MAP + 0x7000, prw = PTE_P | PTE_RW | PTE_US;
	u32 esz = paging__entry_size(e.mode), ia = paging__index(e.mode, va, 1);
	u32 iw = paging__index(e.mode, alias, 1);
	u64 pt = addr_of(eget(ent(va, 2))), mask = e.mode == PAGING_32 ? 0xffffffffull : ~0ull;
	volatile void *wpte;
	struct pg_access a;
	u64 before;

	set_wp(true);
	wpte = paging__map(&e.as, alias, pt, 1, PTE_P); /* supervisor, read-only */
	a = pgcheck__access(PG_READ, 0, alias + ia * esz, 0);
	before = eget(ent(va, 1));
	test__ok(a.vector == TRAP_NONE && (a.value & mask) == before,
		 "page table mapped read-only at a VA it translates: read a PTE through it");
	a = pgcheck__access(PG_READ, 0, alias + iw * esz, 0);
	test__ok(a.vector == TRAP_NONE && (a.value & PTE_A) && addr_of(a.value) == pt,
		 "... its own PTE, read through itself, shows A=1");
	a = pgcheck__access(PG_WRITE, 0, alias + ia * esz, FRAME(13) | prw);
	test__ok(a.vector == VEC_PF && a.error == (PF_P | PF_W) && a.cr2 == a.va &&
		 eget(ent(va, 1)) == before,
		 "CR0.WP=1: write to it #PF(0x3), the PTE unchanged (got %s(0x%x))",
		 trap__name(a.vector), a.error);

	eset(wpte, pt | PTE_P);
	paging__invlpg(alias);
	pgcheck__access(PG_READ, 0, alias + ia * esz, 0);
	test__eq(PTE_A, eget(wpte) & (PTE_A | PTE_D),
		 "the CPU sets A in a PTE that sits in a read-only-mapped page table");
	set_wp(false);
	paging__invlpg(alias);
	a = pgcheck__access(PG_WRITE, 0, alias + ia * esz, FRAME(13) | prw);
	paging__invlpg(va);
	test__ok(a.vector == TRAP_NONE && eget(ent(va, 1)) == (FRAME(13) | prw),
		 "CR0.WP=0: CPL0 writes a PTE through the read-only mapping");
	expect_ok(PG_READ, 0, va, TAG(13), "... + INVLPG: the edited mapping is in effect");
	test__eq(PTE_A | PTE_D, eget(wpte) & (PTE_A | PTE_D),
		 "... and the CPU set D in the alias PTE (inside that page table)");
	set_wp(true);
	eset(wpte, 0);
	paging__invlpg(alias);
}

/* XD edits (IA-32e with EFER.NXE=1). */
static void check_nx(void)
{
	u64 va = R_NX + 0x1000, prw = PTE_P | PTE_RW | PTE_US;
	volatile void *pte, *pde;

	if (e.mode == PAGING_32) {
		test__skip("XD edits", "32-bit paging has no XD bit");
		return;
	}
	if (!e.r.nxe) {
		test__skip("XD edits", "CPUID.80000001H:EDX.NX=0");
		return;
	}
	pte = paging__map(&e.as, va, FRAME(12), 1, prw);
	pde = ent(va, 2);
	expect_ok(PG_FETCH, 0, va, STUB(12), "XD=0: CPL0 fetch works");
	eset(pte, eget(pte) | PTE_NX);
	paging__invlpg(va);
	expect_pf(PG_FETCH, 0, va, true, "PTE XD=1 + INVLPG: CPL0 fetch #PF, P=1 I/D=1");
	expect_ok(PG_READ, 0, va, TAG(12), "PTE XD=1: read works");
	eset(pte, eget(pte) & ~PTE_NX);
	paging__invlpg(va);
	expect_ok(PG_FETCH, 3, va, STUB(12), "PTE XD=0 + INVLPG: CPL3 fetch works");
	eset(pde, eget(pde) | PTE_NX);
	paging__invlpg(va);
	expect_pf(PG_FETCH, 3, va, true, "PDE XD=1 + INVLPG: CPL3 fetch #PF, P=1 U=1 I/D=1");
	eset(pde, eget(pde) & ~PTE_NX);
	paging__invlpg(va);
	expect_ok(PG_FETCH, 0, va, STUB(12), "PDE XD=0 + INVLPG: CPL0 fetch works");
}

/*
 * An event from user mode is delivered onto the ring-0 stack as a supervisor access:
 * with the page the frame is pushed onto made supervisor-only (as in every real
 * kernel), a user-mode fault is still delivered, once, with the frame intact.
 */
static void check_supervisor_stack(void)
{
	u64 va = R_KSTACK + 0x1000;
	u32 top = tss__esp0();
	u64 kpage = (top - 1) & ~0xfffull;
	volatile void *kpte;
	u64 old;

	if (e.mode != PAGING_32) {
		test__skip("supervisor ring-0 stack", "the 32-bit TSS stack of user__run");
		return;
	}
	paging__map(&e.as, va, FRAME(13), 1, PTE_P | PTE_RW);
	kpte = ent(kpage, 1);
	old = eget(kpte);
	eset(kpte, old & ~PTE_US);
	paging__invlpg(kpage);
	expect_pf(PG_READ, 3, va, true,
		  "CPL3 read of a supervisor page, ring-0 stack supervisor-only: one #PF, P=1 U=1");
	eset(kpte, old);
	paging__invlpg(kpage);
}

void edit__run(enum paging_mode mode, const char *name)
{
	u32 cr4 = 0;

	test__begin(name);
	e.mode = mode;
	if (mode == PAGING_4L && (!paging__has_pae() || !lmode__supported())) {
		test__skip(name, "IA-32e mode not supported by this CPU");
		return;
	}
	prepare_frames();
	pt_pool__init(&e.pool, pool_mem, sizeof(pool_mem));
	paging__init(&e.as, mode, &e.pool);
	paging__identity(&e.as, IDENT_BYTES, PTE_P | PTE_RW | PTE_US);
	if (mode == PAGING_32) {
		user__init();
		if (paging__has_pse())
			cr4 = CR4_PSE;
	}
	if (paging__enable(&e.as, cr4) < 0) {
		test__ok(false, "enable %s paging", paging__mode_name(mode));
		return;
	}
	pgcheck__init(&e.r, mode);
	e.r.nxe = mode != PAGING_32 && paging__has_nx();
	if (e.r.nxe)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	set_wp(true);
	test__ok(read_cr0() & CR0_PG, "%s paging on", paging__mode_name(mode));

	check_map();
	check_rights();
	check_ad();
	check_spaces();
	if (mode == PAGING_32 && !paging__has_pse())
		test__skip("4 MiB pages", "CPUID.1:EDX.PSE=0");
	else
		check_large();
	check_global();
	check_selfmap();
	check_pt_alias();
	check_nx();
	check_supervisor_stack();
}
