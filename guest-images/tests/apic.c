/*
 * apic.c: guest "apic": the local APIC as a kernel uses it (SDM vol. 3 ch. 10):
 *   xAPIC registers in the page at IA32_APIC_BASE, with paging off and through a
 *   different virtual address with 32-bit paging on; self-IPIs through the ICR, their
 *   priority order (ISR, EOI), TPR holding back a lower class (PPR); an NMI to self and
 *   NMI blocking until its handler returns; the i8259 through
 *   LINT0 (ExtINT) while the APIC is enabled; the timer one-shot (TMCCT counting down,
 *   one interrupt), periodic (counted against PIT IRQ0 ticks through the i8259, so in
 *   the VM's own time) and TSC-deadline (a deadline ahead, a deadline already passed,
 *   the MSR cleared); x2APIC through MSRs 0x800-0x8ff (version, ID, SELF_IPI, the
 *   64-bit ICR, EOI, #GP on a write-only register) and back to xAPIC; last, the page
 *   mapped at a 64-bit address and read by 64-bit code under 4-level paging.
 * x2APIC and the TSC-deadline timer are checked where CPUID advertises them (QEMU TCG
 * 7.2 has neither; shade has both) and skipped elsewhere.
 */
#include "clock.h"
#include "cmdline.h"
#include "lmode.h"
#include "paging.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

#define APIC_PHYS 0xfee00000u
#define APIC_VIRT 0x40000000u      /* where paging maps it in the second half */
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0

#define R_ID 0x20
#define R_VER 0x30
#define R_TPR 0x80
#define R_PPR 0xa0
#define R_EOI 0xb0
#define R_SVR 0xf0
#define R_ISR 0x100
#define R_IRR 0x200
#define R_ICR 0x300
#define R_ICR2 0x310
#define R_LVTT 0x320
#define R_LINT0 0x350
#define R_TMICT 0x380
#define R_TMCCT 0x390
#define R_TDCR 0x3e0

#define VEC_NMI 2
#define VEC_LOW 0x41
#define VEC_A 0x45
#define VEC_HIGH 0x61
#define VEC_TIMER 0x50
#define VEC_X2 0x66
#define ICR_SELF 0x40000u

static volatile u32 *apic = (volatile u32 *)APIC_PHYS;
static volatile u32 seen[8], nseen, isr_in_handler, pit_ticks, timer_ticks;

static u32 rd(u32 reg) { return apic[reg / 4]; }
static void wr(u32 reg, u32 v) { apic[reg / 4] = v; }
static bool bit(u32 base, u32 v) { return rd(base + (v >> 5) * 16) & (1u << (v & 31)); }

static void ipi_handler(struct trap_frame *f)
{
	if (nseen < 8)
		seen[nseen] = f->vector;
	nseen++;
	isr_in_handler = bit(R_ISR, f->vector);
	wr(R_EOI, 0);
}

static void timer_handler(struct trap_frame *f)
{
	(void)f;
	timer_ticks++;
	wr(R_EOI, 0);
}

static void pit_handler(struct trap_frame *f)
{
	(void)f;
	pit_ticks++;
	pic__eoi(0);
}

static void self_ipi(u32 vec)
{
	wr(R_ICR2, 0);
	wr(R_ICR, ICR_SELF | vec);
}

/* Wait (IF set) until `*counter` reaches `n`, at most `ms` of TSC time (a hang guard). */
static bool wait_count(volatile u32 *counter, u32 n, u32 ms)
{
	u64 end = clock__deadline_ms(ms);
	sti();
	while (*counter < n && !clock__expired(end))
		pause();
	cli();
	return *counter >= n;
}

static void check_registers(const char *where)
{
	test__eq(0x50014, rd(R_VER) & 0xff00ff, "%s: version 0x14, 6 LVT entries", where);
	test__eq(0, rd(R_ID) >> 24, "%s: APIC ID 0 (CPUID.1:EBX[31:24])", where);
	wr(R_TPR, 0x20);
	test__eq(0x20, rd(R_TPR), "%s: TPR round trip", where);
	wr(R_TPR, 0);
}

/* Self-IPIs: delivered once each, highest class first, in service in the handler. */
static void check_ipis(const char *where)
{
	nseen = 0;
	self_ipi(VEC_A);
	wait_count(&nseen, 1, 1000);
	test__eq_dec(1, nseen, "%s: self-IPI delivered once", where);
	test__ok(isr_in_handler, "%s: its vector in ISR inside the handler", where);
	test__ok(!bit(R_ISR, VEC_A), "%s: EOI clears it", where);

	nseen = 0;
	self_ipi(VEC_LOW);       /* IF is clear: both wait in IRR */
	self_ipi(VEC_HIGH);
	test__ok(bit(R_IRR, VEC_LOW) && bit(R_IRR, VEC_HIGH), "%s: both pending in IRR", where);
	wait_count(&nseen, 2, 1000);
	test__ok(nseen == 2 && seen[0] == VEC_HIGH && seen[1] == VEC_LOW,
		 "%s: higher class first (got %u: 0x%x 0x%x)", where, nseen, seen[0], seen[1]);

	/* TPR above the vector's class holds it in IRR; lowering TPR releases it. */
	nseen = 0;
	wr(R_TPR, 0x50);
	self_ipi(VEC_A);
	wait_count(&nseen, 1, 50);
	test__eq_dec(0, nseen, "%s: TPR 0x50 holds vector 0x%x back", where, VEC_A);
	test__eq(0x50, rd(R_PPR), "%s: PPR follows TPR", where);
	test__ok(bit(R_IRR, VEC_A), "%s: it waits in IRR", where);
	wr(R_TPR, 0);
	wait_count(&nseen, 1, 1000);
	test__eq_dec(1, nseen, "%s: delivered once TPR is lowered", where);
}

/* NMI through the ICR: taken whatever IF says; NMIs sent from its handler are held
 * (NMI blocking) and arrive as one once it returns. */
static volatile u32 nmi_n;
static void nmi_handler(struct trap_frame *f)
{
	(void)f;
	if (++nmi_n == 1)
		for (int i = 0; i < 3; i++)
			wr(R_ICR, ICR_SELF | 0x400);
}

static void check_nmi(void)
{
	nmi_n = 0;
	wr(R_ICR2, 0);
	wr(R_ICR, ICR_SELF | 0x400);
	for (u64 end = clock__deadline_ms(200); nmi_n < 2 && !clock__expired(end);)
		pause();
	for (u64 end = clock__deadline_ms(20); !clock__expired(end);)
		pause();
	test__eq_dec(2, nmi_n, "NMI to self with IF clear; three sent by its handler arrive as one");
}

static void check_paging(void)
{
	static u8 pool_mem[64 * 4096] __attribute__((aligned(4096)));
	struct pt_pool pool;
	struct paging as;

	pt_pool__init(&pool, pool_mem, sizeof(pool_mem));
	paging__init(&as, PAGING_32, &pool);
	paging__identity(&as, 16u << 20, PTE_P | PTE_RW);
	paging__map(&as, APIC_VIRT, APIC_PHYS, 1, PTE_P | PTE_RW | PTE_PCD);
	if (paging__enable(&as, 0) < 0) {
		test__skip("APIC through paging", "no 32-bit paging");
		return;
	}
	apic = (volatile u32 *)APIC_VIRT;
	check_registers("paging on, mapped at 0x40000000");
	check_ipis("paging on, mapped at 0x40000000");
	paging__disable();
	apic = (volatile u32 *)APIC_PHYS;
}

/* PIT IRQ0 through the i8259 and LINT0 (ExtINT) with the APIC software-enabled. */
static void check_virtual_wire(void)
{
	wr(R_LINT0, 0x700);
	test__eq(0x700, rd(R_LINT0) & 0x1ffff, "LINT0 in ExtINT mode, unmasked");
	pit_ticks = 0;
	pit__start(0, PIT_MODE_RATE, pit__divisor(100));
	pic__mask(0, false);
	bool ok = wait_count(&pit_ticks, 5, 2000);
	test__ok(ok, "PIT IRQ0 reaches the CPU through LINT0 (%u ticks)", pit_ticks);
}

static void check_timer(void)
{
	/* One-shot, divide by 1: TMCCT counts down from TMICT, one interrupt at zero. */
	timer_ticks = 0;
	wr(R_TDCR, 0xb);
	wr(R_LVTT, VEC_TIMER);
	wr(R_TMICT, 50000000);
	u32 c1 = rd(R_TMCCT), c2 = rd(R_TMCCT);
	test__ok(c1 <= 50000000 && c2 <= c1 && c1 > 0, "one-shot: TMCCT counts down (%u, %u)", c1, c2);
	test__ok(wait_count(&timer_ticks, 1, 5000), "one-shot: the interrupt arrives");
	wait_count(&timer_ticks, 2, 100);
	test__eq_dec(1, timer_ticks, "one-shot: exactly one interrupt");
	test__eq_dec(0, rd(R_TMCCT), "one-shot: TMCCT stays at 0");

	/* Calibrate against the PIT (100 Hz): APIC counts per 5 PIT ticks (50 ms). */
	pit_ticks = 0;
	wr(R_TDCR, 0x3);          /* divide by 16 */
	wr(R_LVTT, 0x10000 | VEC_TIMER);
	wr(R_TMICT, 0xffffffffu);
	wait_count(&pit_ticks, 1, 2000);
	u32 start = rd(R_TMCCT), p0 = pit_ticks;
	wait_count(&pit_ticks, p0 + 5, 2000);
	u32 per_tick = (start - rd(R_TMCCT)) / 5;
	test__info("APIC timer: %u counts (divide by 16) per PIT tick of 10 ms", per_tick);
	test__ok(per_tick > 100, "the timer counts in the PIT's time");

	/* Periodic, one PIT tick per period: 10 interrupts while the PIT ticks ~10 times. */
	timer_ticks = 0;
	pit_ticks = 0;
	wr(R_LVTT, 0x20000 | VEC_TIMER);
	wr(R_TMICT, per_tick);
	wait_count(&timer_ticks, 10, 5000);
	u32 pit = pit_ticks;
	wr(R_LVTT, 0x10000 | VEC_TIMER);
	wr(R_TMICT, 0);
	test__eq_dec(10, timer_ticks, "periodic: 10 interrupts");
	test__info("periodic: %u PIT ticks for 10 APIC periods of one PIT tick", pit);
	test__range(3, 40, pit, "periodic: the period follows TMICT (PIT ticks for 10 periods)");
	pic__mask(0, true);
}

static void check_tsc_deadline(void)
{
	u32 r[4];
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 24))) {
		test__skip("TSC-deadline timer", "CPUID.1:ECX.TSC_DEADLINE is clear");
		return;
	}
	timer_ticks = 0;
	wr(R_LVTT, 0x40000 | VEC_TIMER);
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + clock__tsc_hz() / 100);
	test__ok(rdmsr(MSR_TSC_DEADLINE) != 0, "TSC deadline armed");
	test__ok(wait_count(&timer_ticks, 1, 2000), "TSC deadline 10 ms ahead fires");
	test__eq(0, rdmsr(MSR_TSC_DEADLINE), "the MSR reads 0 once it fired");
	timer_ticks = 0;
	sti();
	wrmsr(MSR_TSC_DEADLINE, rdtsc());
	asm volatile("nop");
	cli();
	test__eq_dec(1, timer_ticks, "a deadline already passed fires at once");
	wr(R_LVTT, 0x10000 | VEC_TIMER);
}

static void check_x2apic(void)
{
	u32 r[4];
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 21))) {
		test__skip("x2APIC", "CPUID.1:ECX.x2APIC is clear");
		return;
	}
	u64 base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base | (1u << 10));
	test__eq(0xc00, rdmsr(MSR_APIC_BASE) & 0xc00, "x2APIC mode entered");
	test__eq(0x50014, rdmsr(0x803) & 0xff00ff, "x2APIC: version MSR");
	test__eq(0, rdmsr(0x802), "x2APIC: ID MSR (32-bit ID 0)");
	test__eq(1, rdmsr(0x80d), "x2APIC: LDR derived from the ID");
	nseen = 0;
	wrmsr(0x83f, VEC_X2);
	wait_count(&nseen, 1, 1000);
	test__ok(nseen == 1 && seen[0] == VEC_X2, "x2APIC: SELF_IPI delivered");
	/* the handler's MMIO EOI does not reach an x2APIC: EOI by MSR */
	test__ok((rdmsr(0x800 + R_ISR / 16 + VEC_X2 / 32) >> (VEC_X2 & 31)) & 1,
		 "x2APIC: still in service after an MMIO EOI");
	wrmsr(0x80b, 0);
	test__ok(!((rdmsr(0x800 + R_ISR / 16 + VEC_X2 / 32) >> (VEC_X2 & 31)) & 1),
		 "x2APIC: EOI MSR clears ISR");
	trap__arm();
	asm volatile(TRAP_TRY("rdmsr") : : "c"(0x80b) : "eax", "edx", "memory");
	trap__expect(VEC_GP, 0, "x2APIC: RDMSR of the write-only EOI register");
	nseen = 0;
	wrmsr(0x830, 0x40 | 0ull << 32);     /* the 64-bit ICR: fixed, destination 0 */
	wait_count(&nseen, 1, 1000);
	wrmsr(0x80b, 0);
	test__ok(nseen == 1 && seen[0] == 0x40, "x2APIC: ICR to our own ID delivered");
	/* Back to xAPIC: through disabled, as the SDM requires. */
	trap__arm();
	asm volatile(TRAP_TRY("wrmsr") : : "c"(MSR_APIC_BASE), "a"((u32)base), "d"(0) : "memory");
	trap__expect(VEC_GP, 0, "x2APIC -> xAPIC directly is #GP");
	wrmsr(MSR_APIC_BASE, base & ~0xc00ull);
	wrmsr(MSR_APIC_BASE, base);
	wr(R_SVR, 0x1ff);
	test__eq(0x50014, rd(R_VER) & 0xff00ff, "xAPIC again: MMIO decoded");
}

/* 64-bit code (lmode__call64): a dword read of the version register and a dword write
 * of TPR, through the page mapped at 0x7f0000000000. */
u32 apic_ver64(u32 unused);
u32 apic_tpr64(u32 tpr);
asm(".text\n.code64\n"
    "apic_ver64: movabsq $0x7f0000000030, %rax\n movl (%rax), %eax\n ret\n"
    "apic_tpr64: movabsq $0x7f0000000080, %rax\n movl %edi, (%rax)\n movl (%rax), %eax\n ret\n"
    ".code32\n");

/* Last (it leaves IA-32e mode on): the page at a 64-bit address, used by 64-bit code. */
static void check_long_mode(void)
{
	static u8 pool_mem[64 * 4096] __attribute__((aligned(4096)));
	struct pt_pool pool;
	struct paging as;

	pt_pool__init(&pool, pool_mem, sizeof(pool_mem));
	paging__init(&as, PAGING_4L, &pool);
	paging__identity(&as, 16u << 20, PTE_P | PTE_RW);
	paging__map(&as, APIC_PHYS, APIC_PHYS, 1, PTE_P | PTE_RW | PTE_PCD);
	paging__map(&as, 0x7f0000000000ull, APIC_PHYS, 1, PTE_P | PTE_RW | PTE_PCD);
	if (paging__enable(&as, 0) < 0) {
		test__skip("APIC from 64-bit code", "no IA-32e mode");
		return;
	}
	test__eq(0x50014, lmode__call64(apic_ver64, 0) & 0xff00ff,
		 "64-bit code: version read at 0x7f0000000030");
	test__eq(0x30, lmode__call64(apic_tpr64, 0x30), "64-bit code: TPR written and read back");
	test__eq(0x30, rd(R_TPR), "compatibility mode under 4-level paging: the same TPR");
	wr(R_TPR, 0);
}

/* ACPI PM timer (PIIX4 layout, port 0x608): 3.579545 MHz, 24 bits. */
#define PM_TMR 0x608
#define PM_HZ 3579545ull

/*
 * "bench=S" (and "hz=H", default 100) on the command line: the APIC timer periodic at H
 * Hz (its input clock measured against the PM timer first) for S seconds of the PM
 * timer, the guest halted between interrupts, counting them. The report is the APIC
 * timer's accuracy against the PM timer; exits per interrupt and per EOI come from
 * shade's --stats (each wake-up reads the PM timer once: one port exit).
 */
static void bench(u32 secs, u32 hz)
{
	u32 p0 = inl(PM_TMR) & 0xffffff;
	wr(R_TDCR, 0xb);
	wr(R_LVTT, 0x10000 | VEC_TIMER);
	wr(R_TMICT, 0xffffffffu);
	pit__calibrate_tsc(50);
	u32 counted = 0xffffffffu - rd(R_TMCCT);
	u32 p1 = inl(PM_TMR) & 0xffffff;
	u64 pm = (p1 - p0) & 0xffffff;
	u64 apic_hz = pm ? (u64)counted * PM_HZ / pm : 0;
	test__info("APIC timer input clock: %llu Hz (against the PM timer)", apic_hz);
	timer_ticks = 0;
	wr(R_LVTT, 0x20000 | VEC_TIMER);
	wr(R_TMICT, (u32)(apic_hz / hz));
	u64 elapsed = 0;
	u32 last = inl(PM_TMR) & 0xffffff;
	while (elapsed < secs * PM_HZ) {
		sti_hlt();
		cli();
		u32 now = inl(PM_TMR) & 0xffffff;
		elapsed += (now - last) & 0xffffff;
		last = now;
	}
	u32 ticks = timer_ticks;
	wr(R_TMICT, 0);
	u64 expected_milli = elapsed * hz * 1000 / PM_HZ;     /* expected ticks x 1000 */
	test__info("bench: %u APIC timer interrupts at %u Hz in %llu PM-timer ms: %llu.%01llu%% of expected",
		   ticks, hz, elapsed * 1000 / PM_HZ, (u64)ticks * 100000 / expected_milli,
		   ((u64)ticks * 1000000 / expected_milli) % 10);
	test__ok(ticks > 0, "bench: the periodic timer ran");
}

void test_main(void)
{
	u32 r[4];

	test__begin("apic");
	u32 bench_secs = cmdline__u32("bench=", 0);
	if (bench_secs) {
		for (int v = 0x40; v < 0x70; v++)
			trap__set_handler(v, ipi_handler);
		trap__set_handler(VEC_TIMER, timer_handler);
		wr(R_SVR, 0x1ff);
		bench(bench_secs, cmdline__u32("hz=", 100));
		return;
	}
	cpuid(1, 0, r);
	test__ok(r[3] & (1u << 9), "CPUID.1:EDX.APIC");
	u64 base = rdmsr(MSR_APIC_BASE);
	test__eq(0xfee00900, base & 0xfffff900, "IA32_APIC_BASE: 0xfee00000, enabled, BSP");
	test__info("at entry: SVR 0x%x LINT0 0x%x LINT1 0x%x", rd(R_SVR), rd(R_LINT0), rd(R_LINT0 + 0x10));
	clock__tsc_hz();
	for (int v = 0x40; v < 0x70; v++)
		trap__set_handler(v, ipi_handler);
	trap__set_handler(VEC_TIMER, timer_handler);
	trap__set_handler(PIC_MASTER_BASE, pit_handler);
	wr(R_SVR, 0x1ff);
	test__eq(0x1ff, rd(R_SVR) & 0x1ff, "SVR: software-enabled, spurious vector 0xff");
	check_registers("paging off");
	check_ipis("paging off");
	trap__set_handler(VEC_NMI, nmi_handler);
	check_nmi();
	check_paging();
	check_virtual_wire();
	check_timer();
	check_tsc_deadline();
	check_x2apic();
	check_long_mode();
}
