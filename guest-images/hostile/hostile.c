/*
 * hostile.c: guest "hostile": the round loop, the fresh state every round starts from,
 * the trap handler that brings every exception back to the loop, and the PRNG.
 *
 * Command line: seed=N (default 1), rounds=N (default 64), first=N (start at round N:
 * every round seeds its PRNG from seed and its number, so one round replays alone),
 * only=KIND (code, pt, oob, desc, msr, io, vq: that kind every round), skip=KIND (never
 * that kind). Each round prints "round R KIND ..." before it starts and one line per operation's outcome; the run
 * ends with "hostile: done N rounds ..." and a write of 0 to the debug-exit port. A
 * round may kill the guest (a triple fault, an access shade refuses to back): what is
 * checked is the VMM, by tests/hostile/run-hostile.sh.
 */
#include "cmdline.h"
#include "cpu.h"
#include "desc.h"
#include "hostile.h"
#include "paging.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "serial.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

struct hx_state hx;
static u64 gdt_saved[GDT_ENTRIES];
static u64 idt_saved[256];
static u8 tss_saved[104];
static u8 pt_mem[64 * 4096] __aligned(4096);
struct pt_pool hx__pool;
struct paging hx__as;

static u64 mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

u32 hx__rand(void)
{
	hx.rng ^= hx.rng >> 12;
	hx.rng ^= hx.rng << 25;
	hx.rng ^= hx.rng >> 27;
	return (u32)((hx.rng * 0x2545f4914f6cdd1dull) >> 32);
}

u32 hx__below(u32 n)
{
	return n ? (u32)(((u64)hx__rand() * n) >> 32) : 0;
}

bool hx__chance(u32 one_in)
{
	return hx__below(one_in) == 0;
}

u32 hx__pick(const u32 *v, u32 n)
{
	return v[hx__below(n)];
}

void hx__fill(void *p, u32 bytes)
{
	u8 *b = p;
	for (u32 i = 0; i < bytes; i++)
		b[i] = (u8)hx__rand();
}

static const char *const vec_names[] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vec9", "#TS",
	"#NP", "#SS", "#GP", "#PF", "vec15", "#MF", "#AC", "#MC", "#XM",
};

const char *hx__result_name(u32 result)
{
	if (!result)
		return "done";
	if (result == HX_TIMEOUT)
		return "watchdog";
	if (result - 1 < ARRAY_SIZE(vec_names))
		return vec_names[result - 1];
	return "int";
}

void hx__report(u32 result)
{
	serial__init();   /* port abuse may have left the UART muted or misprogrammed */
	if (!result || result == HX_TIMEOUT)
		printf("    -> %s\n", hx__result_name(result));
	else
		printf("    -> %s(v%u,e%x) at %04x:%08x cr2 %08x\n", hx__result_name(result),
		       result - 1, hx.last.error, hx.last.cs & 0xffff, hx.last.eip, hx.last.cr2);
}

/* Every vector comes here. IRQs (master PIC at 0x20) are acknowledged; the timer's
 * counts toward the watchdog. Anything else inside hx__try ends the attempt. */
static void on_trap(struct trap_frame *f)
{
	u32 v = f->vector;

	if (v >= PIC_MASTER_BASE && v < PIC_MASTER_BASE + 16) {
		if (v >= PIC_SLAVE_BASE)
			outb(PIC2_CMD, 0x20);
		outb(PIC1_CMD, 0x20);
		if (v == PIC_MASTER_BASE && hx.depth && ++hx.ticks >= hx.tick_limit) {
			hx.timeouts++;
			hx__bail(HX_TIMEOUT);
		}
		return;
	}
	if (!hx.depth) {
		serial__init();
		printf("hostile: round %u: trap %u (error %x) at %04x:%08x outside any attempt\n",
		       hx.round, v, f->error, f->cs & 0xffff, f->eip);
		test__exit(3);
	}
	hx.last.vector = v;
	hx.last.error = f->error;
	hx.last.eip = f->eip;
	hx.last.cs = f->cs;
	hx.last.cr2 = read_cr2();
	hx.faults++;
	hx__bail(v + 1);
}

u32 hx__try(void (*fn)(u32), u32 arg)
{
	hx.depth = 1;
	hx.ticks = 0;
	u32 r = hx__asm_try(fn, arg);
	hx.depth = 0;
	return r;
}

static void run_kernel(u32 arg) { hx__jump_kernel((const struct hx_regs *)arg); }
static void run_user(u32 arg) { hx__jump_user((const struct hx_regs *)arg); }

u32 hx__run(const struct hx_regs *r, u32 cpl, u32 ticks)
{
	hx.tick_limit = ticks;
	pic__set_mask(0xfffe);   /* IRQ0 only: the watchdog */
	u32 res = hx__try(cpl ? run_user : run_kernel, (u32)(uintptr_t)r);
	pic__set_mask(0xffff);
	return res;
}

void hx__random_regs(struct hx_regs *r, u32 eip_off, u32 cpl)
{
	u32 *g = &r->eax;
	for (int i = 0; i < 8; i++)
		g[i] = HX_DATA + hx__below(HX_STACK - HX_DATA);
	if (hx__chance(4))
		g[hx__below(8)] = hx__rand();
	r->edx &= ~0xffu;                   /* DX a port: never the debug exit's */
	r->esp = HX_STACK - 4 * hx__below(64);
	r->eip = HX_CODE + eip_off;
	/* IF on (the watchdog); at CPL3 also random DF, AC, TF (IOPL stays 0) */
	r->eflags = FL_FIXED | FL_IF;
	if (cpl) {
		r->eflags |= hx__rand() & (FL_DF | FL_AC | FL_CF | FL_ZF | FL_OF);
		if (hx__chance(8))
			r->eflags |= FL_TF;
	}
}

/* Identity map of [0, HX_MAPPED): supervisor, except the user sandbox and the scratch
 * pages; the page after the code page is left out, so code running off its page
 * faults. Page-table pages for the round come from the same pool (hx__pool). */
u32 hx__build_tables(void)
{
	pt_pool__init(&hx__pool, pt_mem, sizeof(pt_mem));
	paging__init(&hx__as, PAGING_32, &hx__pool);
	paging__identity(&hx__as, HX_MAPPED, PTE_P | PTE_RW);
	for (u32 va = HX_CODE; va < HX_STACK; va += 4096) {
		u32 *pte = paging__entry(&hx__as, va, 1, false);
		*pte = va == HX_GUARD ? 0 : (*pte | PTE_US);
	}
	for (u32 va = HX_SCRATCH; va < HX_MAPPED; va += 4096)
		*(u32 *)paging__entry(&hx__as, va, 1, false) |= PTE_US;
	return hx__as.root;
}

void hx__reset_devices(void)
{
	serial__init();
	pic__remap(PIC_MASTER_BASE, PIC_SLAVE_BASE);
	pic__set_mask(0xffff);
	outb(0x4d0, 0);                        /* ELCR: every IRQ edge triggered */
	outb(0x4d1, 0);
	pit__start(0, PIT_MODE_RATE, pit__divisor(1000));
	if (hx.balloon_io)
		outb(hx.balloon_io + 0x12, 0);     /* balloon reset */
	hx__balloon_find();
}

/* The fresh state of a round: paging rebuilt, descriptor tables and TSS from their
 * boot copies, control registers, EFER and SYSENTER MSRs, devices. */
static void reset(void)
{
	asm volatile("cli");
	write_cr0(hx.cr0 & ~CR0_PG);
	write_cr4(hx.cr4);
	if (hx.has_efer)
		wrmsr(MSR_EFER, 0);
	for (u32 m = MSR_SYSENTER_CS; m <= MSR_SYSENTER_EIP; m++)
		wrmsr(m, 0);
	/* Entry by entry, only what changed: a VMM traces these pages, so every store
	 * is an emulated write. */
	for (int i = 0; i < GDT_ENTRIES; i++)
		if (gdt__table[i] != gdt_saved[i])
			gdt__table[i] = gdt_saved[i];
	lgdt(&gdt__dtr);
	hx__reload_segments();
	for (int v = 0; v < 256; v++)
		if (idt__get(v) != idt_saved[v])
			idt__put(v, idt_saved[v]);
	lidt(&idt__dtr);
	memcpy(&tss__main, tss_saved, sizeof(tss_saved));
	ltr(SEL_TSS);
	lldt(0);
	hx__reset_devices();
	memset((void *)HX_CODE, 0, HX_GUARD - HX_CODE);
	write_cr3(hx__build_tables());
	write_cr0(hx.cr0 | CR0_PG | CR0_WP);
}

static void init(void)
{
	const u32 *mbi = (const u32 *)(uintptr_t)boot__mbi;

	hx.ram_end = (mbi && (mbi[0] & 1)) ? 0x100000u + mbi[2] * 1024u : 0x2000000u;
	hx.has_pse = cpu__info.f1_edx & CPUID1_EDX_PSE;
	hx.has_pge = cpu__info.f1_edx & CPUID1_EDX_PGE;
	hx.has_efer = cpu__info.e1_edx & (CPUID81_EDX_NX | CPUID81_EDX_LM | CPUID81_EDX_SYSCALL);
	hx.cr0 = (read_cr0() | CR0_NE | CR0_ET) & ~(CR0_PG | CR0_WP | CR0_AM | CR0_TS | CR0_EM);
	hx.cr4 = hx.has_pse ? CR4_PSE : 0;
	tss__init();
	for (int v = 0; v < 256; v++) {
		trap__set_handler(v, on_trap);
		idt_saved[v] = idt__get(v);
	}
	memcpy(gdt_saved, gdt__table, sizeof(gdt_saved));
	gdt_saved[SEL_TSS >> 3] &= ~(2ull << 40);  /* not busy: LTR again each round */
	memcpy(tss_saved, &tss__main, sizeof(tss_saved));
}

static const char *const kinds[] = { "code", "pt", "oob", "desc", "msr", "io", "vq" };

/* The kind named at `word` (a command-line value), or -1. */
static int kind_named(const char *word)
{
	for (u32 k = 0; word && k < ARRAY_SIZE(kinds); k++) {
		const char *a = kinds[k], *b = word;
		while (*a && *a == *b)
			a++, b++;
		if (!*a && (!*b || *b == ' '))
			return (int)k;
	}
	return -1;
}

static u32 kind_of(int only, int skip)
{
	if (only >= 0)
		return (u32)only;
	/* Out-of-RAM mappings often end the run (shade stops a VM that touches
	 * guest-physical memory it does not have), so they come rarely. */
	static const u32 weights[] = { 30, 20, 1, 20, 10, 10, 9 };
	for (;;) {
		u32 x = hx__below(100), k = 0;
		while (x >= weights[k])
			x -= weights[k++];
		if ((int)k != skip)
			return k;
	}
}

void test_main(void)
{
	u32 seed = cmdline__u32("seed=", 1);
	u32 rounds = cmdline__u32("rounds=", 64);
	u32 first = cmdline__u32("first=", 0);
	int only = kind_named(cmdline__value("only="));
	int skip = kind_named(cmdline__value("skip="));

	init();
	hx__balloon_find();
	printf("hostile: seed %u, rounds %u..%u, RAM %u MiB, balloon I/O 0x%x\n", seed, first,
	       rounds ? rounds - 1 : 0, hx.ram_end >> 20, hx.balloon_io);
	for (hx.round = first; hx.round < rounds; hx.round++) {
		hx.rng = mix64(((u64)seed << 32) ^ hx.round) | 1;
		u32 k = kind_of(only, skip);
		reset();
		printf("round %u %s\n", hx.round, kinds[k]);
		switch (k) {
		case 0: hx__round_code(); break;
		case 1: hx__round_pt(false); break;
		case 2: hx__round_pt(true); break;
		case 3: hx__round_desc(); break;
		case 4: hx__round_msr(); break;
		case 5: hx__round_io(); break;
		default: hx__round_vq(); break;
		}
	}
	reset();
	printf("hostile: done %u rounds (%u faults caught, %u watchdog stops)\n", rounds - first,
	       hx.faults, hx.timeouts);
	test__exit(0);
}
