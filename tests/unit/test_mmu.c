/*
 * test_mmu.c: the shadow MMU against guest page tables written into a real pmap (memfd
 * pool), driven the way the #PF path drives it: walk the guest's tables, fill. Checks
 * the real tables it builds (VA -> MPN with the guest's rights), the write protection
 * of guest tables through the reverse map, zaps on guest table writes and INVLPG, the
 * root cache, reclaim under a cap, and that the auditor finds nothing wrong throughout.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "mmu.h"
#include "monitor.h"

static struct pool pool;
static struct pmap pm;
static struct monitor mon;
static struct mmu mmu;

static int rd(void *ctx, gpa_t gpa, void *buf, unsigned len)
{
	(void)ctx;
	return pmap__read(&pm, gpa, buf, len);
}

static int cx(void *ctx, gpa_t gpa, uint64_t old, uint64_t new, unsigned len)
{
	uint64_t cur = 0;
	(void)ctx;
	pmap__read(&pm, gpa, &cur, len);
	if (cur != old)
		return 1;
	return pmap__write(&pm, gpa, &new, len);
}

static const struct walk_mem wm = { rd, cx, NULL };

static void put32(uint64_t a, uint32_t v) { ck_assert_int_eq(pmap__write(&pm, GPA(a), &v, 4), 0); }

static void setup(void)
{
	ck_assert_int_eq(pool__init(&pool, 64ULL << 20), 0);
	ck_assert_int_eq(pmap__init(&pm, &pool, 16ULL << 20), 0);
	ck_assert_int_eq(monitor__init(&mon, &pool, 1), 0);
	ck_assert_int_eq(mmu__init(&mmu, &pool, &pm, &mon, 64), 0);
}

static void teardown(void)
{
	mmu__exit(&mmu);
	monitor__exit(&mon);
	pmap__exit(&pm);
	pool__exit(&pool);
}

static struct walk_env env32(uint32_t cr3)
{
	return (struct walk_env){ .mode = PG_32, .cr3 = cr3, .wp = true, .pse = true,
				  .maxphyaddr = 36 };
}

/* The real translation of va through the loaded root: the leaf, or 0. */
static uint64_t real_leaf(uint64_t va)
{
	uint64_t *t = pool__ptr(&pool, mmu.roots[0]->mfn);
	for (int level = 4; level > 1; level--) {
		uint64_t e = t[pt_index(va, level)];
		if (!(e & PTE_P))
			return 0;
		t = pool__ptr(&pool, pte_mfn(e));
	}
	return t[pt_index(va, 1)];
}

static void fault_in(struct walk_env *e, uint64_t va, uint32_t access)
{
	struct walk w;
	ck_assert_int_eq(walker__walk(e, &wm, va, access, &w), 0);
	ck_assert_int_eq(mmu__fill(&mmu, e, va, &w, access), 0);
	ck_assert_uint_eq(mmu__audit(&mmu, e, &wm), 0);
}

/* A 32-bit guest: PD at 0x10000, PT at 0x11000; va 0x00400000 + i*4K -> 0x100000 + i*4K,
 * plus the PD and PT themselves mapped at 0x00800000 / 0x00801000 (a guest that edits its
 * tables through a mapping). */
static void build32(void)
{
	put32(0x10000 + 1 * 4, 0x11000 | 0x7);
	for (unsigned i = 0; i < 16; i++)
		put32(0x11000 + i * 4, (0x100000 + i * 0x1000) | 0x7);
	put32(0x10000 + 2 * 4, 0x12000 | 0x7);
	put32(0x12000 + 0 * 4, 0x10000 | 0x7);
	put32(0x12000 + 1 * 4, 0x11000 | 0x7);
}

START_TEST(fill_maps_va_to_the_machine_frame)
{
	struct walk_env e = env32(0x10000);
	mfn_t root;
	build32();
	ck_assert_int_eq(mmu__load_root(&mmu, &e, &root), 0);
	fault_in(&e, 0x00403123, PFERR_U);
	uint64_t leaf = real_leaf(0x00403000);
	ck_assert(leaf & PTE_P);
	ck_assert(leaf & PTE_US);
	ck_assert_uint_eq(pte_mfn(leaf).v, pmap__lookup(&pm, GFN(0x103)).v);
	/* A read of a clean page maps it read-only: the first write must set D. */
	ck_assert_uint_eq(leaf & PTE_RW, 0);
	fault_in(&e, 0x00403123, PFERR_U | PFERR_W);
	ck_assert(real_leaf(0x00403000) & PTE_RW);
	uint32_t pte;
	pmap__read(&pm, GPA(0x11000 + 3 * 4), &pte, 4);
	ck_assert_uint_eq(pte & 0x60, 0x60);                 /* A and D in the guest's PTE */
	/* The monitor is in the root, where every 32-bit guest is blind to it. */
	uint64_t *r = pool__ptr(&pool, root);
	ck_assert_uint_eq(pte_mfn(r[MON_PML4_SLOT]).v, mon.pdpt.v);
}
END_TEST

START_TEST(guest_tables_are_write_protected)
{
	struct walk_env e = env32(0x10000);
	mfn_t root;
	build32();
	ck_assert_int_eq(mmu__load_root(&mmu, &e, &root), 0);
	/* Map the guest's PT as data, writable, before it is shadowed as a table ... */
	fault_in(&e, 0x00801000, PFERR_W);
	ck_assert(real_leaf(0x00801000) & PTE_RW);
	/* ... then shadow it: its data mapping loses write access through the rmap. */
	fault_in(&e, 0x00400000, 0);
	ck_assert(mmu__tracked(&mmu, GFN(0x11)));
	ck_assert(mmu__tracked(&mmu, GFN(0x10)));
	ck_assert_uint_eq(real_leaf(0x00801000) & (PTE_RW | SPTE_MMU_WRITABLE), 0);
	ck_assert(mmu.flush_needed);
	/* A fill for a write to it keeps it read-only (writes go through shade). */
	fault_in(&e, 0x00801000, PFERR_W);
	ck_assert_uint_eq(real_leaf(0x00801000) & PTE_RW, 0);
	ck_assert_uint_eq(mmu__rmap_count(&mmu, GFN(0x11)), 1);
}
END_TEST

START_TEST(guest_table_writes_zap_what_they_change)
{
	struct walk_env e = env32(0x10000);
	mfn_t root;
	build32();
	ck_assert_int_eq(mmu__load_root(&mmu, &e, &root), 0);
	fault_in(&e, 0x00402000, 0);
	fault_in(&e, 0x00405000, 0);
	ck_assert(real_leaf(0x00402000) & PTE_P);
	/* The guest remaps va 0x402000 (PTE 2): only that shadow leaf goes. */
	put32(0x11000 + 2 * 4, 0x200000 | 0x7);
	mmu__guest_wrote(&mmu, GPA(0x11000 + 2 * 4), 4);
	ck_assert_uint_eq(real_leaf(0x00402000) & PTE_P, 0);
	ck_assert(real_leaf(0x00405000) & PTE_P);
	ck_assert_uint_eq(mmu__audit(&mmu, &e, &wm), 0);
	fault_in(&e, 0x00402000, 0);
	ck_assert_uint_eq(pte_mfn(real_leaf(0x00402000)).v, pmap__lookup(&pm, GFN(0x200)).v);
	/* INVLPG drops exactly one translation. */
	mmu__invlpg(&mmu, 0x00405000);
	ck_assert_uint_eq(real_leaf(0x00405000) & PTE_P, 0);
	ck_assert(real_leaf(0x00402000) & PTE_P);
	ck_assert_uint_eq(mmu__audit(&mmu, &e, &wm), 0);
}
END_TEST

START_TEST(tables_written_like_data_stop_being_shadowed)
{
	struct walk_env e = env32(0x10000);
	mfn_t root;
	build32();
	ck_assert_int_eq(mmu__load_root(&mmu, &e, &root), 0);
	fault_in(&e, 0x00400000, 0);
	ck_assert(mmu__tracked(&mmu, GFN(0x11)));
	for (unsigned i = 0; i <= MMU_UNSHADOW_WRITES; i++)
		mmu__guest_wrote(&mmu, GPA(0x11000 + 0x800), 4);
	ck_assert(!mmu__tracked(&mmu, GFN(0x11)));
	ck_assert_uint_eq(mmu.stats.sp_unshadowed, 1);
	ck_assert_uint_eq(mmu__audit(&mmu, &e, &wm), 0);
	/* Used as a table again: shadowed again. */
	fault_in(&e, 0x00400000, 0);
	ck_assert(mmu__tracked(&mmu, GFN(0x11)));
}
END_TEST

START_TEST(roots_are_cached_per_cr3)
{
	struct walk_env a = env32(0x10000), b = env32(0x20000);
	mfn_t ra, rb, ra2;
	build32();
	put32(0x20000 + 1 * 4, 0x11000 | 0x7);               /* shares the PT */
	ck_assert_int_eq(mmu__load_root(&mmu, &a, &ra), 0);
	fault_in(&a, 0x00400000, 0);
	ck_assert_int_eq(mmu__load_root(&mmu, &b, &rb), 0);
	ck_assert_uint_ne(ra.v, rb.v);
	fault_in(&b, 0x00400000, 0);
	ck_assert_int_eq(mmu__load_root(&mmu, &a, &ra2), 0);
	ck_assert_uint_eq(ra.v, ra2.v);
	ck_assert_uint_eq(mmu.stats.root_hits, 1);
	ck_assert_uint_eq(mmu.stats.root_misses, 2);
	ck_assert(real_leaf(0x00400000) & PTE_P);            /* still filled */
}
END_TEST

START_TEST(reclaim_keeps_under_the_cap)
{
	struct walk_env e = env32(0x10000);
	mfn_t root;
	/* 80 guest page tables, each mapping one page: more shadow pages than the cap (64). */
	for (unsigned i = 0; i < 80; i++) {
		put32(0x10000 + (4 + i) * 4, (0x30000 + i * 0x1000) | 0x7);
		put32(0x30000 + i * 0x1000, (0x100000 + i * 0x1000) | 0x7);
	}
	ck_assert_int_eq(mmu__load_root(&mmu, &e, &root), 0);
	for (unsigned i = 0; i < 80; i++)
		fault_in(&e, (uint64_t)(4 + i) << 22, 0);
	ck_assert_uint_le(mmu.npages, 64);
	ck_assert_uint_gt(mmu.stats.sp_reclaimed, 0);
	ck_assert_uint_eq(mmu__audit(&mmu, &e, &wm), 0);
	/* The most recently used translations survived; reclaimed ones refill. */
	ck_assert(real_leaf((uint64_t)83 << 22) & PTE_P);
	fault_in(&e, (uint64_t)4 << 22, 0);
	ck_assert(real_leaf((uint64_t)4 << 22) & PTE_P);
}
END_TEST

START_TEST(reset_frees_everything)
{
	struct walk_env e = env32(0x10000);
	mfn_t root;
	uint64_t before = pool__used(&pool);
	build32();
	uint64_t with_tables = pool__used(&pool);
	ck_assert_int_eq(mmu__load_root(&mmu, &e, &root), 0);
	fault_in(&e, 0x00400000, 0);
	ck_assert_uint_gt(pool__used(&pool), with_tables);
	mmu__reset(&mmu);
	ck_assert_uint_eq(mmu.npages, 0);
	ck_assert(!mmu__tracked(&mmu, GFN(0x11)));
	/* Guest pages touched by the walk stay; every shadow frame went back. */
	ck_assert_uint_eq(pool__used(&pool), with_tables + 1 /* guest page 0x100 */);
	(void)before;
}
END_TEST

/* The auditor must catch what it exists to catch: each corruption alone is reported. */
START_TEST(audit_finds_broken_invariants)
{
	struct walk_env e = env32(0x10000);
	mfn_t root;
	build32();
	ck_assert_int_eq(mmu__load_root(&mmu, &e, &root), 0);
	fault_in(&e, 0x00402000, PFERR_W);
	fault_in(&e, 0x00801000, 0);                 /* the guest PT, mapped as data */
	uint64_t *leaf = NULL, *pt_alias = NULL;
	struct rmap *r = &mmu.rmap[0x102];
	ck_assert_uint_eq(r->n, 1);
	leaf = r->sptes[0];
	ck_assert_uint_eq(mmu.rmap[0x11].n, 1);
	pt_alias = mmu.rmap[0x11].sptes[0];

	/* A tracked page table made writable in the shadow. */
	*pt_alias |= PTE_RW | SPTE_MMU_WRITABLE;
	ck_assert_uint_gt(mmu__audit(&mmu, &e, &wm), 0);
	*pt_alias &= ~(PTE_RW | SPTE_MMU_WRITABLE);
	ck_assert_uint_eq(mmu__audit(&mmu, &e, &wm), 0);

	/* The guest's PTE changed without the MMU hearing of it: a stale translation. */
	uint32_t old;
	pmap__read(&pm, GPA(0x11000 + 2 * 4), &old, 4);
	put32(0x11000 + 2 * 4, 0x200000 | 0x67);
	ck_assert_uint_gt(mmu__audit(&mmu, &e, &wm), 0);
	put32(0x11000 + 2 * 4, old & ~0x2u);          /* now read-only in the guest */
	ck_assert_uint_gt(mmu__audit(&mmu, &e, &wm), 0);
	put32(0x11000 + 2 * 4, old & ~0x40u);         /* D clear, shadow still writable */
	ck_assert_uint_gt(mmu__audit(&mmu, &e, &wm), 0);
	put32(0x11000 + 2 * 4, old);
	ck_assert_uint_eq(mmu__audit(&mmu, &e, &wm), 0);

	/* A leaf that is missing from the reverse map. */
	r->n = 0;
	ck_assert_uint_gt(mmu__audit(&mmu, &e, &wm), 0);
	r->n = 1;
	/* A leaf whose machine frame is not the pmap's. */
	uint64_t saved = *leaf;
	*leaf = (saved & ~PTE_ADDR) | mfn_to_ma(mon.pdpt);
	ck_assert_uint_gt(mmu__audit(&mmu, &e, &wm), 0);
	*leaf = saved;
	ck_assert_uint_eq(mmu__audit(&mmu, &e, &wm), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mmu");
	TCase *tc = tcase_create("shadow");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fill_maps_va_to_the_machine_frame);
	tcase_add_test(tc, guest_tables_are_write_protected);
	tcase_add_test(tc, guest_table_writes_zap_what_they_change);
	tcase_add_test(tc, tables_written_like_data_stop_being_shadowed);
	tcase_add_test(tc, roots_are_cached_per_cr3);
	tcase_add_test(tc, reclaim_keeps_under_the_cap);
	tcase_add_test(tc, reset_frees_everything);
	tcase_add_test(tc, audit_finds_broken_invariants);
	suite_add_tcase(s, tc);
	return check_run(s);
}
