/*
 * hx-desc.c: rounds of random descriptor tables. A GDT whose first six entries are the
 * kernel's (so exceptions can still be delivered) and whose other entries are random:
 * raw noise, code and data segments of random type, base, limit, DPL and flags, call
 * gates, task gates, LDT and TSS descriptors (over a random LDT and random TSSs), and
 * gates where segments belong; an IDT whose vectors 0x30 and up are random. Both are
 * loaded before every operation (recovery reloads the kernel's): segment register
 * loads (MOV, POP, LDS/LSS), LLDT, LTR, VERR/VERW/LAR/LSL, far JMP and CALL, far
 * RET, IRET with random frames (NT and VM included), INT n, SGDT/SIDT/SLDT/STR, at CPL
 * 0 and 3. Far transfers that succeed land on UD2s in the code page.
 */
#include "desc.h"
#include "hostile.h"
#include "printf.h"
#include "string.h"
#include "x86.h"

#define NGDT 64
#define STUB (HX_CODE + 0x800)   /* the operation; HX_CODE..STUB is all UD2 */
#define MEMOP (HX_DATA + 0x100)  /* far pointers and IRET frames (user writable) */

struct desc_round {
	u64 gdt[NGDT] __aligned(8);
	u64 ldt[16] __aligned(8);
	u64 idt[256] __aligned(8);
	u8 tss[2][128] __aligned(128);
	struct dtr gdtr, idtr;
};
static struct desc_round dr;

static u64 gate(u32 off, u16 sel, u8 attr, u8 params)
{
	return (off & 0xffff) | ((u64)sel << 16) | ((u64)(params & 0x1f) << 32) |
	       ((u64)attr << 40) | ((u64)(off >> 16) << 48);
}

static u32 landing(void)
{
	return HX_CODE + 2 * hx__below(0x400);
}

static u16 selector(void)
{
	if (hx__chance(4))
		return (u16)hx__rand();
	return (u16)((hx__below(NGDT) << 3) | (hx__chance(4) ? 4 : 0) | hx__below(4));
}

static u64 random_desc(void)
{
	u8 dpl = (u8)hx__below(4);
	switch (hx__below(8)) {
	case 0: return ((u64)hx__rand() << 32) | hx__rand();
	case 1: case 2: {
		u32 base = hx__chance(2) ? 0 : hx__rand();
		u32 limit = hx__chance(2) ? 0xfffff : hx__rand() & 0xfffff;
		u8 acc = (u8)((hx__chance(8) ? 0 : ACC_P) | ACC_S | ACC_DPL(dpl) | (hx__rand() & 0xf));
		return desc__make(base, limit, acc, (u8)(hx__rand() & 0xf));
	}
	case 3: return gate(landing(), selector(), (u8)(GATE_P | GATE_DPL(dpl) | (hx__chance(4) ? 4 : 0xc)),
			    (u8)hx__rand());
	case 4: return gate(0, selector(), (u8)(GATE_P | GATE_DPL(dpl) | 5), 0);
	case 5: return desc__make((u32)(uintptr_t)dr.ldt, hx__rand() & 0xff, ACC_LDT | ACC_DPL(dpl), 0);
	case 6: return desc__make((u32)(uintptr_t)dr.tss[hx__below(2)],
				  hx__chance(2) ? 0x67 : hx__rand() & 0xff,
				  (u8)(ACC_P | ACC_DPL(dpl) | hx__pick((const u32[]){ 1, 3, 9, 0xb }, 4)), 0);
	default: return gate(landing(), SEL_KCODE, (u8)(GATE_P | GATE_DPL(dpl) | 0xe), 0);
	}
}

static void build(void)
{
	for (int i = 0; i < 6; i++)
		dr.gdt[i] = gdt__table[i];
	dr.gdt[SEL_TSS >> 3] &= ~(2ull << 40);
	for (int i = 6; i < NGDT; i++)
		dr.gdt[i] = random_desc();
	for (int i = 0; i < 16; i++)
		dr.ldt[i] = random_desc();
	hx__fill(dr.tss, sizeof(dr.tss));
	for (int v = 0; v < 256; v++)
		dr.idt[v] = idt__get(v);
	for (u32 n = 8 + hx__below(32); n; n--) {
		u32 v = 0x30 + hx__below(0xd0);
		dr.idt[v] = hx__chance(3) ? ((u64)hx__rand() << 32) | hx__rand() : random_desc();
	}
	dr.gdtr.base = (u32)(uintptr_t)dr.gdt;
	dr.gdtr.limit = (u16)(8 * (6 + hx__below(NGDT - 6)) - 1);
	if (hx__chance(32))
		dr.gdtr.limit = (u16)hx__rand();   /* past the table: the bytes after it */
	dr.idtr.base = (u32)(uintptr_t)dr.idt;
	dr.idtr.limit = hx__chance(16) ? (u16)(0x180 + hx__below(0x680)) : 0x7ff;
	for (u32 *p = (u32 *)HX_CODE; p < (u32 *)STUB; p++)
		*p = 0x0b0f0b0f;
}

enum { O_MOVSEG, O_POPSEG, O_LSEG, O_LLDT, O_LTR, O_VERIFY, O_FARJMP, O_FARCALL, O_RETF,
       O_IRET, O_INT, O_STORE, O_COUNT };
static const char *const names[] = { "mov-sreg", "pop-sreg", "lds/lss", "lldt", "ltr",
				     "verr/lar", "ljmp", "lcall", "lret", "iret", "int",
				     "sgdt/str" };

/* Writes the operation's code at STUB (then UD2); returns its length. At CPL 0 it may
 * first load the LDT from CX (a random selector: this may fault too). */
static u32 emit(u32 op, u8 *c, u32 cpl)
{
	static const u8 movseg[][2] = { { 0x8e, 0xd8 }, { 0x8e, 0xc0 }, { 0x8e, 0xe0 },
					{ 0x8e, 0xe8 }, { 0x8e, 0xd0 } };
	static const u8 verify[][3] = { { 0x0f, 0x00, 0xe0 }, { 0x0f, 0x00, 0xe8 },
					{ 0x0f, 0x02, 0xc0 }, { 0x0f, 0x03, 0xc0 } };
	static const u8 store[][3] = { { 0x0f, 0x01, 0x03 }, { 0x0f, 0x01, 0x0b },
				       { 0x0f, 0x00, 0xc0 }, { 0x0f, 0x00, 0xc8 } };
	u32 n = 0, k;

	if (!cpl && hx__chance(3)) {
		c[n++] = 0x0f;   /* lldt %cx */
		c[n++] = 0x00;
		c[n++] = 0xd1;
	}
	switch (op) {
	case O_MOVSEG: k = hx__below(5); c[n++] = movseg[k][0]; c[n++] = movseg[k][1]; break;
	case O_POPSEG:
		c[n++] = 0x50;   /* push %eax, then pop into ds, es, ss, fs or gs */
		k = hx__below(5);
		if (k < 3) {
			c[n++] = (u8)(k == 0 ? 0x1f : k == 1 ? 0x07 : 0x17);
		} else {
			c[n++] = 0x0f;
			c[n++] = k == 3 ? 0xa1 : 0xa9;
		}
		break;
	case O_LSEG:   /* lds, les, lss, lfs, lgs (%ebx), %ecx */
		k = hx__below(5);
		if (k < 2) {
			c[n++] = k ? 0xc4 : 0xc5;
		} else {
			c[n++] = 0x0f;
			c[n++] = (u8)(k == 2 ? 0xb2 : k == 3 ? 0xb4 : 0xb5);
		}
		c[n++] = 0x0b;
		break;
	case O_LLDT: c[n++] = 0x0f; c[n++] = 0x00; c[n++] = 0xd0; break;
	case O_LTR: c[n++] = 0x0f; c[n++] = 0x00; c[n++] = 0xd8; break;
	case O_VERIFY: k = hx__below(4); memcpy(c + n, verify[k], 3); n += 3; break;
	case O_FARJMP: c[n++] = hx__chance(4) ? 0x66 : 0x90; c[n++] = 0xff; c[n++] = 0x2b; break;
	case O_FARCALL: c[n++] = hx__chance(4) ? 0x66 : 0x90; c[n++] = 0xff; c[n++] = 0x1b; break;
	case O_RETF: case O_IRET:
		c[n++] = 0x89;   /* mov %ebx, %esp: the frame */
		c[n++] = 0xdc;
		if (hx__chance(4))
			c[n++] = 0x66;
		c[n++] = op == O_IRET ? 0xcf : 0xcb;
		break;
	case O_INT: c[n++] = 0xcd; c[n++] = (u8)hx__rand(); break;
	default: k = hx__below(4); memcpy(c + n, store[k], 3); n += 3; break;
	}
	return n;
}

/* The memory operand at MEMOP: a far pointer, or an IRET/RETF frame. */
static void frame(u32 op, u32 cpl)
{
	u32 *m = (u32 *)MEMOP;
	hx__fill(m, 64);
	m[0] = landing();
	m[1] = hx__chance(3) ? (hx__chance(2) ? SEL_KCODE : SEL_UCODE) | hx__below(4) : selector();
	if (op == O_IRET) {
		u32 fl = FL_FIXED | (hx__rand() & (FL_CF | FL_ZF | FL_DF | FL_OF | FL_TF | FL_IF));
		if (hx__chance(8))
			fl |= FL_NT;
		if (hx__chance(16))
			fl |= FL_VM;
		if (!cpl)
			fl |= hx__rand() & FL_IOPL_MASK;
		m[2] = fl;
	}
	m[3] = HX_STACK - 64;
	m[4] = hx__chance(2) ? SEL_UDATA : selector();
	if (op == O_LSEG)
		((u16 *)m)[2] = selector();
}

void hx__round_desc(void)
{
	build();
	printf("  gdt limit 0x%x, idt limit 0x%x\n", dr.gdtr.limit, dr.idtr.limit);
	bool ltr_done = false;
	for (u32 n = 6 + hx__below(12); n; n--) {
		u32 op = hx__below(O_COUNT);
		if (op == O_LTR && (ltr_done || !hx__chance(3)))
			op = O_VERIFY;
		u32 cpl = (op == O_LLDT || op == O_LTR) ? 0 : hx__chance(2) ? 0 : 3;
		u8 *c = (u8 *)STUB;
		u32 len = emit(op, c, cpl);
		c[len] = 0x0f;
		c[len + 1] = 0x0b;
		frame(op, cpl);

		struct hx_regs r;
		hx__random_regs(&r, STUB - HX_CODE, cpl);
		r.eflags &= ~(FL_TF | FL_AC);
		r.eax = selector();
		r.ebx = MEMOP;
		r.ecx = hx__below(NGDT) << 3;   /* for the LLDT some CPL 0 operations start with */
		lgdt(&dr.gdtr);
		lidt(&dr.idtr);
		char what[64];
		snprintf(what, sizeof(what), "cpl%u %s sel %04x", cpl, names[op], r.eax & 0xffff);
		printf("  %s\n", what);
		u32 res = hx__run(&r, cpl, 10);
		if (res == 7 && hx.last.eip == STUB + len)
			res = 0;
		hx__report(res);
		ltr_done |= op == O_LTR;
	}
}
