/*
 * share-idle.c: guest "share-idle": memory with known contents for page-sharing tests.
 * It fills `pages` pages (command line, default 2048) from 16 MiB up, in five sets:
 *   zero    all zero (written, so backed)
 *   common  page i has the same contents in every VM (a function of i only)
 *   unique  page i is a function of i and the VM's `seed` (differs across VMs)
 *   dup     every page the same, a function of `seed` (shared within one VM)
 *   near    like common page i but one byte differs, by seed: must never be merged
 * prints the set sizes, idles `idle` seconds in HLT (PIT at 100 Hz), checks every page,
 * then (unless storm=0) rewrites every other page of each set while it keeps running,
 * idles again and checks every page once more. A VMM that merged pages that differ,
 * or let a write reach a shared frame, fails the checks; the host test measures the
 * memory that sharing saved while the guest idled.
 */
#include "cmdline.h"
#include "desc.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "test.h"
#include "x86.h"

#define BASE 0x1000000u
#define WORDS (4096 / 4)

enum set { S_ZERO, S_COMMON, S_UNIQUE, S_DUP, S_NEAR, S_COUNT };
static const char *const set_names[] = { "zero", "common", "unique", "dup", "near" };

static u32 npages, seed, per_set;
static u32 rewritten_gen;          /* 0 before the storm, 1 after */
volatile u32 share_ticks;

void share_irq0(void);
asm(".pushsection .text\n"
    "share_irq0:\n\t"
    "pushl %eax\n\t"
    "incl share_ticks\n\t"
    "movb $0x20, %al\n\t"
    "outb %al, $0x20\n\t"
    "popl %eax\n\t"
    "iret\n"
    ".popsection");

static u32 *page_of(enum set s, u32 i)
{
	return (u32 *)(uintptr_t)(BASE + ((u32)s * per_set + i) * 4096u);
}

/* A page is one 32-bit value repeated (REP STOSL: cheap even where every guest
 * instruction is interpreted), then word 0 holds a per-page marker and, for the near
 * set, one more word differs. fill() and check_set() agree on this layout. */
static u32 value(enum set s, u32 i, u32 gen)
{
	switch (s) {
	case S_ZERO: return gen ? 0x5a5a0000u + i : 0;
	case S_COMMON:
	case S_NEAR: return 0xc0ffee00u + i + gen * 0x01010101u;
	case S_UNIQUE: return seed * 0x9e3779b1u + i * 0x85ebca6bu + 1 + gen * 0x01010101u;
	default: return seed * 0xc2b2ae35u + 7 + gen * 0x01010101u;
	}
}
/* Zero pages stay all zero; dup pages stay all alike. */
static u32 marker(enum set s, u32 i, u32 gen)
{
	if (s == S_DUP || (s == S_ZERO && !gen))
		return value(s, i, gen);
	return value(s, i, gen) ^ 0x80000001u;
}
static u32 near_word(u32 i) { return 1 + (seed * 37 + i) % (WORDS - 1); }
static u32 near_value(u32 i, u32 gen) { return value(S_NEAR, i, gen) ^ (0x100u << (seed % 24)); }

static void set_words(u32 *p, u32 v, u32 n)
{
	asm volatile("rep stosl" : "+D"(p), "+c"(n) : "a"(v) : "memory");
}

/* How many of the n words from p equal v before the first that does not (REPE SCASL). */
static u32 same_words(const u32 *p, u32 v, u32 n)
{
	u32 left = n;
	asm volatile("repe scasl\n\t"
		     "je 1f\n\t"
		     "incl %1\n"
		     "1:" : "+D"(p), "+c"(left) : "a"(v) : "memory", "cc");
	return n - left;
}

static u32 gen_of(enum set s, u32 i) { (void)s; return (rewritten_gen && (i & 1)) ? 1 : 0; }

static void fill(enum set s, u32 i, u32 gen)
{
	u32 *p = page_of(s, i);
	set_words(p, value(s, i, gen), WORDS);
	p[0] = marker(s, i, gen);
	if (s == S_NEAR)
		p[near_word(i)] = near_value(i, gen);
}

static bool page_ok(enum set s, u32 i, u32 gen)
{
	const u32 *p = page_of(s, i);
	u32 v = value(s, i, gen), w = s == S_NEAR ? near_word(i) : WORDS;
	if (p[0] != marker(s, i, gen))
		return false;
	if (same_words(p + 1, v, w - 1) != w - 1)
		return false;
	if (w == WORDS)
		return true;
	return p[w] == near_value(i, gen) && same_words(p + w + 1, v, WORDS - w - 1) == WORDS - w - 1;
}

/* Pages of set s whose contents are not what was written last. */
static u32 check_set(enum set s)
{
	u32 bad = 0;
	for (u32 i = 0; i < per_set; i++) {
		if (page_ok(s, i, gen_of(s, i)))
			continue;
		if (bad < 3)
			printf("# %s page %u: word 0 %08x, contents not as written\n", set_names[s], i,
			       page_of(s, i)[0]);
		bad++;
	}
	return bad;
}

static void idle(u32 seconds)
{
	u32 until = share_ticks + seconds * 100;
	while ((int)(until - share_ticks) > 0)
		asm volatile("sti; hlt; cli" : : : "memory");
}

static void check_all(const char *when)
{
	for (int s = 0; s < S_COUNT; s++)
		test__eq_dec(0, check_set((enum set)s), "%s: every %s page holds what was written",
			     when, set_names[s]);
}

void test_main(void)
{
	const u32 *mbi;
	u32 mem_top, idle_s, storm;

	test__begin("share-idle");
	npages = cmdline__u32("pages=", 2048);
	seed = cmdline__u32("seed=", 1);
	idle_s = cmdline__u32("idle=", 5);
	storm = cmdline__u32("storm=", 1);
	per_set = npages / S_COUNT;
	mbi = (const u32 *)(uintptr_t)boot__mbi;
	mem_top = (mbi[0] & 1) ? 0x100000u + mbi[2] * 1024u : 0;
	if (!test__ok(per_set && BASE + per_set * S_COUNT * 4096u <= mem_top,
		      "%u pages fit between 16 MiB and the end of RAM (%u KiB)", npages,
		      mem_top / 1024))
		return;

	for (int s = 0; s < S_COUNT; s++)
		for (u32 i = 0; i < per_set; i++)
			fill((enum set)s, i, 0);
	printf("# share-idle: seed=%u per_set=%u zero=%u common=%u unique=%u dup=%u near=%u\n",
	       seed, per_set, per_set, per_set, per_set, per_set, per_set);

	idt__set(PIC_MASTER_BASE, (u32)(uintptr_t)share_irq0, SEL_KCODE, GATE_P | GATE_INT32);
	pit__start(0, PIT_MODE_RATE, pit__divisor(100));
	pic__mask(0, false);
	idle(idle_s);
	check_all("after idling");
	if (storm) {
		/* Writes to (by now) shared pages while the scanner keeps merging. */
		rewritten_gen = 1;
		for (int s = 0; s < S_COUNT; s++)
			for (u32 i = 1; i < per_set; i += 2)
				fill((enum set)s, i, 1);
		check_all("right after rewriting every other page");
		idle(idle_s > 2 ? 2 : idle_s);
		check_all("after idling again");
	}
	pic__mask(0, true);
	test__info("idle ticks: %u", share_ticks);
}
