/*
 * test_walk.c: the guest page-table walker against tables built in a fake guest memory:
 * translations in every mode and page size, the protection rules, reserved bits, the
 * exact #PF error codes, and the accessed/dirty bits it leaves in the guest's entries.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "walk.h"

#define MEM_SIZE (8u << 20)
static uint8_t *mem;

static int rd(void *ctx, gpa_t gpa, void *buf, unsigned len)
{
	(void)ctx;
	if (gpa.v + len > MEM_SIZE)
		return -EFAULT;
	memcpy(buf, mem + gpa.v, len);
	return 0;
}

static int cx(void *ctx, gpa_t gpa, uint64_t old, uint64_t new, unsigned len)
{
	uint64_t cur = 0;
	(void)ctx;
	if (gpa.v + len > MEM_SIZE)
		return -EFAULT;
	memcpy(&cur, mem + gpa.v, len);
	if (cur != old)
		return 1;
	memcpy(mem + gpa.v, &new, len);
	return 0;
}

static const struct walk_mem wm = { rd, cx, NULL };

static void put32(uint64_t a, uint32_t v) { memcpy(mem + a, &v, 4); }
static void put64(uint64_t a, uint64_t v) { memcpy(mem + a, &v, 8); }
static uint32_t get32(uint64_t a) { uint32_t v; memcpy(&v, mem + a, 4); return v; }
static uint64_t get64(uint64_t a) { uint64_t v; memcpy(&v, mem + a, 8); return v; }

#define P  0x1u
#define RW 0x2u
#define US 0x4u
#define A  0x20u
#define D  0x40u
#define PS 0x80u
#define G  0x100u
#define NX (1ULL << 63)

static void setup(void) { mem = calloc(1, MEM_SIZE); }
static void teardown(void) { free(mem); }

static struct walk_env env32(bool wp, bool pse)
{
	return (struct walk_env){ .mode = PG_32, .cr3 = 0x1000, .wp = wp, .pse = pse,
				  .maxphyaddr = 36 };
}

/* 32-bit: PD at 0x1000, PT at 0x2000; va 0x00401000 -> 0x123000. */
static void map32(uint32_t pde_flags, uint32_t pte_flags)
{
	put32(0x1000 + 1 * 4, 0x2000 | pde_flags);
	put32(0x2000 + 1 * 4, 0x123000 | pte_flags);
}

START_TEST(pg32_translates_and_sets_accessed)
{
	struct walk_env e = env32(true, false);
	struct walk w;
	map32(P | RW | US, P | RW | US);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401abc, 0, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x123abc);
	ck_assert_uint_eq(w.leaf, 1);
	ck_assert_uint_eq(get32(0x1004) & (A | D), A);
	ck_assert_uint_eq(get32(0x2004) & (A | D), A);     /* read: no D */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401abc, PFERR_W, &w), 0);
	ck_assert_uint_eq(get32(0x2004) & (A | D), A | D);
	ck_assert_uint_eq(get32(0x1004) & D, 0);           /* D only in the leaf */
	ck_assert_uint_eq(w.pte_gpa[1].v, 0x2004);
	ck_assert_uint_eq(w.pte_gpa[2].v, 0x1004);
}
END_TEST

START_TEST(pg32_not_present_error_codes)
{
	struct walk_env e = env32(true, false);
	struct walk w;
	map32(P | RW | US, RW | US);                         /* PTE not present */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401000, PFERR_W | PFERR_U, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_W | PFERR_U);
	/* A fetch in 32-bit paging does not report I/D (there is no NX). */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401000, PFERR_F, &w), 1);
	ck_assert_uint_eq(w.error, 0);
	ck_assert_uint_eq(get32(0x1004) & A, 0);            /* a fault sets no A bit */
}
END_TEST

START_TEST(pg32_protection_rules)
{
	struct walk w;
	struct walk_env e = env32(true, false);
	map32(P | RW | US, P | RW);                          /* supervisor page */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401000, PFERR_U, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_U);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401000, 0, &w), 0);
	map32(P | RW | US, P | US);                          /* read-only user page */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401000, PFERR_W | PFERR_U, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_W | PFERR_U);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401000, PFERR_W, &w), 1);   /* WP = 1 */
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_W);
	map32(P | US, P | RW | US);                          /* read-only at the PDE */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401000, PFERR_W | PFERR_U, &w), 1);
	e.wp = false;                                        /* supervisor ignores R/W */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00401000, PFERR_W, &w), 0);
	ck_assert(!w.writable);
	ck_assert_uint_eq(get32(0x2004) & D, D);
}
END_TEST

START_TEST(pg32_large_pages_follow_cr4_pse)
{
	struct walk w;
	struct walk_env e = env32(true, true);
	put32(0x1000 + 1 * 4, 0x00c00000 | P | RW | PS | G);   /* 4 MiB page at 12 MiB */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00512345, 0, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x00c00000 + 0x112345);
	ck_assert_uint_eq(w.leaf, 2);
	ck_assert(!w.global);                               /* G needs CR4.PGE */
	e.pge = true;
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00512345, PFERR_W, &w), 0);
	ck_assert(w.global);
	ck_assert_uint_eq(get32(0x1004) & D, D);             /* a large leaf gets D */
	/* PSE-36: bits 20:13 give physical bits 39:32; beyond MAXPHYADDR they are reserved. */
	put32(0x1004, 0x00c00000 | (1u << 13) | P | PS);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00512345, 0, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x100000000ULL + 0x00c00000 + 0x112345);
	put32(0x1004, 0x00c00000 | (1u << 17) | P | PS);    /* bit 36 with MAXPHYADDR 36 */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00512345, 0, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_RSVD);
	put32(0x1004, 0x00c00000 | (1u << 21) | P | PS);    /* bit 21: always reserved */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00512345, 0, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_RSVD);
	/* Without CR4.PSE the PS bit is ignored: the PDE points to a page table. */
	e.pse = false;
	put32(0x1004, 0x2000 | P | RW | PS);
	put32(0x2000 + 0x112 * 4, 0x7000 | P);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00512345, 0, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x7345);
}
END_TEST

static struct walk_env env_pae(bool nxe)
{
	struct walk_env e = { .mode = PG_PAE, .cr3 = 0x1000, .wp = true, .nxe = nxe,
			      .maxphyaddr = 40 };
	return e;
}

START_TEST(pae_translates_2m_and_4k_with_nx)
{
	struct walk w;
	struct walk_env e = env_pae(true);
	put64(0x1000, 0x2000 | P);                           /* PDPTE 0 */
	put64(0x2000 + 2 * 8, 0x3000 | P | RW | US);         /* PDE 2 -> PT */
	put64(0x3000 + 5 * 8, 0x9000 | P | RW | US | NX);    /* va 0x405000 */
	put64(0x2000 + 3 * 8, 0x00e00000 | P | RW | PS);     /* 2 MiB at va 0x600000 */
	ck_assert_int_eq(walker__load_pdptes(&e, &wm), 0);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x405123, PFERR_U, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x9123);
	ck_assert(w.nx);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x405123, PFERR_F | PFERR_U, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_F | PFERR_U);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x6abcde, PFERR_W, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x00e00000 + 0xabcde);
	ck_assert_uint_eq(w.leaf, 2);
	ck_assert_uint_eq(get64(0x2018) & (A | D), A | D);
	/* A fetch from a not-present page reports I/D when NXE = 1. */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x1000000, PFERR_F, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_F);
	/* With NXE = 0 the NX bit is reserved. */
	e.nxe = false;
	ck_assert_int_eq(walker__walk(&e, &wm, 0x405123, 0, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_RSVD);
	/* Bits 20:13 of a 2 MiB PDE are reserved. */
	e.nxe = true;
	put64(0x2018, 0x00e00000 | (1u << 15) | P | RW | PS);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x6abcde, PFERR_W, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_W | PFERR_RSVD);
}
END_TEST

START_TEST(pae_pdptes_are_loaded_and_checked)
{
	struct walk_env e = env_pae(true);
	put64(0x1000 + 8, 0x5000 | P | RW);                 /* R/W is reserved in a PDPTE */
	ck_assert_int_eq(walker__load_pdptes(&e, &wm), 1);
	put64(0x1000 + 8, 0x5000 | P);
	ck_assert_int_eq(walker__load_pdptes(&e, &wm), 0);
	ck_assert_uint_eq(e.pdpte[1], 0x5000 | P);
	/* The CPU uses the loaded PDPTEs, not memory, until CR3 is loaded again. */
	put64(0x1000 + 8, 0);
	struct walk w;
	put64(0x5000, 0x6000 | P | RW);
	put64(0x6000, 0x8000 | P | RW);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x40000000, 0, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x8000);
}
END_TEST

static struct walk_env env_lm(bool gb)
{
	return (struct walk_env){ .mode = PG_LM4, .cr3 = 0x1000, .wp = true, .nxe = true,
				  .gbpages = gb, .maxphyaddr = 40 };
}

START_TEST(lm4_translates_all_page_sizes)
{
	struct walk w;
	struct walk_env e = env_lm(true);
	uint64_t va = 0x00007f8080201000ULL;                 /* PML4 255, PDPT 2, PD 1, PT 1 */
	put64(0x1000 + 255 * 8, 0x2000 | P | RW | US);
	put64(0x2000 + 2 * 8, 0x3000 | P | RW | US);
	put64(0x3000 + 1 * 8, 0x4000 | P | RW | US);
	put64(0x4000 + 1 * 8, 0x123000 | P | RW | US);
	ck_assert_int_eq(walker__walk(&e, &wm, va + 0x42, PFERR_U | PFERR_W, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x123042);
	ck_assert_uint_eq(w.levels, 4);
	for (unsigned l = 1; l <= 4; l++)
		ck_assert(w.pte[l] & A);
	/* 2 MiB at PD index 2, 1 GiB at PDPT index 3. */
	put64(0x3000 + 2 * 8, 0x00600000 | P | RW | US | PS);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00007f8080400000ULL + 0x1234, PFERR_U, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x00601234);
	put64(0x2000 + 3 * 8, 0x40000000ULL | P | RW | US | PS);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x00007f80c0000000ULL + 0x123456, 0, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x40123456);
	ck_assert_uint_eq(w.leaf, 3);
	/* Without 1 GiB pages, PS in a PDPTE is reserved. */
	struct walk_env e2 = env_lm(false);
	ck_assert_int_eq(walker__walk(&e2, &wm, 0x00007f80c0000000ULL, 0, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_RSVD);
}
END_TEST

START_TEST(lm4_reserved_bits)
{
	struct walk w;
	struct walk_env e = env_lm(true);
	put64(0x1000, 0x2000 | P | RW | PS);                 /* PS in a PML4E */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x1000, PFERR_U, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_RSVD | PFERR_U);
	put64(0x1000, 0x2000 | P | RW | (1ULL << 45));       /* above MAXPHYADDR (40) */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x1000, 0, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_RSVD);
	/* A reserved-bit fault beats a permission fault, and an absent entry beats both. */
	put64(0x1000, 0x2000 | P | RW);
	put64(0x2000, 0x3000 | P | RW);
	put64(0x3000, 0x00200000 | P | PS | (1u << 14));     /* 2 MiB, reserved bit 14 */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x1000, PFERR_W | PFERR_U, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_P | PFERR_RSVD | PFERR_W | PFERR_U);
	put64(0x2000, 0x3000 | RW);
	ck_assert_int_eq(walker__walk(&e, &wm, 0x1000, PFERR_W | PFERR_U, &w), 1);
	ck_assert_uint_eq(w.error, PFERR_W | PFERR_U);
}
END_TEST

START_TEST(tables_outside_memory_are_reported)
{
	struct walk w;
	struct walk_env e = env_lm(true);
	put64(0x1000, 0x7f000000ULL | P | RW);               /* beyond the fake 8 MiB */
	ck_assert_int_eq(walker__walk(&e, &wm, 0x1000, 0, &w), -EFAULT);
	struct walk_env off = { .mode = PG_OFF };
	ck_assert_int_eq(walker__walk(&off, &wm, 0x12345678, PFERR_W, &w), 0);
	ck_assert_uint_eq(w.gpa.v, 0x12345678);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("walker");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pg32_translates_and_sets_accessed);
	tcase_add_test(tc, pg32_not_present_error_codes);
	tcase_add_test(tc, pg32_protection_rules);
	tcase_add_test(tc, pg32_large_pages_follow_cr4_pse);
	tcase_add_test(tc, pae_translates_2m_and_4k_with_nx);
	tcase_add_test(tc, pae_pdptes_are_loaded_and_checked);
	tcase_add_test(tc, lm4_translates_all_page_sizes);
	tcase_add_test(tc, lm4_reserved_bits);
	tcase_add_test(tc, tables_outside_memory_are_reported);
	suite_add_tcase(s, tc);
	return check_run(s);
}
