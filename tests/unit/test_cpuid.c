/*
 * test_cpuid.c: the CPU model (src/emulate/cpuid.c) and its MSRs (msr.c, msr_model.c)
 * without /dev/kvm: the table built from fabricated KVM_GET_SUPPORTED_CPUID answers
 * (everything, nothing), each feature register against the model's policies, the
 * leaves that must agree with each other, the CR4 bits the model allows, and the
 * semantics of every MSR the model advertises (read, write, reserved bits, vendor) and
 * RDPMC of its counters.
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "cpuid.h"
#include "emu_internal.h"
#include "emulate.h"
#include "vcpu.h"

/* A host answer with every feature bit of the given leaves set, vendor `v`. */
static struct kvm_cpuid2 *fake_host(const char *v, uint32_t fill)
{
	static const uint32_t leaves[] = { 0, 1, 6, 7, 0xd, 0x80000000, 0x80000001,
					   0x80000007, 0x80000008, 0x40000000 };
	unsigned n = ARRAY_SIZE(leaves);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	ck_assert_ptr_nonnull(c);
	c->nent = n;
	for (unsigned i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		e->function = leaves[i];
		e->eax = e->ebx = e->ecx = e->edx = fill;
		if (leaves[i] == 7 || leaves[i] == 0xd)
			e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	}
	c->entries[0].eax = 0x1c;
	memcpy(&c->entries[0].ebx, v, 4);
	memcpy(&c->entries[0].edx, v + 4, 4);
	memcpy(&c->entries[0].ecx, v + 8, 4);
	c->entries[1].eax = 0x00a10f11;
	c->entries[5].eax = 0x80000021;
	c->entries[8].eax = 0x3030;
	return c;
}

static void build(struct cpuid_table *t, const char *vendor, uint32_t fill)
{
	struct kvm_cpuid2 *h = fake_host(vendor, fill);
	ck_assert_int_eq(cpuid__build(t, h), 0);
	free(h);
}

static uint32_t reg(const struct cpuid_table *t, uint32_t leaf, unsigned r)
{
	uint32_t out[4];
	cpuid__lookup(t, leaf, 0, out);
	return out[r];
}

/* The bits of one register the model turns on for a host with everything (or nothing). */
static uint32_t model_bits(uint32_t leaf, unsigned r, bool host_has_all)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < cpuid_model_n; i++) {
		const struct cpuid_feature *m = &cpuid_model[i];
		if (m->leaf == leaf && m->reg == r &&
		    (m->policy == CPUID_ON || (m->policy == CPUID_HOST && host_has_all)))
			v |= 1u << m->bit;
	}
	return v;
}

START_TEST(every_feature_bit_is_the_tables)
{
	static const struct { uint32_t leaf; unsigned r; } regs[] = {
		{ 1, 2 }, { 1, 3 }, { 6, 0 }, { 7, 1 }, { 7, 2 }, { 7, 3 },
		{ 0x80000001, 2 }, { 0x80000007, 1 }, { 0x80000007, 3 }, { 0x80000008, 1 },
	};
	struct cpuid_table all, none;
	build(&all, "GenuineIntel", ~0u);
	build(&none, "GenuineIntel", 0);
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
		ck_assert_msg(reg(&all, regs[i].leaf, regs[i].r) == model_bits(regs[i].leaf, regs[i].r, true),
			      "leaf %#x reg %u with a host that has everything", regs[i].leaf, regs[i].r);
		ck_assert_msg(reg(&none, regs[i].leaf, regs[i].r) == model_bits(regs[i].leaf, regs[i].r, false),
			      "leaf %#x reg %u with a host that has nothing", regs[i].leaf, regs[i].r);
	}
	/* Intel: 0x80000001 EDX is only the model's own bits (no AMD mirror). */
	ck_assert_uint_eq(reg(&all, 0x80000001, 3), model_bits(0x80000001, 3, true));
}
END_TEST

START_TEST(the_table_names_each_bit_once_with_a_reason)
{
	for (unsigned i = 0; i < cpuid_model_n; i++) {
		const struct cpuid_feature *a = &cpuid_model[i];
		ck_assert_msg(a->name && a->why && *a->why, "entry %u", i);
		ck_assert(a->reg < 4 && a->bit < 32);
		for (unsigned j = i + 1; j < cpuid_model_n; j++) {
			const struct cpuid_feature *b = &cpuid_model[j];
			ck_assert_msg(!(a->leaf == b->leaf && a->sub == b->sub && a->reg == b->reg &&
					a->bit == b->bit), "%s and %s are the same bit", a->name, b->name);
		}
	}
}
END_TEST

START_TEST(what_shade_cannot_do_is_never_advertised)
{
	struct cpuid_table t;
	build(&t, "AuthenticAMD", ~0u);
	ck_assert_uint_eq(reg(&t, 1, 2) & (1u << 5 | 1u << 27 | 1u << 28 | 1u << 17), 0);
	ck_assert_uint_eq(reg(&t, 1, 3) & (1u << 1), 0);           /* VME */
	ck_assert_uint_eq(reg(&t, 7, 1) & (1u << 7 | 1u << 20 | 1u << 0 | 1u << 10), 0);
	ck_assert_uint_eq(reg(&t, 7, 2) & (1u << 3 | 1u << 22), 0);   /* PKU, RDPID */
	ck_assert_uint_eq(reg(&t, 0x80000001, 2) & (1u << 2 | 1u << 23), 0);
	ck_assert_uint_eq(reg(&t, 0x80000008, 1) & (1u << 4 | 1u << 12 | 1u << 14), 0);
	/* XSAVE of x87 and SSE only: 576 bytes, no XSAVEOPT/C/S, no further component. */
	ck_assert_uint_ne(reg(&t, 1, 2) & (1u << 26), 0);
	for (uint32_t s = 0; s < 3; s++) {
		uint32_t out[4];
		cpuid__lookup(&t, 0xd, s, out);
		if (s == 0) {
			ck_assert_uint_eq(out[0], 3);
			ck_assert_uint_eq(out[1], 576);
			ck_assert_uint_eq(out[2], 576);
			ck_assert_uint_eq(out[3], 0);
		} else {
			ck_assert_uint_eq(out[0] | out[1] | out[2] | out[3], 0);
		}
	}
	/* What shade provides is on even when the host has nothing. */
	struct cpuid_table n;
	build(&n, "AuthenticAMD", 0);
	uint32_t mine = 1u << 12 | 1u << 14 | 1u << 7 | 1u << 16;   /* MTRR MCA MCE PAT */
	ck_assert_uint_eq(reg(&n, 1, 3) & mine, mine);
	ck_assert_uint_ne(reg(&n, 7, 2) & (1u << 2), 0);            /* UMIP */
	ck_assert_uint_ne(reg(&n, 0x80000001, 3) & (1u << 27), 0);  /* RDTSCP */
	ck_assert_uint_ne(reg(&n, 1, 2) & (1u << 31), 0);           /* hypervisor */
	uint32_t out[4];
	cpuid__lookup(&n, 0x40000000, 0, out);
	ck_assert_mem_eq(&out[1], "shadeshadeVM", 12);
}
END_TEST

START_TEST(amd_repeats_leaf1_edx_and_leaves_are_bounded)
{
	struct cpuid_table t;
	build(&t, "AuthenticAMD", ~0u);
	ck_assert(cpuid__is_amd(&t));
	ck_assert_uint_eq(reg(&t, 0x80000001, 3) & 0x0183f3ffu, reg(&t, 1, 3) & 0x0183f3ffu);
	ck_assert_uint_eq(reg(&t, 0, 0), 0xd);
	ck_assert_uint_eq(reg(&t, 0x80000000, 0), 0x80000008);
	ck_assert_uint_eq(reg(&t, 1, 1) >> 16, 0);                 /* one CPU, APIC ID 0 */
	ck_assert_uint_eq(reg(&t, 0x80000008, 2), 0);              /* one core */
	ck_assert_uint_eq(reg(&t, 0x80000008, 0), 0x3030);
	ck_assert_uint_eq(reg(&t, 0x80000007, 0) | reg(&t, 0x80000007, 1) | reg(&t, 0x80000007, 2), 0);
	/* An out-of-range leaf answers as the highest basic leaf (0xd). */
	ck_assert_uint_eq(reg(&t, 0x1c, 0), reg(&t, 0xd, 0));
	ck_assert_uint_eq(reg(&t, 0x80000021, 0), reg(&t, 0xd, 0));
	/* A bit added after the build (the APIC's) shows in both places on AMD. */
	cpuid__set_bit(&t, 1, 0, 3, 9);
	ck_assert_uint_ne(reg(&t, 0x80000001, 3) & (1u << 9), 0);
}
END_TEST

START_TEST(cr4_bits_follow_the_model)
{
	struct cpuid_table t;
	build(&t, "AuthenticAMD", ~0u);
	uint64_t v = cpuid__cr4_valid(&t);
	uint64_t on = CR4_MCE | CR4_UMIP | CR4_TSD | CR4_PGE | CR4_OSFXSR | CR4_OSXSAVE;
	ck_assert_uint_eq(v & on, on);
	ck_assert_uint_eq(v & (CR4_VME | CR4_PVI | CR4_SMEP | CR4_SMAP |
			       CR4_PCIDE | CR4_FSGSBASE | BIT(22)), 0);
}
END_TEST

/* A vCPU whose VM has the model of `vendor`; only struct vmsrs and the table are used. */
static struct vm vm;
static struct vcpu vcpu;

static void msr_setup(const char *vendor)
{
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	build(&vm.cpuid, vendor, ~0u);
	vcpu.vm = &vm;
	vcpu.fd = -1;
}

static uint64_t rd(uint32_t idx)
{
	uint64_t v = 0xdead;
	ck_assert_msg(msr__read(&vcpu, idx, &v) == 0, "RDMSR %#x raised #GP", idx);
	return v;
}

#define WR_OK(idx, v)                                                              \
	ck_assert_msg(msr__write(&vcpu, idx, v) == 0, "WRMSR %#x, %#llx", idx,      \
		      (unsigned long long)(v))
#define WR_GP(idx, v)                                                              \
	ck_assert_msg(msr__write(&vcpu, idx, v) == 1, "WRMSR %#x, %#llx: no #GP", idx, \
		      (unsigned long long)(v))
#define RD_GP(idx)                                                                 \
	do {                                                                       \
		uint64_t v_;                                                       \
		ck_assert_msg(msr__read(&vcpu, idx, &v_) == 1, "RDMSR %#x: no #GP", idx); \
	} while (0)

START_TEST(machine_check_msrs)
{
	msr_setup("AuthenticAMD");
	ck_assert_uint_eq(rd(0x179), 0x100 | MSR_MC_BANKS);
	WR_GP(0x179, 0x104);
	ck_assert_uint_eq(rd(0x17b), ~0ULL);                    /* power-on: all enabled */
	WR_GP(0x17b, 0x1234);
	WR_OK(0x17b, 0);
	ck_assert_uint_eq(rd(0x17b), 0);
	ck_assert_uint_eq(rd(0x17a), 0);
	WR_GP(0x17a, 8);
	WR_OK(0x17a, 0);
	for (unsigned b = 0; b < MSR_MC_BANKS; b++) {
		uint32_t base = 0x400 + 4 * b;
		ck_assert_uint_eq(rd(base), ~0ULL);
		WR_GP(base, 0xff);
		WR_OK(base, ~0ULL & ~BIT(10));                   /* AMD's GART bit */
		ck_assert_uint_eq(rd(base + 1), 0);
		WR_GP(base + 1, 1);                              /* STATUS: only 0 */
		WR_OK(base + 2, 0x1234);
		ck_assert_uint_eq(rd(base + 2), 0x1234);
		ck_assert_uint_eq(rd(base + 3), 0);
	}
	RD_GP(0x400 + 4 * MSR_MC_BANKS);                         /* no bank beyond MCG_CAP */
	/* AMD's HWCR.McStatusWrEn lets STATUS take any value. */
	WR_OK(0xc0010015, rd(0xc0010015) | BIT(18));
	WR_OK(0x401, 0x8000000000000000ULL);
	ck_assert_uint_eq(rd(0x401), 0x8000000000000000ULL);
}
END_TEST

START_TEST(mtrrs)
{
	msr_setup("AuthenticAMD");
	ck_assert_uint_eq(rd(0xfe), 0x508);
	WR_GP(0xfe, 0x508);
	ck_assert_uint_eq(rd(0x2ff), 0);
	WR_OK(0x2ff, 0xc06);
	ck_assert_uint_eq(rd(0x2ff), 0xc06);
	WR_GP(0x2ff, 0xc02);                 /* type 2 is reserved */
	WR_GP(0x2ff, 0x1006);                /* bit 12 */
	static const uint32_t fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x26f };
	for (unsigned i = 0; i < ARRAY_SIZE(fixed); i++) {
		WR_OK(fixed[i], 0x0605040100060504ULL);
		ck_assert_uint_eq(rd(fixed[i]), 0x0605040100060504ULL);
		WR_GP(fixed[i], 0x0605040100060507ULL);
	}
	RD_GP(0x251);
	for (uint32_t n = 0; n < 8; n++) {
		WR_OK(0x200 + 2 * n, 0x80000006ULL + n * 0x1000);
		ck_assert_uint_eq(rd(0x200 + 2 * n), 0x80000006ULL + n * 0x1000);
		WR_OK(0x201 + 2 * n, 0xff80000800ULL);
		ck_assert_uint_eq(rd(0x201 + 2 * n), 0xff80000800ULL);
	}
	WR_GP(0x200, 0x80000106ULL);            /* reserved bit 8 */
	WR_GP(0x200, 0x80000003ULL);            /* type 3 */
	WR_GP(0x201, 0x1000000000800ULL);       /* above MAXPHYADDR (48) */
	WR_GP(0x201, 0xff80000400ULL);          /* reserved bit 10 */
	RD_GP(0x210);                           /* only 8 variable ranges */
}
END_TEST

START_TEST(amd_counters_keep_what_is_written)
{
	msr_setup("AuthenticAMD");
	for (uint32_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(rd(0xc0010000 + i), 0);
		WR_OK(0xc0010000 + i, 0x430076);
		ck_assert_uint_eq(rd(0xc0010000 + i), 0x430076);
		WR_GP(0xc0010000 + i, 0x430076 | BIT(21));
		WR_GP(0xc0010000 + i, 0x430076 | (1ULL << 40));
		WR_OK(0xc0010004 + i, 0xffffffffabcdULL);
		ck_assert_uint_eq(rd(0xc0010004 + i), 0xffffffffabcdULL);
		ck_assert_uint_eq(rd(0xc0010004 + i), 0xffffffffabcdULL);    /* not counting */
		WR_OK(0xc0010004 + i, ~0ULL);
		ck_assert_uint_eq(rd(0xc0010004 + i), (1ULL << 48) - 1);
	}
	for (uint32_t i = 0; i < 4; i++) {          /* RDPMC reads the same counters */
		uint64_t v = 0;
		WR_OK(0xc0010004 + i, 0x100 + i);
		ck_assert_int_eq(msr_model__rdpmc(&vcpu, i, &v), 0);
		ck_assert_uint_eq(v, 0x100 + i);
	}
	uint64_t pmc;
	ck_assert_int_eq(msr_model__rdpmc(&vcpu, 4, &pmc), 1);
	RD_GP(0xc0010008);
	RD_GP(0xc0010200);                         /* no PerfCtrExtCore */
	RD_GP(0x186);                              /* Intel's are not there */
	RD_GP(0xc1);
	RD_GP(0x3a);                               /* nor FEATURE_CONTROL */
	/* MISC_ENABLE (as KVM and QEMU give AMD models too): kept, RO bits ignored. */
	ck_assert_uint_eq(rd(0x1a0), 0x1800);
	WR_OK(0x1a0, 0x400c50809ULL);
	ck_assert_uint_eq(rd(0x1a0), 0x400c51809ULL);
	WR_GP(0x1a0, 0x400c50809ULL | BIT(1));
	ck_assert_uint_eq(rd(0xc0010114), 0x18);   /* VM_CR: SVM disabled, locked */
	WR_GP(0xc0010114, 0);
	ck_assert_uint_ne(rd(0xc0010015) & BIT(24), 0);
	WR_OK(0xc0011029, 2);
	ck_assert_uint_eq(rd(0xc0011029), 2);
	WR_OK(0xc0010010, 0x40000);
	WR_GP(0xc0010010, 0x800000);               /* no SME */
	RD_GP(0x48);                               /* no SPEC_CTRL advertised */
	RD_GP(0x12345678);
}
END_TEST

START_TEST(intel_counters_and_msrs)
{
	msr_setup("GenuineIntel");
	WR_OK(0x186, 0x43003c);
	ck_assert_uint_eq(rd(0x186), 0x43003c);
	WR_GP(0x186, 1ULL << 32);
	WR_OK(0xc2, 0xfffffff0);                   /* bits 31:0, sign-extended to 48 */
	ck_assert_uint_eq(rd(0xc2), 0xfffffffffff0ULL);
	RD_GP(0x188);
	RD_GP(0xc0010000);
	RD_GP(0xc0010015);
	ck_assert_uint_eq(rd(0x3a), 1);            /* locked, VMX off */
	WR_GP(0x3a, 5);
	ck_assert_uint_eq(rd(0x179), 0x100 | MSR_MC_BANKS);
}
END_TEST

/* Every MSR the advertised features imply reads without #GP, for both vendors. */
START_TEST(every_msr_the_model_implies_is_readable)
{
	static const struct {
		uint32_t leaf;
		unsigned reg, bit;
		uint32_t msr[20];          /* 0-terminated */
	} implied[] = {
		{ 1, 3, 11, { 0x174, 0x175, 0x176 } },                          /* SEP */
		{ 1, 3, 16, { 0x277 } },                                        /* PAT */
		{ 1, 3, 12, { 0xfe, 0x2ff, 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b,
			      0x26c, 0x26d, 0x26e, 0x26f, 0x200, 0x201, 0x20e, 0x20f } },
		{ 1, 3, 14, { 0x179, 0x17a, 0x17b, 0x400, 0x401, 0x402, 0x403,
			      0x400 + 4 * MSR_MC_BANKS - 1 } },                 /* MCA */
		{ 0x80000001, 3, 29, { 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083,
				       0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102 } },
		{ 0x80000001, 3, 27, { 0xc0000103 } },                          /* RDTSCP */
		{ 1, 3, 5, { 0x1a0 } },                         /* MISC_ENABLE (see msr_model.c) */
	};
	static const char *const vendors[] = { "AuthenticAMD", "GenuineIntel" };
	for (unsigned v = 0; v < 2; v++) {
		msr_setup(vendors[v]);
		for (unsigned f = 0; f < ARRAY_SIZE(implied); f++) {
			ck_assert(cpuid__has(&vm.cpuid, implied[f].leaf, implied[f].reg, implied[f].bit));
			for (unsigned i = 0; implied[f].msr[i]; i++)
				(void)rd(implied[f].msr[i]);
		}
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cpuid");
	TCase *tc = tcase_create("model");
	tcase_add_test(tc, every_feature_bit_is_the_tables);
	tcase_add_test(tc, the_table_names_each_bit_once_with_a_reason);
	tcase_add_test(tc, what_shade_cannot_do_is_never_advertised);
	tcase_add_test(tc, amd_repeats_leaf1_edx_and_leaves_are_bounded);
	tcase_add_test(tc, cr4_bits_follow_the_model);
	tcase_add_test(tc, machine_check_msrs);
	tcase_add_test(tc, mtrrs);
	tcase_add_test(tc, amd_counters_keep_what_is_written);
	tcase_add_test(tc, intel_counters_and_msrs);
	tcase_add_test(tc, every_msr_the_model_implies_is_readable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
