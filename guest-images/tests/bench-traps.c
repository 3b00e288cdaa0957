/*
 * bench-traps.c: guest "bench-traps": the cost of each kind of trap a
 * trap-and-emulate VMM handles, timed with RDTSC over many iterations:
 *   cr0-write, cr3-write   MOV to CR0/CR3 with the current value
 *   invlpg                 INVLPG (paging is off: architecturally harmless)
 *   hlt-wakeup             HLT woken by a 1000 Hz PIT IRQ0 (per wake-up; includes the
 *                          wait for the tick, so compare with the period printed);
 *                          iterations / 50 wake-ups, at least 20
 *   out-80, in-80          port I/O to the POST port 0x80
 *   int-ring0              INT n to a ring-0 gate whose handler only IRETs
 *   int80-user             INT 0x80 ring 3 -> ring 0 -> IRET to ring 3
 *   gp-reflect             #GP from a bad segment load, handler skips the instruction
 *   cpuid, rdmsr           CPUID leaf 0, RDMSR SYSENTER_CS
 *   loop                   the empty timing loop, for reference
 * One line per kind: "bench: KIND iterations=N cycles_per_op=C ns_per_op=X.Y", ns
 * from the TSC frequency of CPUID 0x15/0x16 when given, else calibrated against PIT
 * channel 2 for 50 ms. The checks only say that every measurement completed.
 * The iteration count can be set with the kernel command line "iterations=N", and the
 * kinds measured with "kinds=a,b,c" (default: all).
 */
#include "cmdline.h"
#include "cpu.h"
#include "desc.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "test.h"
#include "trap.h"
#include "user.h"
#include "x86.h"

#define DEFAULT_ITERATIONS 10000
#define HLT_PER_ITERATIONS 50   /* HLT wake-ups are 1 ms each: iterations / 50 of them */

static u32 iterations = DEFAULT_ITERATIONS;
static const char *only;   /* "kinds=" list from the command line, or NULL for all */
static u64 tsc_hz;
volatile u32 bench_ticks;

/* Raw handlers: no C dispatch, so the numbers are the VMM's, not the guest's. */
void bench_iret(void);
void bench_gp_skip(void);
void bench_irq0(void);
asm(".pushsection .text\n"
    "bench_iret:\n\t"
    "iret\n"
    "bench_gp_skip:\n\t"
    "addl $4, %esp\n\t"	  /* error code */
    "addl $2, (%esp)\n\t" /* skip the 2-byte MOV Sreg */
    "iret\n"
    "bench_irq0:\n\t"
    "pushl %eax\n\t"
    "incl bench_ticks\n\t"
    "movb $0x20, %al\n\t"
    "outb %al, $0x20\n\t"
    "popl %eax\n\t"
    "iret\n"
    ".popsection");

static void report(const char *kind, u32 n, u64 cycles)
{
	u64 per = n ? cycles / n : 0;
	/* Per operation first: cycles * 1e10 overflows 64 bits beyond ~1.8e9 cycles. */
	u64 ns10 = tsc_hz ? per * 10000000000ULL / tsc_hz : 0;

	printf("bench: %s iterations=%u cycles_per_op=%llu ns_per_op=%llu.%llu\n", kind, n, per,
	       ns10 / 10, ns10 % 10);
	test__ok(n > 0 && cycles > 0, "%s: %u iterations measured", kind, n);
}

#define BENCH_LOOP(kind, n, body)                                              \
	do {                                                                   \
		u32 i_;                                                        \
		u64 t0_;                                                       \
		if (!wanted(kind))                                             \
			break;                                                 \
		t0_ = rdtsc();                                                 \
		for (i_ = 0; i_ < (n); i_++) {                                 \
			body;                                                  \
		}                                                              \
		report(kind, i_, rdtsc() - t0_);                               \
	} while (0)

static u64 user_cycles;

static u32 user_int80_loop(u32 n)
{
	u64 t0 = rdtsc();
	u32 i;

	for (i = 0; i < n; i++)
		asm volatile("int $0x80" : : : "memory");
	user_cycles = rdtsc() - t0;
	return i;
}

static void tsc_frequency(void)
{
	u32 r[4];
	const char *src = "PIT channel 2 (50 ms)";

	if (cpu__info.max_leaf >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2]) {
			tsc_hz = (u64)r[2] * r[1] / r[0];
			src = "CPUID 0x15";
		}
	}
	if (!tsc_hz && cpu__info.max_leaf >= 0x16) {
		cpuid(0x16, 0, r);
		if (r[0] & 0xffff) {
			tsc_hz = (u64)(r[0] & 0xffff) * 1000000;
			src = "CPUID 0x16";
		}
	}
	if (!tsc_hz)
		tsc_hz = pit__calibrate_tsc(50);
	printf("# tsc: %llu Hz from %s\n", tsc_hz, src);
	test__ok(tsc_hz > 1000000, "TSC frequency known (%llu Hz)", tsc_hz);
}

static void parse_cmdline(void)
{
	iterations = cmdline__u32("iterations=", iterations);
	if (!iterations)
		iterations = DEFAULT_ITERATIONS;
	only = cmdline__value("kinds=");
}

/* Whether KIND is in the "kinds=" list (comma separated, ended by a space). */
static int wanted(const char *kind)
{
	const char *p = only;
	int k;

	if (!p)
		return 1;
	while (*p && *p != ' ') {
		for (k = 0; kind[k] && p[k] == kind[k]; k++)
			;
		if (!kind[k] && (p[k] == ',' || p[k] == ' ' || !p[k]))
			return 1;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void bench_hlt(void)
{
	u32 period = pit__divisor(1000), n, wakeups = iterations / HLT_PER_ITERATIONS;
	u64 t0, t1;

	if (wakeups < 20)
		wakeups = 20;

	idt__set(PIC_MASTER_BASE, (u32)(uintptr_t)bench_irq0, SEL_KCODE, GATE_P | GATE_INT32);
	pit__start(0, PIT_MODE_RATE, (u16)period);
	pic__mask(0, false);
	sti_hlt(); /* line up with a tick */
	bench_ticks = 0;
	t0 = rdtsc();
	for (n = 0; n < wakeups; n++)
		asm volatile("hlt" : : : "memory");
	t1 = rdtsc();
	cli();
	pic__mask(0, true);
	printf("# hlt-wakeup: PIT period %u ticks = %llu TSC cycles\n", period,
	       tsc_hz * period / PIT_HZ);
	report("hlt-wakeup", n, t1 - t0);
	test__ok(bench_ticks >= wakeups, "hlt-wakeup: every HLT woken by IRQ0 (%u ticks)",
		 bench_ticks);
	idt__set_stub(PIC_MASTER_BASE, GATE_INT32, 0);
}

void test_main(void)
{
	u32 cr0, cr3, r[4], n;

	test__begin("bench-traps");
	parse_cmdline();
	tsc_frequency();
	cr0 = read_cr0();
	cr3 = read_cr3();

	BENCH_LOOP("loop", iterations, asm volatile("" : : : "memory"));
	BENCH_LOOP("cr0-write", iterations, write_cr0(cr0));
	BENCH_LOOP("cr3-write", iterations, write_cr3(cr3));
	BENCH_LOOP("invlpg", iterations, asm volatile("invlpg (%0)" : : "r"(i_ << 12) : "memory"));
	BENCH_LOOP("out-80", iterations, outb(0x80, (u8)i_));
	BENCH_LOOP("in-80", iterations, (void)inb(0x80));
	BENCH_LOOP("cpuid", iterations, cpuid(0, 0, r));
	BENCH_LOOP("rdmsr", iterations, (void)rdmsr(MSR_SYSENTER_CS));

	idt__set(0x81, (u32)(uintptr_t)bench_iret, SEL_KCODE, GATE_P | GATE_INT32);
	BENCH_LOOP("int-ring0", iterations, asm volatile("int $0x81" : : : "memory"));

	idt__set(VEC_GP, (u32)(uintptr_t)bench_gp_skip, SEL_KCODE, GATE_P | GATE_INT32);
	BENCH_LOOP("gp-reflect", iterations,
		   asm volatile(".byte 0x8e, 0xd8" : : "a"(0xfff8) : "memory")); /* mov %ax,%ds */
	idt__set_stub(VEC_GP, GATE_INT32, 0);
	if (wanted("gp-reflect"))
		test__eq(SEL_KDATA, read_ds(), "gp-reflect: DS keeps its selector after the faulting loads");

	if (wanted("int80-user")) {
		user__init();
		idt__set(0x80, (u32)(uintptr_t)bench_iret, SEL_KCODE,
			 GATE_P | GATE_DPL(3) | GATE_INT32);
		n = user__run(user_int80_loop, iterations, FL_FIXED);
		report("int80-user", n, user_cycles);
	}
	if (wanted("hlt-wakeup"))
		bench_hlt();
}
