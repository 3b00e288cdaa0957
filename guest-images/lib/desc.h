/*
 * desc.h: the guest's GDT, IDT and TSS. boot.S loads a flat GDT at entry (the
 * loader's GDT is not to be trusted); idt__init points all 256 vectors at the trap
 * stubs of entry.S. Slots from GDT_FIRST_FREE on are for the tests to fill.
 *
 * GDT layout:  0x00 null, 0x08 kernel code, 0x10 kernel data, 0x18|3 user code,
 *              0x20|3 user data, 0x28 TSS (tss__init), 0x30.. free (slot 6..31).
 */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

#include "types.h"
#include "x86.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b
#define SEL_UDATA 0x23
#define SEL_TSS 0x28
#define GDT_ENTRIES 32
#define GDT_FIRST_FREE 6
#define SEL(index, rpl) ((u16)(((index) << 3) | (rpl)))
#define LDT_SEL(index, rpl) ((u16)(((index) << 3) | 4 | (rpl)))

/* Access byte of a segment descriptor. */
#define ACC_A 0x01
#define ACC_RW 0x02 /* data: writable; code: readable */
#define ACC_EXEC 0x08
#define ACC_S 0x10 /* code/data (not system) */
#define ACC_DPL(n) ((n) << 5)
#define ACC_P 0x80
#define ACC_CODE (ACC_P | ACC_S | ACC_EXEC | ACC_RW)
#define ACC_DATA (ACC_P | ACC_S | ACC_RW)
#define ACC_LDT (ACC_P | 0x02)
#define ACC_TSS_AVAIL (ACC_P | 0x09)
#define TSS_TYPE_BUSY 0x0b
/* Flags nibble: granularity 4 KiB, 32-bit default operand size. */
#define FLG_G 0x8
#define FLG_DB 0x4
#define FLG_FLAT (FLG_G | FLG_DB)

/* Gate type/attribute byte. */
#define GATE_INT32 0x0e
#define GATE_TRAP32 0x0f
#define GATE_P 0x80
#define GATE_DPL(n) ((n) << 5)

extern u64 gdt__table[GDT_ENTRIES];
extern struct dtr gdt__dtr;
extern struct dtr idt__dtr;

u64 desc__make(u32 base, u32 limit, u8 access, u8 flags);
u32 desc__base(u64 d);
u8 desc__access(u64 d);
void gdt__set(int index, u64 desc);
u64 gdt__get(int index);

void idt__init(void);
/* Gate `vec` -> handler at sel:offset, with attribute byte `attr` (GATE_* bits). */
void idt__set(int vec, u32 offset, u16 sel, u8 attr);
/* Gate `vec` -> the standard trap stub for `vec`, with the given type and DPL. */
void idt__set_stub(int vec, u8 type, int dpl);
void idt__set_present(int vec, bool present);
u64 idt__get(int vec);
void idt__put(int vec, u64 gate);
u32 idt__stub(int vec);
void idt__load(void);

/* 32-bit TSS with a full I/O permission bitmap (all ports denied at init). */
struct tss {
	u16 link, _r0;
	u32 esp0;
	u16 ss0, _r1;
	u32 esp1;
	u16 ss1, _r2;
	u32 esp2;
	u16 ss2, _r3;
	u32 cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u16 es, _r4, cs, _r5, ss, _r6, ds, _r7, fs, _r8, gs, _r9, ldt, _r10;
	u16 trap, iomap_base;
	u8 iomap[8192 + 1];
} __packed;

extern struct tss tss__main;
/* Fill GDT slot 5 with tss__main (SS0:ESP0 = kernel data : ring-0 stack) and LTR it. */
void tss__init(void);
void tss__allow_port(u16 port, bool allow);
u32 tss__esp0(void);

#endif
