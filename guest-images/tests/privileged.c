/*
 * privileged.c: guest "privileged", part 1: every privileged instruction a VMM must
 * emulate (MOV CRn, SMSW/LMSW/CLTS, INVD/WBINVD, HLT, RDMSR/WRMSR, RDTSC/RDTSCP,
 * CPUID, CLI/STI/PUSHF/POPF), each checked for its architectural effect (Intel SDM
 * vol. 2 and vol. 3 ch. 2), not merely for running. Descriptor-table instructions,
 * segment loads and far transfers are in privileged-desc.c.
 *
 * Not checked here: CR8 (exists in 64-bit mode only); MOV from CS (printed as
 * "# cs=..": a deprivileging VMM cannot hide the real RPL there); the IOPL that PUSHF
 * shows (same reason: printed, not checked).
 */
#include "cpu.h"
#include "desc.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "privileged.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

static void check_cpuid(void)
{
	const struct cpu_info *c = &cpu__info;
	bool printable = true;
	int i;

	test__info("cpuid: vendor '%s' max 0x%x ext 0x%x 1:eax=%x ecx=%x edx=%x hypervisor '%s'",
		   c->vendor, c->max_leaf, c->max_ext_leaf, c->f1_eax, c->f1_ecx, c->f1_edx,
		   c->hypervisor);
	test__range(1, 0xff, c->max_leaf, "CPUID.0: max basic leaf is sane");
	for (i = 0; i < 12; i++)
		if (c->vendor[i] < 0x20 || c->vendor[i] > 0x7e)
			printable = false;
	test__ok(printable, "CPUID.0: vendor is 12 printable characters ('%s')", c->vendor);
	test__ok(((c->f1_eax >> 8) & 0xf) != 0, "CPUID.1: family is nonzero (eax 0x%x)", c->f1_eax);
	test__ok(c->f1_edx & CPUID1_EDX_TSC, "CPUID.1:EDX.TSC set (RDTSC is used below)");
	test__ok(c->f1_edx & CPUID1_EDX_MSR, "CPUID.1:EDX.MSR set (RDMSR/WRMSR are used below)");
	test__ok(c->max_ext_leaf >= 0x80000001 && c->max_ext_leaf < 0x8000ffff,
		 "CPUID.80000000: max extended leaf sane (0x%x)", c->max_ext_leaf);
}

/* Set then clear one CR0 bit; both values read back exactly. */
static void cr0_toggle(u32 bit, const char *name)
{
	u32 cr0 = read_cr0(), set, clr;

	write_cr0(cr0 | bit);
	set = read_cr0();
	write_cr0(cr0 & ~bit);
	clr = read_cr0();
	write_cr0(cr0);
	test__eq(cr0 | bit, set, "MOV CR0 sets %s", name);
	test__eq(cr0 & ~bit, clr, "MOV CR0 clears %s", name);
}

static void check_cr0(void)
{
	u32 cr0 = read_cr0(), got;

	test__ok(cr0 & CR0_PE, "CR0.PE set at entry (cr0 0x%x)", cr0);
	test__ok(!(cr0 & CR0_PG), "CR0.PG clear at entry");
	cr0_toggle(CR0_TS, "TS");
	cr0_toggle(CR0_WP, "WP");
	cr0_toggle(CR0_AM, "AM");
	cr0_toggle(CR0_MP, "MP");
	cr0_toggle(CR0_NE, "NE");
	cr0_toggle(CR0_CD, "CD");
	/* SDM 2.5: ET is reserved and fixed at 1 on P6 and later. */
	write_cr0(cr0 & ~CR0_ET);
	got = read_cr0();
	write_cr0(cr0);
	test__ok(got & CR0_ET, "CR0.ET still reads 1 after writing 0 (cr0 0x%x)", got);
	/* SDM 2.5 / MOV CR: NW=1 with CD=0 is an invalid combination: #GP(0). */
	if (!cpu__tcg_skip("MOV CR0 with NW=1 CD=0 raises #GP(0)", "loads it without #GP")) {
		trap__arm();
		asm volatile(TRAP_TRY("mov %0, %%cr0") : : "r"((cr0 | CR0_NW) & ~CR0_CD)
			     : "memory");
		write_cr0(cr0);
		trap__expect(VEC_GP, 0, "MOV CR0 with NW=1 CD=0 raises #GP(0)");
	}
}

static void check_cr2_cr3(void)
{
	u32 cr3 = read_cr3(), got;

	write_cr2(0xdeadb000);
	test__eq(0xdeadb000, read_cr2(), "MOV CR2 round trip (0xdeadb000)");
	write_cr2(0x00000ffc);
	test__eq(0x00000ffc, read_cr2(), "MOV CR2 round trip (0xffc)");
	write_cr2(0);
	/* Paging is off, so CR3 is only stored: any page-aligned value plus PWT/PCD. */
	write_cr3(0x00123000);
	got = read_cr3();
	test__eq(0x00123000, got, "MOV CR3 round trip with paging off (0x123000)");
	write_cr3(0x00456018);
	got = read_cr3();
	test__eq(0x00456018, got, "MOV CR3 round trip with PWT|PCD (0x456018)");
	write_cr3(cr3);
}

static void check_cr4(void)
{
	static const struct {
		u32 bit;
		const char *name;
		u32 edx_feature; /* CPUID.1:EDX bit that makes the CR4 bit exist, 0: always */
	} bits[] = {
		{ CR4_VME, "VME", CPUID1_EDX_VME },	{ CR4_PVI, "PVI", CPUID1_EDX_VME },
		{ CR4_TSD, "TSD", CPUID1_EDX_TSC },	{ CR4_DE, "DE", CPUID1_EDX_DE },
		{ CR4_PSE, "PSE", CPUID1_EDX_PSE },	{ CR4_PAE, "PAE", CPUID1_EDX_PAE },
		{ CR4_MCE, "MCE", 1u << 7 },		{ CR4_PGE, "PGE", CPUID1_EDX_PGE },
		{ CR4_PCE, "PCE", 0 },			{ CR4_OSFXSR, "OSFXSR", CPUID1_EDX_FXSR },
		{ CR4_OSXMMEXCPT, "OSXMMEXCPT", CPUID1_EDX_SSE },
	};
	u32 cr4 = read_cr4(), set, clr;
	unsigned i;

	test__info("cr4 at entry 0x%x", cr4);
	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		if (bits[i].edx_feature && !(cpu__info.f1_edx & bits[i].edx_feature)) {
			test__skip(bits[i].name, "CPUID does not report the feature");
			continue;
		}
		write_cr4(cr4 | bits[i].bit);
		set = read_cr4();
		write_cr4(cr4 & ~bits[i].bit);
		clr = read_cr4();
		write_cr4(cr4);
		test__eq(cr4 | bits[i].bit, set, "MOV CR4 sets %s", bits[i].name);
		test__eq(cr4 & ~bits[i].bit, clr, "MOV CR4 clears %s", bits[i].name);
	}
	/* CR4 bit 15 is reserved: setting it raises #GP(0). */
	if (!cpu__tcg_skip("MOV CR4 with reserved bit 15 raises #GP(0)",
			   "hangs instead of raising it")) {
		trap__arm();
		asm volatile(TRAP_TRY("mov %0, %%cr4") : : "r"(cr4 | (1u << 15)) : "memory");
		write_cr4(cr4);
		trap__expect(VEC_GP, 0, "MOV CR4 with reserved bit 15 raises #GP(0)");
	}
	test__skip("MOV CR8", "CR8 exists only in 64-bit mode (#UD here)");
}

static void check_msw(void)
{
	u32 cr0 = read_cr0(), got, reg;
	u16 mem;

	write_cr0(cr0 | CR0_TS | CR0_MP);
	asm volatile("smsw %0" : "=m"(mem));
	asm volatile("smsw %0" : "=r"(reg));
	got = read_cr0();
	test__eq(got & 0xffff, mem, "SMSW m16 stores CR0[15:0]");
	test__eq(got & 0xffff, reg & 0xffff, "SMSW r32 low 16 bits are CR0[15:0]");

	asm volatile("lmsw %0" : : "r"((u16)(cr0 & ~0xeu)) : "memory");
	test__eq(cr0 & ~0xeu, read_cr0(), "LMSW clears MP/EM/TS");
	asm volatile("lmsw %0" : : "r"((u16)(cr0 | 0xeu)) : "memory");
	test__eq(cr0 | 0xeu, read_cr0(), "LMSW sets MP/EM/TS");
	asm volatile("lmsw %0" : : "r"((u16)0) : "memory");
	got = read_cr0();
	test__ok(got & CR0_PE, "LMSW 0 cannot clear PE (cr0 0x%x)", got);
	test__eq(cr0 & ~0xeu, got, "LMSW 0 clears MP/EM/TS only");
	/* Only bits 3:0 are loaded: the rest of the operand is ignored. */
	asm volatile("lmsw %0" : : "r"((u16)((~cr0 & 0xfff0) | (cr0 & 0xf))) : "memory");
	test__eq(cr0, read_cr0(), "LMSW ignores operand bits 15:4");

	write_cr0(cr0 | CR0_TS | CR0_MP);
	asm volatile("clts" : : : "memory");
	test__eq(cr0 | CR0_MP, read_cr0(), "CLTS clears TS and nothing else");
	write_cr0(cr0);
}

static void check_caches(void)
{
	static volatile u32 canary;
	u32 cr0 = read_cr0();

	canary = 0x5a5aa5a5;
	asm volatile("wbinvd" : : : "memory");
	test__eq(0x5a5aa5a5, canary, "WBINVD keeps memory contents");
	/*
	 * INVD drops dirty lines on real hardware: make sure there are none (CD=1 stops
	 * fills, WBINVD writes everything back) before executing it.
	 */
	write_cr0(cr0 | CR0_CD);
	canary = 0x3c3cc3c3;
	asm volatile("wbinvd; invd" : : : "memory");
	write_cr0(cr0);
	test__eq(0x3c3cc3c3, canary, "INVD after CD=1+WBINVD loses nothing");
	trap__arm();
	asm volatile(TRAP_TRY("invlpg (%0)") : : "r"(0x1000) : "memory");
	trap__expect(TRAP_NONE, 0, "INVLPG with paging off executes without a fault");
}

static volatile u32 irq0_count;

static void irq0_handler(struct trap_frame *f)
{
	(void)f;
	irq0_count++;
	pic__eoi(0);
}

static void check_hlt(void)
{
	u32 before, after, hlt_eip = 0, resumed = 0;

	trap__set_handler(PIC_MASTER_BASE + 0, irq0_handler);
	irq0_count = 0;
	pit__start(0, PIT_MODE_RATE, pit__divisor(500)); /* a tick every 2 ms */
	pic__mask(0, false);
	before = irq0_count;
	asm volatile("movl $1f, %0\n\t"
		     "sti\n\t"
		     "1: hlt\n\t"
		     "cli\n\t"
		     "movl $1, %1"
		     : "=&r"(hlt_eip), "=r"(resumed) : : "memory");
	after = irq0_count;
	pic__mask(0, true);
	test__eq_dec(0, before, "no IRQ0 before STI;HLT (IF was 0)");
	test__ok(after >= 1, "HLT with IRQ0 pending returns after the handler ran (%u IRQs)",
		 after);
	test__ok(resumed == 1, "execution continues after HLT (hlt at 0x%x)", hlt_eip);
	trap__set_handler(PIC_MASTER_BASE + 0, NULL);
}

static void msr_roundtrip(u32 msr, u64 value, const char *name)
{
	u64 old = rdmsr(msr), got;

	wrmsr(msr, value);
	got = rdmsr(msr);
	wrmsr(msr, old);
	test__eq(value, got, "WRMSR/RDMSR round trip %s (0x%x)", name, msr);
}

static void check_msrs(void)
{
	const struct cpu_info *c = &cpu__info;
	u64 v;

	if (c->f1_edx & CPUID1_EDX_SEP) {
		/* IA32_SYSENTER_CS holds a selector; ESP/EIP are 32-bit outside long mode. */
		msr_roundtrip(MSR_SYSENTER_CS, 0xa5a8, "SYSENTER_CS");
		msr_roundtrip(MSR_SYSENTER_ESP, 0x00c0ffe0, "SYSENTER_ESP");
		msr_roundtrip(MSR_SYSENTER_EIP, 0x0012abcd, "SYSENTER_EIP");
	} else {
		test__skip("SYSENTER MSRs", "CPUID.1:EDX.SEP clear");
	}
	if (c->f1_edx & CPUID1_EDX_PAT) {
		test__info("PAT at entry 0x%llx", rdmsr(MSR_PAT));
		/* Entries WB, WC, UC-, UC (6, 1, 7, 0): all valid memory types. */
		msr_roundtrip(MSR_PAT, 0x0007010600070106ULL, "PAT");
		if (!cpu__tcg_skip("WRMSR PAT with reserved memory type 2 raises #GP(0)",
				   "accepts it")) {
			v = rdmsr(MSR_PAT);
			trap__arm();
			asm volatile(TRAP_TRY("wrmsr") : : "c"(MSR_PAT), "a"(0x00070402),
				     "d"(0x00070406) : "memory");
			wrmsr(MSR_PAT, v);
			trap__expect(VEC_GP, 0, "WRMSR PAT with reserved memory type 2 raises #GP(0)");
		}
	} else {
		test__skip("PAT", "CPUID.1:EDX.PAT clear");
	}
	if (c->e1_edx & CPUID81_EDX_SYSCALL) {
		v = rdmsr(MSR_EFER);
		wrmsr(MSR_EFER, v | EFER_SCE);
		test__eq(v | EFER_SCE, rdmsr(MSR_EFER), "WRMSR EFER sets SCE");
		wrmsr(MSR_EFER, v & ~(u64)EFER_SCE);
		test__eq(v & ~(u64)EFER_SCE, rdmsr(MSR_EFER), "WRMSR EFER clears SCE");
		wrmsr(MSR_EFER, v);
	}
	/* Intel and AMD define no MSR at 0xdeadbeef: RDMSR raises #GP(0). */
	if (!cpu__tcg_skip("RDMSR 0xdeadbeef raises #GP(0)",
			   "returns 0 for every unknown MSR ('XXX: exception?' in misc_helper.c)")) {
		u32 lo = 0, hi = 0;

		trap__arm();
		asm volatile(TRAP_TRY("rdmsr") : "+a"(lo), "+d"(hi) : "c"(0xdeadbeef) : "memory");
		trap__expect(VEC_GP, 0, "RDMSR 0xdeadbeef raises #GP(0)");
	}
	/* IA32_PKRS bits 63:32 are reserved (SDM 4.6.2): the one WRMSR #GP TCG checks. */
	if (c->f7_ecx & (1u << 31)) {
		msr_roundtrip(0x6e1, 0x0000000c, "IA32_PKRS");
		trap__arm();
		asm volatile(TRAP_TRY("wrmsr") : : "c"(0x6e1), "a"(0), "d"(1) : "memory");
		wrmsr(0x6e1, 0);
		trap__expect(VEC_GP, 0, "WRMSR IA32_PKRS with reserved bit 32 raises #GP(0)");
	} else {
		test__skip("IA32_PKRS", "CPUID.7:ECX.PKS clear");
	}
}

static void check_tsc(void)
{
	u64 first, prev, t;
	bool mono = true;
	u32 cr4 = read_cr4(), aux, lo, hi;
	int i;

	first = prev = rdtsc();
	for (i = 0; i < 1000; i++) {
		t = rdtsc();
		if (t < prev)
			mono = false;
		prev = t;
	}
	test__ok(mono, "RDTSC never decreases over 1000 reads");
	test__ok(prev > first, "RDTSC advances (%llu cycles over 1000 reads)", prev - first);

	/* CR4.TSD restricts RDTSC to CPL0 only: here, at CPL0, it still works. */
	write_cr4(cr4 | CR4_TSD);
	trap__arm();
	asm volatile(TRAP_TRY("rdtsc") : : : "eax", "edx", "memory");
	write_cr4(cr4);
	trap__expect(TRAP_NONE, 0, "RDTSC at CPL0 with CR4.TSD=1 does not fault");

	if (!(cpu__info.e1_edx & CPUID81_EDX_RDTSCP)) {
		test__skip("RDTSCP", "CPUID.80000001:EDX.RDTSCP clear");
		return;
	}
	msr_roundtrip(MSR_TSC_AUX, 0x2a, "TSC_AUX");
	wrmsr(MSR_TSC_AUX, 0x1234);
	first = rdtsc();
	asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	t = ((u64)hi << 32) | lo;
	wrmsr(MSR_TSC_AUX, 0);
	test__eq(0x1234, aux, "RDTSCP returns TSC_AUX in ECX");
	test__ok(t >= first, "RDTSCP's TSC is not behind an earlier RDTSC");
}

static void check_eflags(void)
{
	u32 f;

	cli();
	f = read_eflags();
	test__ok(!(f & FL_IF), "PUSHF shows IF=0 after CLI (eflags 0x%x)", f);
	test__ok(f & FL_FIXED, "EFLAGS bit 1 reads as 1");
	sti(); /* every PIC line is masked: nothing arrives */
	f = read_eflags();
	test__ok(f & FL_IF, "PUSHF shows IF=1 after STI (eflags 0x%x)", f);
	write_eflags(f & ~FL_IF);
	test__ok(!(read_eflags() & FL_IF), "POPF with IF=0 clears IF");
	write_eflags(f | FL_IF);
	test__ok(read_eflags() & FL_IF, "POPF with IF=1 sets IF");
	cli();
	f = read_eflags();
	write_eflags(f | FL_AC);
	test__ok(read_eflags() & FL_AC, "POPF sets AC");
	write_eflags(f ^ (1u << 21));
	test__eq((f ^ (1u << 21)) & (1u << 21), read_eflags() & (1u << 21),
		 "POPF toggles ID (the CPUID-present test)");
	write_eflags(f);
	test__info("eflags.iopl=%u (not checked: a deprivileging VMM cannot hide it)",
		   (read_eflags() & FL_IOPL_MASK) >> 12);
}

void test_main(void)
{
	test__begin("privileged");
	check_cpuid();
	check_cr0();
	check_cr2_cr3();
	check_cr4();
	check_msw();
	check_caches();
	check_hlt();
	check_msrs();
	check_tsc();
	check_eflags();
	privileged__desc_checks();
}
