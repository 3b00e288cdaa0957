/*
 * test_segments.c: pure emulator logic: descriptor decode/encode, ring compression of
 * the guest's descriptors, and the filtering of the guest CPUID table.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "cpuid.h"
#include "seg.h"

#define FLAT_CODE_DPL0 0x00cf9a000000ffffULL
#define FLAT_DATA_DPL3 0x00cff2000000ffffULL

START_TEST(decode_flat_code)
{
	struct kvm_segment s;
	seg__decode(FLAT_CODE_DPL0, 0x08, &s);
	ck_assert_uint_eq(s.base, 0);
	ck_assert_uint_eq(s.limit, 0xffffffff);
	ck_assert_uint_eq(s.type, 0xa);
	ck_assert_uint_eq(s.s, 1);
	ck_assert_uint_eq(s.dpl, 0);
	ck_assert_uint_eq(s.present, 1);
	ck_assert_uint_eq(s.db, 1);
	ck_assert_uint_eq(s.g, 1);
	ck_assert_uint_eq(s.l, 0);
}
END_TEST

START_TEST(decode_encode_roundtrip)
{
	/* base 0x12345678, limit 0x5432 (byte granular), data RW DPL 2, 16-bit */
	uint64_t d = 0x1200d23456785432ULL;
	struct kvm_segment s;
	seg__decode(d, 0x13, &s);
	ck_assert_uint_eq(s.base, 0x12345678);
	ck_assert_uint_eq(s.limit, 0x5432);
	ck_assert_uint_eq(s.dpl, 2);
	ck_assert_uint_eq(s.db, 0);
	ck_assert_uint_eq(seg__encode(&s), d);
}
END_TEST

START_TEST(compress_moves_ring0_to_ring1)
{
	struct kvm_segment s;
	seg__decode(seg__compress(FLAT_CODE_DPL0, false), 0x09, &s);
	ck_assert_uint_eq(s.dpl, 1);
	ck_assert_uint_eq(s.type, 0xb);           /* accessed preset */
	seg__decode(seg__compress(FLAT_DATA_DPL3, false), 0x1b, &s);
	ck_assert_uint_eq(s.dpl, 3);              /* user descriptors keep their DPL */
	ck_assert_uint_eq(seg_virt_dpl(1), 0);
	ck_assert_uint_eq(seg_virt_dpl(3), 3);
}
END_TEST

START_TEST(compress_drops_system_and_long_bits)
{
	uint64_t tss = 0x00008b0000000067ULL;    /* busy 32-bit TSS, S = 0 */
	ck_assert_uint_eq(seg__compress(tss, false), 0);
	uint64_t code64 = 0x00209a0000000000ULL; /* L = 1 */
	ck_assert_uint_eq(seg__compress(code64, false) & (1ULL << 53), 0);
	ck_assert_uint_ne(seg__compress(code64, true) & (1ULL << 53), 0);
}
END_TEST

START_TEST(selector_rpl_translation)
{
	ck_assert_uint_eq(seg_real_sel(0x08), 0x09);
	ck_assert_uint_eq(seg_real_sel(0x1b), 0x1b);
	ck_assert_uint_eq(seg_real_sel(0x00), 0x00);   /* null stays null */
	ck_assert_uint_eq(seg_virt_sel(0x09), 0x08);
	ck_assert_uint_eq(seg_virt_sel(0x23), 0x23);
}
END_TEST

static struct kvm_cpuid2 *fake_supported(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 6 * sizeof(c->entries[0]));
	c->nent = 6;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 1, .ecx = 0xffffffff, .edx = 0xffffffff, .ebx = 0x12345678 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 7, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 0xffffffff, .ecx = 0xffffffff };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0xffff };
	c->entries[4] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x80000001 };
	c->entries[5] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .ecx = 0xffffffff, .edx = 0xffffffff };
	return c;
}

START_TEST(cpuid_hides_what_shade_does_not_virtualize)
{
	struct kvm_cpuid2 *sup = fake_supported();
	struct cpuid_table t;
	uint32_t r[4];
	ck_assert_int_eq(cpuid__build(&t, sup), 0);
	cpuid__lookup(&t, 1, 0, r);
	ck_assert_uint_eq(r[2] & (1u << 5), 0);        /* VMX */
	ck_assert_uint_eq(r[2] & (1u << 21), 0);       /* x2APIC */
	ck_assert_uint_eq(r[2] & (1u << 28), 0);       /* AVX (XSAVE covers x87/SSE only) */
	ck_assert_uint_ne(r[2] & (1u << 31), 0);       /* hypervisor present */
	ck_assert_uint_eq(r[3] & (1u << 9), 0);        /* no local APIC yet */
	ck_assert_uint_ne(r[3] & (1u << 0), 0);        /* FPU kept */
	ck_assert_uint_eq(r[1] >> 16, 0);              /* one logical CPU, APIC ID 0 */
	cpuid__lookup(&t, 7, 0, r);
	ck_assert_uint_eq(r[1] & (1u << 7), 0);        /* SMEP */
	ck_assert_uint_eq(r[2], 1u << 2);              /* UMIP (emulated) only: no PKU, LA57 ... */
	cpuid__lookup(&t, 0x80000001, 0, r);
	ck_assert_uint_eq(r[2] & (1u << 2), 0);        /* SVM */
	ck_assert_uint_ne(r[3] & (1u << 29), 0);       /* long mode kept */
	/* KVM's paravirt leaves are gone; shade's signature is there. */
	cpuid__lookup(&t, 0x40000001, 0, r);
	ck_assert_uint_eq(r[0], 0);
	cpuid__lookup(&t, 0x40000000, 0, r);
	ck_assert_mem_eq(&r[1], "shadeshadeVM", 12);
	free(sup);
}
END_TEST

START_TEST(cpuid_out_of_range_leaf_answers_highest_basic)
{
	struct kvm_cpuid2 *sup = fake_supported();
	struct cpuid_table t;
	uint32_t a[4], b[4];
	ck_assert_int_eq(cpuid__build(&t, sup), 0);
	cpuid__lookup(&t, 0x1234, 0, a);
	cpuid__lookup(&t, 0xd, 0, b);
	ck_assert_mem_eq(a, b, sizeof(a));
	free(sup);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("segments");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, decode_flat_code);
	tcase_add_test(tc, decode_encode_roundtrip);
	tcase_add_test(tc, compress_moves_ring0_to_ring1);
	tcase_add_test(tc, compress_drops_system_and_long_bits);
	tcase_add_test(tc, selector_rpl_translation);
	tcase_add_test(tc, cpuid_hides_what_shade_does_not_virtualize);
	tcase_add_test(tc, cpuid_out_of_range_leaf_answers_highest_basic);
	suite_add_tcase(s, tc);
	return check_run(s);
}
