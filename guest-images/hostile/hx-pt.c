/*
 * hx-pt.c: rounds of random page tables. The round's identity map (hostile.c) keeps
 * the kernel and the sandbox; a few 4 MiB windows above it get random page-directory
 * entries: raw random values, large pages, page tables of random entries, the page
 * directory mapped as its own page table (a self-map: writes through the window edit
 * live entries), tables whose entries point at page-table pages, at the kernel (read
 * only) or at scratch RAM. Then addresses in the windows are touched from CPL 0 and 3:
 * reads, writes, locked read-modify-writes, string moves across pages, calls into them,
 * INVLPG, with CR4.PSE/PGE and CR0.WP changed at random and CR3 reloaded in between.
 *
 * hx__round_pt(true), rare, also maps frames past the end of RAM and in the MMIO hole
 * and touches them: a VMM may stop such a guest (shade does, with a report).
 */
#include "hostile.h"
#include "printf.h"
#include "string.h"
#include "x86.h"

enum { T_READ, T_READ8, T_WRITE, T_WRITE16, T_XADD, T_MOVS, T_CALL, T_INVLPG, T_CMPXCHG8B,
       T_PUSH, T_COUNT };
static const char *const ops[] = { "read", "read8", "write", "write16", "lock-xadd",
				   "movs", "call", "invlpg", "cmpxchg8b", "push" };
/* Each stub: EAX = address, EBX = value (ESI, EDI, ECX set for MOVS); ends in UD2, so
 * "done" is a #UD at the UD2. */
static const u8 stubs[][8] = {
	{ 0x8b, 0x18 }, { 0x8a, 0x18 }, { 0x89, 0x18 }, { 0x66, 0x89, 0x18 },
	{ 0xf0, 0x0f, 0xc1, 0x18 }, { 0xf3, 0xa5 }, { 0xff, 0xd0 }, { 0x0f, 0x01, 0x38 },
	{ 0x0f, 0xc7, 0x08 }, { 0xff, 0x30 },
};
static const u8 stub_len[] = { 2, 2, 2, 3, 4, 2, 2, 3, 3, 2 };

/* One access under recovery; returns the hx__try result (#UD at the UD2: done). */
static u32 touch(u32 op, u32 addr, u32 value, u32 cpl)
{
	u8 *code = (u8 *)HX_CODE;
	struct hx_regs r;
	char what[64];

	memcpy(code, stubs[op], stub_len[op]);
	code[stub_len[op]] = 0x0f;
	code[stub_len[op] + 1] = 0x0b;
	hx__random_regs(&r, 0, cpl);
	r.eflags &= ~(FL_TF | FL_AC);
	r.eax = addr;
	r.ebx = value;
	r.esi = addr;
	r.edi = addr + 4096 - 4 * hx__below(3);
	r.ecx = 1 + hx__below(4);
	snprintf(what, sizeof(what), "cpl%u %s %08x %08x", cpl, ops[op], addr, value);
	printf("  %s\n", what);
	u32 res = hx__run(&r, cpl, 20);
	if (res == 7 && hx.last.eip == HX_CODE + stub_len[op])
		res = 0;
	hx__report(res);
	return res;
}

static u32 frame(bool oob)
{
	static const u32 mmio[] = { 0xfec00000u, 0xfee00000u, 0xe0000000u, 0xfffff000u,
				    0x000a0000u, 0x000b8000u };
	if (oob) {
		if (hx__chance(2))
			return mmio[hx__below(ARRAY_SIZE(mmio))];
		return (hx.ram_end + hx__below(0x100000) * 4096u) & ~0xfffu;
	}
	switch (hx__below(4)) {
	case 0: return hx__as.root;                                /* the page directory */
	case 1: return hx__pool.next - 4096 * (1 + hx__below(4));  /* a page table */
	default: return HX_SCRATCH + hx__below((HX_MAPPED - HX_SCRATCH) >> 12) * 4096;
	}
}

/* A 4 MiB frame of RAM the kernel does not use: the scratch area or above it. */
static u32 big_frame(void)
{
	u32 above = hx.ram_end > HX_MAPPED ? (hx.ram_end - HX_MAPPED) >> 22 : 0;
	u32 k = hx__below(above + 1);
	return k ? HX_MAPPED + (k - 1) * 0x400000u : HX_SCRATCH;
}

static u32 random_flags(void)
{
	u32 f = hx__rand() & 0x1ff;   /* P RW US PWT PCD A D PS/PAT G */
	if (!hx__chance(6))
		f |= 1;
	return f;
}

/* A page table of random entries; kernel frames only read-only, and only while
 * CR0.WP makes that hold at CPL 0 too. */
static u32 random_table(bool oob, bool wp)
{
	u32 pt = pt_pool__alloc(&hx__pool);
	u32 *e = (u32 *)pt;
	for (u32 i = 0; i < 1024; i++) {
		switch (hx__below(8)) {
		case 0: e[i] = oob ? hx__rand() : hx__rand() & ~1u; break;   /* in RAM: not present */
		case 1: e[i] = 0; break;
		case 2:
			e[i] = wp ? (0x100000u + hx__below(0x700) * 4096u) | (random_flags() & ~2u)
				  : 0;
			break;
		default: e[i] = frame(oob && hx__chance(3)) | random_flags(); break;
		}
	}
	return pt;
}

void hx__round_pt(bool oob)
{
	u32 *pd = (u32 *)hx__as.root;
	u32 windows[6], nw = 1 + hx__below(ARRAY_SIZE(windows));
	bool wp = !hx__chance(3);

	/* Built with paging off: the pool's pages were page tables last round, and a
	 * VMM traces stores to those while paging is on (one emulated store each). */
	write_cr0(read_cr0() & ~CR0_PG);

	for (u32 w = 0; w < nw; w++) {
		u32 i = 8 + hx__below(1024 - 8);
		u32 kind = hx__below(oob ? 6 : 5);
		windows[w] = i << 22;
		switch (kind) {
		case 0: pd[i] = oob ? hx__rand() : hx__rand() & ~1u; break;
		case 1: pd[i] = big_frame() | 0x87 | (hx__rand() & 0x118); break;
		case 2: pd[i] = hx__as.root | 0x7; break;              /* self-map */
		case 3: pd[i] = random_table(oob, wp) | (random_flags() & ~0x80u) | 1; break;
		case 4: pd[i] = (hx__pool.next - 4096) | 0x7; break;   /* another table */
		default:                                               /* oob table or page */
			pd[i] = frame(true) | (hx__chance(2) ? 0x87 : 0x7);
			break;
		}
		printf("  pde[%u] = %08x\n", i, pd[i]);
	}
	u32 cr4 = read_cr4();
	if (hx__chance(3) && hx.has_pse)
		cr4 ^= CR4_PSE;
	if (hx__chance(3) && hx.has_pge)
		cr4 ^= CR4_PGE;
	write_cr4(cr4);
	if (!wp)
		write_cr0(read_cr0() & ~CR0_WP);
	write_cr3(hx__as.root);
	write_cr0(read_cr0() | CR0_PG);
	printf("  cr0 %08x cr4 %08x\n", read_cr0(), read_cr4());

	for (u32 n = 4 + hx__below(12); n; n--) {
		u32 op = hx__below(T_COUNT);
		/* a call runs whatever the window holds: only at CPL 3, where it cannot
		 * turn interrupts off and stop the watchdog */
		u32 cpl = op == T_INVLPG ? 0 : op == T_CALL ? 3 : hx__chance(2) ? 0 : 3;
		u32 addr = windows[hx__below(nw)] + (hx__rand() & 0x3fffff);
		if (hx__chance(2))
			addr = (addr & ~0xfffu) + (hx__chance(2) ? 0 : 4096 - 1 - hx__below(8));
		u32 value = hx__chance(2) ? hx__rand() : frame(false) | random_flags();
		touch(op, addr, value, cpl);
		if (hx__chance(4))
			write_cr3(hx__as.root);
	}
}
