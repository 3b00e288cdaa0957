/*
 * hx-code.c: rounds of random code. A page of random bytes (pure noise, or a stream of
 * the opcodes a deprivileging VMM must trap and emulate, each with random ModRM,
 * immediates and prefixes) runs at CPL 3 (several pages a round: it cannot damage the
 * kernel) or at CPL 0 (one page: it may change any control register or table, so the
 * next round starts afresh). It ends by an exception, by running into the guard page
 * after its code page, or by the timer watchdog.
 *
 * At CPL 0 the bytes CLI (fa), HLT (f4) and POPF (9d) are replaced by NOPs wherever
 * they appear, so the watchdog's interrupt can always end the run; the code may still
 * do anything else a kernel can do, including killing the guest.
 */
#include "hostile.h"
#include "printf.h"
#include "x86.h"

/* Opcodes (1-3 bytes, 0-terminated) that fault or exit under deprivileging. */
static const u8 templates[][4] = {
	{ 0x0f, 0x01 }, { 0x0f, 0x00 }, { 0x0f, 0x20 }, { 0x0f, 0x22 }, { 0x0f, 0x21 },
	{ 0x0f, 0x23 }, { 0x0f, 0x30 }, { 0x0f, 0x32 }, { 0x0f, 0x31 }, { 0x0f, 0x33 },
	{ 0x0f, 0xa2 }, { 0x0f, 0x06 }, { 0x0f, 0x08 }, { 0x0f, 0x09 }, { 0x0f, 0x0b },
	{ 0x0f, 0x34 }, { 0x0f, 0x35 }, { 0x0f, 0x05 }, { 0x0f, 0x07 }, { 0xcd },
	{ 0xcc }, { 0xce }, { 0xf1 }, { 0xcf }, { 0x66, 0xcf }, { 0x8e }, { 0xc4 },
	{ 0xc5 }, { 0x0f, 0xb2 }, { 0x0f, 0xb4 }, { 0x0f, 0xb5 }, { 0xea }, { 0x9a },
	{ 0xff }, { 0x0f, 0x02 }, { 0x0f, 0x03 }, { 0xe4 }, { 0xe5 }, { 0xec }, { 0xed },
	{ 0xe6 }, { 0xe7 }, { 0xee }, { 0xef }, { 0x6c }, { 0x6d }, { 0x6e }, { 0x6f },
	{ 0xf3, 0x6c }, { 0xf3, 0x6e }, { 0x0f, 0x01, 0xf8 }, { 0x0f, 0x01, 0xd0 },
	{ 0x0f, 0x01, 0xd1 }, { 0x0f, 0xae }, { 0x0f, 0x0d }, { 0x0f, 0xc7 }, { 0xd8 },
	{ 0xd9 }, { 0xdb }, { 0xdd }, { 0xdf }, { 0x0f, 0x10 }, { 0x0f, 0x28 },
	{ 0x66, 0x0f, 0x6f }, { 0x62 }, { 0xd6 }, { 0x8d }, { 0x0f, 0xff }, { 0x0f, 0xb9 },
	{ 0xc8 }, { 0x17 }, { 0x07 }, { 0x1f }, { 0x0f, 0xa1 }, { 0x0f, 0xa9 }, { 0x9c },
	{ 0xf0 }, { 0x0f, 0x38 }, { 0x0f, 0x3a }, { 0x0f, 0x0f }, { 0x0f, 0x37 },
	{ 0x0f, 0xaa }, { 0x0f, 0x01, 0xc8 }, { 0x0f, 0x01, 0xc9 }, { 0x0f, 0x01, 0xca },
	{ 0x0f, 0x01, 0xcb }, { 0x0f, 0x01, 0xc4 }, { 0x0f, 0x01, 0xf9 }, { 0x0f, 0x78 },
	{ 0x0f, 0x79 }, { 0x0f, 0xc3 }, { 0x63 }, { 0xd4 }, { 0xd5 }, { 0x27 }, { 0xf6 },
	{ 0xf7 }, { 0x0f, 0x18 }, { 0x0f, 0xb0 }, { 0x0f, 0xc0 }, { 0x86 }, { 0xa4 },
	{ 0xa5 }, { 0xf3, 0xa5 }, { 0xab }, { 0xaf },
};
static const u8 prefixes[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65 };

static const char *const styles[] = { "noise", "opcodes", "prefixed" };

static void generate(u8 *page, u32 style)
{
	hx__fill(page, 4096);
	if (style == 0)
		return;
	u32 at = 0;
	while (at < 4096 - 16) {
		if (style == 2)
			for (u32 n = hx__below(4); n; n--)
				page[at++] = prefixes[hx__below(sizeof(prefixes))];
		const u8 *t = templates[hx__below(ARRAY_SIZE(templates))];
		for (u32 i = 0; i < 4 && t[i]; i++)
			page[at++] = t[i];
		at += hx__below(7);   /* ModRM, SIB, displacement, immediate: random */
	}
}

static void defuse(u8 *page)
{
	for (u32 i = 0; i < 4096; i++)
		if (page[i] == 0xfa || page[i] == 0xf4 || page[i] == 0x9d)
			page[i] = 0x90;
}

void hx__round_code(void)
{
	u32 cpl = hx__chance(2) ? 3 : 0;
	u32 runs = cpl ? 4 : 1;

	if (cpl && hx__chance(4)) {
		write_cr0(read_cr0() | CR0_AM);   /* EFLAGS.AC at CPL 3 now means #AC */
		printf("  CR0.AM set\n");
	}
	for (u32 i = 0; i < runs; i++) {
		u8 *page = (u8 *)HX_CODE;
		u32 style = hx__below(3);
		struct hx_regs r;
		char what[64];

		generate(page, style);
		if (!cpl)
			defuse(page);
		hx__random_regs(&r, hx__chance(2) ? 0 : hx__below(4096), cpl);
		snprintf(what, sizeof(what), "cpl%u %s from %08x", cpl, styles[style], r.eip);
		printf("  %s eflags %x\n", what, r.eflags);
		hx__report(hx__run(&r, cpl, 5));
	}
}
