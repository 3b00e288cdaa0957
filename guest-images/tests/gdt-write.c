/*
 * gdt-write.c: guest "gdt-write": writes to the page that holds the loaded GDT, with
 * paging off and with 32-bit paging on (SDM vol. 3 3.5.1: the CPU reads descriptors
 * from the table at every segment load, so a rewritten descriptor is what the next load
 * gets). The GDT is the one boot.S loaded with paging off; its free slots serve as
 * ordinary data. Writes go through DS, through FS with a non-zero base (a per-CPU
 * segment, as kernels keep one) and through ES with that base (STOS): data words,
 * then a descriptor changed in place and reloaded into GS, whose base the next read
 * must use; and SS's descriptor changed without a reload, which must not change SS.
 */
#include "desc.h"
#include "paging.h"
#include "string.h"
#include "test.h"
#include "x86.h"

#define SLOT_DATA 20      /* GDT slots used as plain data */
#define SLOT_FS 12        /* FS: base = the GDT itself */
#define SLOT_GS 13        /* GS: rewritten between loads */

static volatile u32 var_a = 0xaaaa0001, var_b = 0xbbbb0002;

static u32 read_gs0(void)
{
	u32 v;
	asm volatile("movw %w1, %%gs\n\tmovl %%gs:0, %0" : "=r"(v) : "r"(SEL(SLOT_GS, 0)) : "memory");
	return v;
}

static void round_(const char *what, u32 salt)
{
	volatile u32 *data = (volatile u32 *)&gdt__table[SLOT_DATA];
	u32 bad = 0;

	/* Plain data through DS. */
	for (int i = 0; i < 8; i++)
		data[i] = salt + (u32)i;
	for (int i = 0; i < 8; i++)
		bad += data[i] != salt + (u32)i;
	test__eq_dec(0, bad, "%s: data words in the GDT's page written through DS", what);

	/* The same through FS, whose base is the GDT (a non-flat segment). */
	gdt__set(SLOT_FS, desc__make((u32)(uintptr_t)gdt__table, 0xfff, ACC_DATA | ACC_A, 0));
	write_fs(SEL(SLOT_FS, 0));
	for (u32 i = 0; i < 8; i++)
		asm volatile("movl %0, %%fs:(%1)" : : "r"(~salt + i), "r"(SLOT_DATA * 8 + 4 * i) : "memory");
	bad = 0;
	for (int i = 0; i < 8; i++)
		bad += data[i] != ~salt + (u32)i;
	test__eq_dec(0, bad, "%s: data words in the GDT's page written through FS (base 0x%x)", what,
		     (u32)(uintptr_t)gdt__table);
	/* ...and through ES with that base (a string store, as a kernel's memset would). */
	write_es(SEL(SLOT_FS, 0));
	for (u32 i = 0; i < 8; i++) {
		u32 v = salt * 3 + i, off = SLOT_DATA * 8 + 4 * i;
		asm volatile("stosl" : "+a"(v), "+D"(off) : : "memory");
	}
	write_es(SEL_KDATA);
	bad = 0;
	for (int i = 0; i < 8; i++)
		bad += data[i] != salt * 3 + (u32)i;
	test__eq_dec(0, bad, "%s: data words in the GDT's page written through ES (base 0x%x)", what,
		     (u32)(uintptr_t)gdt__table);

	/* GS's descriptor, already used (accessed), rewritten in place through DS and
	 * then through FS: each reload of GS must give the new base. */
	gdt__set(SLOT_GS, desc__make((u32)(uintptr_t)&var_a, 3, ACC_DATA | ACC_A, 0));
	test__eq(var_a, read_gs0(), "%s: GS -> var_a", what);
	gdt__set(SLOT_GS, desc__make((u32)(uintptr_t)&var_b, 3, ACC_DATA | ACC_A, 0));
	test__eq(var_b, read_gs0(), "%s: GS rewritten through DS -> var_b", what);
	u64 d = desc__make((u32)(uintptr_t)&var_a, 3, ACC_DATA | ACC_A, 0);
	asm volatile("movl %0, %%fs:(%2)\n\tmovl %1, %%fs:4(%2)"
		     : : "r"((u32)d), "r"((u32)(d >> 32)), "r"(SLOT_GS * 8) : "memory");
	test__eq(d, gdt__get(SLOT_GS), "%s: descriptor written through FS", what);
	test__eq(var_a, read_gs0(), "%s: GS rewritten through FS -> var_a", what);
	write_fs(SEL_KDATA);
	write_gs(SEL_KDATA);

	/* SS's own descriptor rewritten (a 1-byte segment) without reloading SS: the CPU
	 * keeps the segment it loaded, through CPUID (a trap to a VMM) and stack use. */
	u64 ss_desc = gdt__get(SEL_KDATA >> 3);
	u32 regs[4], popped = 0;
	gdt__set(SEL_KDATA >> 3, desc__make(0, 0, ACC_DATA | ACC_A, 0));
	cpuid(0, 0, regs);
	asm volatile("pushl $0x5a5a\n\tpopl %0" : "=r"(popped) : : "memory");
	gdt__set(SEL_KDATA >> 3, ss_desc);
	test__eq(0x5a5a, popped, "%s: SS keeps its segment after its descriptor changed", what);
}

static u8 pt_mem[32 * 4096] __aligned(4096);

void test_main(void)
{
	static struct pt_pool pool;
	static struct paging as;

	test__begin("gdt-write");
	round_("paging off", 0x1000);
	pt_pool__init(&pool, pt_mem, sizeof(pt_mem));
	paging__init(&as, PAGING_32, &pool);
	paging__identity(&as, 16u << 20, PTE_P | PTE_RW);
	if (paging__enable(&as, 0)) {
		test__skip("paging on", "no 32-bit paging");
		test__done();
	}
	round_("32-bit paging on", 0x2000);
	/* A GDT loaded with paging on, at another address: the same again. */
	static u64 gdt2[GDT_ENTRIES] __aligned(4096);
	memcpy(gdt2, gdt__table, sizeof(gdt2));
	struct dtr d = { .limit = sizeof(gdt2) - 1, .base = (u32)(uintptr_t)gdt2 };
	lgdt(&d);
	test__eq(0x10, read_ds() & 0xfffc, "GDT loaded with paging on");
	/* (round_ writes gdt__table: point the lib's table at the new one's contents by
	 * checking through gdt2's slots directly) */
	volatile u64 *g2 = gdt2;
	g2[SLOT_GS] = desc__make((u32)(uintptr_t)&var_b, 3, ACC_DATA | ACC_A, 0);
	test__eq(var_b, read_gs0(), "new GDT: GS -> var_b");
	g2[SLOT_GS] = desc__make((u32)(uintptr_t)&var_a, 3, ACC_DATA | ACC_A, 0);
	test__eq(var_a, read_gs0(), "new GDT: GS rewritten -> var_a");
	lgdt(&gdt__dtr);
	test__done();
}
