/*
 * desc.c: building and installing segment descriptors, IDT gates and the TSS.
 * The GDT itself and its first entries are static data in boot.S; trap stubs are in
 * entry.S, their C side in trap.c.
 */
#include "desc.h"
#include "string.h"

struct idt_gate {
	u16 off_lo;
	u16 sel;
	u8 zero;
	u8 attr;
	u16 off_hi;
} __packed;

static struct idt_gate idt[256] __aligned(8);
struct dtr idt__dtr;
struct tss tss__main __aligned(128);
static u8 tss_stack[16384] __aligned(16);

extern char trap__stubs[];

u64 desc__make(u32 base, u32 limit, u8 access, u8 flags)
{
	u64 d = limit & 0xffff;

	d |= (u64)(base & 0xffffff) << 16;
	d |= (u64)access << 40;
	d |= (u64)((limit >> 16) & 0xf) << 48;
	d |= (u64)(flags & 0xf) << 52;
	d |= (u64)(base >> 24) << 56;
	return d;
}

u32 desc__base(u64 d)
{
	return (u32)((d >> 16) & 0xffffff) | (u32)((d >> 56) << 24);
}

u8 desc__access(u64 d)
{
	return (u8)(d >> 40);
}

void gdt__set(int index, u64 desc)
{
	gdt__table[index] = desc;
}

u64 gdt__get(int index)
{
	return ((volatile u64 *)gdt__table)[index];
}

u32 idt__stub(int vec)
{
	return (u32)(uintptr_t)trap__stubs + (u32)vec * 16;
}

void idt__set(int vec, u32 offset, u16 sel, u8 attr)
{
	idt[vec].off_lo = offset & 0xffff;
	idt[vec].sel = sel;
	idt[vec].zero = 0;
	idt[vec].attr = attr;
	idt[vec].off_hi = offset >> 16;
}

void idt__set_stub(int vec, u8 type, int dpl)
{
	idt__set(vec, idt__stub(vec), SEL_KCODE, GATE_P | GATE_DPL(dpl) | type);
}

void idt__set_present(int vec, bool present)
{
	if (present)
		idt[vec].attr |= GATE_P;
	else
		idt[vec].attr &= (u8)~GATE_P;
}

u64 idt__get(int vec)
{
	u64 g;

	memcpy(&g, &idt[vec], sizeof(g));
	return g;
}

void idt__put(int vec, u64 gate)
{
	memcpy(&idt[vec], &gate, sizeof(gate));
}

void idt__load(void)
{
	idt__dtr.limit = sizeof(idt) - 1;
	idt__dtr.base = (u32)(uintptr_t)idt;
	lidt(&idt__dtr);
}

void idt__init(void)
{
	int v;

	for (v = 0; v < 256; v++)
		idt__set_stub(v, GATE_INT32, 0);
	idt__load();
}

u32 tss__esp0(void)
{
	return (u32)(uintptr_t)(tss_stack + sizeof(tss_stack));
}

void tss__init(void)
{
	memset(&tss__main, 0, sizeof(tss__main));
	tss__main.ss0 = SEL_KDATA;
	tss__main.esp0 = tss__esp0();
	tss__main.iomap_base = offsetof(struct tss, iomap);
	/* All ports denied; the byte after the bitmap must be 0xff (SDM 20.5.2). */
	memset(tss__main.iomap, 0xff, sizeof(tss__main.iomap));
	gdt__set(SEL_TSS >> 3, desc__make((u32)(uintptr_t)&tss__main, sizeof(tss__main) - 1,
					  ACC_TSS_AVAIL, 0));
	ltr(SEL_TSS);
}

void tss__allow_port(u16 port, bool allow)
{
	if (allow)
		tss__main.iomap[port / 8] &= (u8)~(1u << (port % 8));
	else
		tss__main.iomap[port / 8] |= (u8)(1u << (port % 8));
}
