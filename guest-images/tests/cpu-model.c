/*
 * cpu-model.c: guest "cpu-model": the CPU a guest is told it has is the CPU it gets.
 * It reads CPUID, checks that the leaves agree with each other, and then that every
 * feature advertised works and every one hidden is absent: CR4 bits (TSD, MCE, UMIP,
 * OSXSAVE), RDTSCP and IA32_TSC_AUX, RDPID, RDPRU, INVPCID, XGETBV/XSETBV, ICEBP; and
 * the MSRs the advertised CPU architecturally has, written and read back: MTRRs, PAT,
 * the machine-check registers, the performance counters of the vendor it sees.
 *
 * Written for bare metal: what it checks follows what CPUID says, so the same image
 * passes on QEMU TCG's AMD-like CPU and on shade's host-derived model. QEMU TCG's MSR
 * emulation is looser than the SDM (unknown MSRs read 0, reserved bits are ignored,
 * counters read 0); those checks are skipped there, each with a "# skip" line.
 */
#include "cpu.h"
#include "printf.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "user.h"
#include "x86.h"

#define CR4_UMIP (1u << 11)
#define CR4_OSXSAVE (1u << 18)

static bool has(u32 reg, unsigned bit) { return (reg >> bit) & 1; }

static bool is_amd(void) { return !strcmp(cpu__info.vendor, "AuthenticAMD"); }

/* RDMSR/WRMSR that report #GP instead of dying: true when no exception. */
static bool try_rdmsr(u32 msr, u64 *v)
{
	u32 lo = 0, hi = 0;

	trap__arm();
	asm volatile(TRAP_TRY("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*v = ((u64)hi << 32) | lo;
	return trap__last.vector == TRAP_NONE;
}

static bool try_wrmsr(u32 msr, u64 v)
{
	trap__arm();
	asm volatile(TRAP_TRY("wrmsr") : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
	return trap__last.vector == TRAP_NONE;
}

/* Write, read back, compare; the old value is restored. */
static void check_roundtrip(u32 msr, u64 v, const char *what)
{
	u64 old = 0, got = 0;

	if (!test__ok(try_rdmsr(msr, &old), "%s (MSR 0x%x) is readable", what, msr))
		return;
	bool w = try_wrmsr(msr, v);
	bool r = try_rdmsr(msr, &got);
	try_wrmsr(msr, old);
	test__ok(w && r && got == v, "%s: 0x%llx written reads back (got 0x%llx)", what,
		 (unsigned long long)v, (unsigned long long)got);
}

static void check_gp(u32 msr, u64 v, const char *what)
{
	u64 old = 0;
	bool readable = try_rdmsr(msr, &old);

	if (cpu__tcg_skip(what, "takes reserved bits and unknown MSRs without #GP"))
		return;
	bool w = try_wrmsr(msr, v);
	if (w && readable)
		try_wrmsr(msr, old);
	test__ok(!w && trap__last.vector == VEC_GP && trap__last.error == 0, "%s: #GP(0)", what);
}

static void check_leaves(void)
{
	const struct cpu_info *c = &cpu__info;
	u32 r[4];

	test__info("vendor %s, family/model/stepping 0x%x", c->vendor, c->f1_eax);
	test__ok(c->max_leaf >= 1 && c->max_ext_leaf >= 0x80000001, "leaves 1 and 0x80000001 exist");
	test__ok(has(c->f1_edx, 5), "CPUID says RDMSR/WRMSR exist");
	if (is_amd()) {
		cpuid(0x80000001, 0, r);
		test__eq(c->f1_eax, r[0], "AMD: 0x80000001 EAX repeats the signature");
		test__eq(c->f1_edx & 0x0183f3ffu, c->e1_edx & 0x0183f3ffu,
			 "AMD: 0x80000001 EDX repeats leaf 1 EDX");
	}
	test__ok(!has(c->f1_ecx, 27), "OSXSAVE is clear while CR4.OSXSAVE is");
	if (has(c->f1_ecx, 26) && c->max_leaf >= 0xd) {
		cpuid(0xd, 0, r);
		test__eq(3, r[0] & 3, "XSAVE: leaf 0xd offers x87 and SSE state");
	}
	if (!has(c->f1_ecx, 26))
		test__ok(!has(c->f1_ecx, 28) && !has(c->f7_ebx, 5), "no XSAVE: no AVX, AVX2");
}

static void check_cr4_bit(u32 bit, bool advertised, const char *name)
{
	u32 cr4 = read_cr4();

	trap__arm();
	asm volatile(TRAP_TRY("mov %0, %%cr4") : : "r"(cr4 | bit) : "memory");
	u32 vec = trap__last.vector, got = read_cr4();
	write_cr4(cr4);
	if (advertised)
		test__ok(vec == TRAP_NONE && (got & bit), "CR4.%s can be set (advertised)", name);
	else
		test__ok(vec == VEC_GP, "CR4.%s raises #GP (not advertised)", name);
}

static u32 user_rdtsc(u32 unused)
{
	(void)unused;
	trap__arm();
	asm volatile(TRAP_TRY("rdtsc") : : : "eax", "edx", "memory");
	return trap__last.vector;
}

static u32 user_sgdt(u32 unused)
{
	static u8 buf[8];
	(void)unused;
	trap__arm();
	asm volatile(TRAP_TRY("sgdt %0") : "=m"(buf) : : "memory");
	return trap__last.vector;
}

static void check_cr4(void)
{
	const struct cpu_info *c = &cpu__info;
	u32 cr4 = read_cr4();

	check_cr4_bit(CR4_MCE, has(c->f1_edx, 7), "MCE");
	check_cr4_bit(CR4_UMIP, has(c->f7_ecx, 2), "UMIP");
	check_cr4_bit(CR4_OSXSAVE, has(c->f1_ecx, 26), "OSXSAVE");
	if (has(c->f1_edx, 4)) {
		write_cr4(cr4 | CR4_TSD);
		u32 v = user__run(user_rdtsc, 0, FL_FIXED);
		write_cr4(cr4);
		test__eq_dec(VEC_GP, v, "CR4.TSD: RDTSC at CPL 3 raises #GP");
		test__eq(TRAP_NONE, user__run(user_rdtsc, 0, FL_FIXED), "CR4.TSD clear: RDTSC at CPL 3 runs");
	}
	if (has(c->f7_ecx, 2)) {
		write_cr4(cr4 | CR4_UMIP);
		u32 v = user__run(user_sgdt, 0, FL_FIXED);
		u32 k = user_sgdt(0);
		write_cr4(cr4);
		test__eq_dec(VEC_GP, v, "CR4.UMIP: SGDT at CPL 3 raises #GP");
		test__eq(TRAP_NONE, k, "CR4.UMIP: SGDT at CPL 0 runs");
		test__eq(TRAP_NONE, user__run(user_sgdt, 0, FL_FIXED), "CR4.UMIP clear: SGDT at CPL 3 runs");
	}
}

static u8 xsave_area[1024] __aligned(64);

/* XSAVE, clobber, XRSTOR; then XRSTOR with SSE in its initial state. 0 when right. */
static u32 xsave_roundtrip(u32 unused)
{
	static const u32 pat[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
	static const u32 zero[4];
	u32 out[4];

	(void)unused;
	memset(xsave_area, 0, sizeof(xsave_area));
	asm volatile("movdqu %0, %%xmm0" : : "m"(pat));
	asm volatile("xsave (%0)" : : "r"(xsave_area), "a"(3), "d"(0) : "memory");
	if (memcmp(xsave_area + 160, pat, 16))
		return 1;
	if (!(xsave_area[512] & 2))
		return 2;                              /* SSE not marked modified */
	asm volatile("movdqu %0, %%xmm0" : : "m"(zero));
	asm volatile("xrstor (%0)" : : "r"(xsave_area), "a"(3), "d"(0) : "memory");
	asm volatile("movdqu %%xmm0, %0" : "=m"(out));
	if (memcmp(out, pat, 16))
		return 3;
	xsave_area[512] &= (u8)~2;                 /* SSE in its initial state: zeros */
	asm volatile("xrstor (%0)" : : "r"(xsave_area), "a"(3), "d"(0) : "memory");
	asm volatile("movdqu %%xmm0, %0" : "=m"(out));
	return out[0] | out[1] | out[2] | out[3] ? 4 : 0;
}

static void check_xsave(void)
{
	const struct cpu_info *c = &cpu__info;
	u32 lo = 0, hi = 0;

	if (!has(c->f1_ecx, 26)) {
		trap__arm();
		asm volatile(TRAP_TRY(".byte 0x0f, 0x01, 0xd0") : "+a"(lo), "+d"(hi) : "c"(0) : "memory");
		trap__expect(VEC_UD, TRAP_NOERR, "no XSAVE: XGETBV raises #UD");
		trap__arm();
		asm volatile(TRAP_TRY(".byte 0x0f, 0x01, 0xd1") : : "a"(3), "d"(0), "c"(0) : "memory");
		trap__expect(VEC_UD, TRAP_NOERR, "no XSAVE: XSETBV raises #UD");
		return;
	}
	u32 cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSXSAVE);
	u32 r[4];
	cpuid(1, 0, r);
	test__ok(has(r[2], 27), "CR4.OSXSAVE set: CPUID shows OSXSAVE");
	trap__arm();
	asm volatile(TRAP_TRY(".byte 0x0f, 0x01, 0xd0") : "+a"(lo), "+d"(hi) : "c"(0) : "memory");
	test__ok(trap__last.vector == TRAP_NONE && (lo & 1), "XGETBV(0): x87 is on (0x%x)", lo);
	trap__arm();
	asm volatile(TRAP_TRY(".byte 0x0f, 0x01, 0xd1") : : "a"(3), "d"(0), "c"(0) : "memory");
	trap__expect(TRAP_NONE, 0, "XSETBV(0, x87|SSE)");
	trap__arm();
	asm volatile(TRAP_TRY(".byte 0x0f, 0x01, 0xd1") : : "a"(2), "d"(0), "c"(0) : "memory");
	trap__expect(VEC_GP, 0, "XSETBV(0) without x87: #GP(0)");
	trap__arm();
	asm volatile(TRAP_TRY(".byte 0x0f, 0x01, 0xd1") : : "a"(3), "d"(0), "c"(5) : "memory");
	trap__expect(VEC_GP, 0, "XSETBV(5): #GP(0)");
	write_cr4(cr4 | CR4_OSXSAVE | CR4_OSFXSR);
	for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
		u32 r = cpl ? user__run(xsave_roundtrip, 0, FL_FIXED) : xsave_roundtrip(0);
		test__eq(0, r, "CPL%u: XSAVE/XRSTOR of x87|SSE keep XMM0, XSTATE_BV, init state", cpl);
	}
	trap__arm();
	asm volatile(TRAP_TRY("xsave (%%ecx)") : : "c"(xsave_area + 16), "a"(3), "d"(0) : "memory");
	trap__expect(VEC_GP, 0, "XSAVE to an address not 64-byte aligned: #GP(0)");
	memset(xsave_area, 0, sizeof(xsave_area));
	xsave_area[512] = 4;                       /* XSTATE_BV: AVX, beyond XCR0 */
	trap__arm();
	asm volatile(TRAP_TRY("xrstor (%%ecx)") : : "c"(xsave_area), "a"(3), "d"(0) : "memory");
	trap__expect(VEC_GP, 0, "XRSTOR of a component beyond XCR0: #GP(0)");
	write_cr4(cr4);
}

static void check_tsc_aux(void)
{
	const struct cpu_info *c = &cpu__info;
	bool rdtscp = has(c->e1_edx, 27), rdpid = has(c->f7_ecx, 22);
	u32 ecx = 0;

	if (rdtscp || rdpid)
		check_roundtrip(MSR_TSC_AUX, 0x1234, "IA32_TSC_AUX");
	else
		check_gp(MSR_TSC_AUX, 0, "IA32_TSC_AUX without RDTSCP/RDPID");
	try_wrmsr(MSR_TSC_AUX, 0x5a);
	trap__arm();
	asm volatile(TRAP_TRY("rdtscp") : "+c"(ecx) : : "eax", "edx", "memory");
	if (rdtscp)
		test__ok(trap__last.vector == TRAP_NONE && ecx == 0x5a, "RDTSCP: ECX = TSC_AUX (0x%x)", ecx);
	else
		trap__expect(VEC_UD, TRAP_NOERR, "no RDTSCP: #UD");
	u32 eax = 0;
	trap__arm();
	asm volatile(TRAP_TRY("rdpid %0") : "+r"(eax) : : "memory");
	if (rdpid)
		test__ok(trap__last.vector == TRAP_NONE && eax == 0x5a, "RDPID = TSC_AUX (0x%x)", eax);
	else
		trap__expect(VEC_UD, TRAP_NOERR, "no RDPID: #UD");
	try_wrmsr(MSR_TSC_AUX, 0);
}

/* IA32_TSC_ADJUST moves with the TSC (SDM vol. 3 18.17.3), as kvm-unit-tests checks. */
static void check_tsc_adjust(void)
{
	const u64 big = 100000000000ULL;
	u64 a = 1;

	if (!has(cpu__info.f7_ebx, 1)) {
		check_gp(0x3b, 0, "IA32_TSC_ADJUST without the feature");
		return;
	}
	bool r = try_rdmsr(0x3b, &a);
	test__ok(r && a == 0, "IA32_TSC_ADJUST is 0 at reset (0x%llx)", (unsigned long long)a);
	u64 t1 = rdtsc();
	try_wrmsr(0x3b, big);
	u64 t2 = rdtsc();
	try_rdmsr(0x3b, &a);
	test__ok(a == big && t2 - t1 >= big, "writing TSC_ADJUST moves the TSC by as much");
	try_wrmsr(0x3b, 0);
	t1 = rdtsc();
	wrmsr(0x10, t1 + big);
	t2 = rdtsc();
	try_rdmsr(0x3b, &a);
	test__ok(t2 >= t1 + big && a >= big - (t2 - t1) && a <= big,
		 "writing the TSC moves TSC_ADJUST by as much (0x%llx)", (unsigned long long)a);
	try_wrmsr(0x3b, 0);
}

/* Instructions of features the model may hide: #UD when hidden. */
static void check_hidden_insns(void)
{
	static const u8 desc[16] __aligned(16);
	u32 r[4] = { 0 };

	if (cpu__info.max_ext_leaf >= 0x80000008)
		cpuid(0x80000008, 0, r);
	if (!has(r[1], 4)) {
		trap__arm();
		asm volatile(TRAP_TRY(".byte 0x0f, 0x01, 0xfd") : : "c"(0) : "eax", "edx", "memory");
		trap__expect(VEC_UD, TRAP_NOERR, "no RDPRU: #UD");
	}
	if (!has(cpu__info.f7_ebx, 10)) {
		trap__arm();
		asm volatile(TRAP_TRY(".byte 0x66, 0x0f, 0x38, 0x82, 0x01") /* invpcid (%ecx), %eax */
			     : : "a"(0), "c"(desc) : "memory");
		trap__expect(VEC_UD, TRAP_NOERR, "no INVPCID: #UD");
	}
}

/* ICEBP (F1): a #DB delivered as a trap, whatever the gate's DPL (the #DB gate is
 * DPL 0, so from ring 3 it is still delivered: not INT 1). Returns vector and whether
 * EIP was after the instruction. */
static u32 run_icebp(u32 unused)
{
	(void)unused;
	trap__arm();
	asm volatile(TRAP_TRY(".byte 0xf1") : : : "memory");
	return trap__last.vector | (trap__last.eip == trap__end ? 0x100 : 0) |
	       (trap__last.count == 1 ? 0x200 : 0);
}

static void check_icebp(void)
{
	if (cpu__tcg_skip("ICEBP raises #DB", "raises #UD for it"))
		return;
	for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
		u32 r = cpl ? user__run(run_icebp, 0, FL_FIXED) : run_icebp(0);
		test__eq_dec(VEC_DB, r & 0xff, "CPL%u: ICEBP raises #DB", cpl);
		test__ok((r & 0x300) == 0x300, "CPL%u: ICEBP's #DB is one trap (EIP after it)", cpl);
	}
}

/* IA32_MISC_ENABLE as kvm-unit-tests' msr test writes it: its read-only bits (7, 11,
 * 12) kept. Intel's MSR, which KVM and QEMU give AMD models too. */
static void check_misc_enable(void)
{
	u64 orig = 0, got = 0;

	if (!try_rdmsr(0x1a0, &orig)) {
		test__info("no IA32_MISC_ENABLE (as on AMD hardware)");
		return;
	}
	u64 v = (0x400c50809ULL & ~0x1880ULL) | (orig & 0x1880ULL);
	bool w = try_wrmsr(0x1a0, v);
	bool r = try_rdmsr(0x1a0, &got);
	try_wrmsr(0x1a0, orig);
	test__ok(w && r && got == v, "IA32_MISC_ENABLE: 0x%llx written reads back (got 0x%llx)",
		 (unsigned long long)v, (unsigned long long)got);
}

static void check_mtrrs(void)
{
	u64 cap = 0;
	u32 r[4];

	if (!has(cpu__info.f1_edx, 12)) {
		check_gp(0xfe, 0, "no MTRR: MTRRcap");
		return;
	}
	test__ok(try_rdmsr(0xfe, &cap), "MTRRcap is readable");
	test__info("MTRRcap 0x%llx", (unsigned long long)cap);
	cpuid(0x80000008, 0, r);
	u64 top = cpu__info.max_ext_leaf >= 0x80000008 ? (1ULL << (r[0] & 0xff)) : (1ULL << 36);
	check_roundtrip(0x2ff, 0xc06, "MTRRdefType");
	if (cap & (1u << 8)) {
		check_roundtrip(0x250, 0x0606060606060606ULL, "MTRRfix64K_00000");
		check_roundtrip(0x258, 0x0605040100060504ULL, "MTRRfix16K_80000");
		check_roundtrip(0x26f, 0x0505050505050505ULL, "MTRRfix4K_F8000");
		check_gp(0x258, 0x0605040100060507ULL, "MTRRfix16K_80000 with type 7");
	}
	if (cap & 0xff) {
		unsigned last = (cap & 0xff) - 1;
		check_roundtrip(0x200, 0x80000006ULL, "MTRRphysBase0");
		check_roundtrip(0x201, ((top - 1) & ~0xfffULL & ~0x7fffffffULL) | 0x800, "MTRRphysMask0");
		check_roundtrip(0x200 + 2 * last, 0x40000001ULL, "last MTRRphysBase");
		check_gp(0x200, 0x80000106ULL, "MTRRphysBase0 with reserved bit 8");
		check_gp(0x201, top | 0x800, "MTRRphysMask0 above MAXPHYADDR");
	}
	check_gp(0x2ff, 0xc02, "MTRRdefType with type 2");
}

static void check_mca(void)
{
	u64 cap = 0;

	if (!has(cpu__info.f1_edx, 14)) {
		check_gp(0x179, 0, "no MCA: MCG_CAP");
		return;
	}
	test__ok(try_rdmsr(0x179, &cap), "MCG_CAP is readable");
	unsigned banks = cap & 0xff;
	test__info("MCG_CAP 0x%llx: %u banks", (unsigned long long)cap, banks);
	u64 st = 1;
	test__ok(try_rdmsr(0x17a, &st), "MCG_STATUS is readable");
	test__ok(try_wrmsr(0x17a, 0), "MCG_STATUS takes 0");
	if (cap & (1u << 8)) {
		check_roundtrip(0x17b, 0, "MCG_CTL");
		check_roundtrip(0x17b, ~0ULL, "MCG_CTL");
	}
	for (unsigned b = 0; b < banks && b < 4; b++) {
		char what[32];
		snprintf(what, sizeof(what), "MC%u_CTL", b);
		check_roundtrip(0x400 + 4 * b, ~0ULL, what);
		snprintf(what, sizeof(what), "MC%u_STATUS", b);
		check_roundtrip(0x401 + 4 * b, 0, what);
	}
	check_gp(0x179, cap, "MCG_CAP is read-only");
	check_gp(0x400 + 4 * banks, 0, "MCi_CTL beyond MCG_CAP's banks");
}

/* RDPMC of counter 0: its low half, or the vector it raised. */
static u32 user_rdpmc(u32 unused)
{
	u32 lo = 0;

	(void)unused;
	trap__arm();
	asm volatile(TRAP_TRY("rdpmc") : "+a"(lo) : "c"(0) : "edx", "memory");
	return trap__last.vector == TRAP_NONE ? lo : trap__last.vector;
}

static void check_counters(void)
{
	bool amd = is_amd();
	u32 sel = amd ? 0xc0010000 : 0x186, ctr = amd ? 0xc0010004 : 0xc1;
	unsigned n = amd ? 4 : 0;
	u32 r[4];

	if (!amd && cpu__info.max_leaf >= 0xa) {
		cpuid(0xa, 0, r);
		n = (r[0] & 0xff) ? (r[0] >> 8) & 0xff : 0;
	}
	if (!n) {
		test__skip("performance counters", "the CPU has none architecturally");
		return;
	}
	for (unsigned i = 0; i < n && i < 4; i++) {
		u64 v;
		test__ok(try_rdmsr(sel + i, &v) && try_rdmsr(ctr + i, &v),
			 "%s counter %u: select and count are readable", amd ? "AMD" : "Intel", i);
		test__ok(try_wrmsr(sel + i, 0x430076) && try_wrmsr(sel + i, 0),
			 "counter %u: the event select takes an event, disabled", i);
		if (!cpu__tcg_skip("counter keeps what is written", "counters always read 0")) {
			try_wrmsr(ctr + i, 0xabcd);
			bool r = try_rdmsr(ctr + i, &v);
			test__ok(r && v == 0xabcd,
				 "counter %u keeps what is written (0x%llx)", i, (unsigned long long)v);
			try_wrmsr(ctr + i, 0);
		}
	}
	check_gp(sel, amd ? 1ULL << 40 : 1ULL << 32, "event select with reserved bits");
	if (cpu__tcg_skip("RDPMC reads the counters", "raises #UD for RDPMC"))
		return;
	try_wrmsr(ctr, 0x1234);
	u32 cr4 = read_cr4();
	write_cr4(cr4 | CR4_PCE);
	u32 at0 = user_rdpmc(0), at3 = user__run(user_rdpmc, 0, FL_FIXED);
	write_cr4(cr4 & ~CR4_PCE);
	u32 at3_nopce = user__run(user_rdpmc, 0, FL_FIXED);
	write_cr4(cr4);
	try_wrmsr(ctr, 0);
	test__eq(0x1234, at0, "RDPMC 0 at CPL 0 reads counter 0");
	test__eq(0x1234, at3, "RDPMC 0 at CPL 3 with CR4.PCE reads counter 0");
	test__eq(VEC_GP, at3_nopce, "RDPMC at CPL 3 without CR4.PCE: #GP");
}

void test_main(void)
{
	test__begin("cpu-model");
	user__init();
	check_leaves();
	check_cr4();
	check_xsave();
	check_tsc_aux();
	check_tsc_adjust();
	check_hidden_insns();
	check_icebp();
	check_roundtrip(0x277, 0x0007040600070106ULL, "IA32_PAT");
	check_gp(0x277, 0x0007040600070402ULL, "IA32_PAT with type 2");
	check_misc_enable();
	check_mtrrs();
	check_mca();
	check_counters();
	check_gp(0x12345678, 0, "unknown MSR 0x12345678");
	test__done();
}
