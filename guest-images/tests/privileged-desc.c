/*
 * privileged-desc.c: guest "privileged", part 2: LGDT/SGDT, LIDT/SIDT, LLDT/SLDT,
 * LTR/STR, segment-register loads with their protection checks (SDM vol. 3 ch. 5,
 * MOV Sreg in vol. 2) and far JMP/CALL/RET through other code segments.
 *
 * Error codes of segment faults are the selector with RPL cleared (bits 15:2).
 * TCG does not check segment limits on data accesses, so limit violations are not
 * exercised; only the load-time checks both the SDM and TCG implement are.
 */
#include "cpu.h"
#include "desc.h"
#include "printf.h"
#include "privileged.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

/* GDT slots used by this file (see desc.h for the fixed ones). */
enum {
	G_DATA = 6,	 /* 0x30 flat data */
	G_BASED = 7,	 /* 0x38 data based at &fs_probe */
	G_CODE = 8,	 /* 0x40 flat code */
	G_CODE_BASED = 9, /* 0x48 code based at CODE_BASE */
	G_LDT = 10,	 /* 0x50 LDT */
	G_TSS = 11,	 /* 0x58 TSS */
	G_NP_DATA = 12,	 /* 0x60 not-present data */
	G_DPL3_DATA = 13, /* 0x68 */
	G_RO_DATA = 14,	 /* 0x70 read-only data */
	G_XO_CODE = 15,	 /* 0x78 execute-only code */
	G_FRESH = 16,	 /* 0x80 data with the accessed bit clear */
	G_NP_CODE = 17,	 /* 0x88 not-present code */
	G_COPY_ONLY = 18, /* 0x90 present only in the GDT copy */
	G_RX_CODE = 19,	 /* 0x98 readable code */
};
#define CODE_BASE 0x1000

static volatile u32 fs_probe = 0xf5f5f5f5;
static volatile u32 copy_probe = 0xc0c0c0c0;
static volatile u32 ldt_probe = 0x1d71d71d;
static u64 ldt[4] __aligned(8);
static u64 gdt_copy[GDT_ENTRIES] __aligned(8);
static u64 idt_copy[256] __aligned(8);
static u8 tss2[104] __aligned(8);

/* Far-call target: returns CS in EAX, the caller's CS in EDX, its own EIP in ECX. */
void priv_far_probe(void);
extern char priv_far_probe_ip[];
asm(".pushsection .text\n"
    ".globl priv_far_probe, priv_far_probe_ip\n"
    "priv_far_probe:\n\t"
    "movl %cs, %eax\n\t"
    "movl 4(%esp), %edx\n\t"
    "call priv_far_probe_ip\n" /* relative: works in a code segment with any base */
    "priv_far_probe_ip:\n\t"
    "popl %ecx\n\t"
    "lret\n"
    ".popsection");

static u32 read_fs0(void)
{
	u32 v;

	asm volatile("movl %%fs:0, %0" : "=r"(v));
	return v;
}

static void setup_gdt(void)
{
	const u32 flat = 0xfffff;

	gdt__set(G_DATA, desc__make(0, flat, ACC_DATA | ACC_A, FLG_FLAT));
	gdt__set(G_BASED, desc__make((u32)(uintptr_t)&fs_probe, 0xfff, ACC_DATA | ACC_A, FLG_DB));
	gdt__set(G_CODE, desc__make(0, flat, ACC_CODE | ACC_A, FLG_FLAT));
	gdt__set(G_CODE_BASED, desc__make(CODE_BASE, flat, ACC_CODE | ACC_A, FLG_FLAT));
	gdt__set(G_LDT, desc__make((u32)(uintptr_t)ldt, sizeof(ldt) - 1, ACC_LDT, 0));
	gdt__set(G_TSS, desc__make((u32)(uintptr_t)tss2, sizeof(tss2) - 1, ACC_TSS_AVAIL, 0));
	gdt__set(G_NP_DATA, desc__make(0, flat, (ACC_DATA | ACC_A) & ~ACC_P, FLG_FLAT));
	gdt__set(G_DPL3_DATA, desc__make(0, flat, ACC_DATA | ACC_A | ACC_DPL(3), FLG_FLAT));
	gdt__set(G_RO_DATA, desc__make(0, flat, ACC_P | ACC_S | ACC_A, FLG_FLAT));
	gdt__set(G_XO_CODE, desc__make(0, flat, ACC_P | ACC_S | ACC_EXEC | ACC_A, FLG_FLAT));
	gdt__set(G_FRESH, desc__make(0, flat, ACC_DATA, FLG_FLAT));
	gdt__set(G_NP_CODE, desc__make(0, flat, (ACC_CODE | ACC_A) & ~ACC_P, FLG_FLAT));
	gdt__set(G_RX_CODE, desc__make(0, flat, ACC_CODE | ACC_A, FLG_FLAT));
}

static void check_gdtr(void)
{
	struct dtr d, got;

	sgdt(&got);
	test__eq(gdt__dtr.base, got.base, "SGDT base is the GDT loaded at entry");
	test__eq(GDT_ENTRIES * 8 - 1, got.limit, "SGDT limit is the GDT loaded at entry");

	memcpy(gdt_copy, gdt__table, sizeof(gdt_copy));
	gdt_copy[G_COPY_ONLY] = desc__make((u32)(uintptr_t)&copy_probe, 0xfff, ACC_DATA | ACC_A,
					   FLG_DB);
	d.limit = (u16)(sizeof(gdt_copy) - 1 - 8); /* not the same limit as the original */
	d.base = (u32)(uintptr_t)gdt_copy;
	lgdt(&d);
	sgdt(&got);
	write_fs(SEL(G_COPY_ONLY, 0));
	fs_probe = read_fs0(); /* scratch */
	write_fs(SEL_KDATA);
	lgdt(&gdt__dtr);
	test__eq(d.base, got.base, "LGDT/SGDT round trip: base");
	test__eq(d.limit, got.limit, "LGDT/SGDT round trip: limit");
	test__eq(copy_probe, fs_probe, "segment load after LGDT reads the new table");
	fs_probe = 0xf5f5f5f5;
	sgdt(&got);
	test__eq(gdt__dtr.base, got.base, "LGDT back to the original GDT (SGDT base)");
}

static void check_idtr(void)
{
	struct dtr d, got;
	int v;

	sidt(&got);
	test__eq(idt__dtr.base, got.base, "SIDT base is the IDT the guest loaded");
	test__eq(idt__dtr.limit, got.limit, "SIDT limit is the IDT the guest loaded");

	for (v = 0; v < 256; v++)
		idt_copy[v] = idt__get(v);
	idt_copy[0x31] &= ~(1ULL << 47); /* gate 0x31 not present in the copy only */
	d.limit = 0x7ff - 8;
	d.base = (u32)(uintptr_t)idt_copy;
	lidt(&d);
	sidt(&got);
	trap__arm();
	asm volatile(TRAP_TRY("int $0x31") : : : "memory");
	lidt(&idt__dtr);
	test__eq(d.base, got.base, "LIDT/SIDT round trip: base");
	test__eq(d.limit, got.limit, "LIDT/SIDT round trip: limit");
	trap__expect(VEC_NP, 0x31 * 8 + 2, "INT 0x31 after LIDT uses the new IDT (gate absent)");
	trap__arm();
	asm volatile(TRAP_TRY("int $0x31") : : : "memory");
	trap__expect(0x31, TRAP_NOERR, "INT 0x31 after LIDT back delivers vector 0x31");
}

static void check_ldt(void)
{
	u16 sel = LDT_SEL(1, 0);

	memset(ldt, 0, sizeof(ldt));
	ldt[1] = desc__make((u32)(uintptr_t)&ldt_probe, 0xfff, ACC_DATA | ACC_A, FLG_DB);
	ldt[2] = desc__make(0, 0xfffff, ACC_DATA | ACC_A | ACC_DPL(3), FLG_FLAT);
	test__info("ldtr at entry 0x%x", sldt());

	lldt(SEL(G_LDT, 0));
	test__eq(SEL(G_LDT, 0), sldt(), "LLDT/SLDT round trip");
	write_fs(sel);
	test__eq(sel, read_fs(), "MOV FS with an LDT selector (TI=1)");
	test__eq(ldt_probe, read_fs0(), "FS:0 reads through the LDT descriptor's base");
	write_gs(LDT_SEL(2, 3));
	test__eq(LDT_SEL(2, 3), read_gs(), "MOV GS with an LDT selector, RPL 3, DPL 3");
	trap__arm();
	asm volatile(TRAP_TRY("movw %w0, %%gs") : : "r"(LDT_SEL(1, 3)) : "memory");
	trap__expect(VEC_GP, LDT_SEL(1, 0), "MOV GS with RPL 3 > DPL 0 (LDT): #GP(sel)");
	write_fs(SEL_KDATA);
	write_gs(SEL_KDATA);
	trap__arm();
	asm volatile(TRAP_TRY("movw %w0, %%fs") : : "r"(LDT_SEL(4, 0)) : "memory");
	trap__expect(VEC_GP, LDT_SEL(4, 0), "LDT selector beyond the LDT limit: #GP(sel)");
	trap__arm();
	asm volatile(TRAP_TRY("lldt %w0") : : "r"(SEL_KDATA) : "memory");
	trap__expect(VEC_GP, SEL_KDATA, "LLDT of a data descriptor: #GP(sel)");
	trap__arm();
	asm volatile(TRAP_TRY("lldt %w0") : : "r"(LDT_SEL(1, 0)) : "memory");
	trap__expect(VEC_GP, LDT_SEL(1, 0), "LLDT of an LDT (TI=1) selector: #GP(sel)");

	lldt(0);
	test__eq(0, sldt(), "LLDT 0 leaves LDTR null");
	trap__arm();
	asm volatile(TRAP_TRY("movw %w0, %%fs") : : "r"(sel) : "memory");
	trap__expect(VEC_GP, sel, "LDT selector with a null LDTR: #GP(sel)");
	write_fs(SEL_KDATA);
}

static void check_tr(void)
{
	u16 sel = SEL(G_TSS, 0);

	test__info("tr at entry 0x%x", str());
	memset(tss2, 0, sizeof(tss2));
	test__eq(ACC_TSS_AVAIL, desc__access(gdt__get(G_TSS)), "TSS descriptor available before LTR");
	ltr(sel);
	test__eq(sel, str(), "LTR/STR round trip");
	test__eq(ACC_P | TSS_TYPE_BUSY, desc__access(gdt__get(G_TSS)),
		 "LTR marks the TSS descriptor busy in the GDT");
	trap__arm();
	asm volatile(TRAP_TRY("ltr %w0") : : "r"(sel) : "memory");
	trap__expect(VEC_GP, sel, "LTR of a busy TSS: #GP(sel)");
	trap__arm();
	asm volatile(TRAP_TRY("ltr %w0") : : "r"(SEL_KDATA) : "memory");
	trap__expect(VEC_GP, SEL_KDATA, "LTR of a data descriptor: #GP(sel)");
	if (!cpu__tcg_skip("LTR of the null selector raises #GP(0)", "loads a null TR instead")) {
		trap__arm();
		asm volatile(TRAP_TRY("ltr %w0") : : "r"(0) : "memory");
		trap__expect(VEC_GP, 0, "LTR of the null selector: #GP(0)");
	}
}

/* Load SS with `sel`, read it back, restore the kernel SS in the same asm. */
static u16 ss_roundtrip(u16 sel)
{
	u16 got;

	asm volatile("movw %w1, %%ss\n\t"
		     "movw %%ss, %w0\n\t"
		     "movw %w2, %%ss"
		     : "=&r"(got) : "r"(sel), "r"(SEL_KDATA) : "memory");
	return got;
}

static void expect_load_fault(u16 sel, bool ss, u32 vector, const char *what)
{
	trap__arm();
	if (ss)
		asm volatile(TRAP_TRY("movw %w0, %%ss") "movw %w1, %%ss"
			     : : "r"(sel), "r"(SEL_KDATA) : "memory");
	else
		asm volatile(TRAP_TRY("movw %w0, %%ds") "movw %w1, %%ds"
			     : : "r"(sel), "r"(SEL_KDATA) : "memory");
	trap__expect(vector, sel & 0xfffc, "%s", what);
}

static void check_segments(void)
{
	u16 sel = SEL(G_DATA, 0), ds = 0;

	write_ds(sel);
	ds = read_ds();
	write_ds(SEL_KDATA);
	test__eq(sel, ds, "MOV DS with a valid selector");
	write_es(sel);
	test__eq(sel, read_es(), "MOV ES with a valid selector");
	write_es(SEL_KDATA);
	write_fs(sel);
	test__eq(sel, read_fs(), "MOV FS with a valid selector");
	write_gs(sel);
	test__eq(sel, read_gs(), "MOV GS with a valid selector");
	/* Under a deprivileging VMM, SS.RPL must equal the real CPL: compare the index. */
	test__eq(sel, ss_roundtrip(sel) & 0xfffc, "MOV SS with a valid selector");
	write_fs(SEL(G_BASED, 0));
	test__eq(fs_probe, read_fs0(), "FS:0 reads at the descriptor's base");
	write_fs(SEL_KDATA);
	write_gs(SEL_KDATA);

	test__eq(ACC_DATA, desc__access(gdt__get(G_FRESH)), "descriptor accessed bit clear before use");
	write_es(SEL(G_FRESH, 0));
	write_es(SEL_KDATA);
	test__eq(ACC_DATA | ACC_A, desc__access(gdt__get(G_FRESH)),
		 "segment load sets the descriptor's accessed bit");

	trap__arm();
	asm volatile(TRAP_TRY("movw %w0, %%ds") "movw %w1, %%ds"
		     : : "r"(0), "r"(SEL_KDATA) : "memory");
	trap__expect(TRAP_NONE, 0, "MOV DS with the null selector does not fault");

	expect_load_fault(0, true, VEC_GP, "MOV SS with the null selector: #GP(0)");
	expect_load_fault(0x103, false, VEC_GP, "MOV DS beyond the GDT limit: #GP(sel)");
	expect_load_fault(0x1f8, true, VEC_GP, "MOV SS beyond the GDT limit: #GP(sel)");
	expect_load_fault(SEL(G_NP_DATA, 0), false, VEC_NP, "MOV DS, not-present segment: #NP(sel)");
	expect_load_fault(SEL(G_NP_DATA, 0), true, VEC_SS, "MOV SS, not-present segment: #SS(sel)");
	expect_load_fault(SEL(G_DPL3_DATA, 0), true, VEC_GP, "MOV SS with DPL 3 at CPL0: #GP(sel)");
	expect_load_fault(SEL(G_RO_DATA, 0), true, VEC_GP, "MOV SS with a read-only segment: #GP(sel)");
	expect_load_fault(SEL(G_XO_CODE, 0), false, VEC_GP, "MOV DS with execute-only code: #GP(sel)");
	expect_load_fault(SEL(G_CODE, 0), true, VEC_GP, "MOV SS with a code segment: #GP(sel)");
	expect_load_fault(SEL(G_LDT, 0), false, VEC_GP, "MOV DS with an LDT descriptor: #GP(sel)");
	expect_load_fault(SEL(G_DATA, 3), true, VEC_GP, "MOV SS with RPL 3 != CPL: #GP(sel)");

	write_ds(SEL(G_RX_CODE, 0));
	ds = read_ds();
	write_ds(SEL_KDATA);
	test__eq(SEL(G_RX_CODE, 0), ds, "MOV DS with readable code is allowed");
	write_ds(SEL(G_DPL3_DATA, 3));
	ds = read_ds();
	write_ds(SEL_KDATA);
	test__eq(SEL(G_DPL3_DATA, 3), ds, "MOV DS with a DPL3 segment at CPL0 is allowed");

	trap__arm();
	asm volatile(TRAP_TRY(".byte 0x8e, 0xc8") : : "a"(SEL_KCODE) : "memory"); /* mov %ax,%cs */
	trap__expect(VEC_UD, TRAP_NOERR, "MOV CS is invalid: #UD");
}

static void check_far(void)
{
	u32 cs_in = 0, caller_cs = 0, ip = 0, cs_after;

	asm volatile("ljmp %1, $1f\n"
		     "1:\tmovw %%cs, %w0\n\t"
		     "ljmp %2, $2f\n"
		     "2:"
		     : "=&r"(cs_in) : "i"(SEL(G_CODE, 0)), "i"(SEL_KCODE) : "memory");
	cs_after = read_cs();
	test__eq(SEL(G_CODE, 0), cs_in & 0xfffc, "far JMP loads CS with the new selector");
	test__eq(SEL_KCODE, cs_after & 0xfffc, "far JMP back to the kernel code segment");

	asm volatile("lcall %3, $priv_far_probe" : "=a"(cs_in), "=d"(caller_cs), "=c"(ip)
		     : "i"(SEL(G_CODE, 0)) : "memory");
	test__eq(SEL(G_CODE, 0), cs_in & 0xfffc, "far CALL runs in the called segment");
	test__eq(SEL_KCODE, caller_cs & 0xfffc, "far CALL pushes the caller's CS");
	test__eq((u32)(uintptr_t)priv_far_probe_ip, ip, "far CALL target EIP (base 0)");
	test__eq(SEL_KCODE, read_cs() & 0xfffc, "far RET returns to the caller's CS");

	asm volatile("lcall %3, $priv_far_probe - %c4" : "=a"(cs_in), "=d"(caller_cs), "=c"(ip)
		     : "i"(SEL(G_CODE_BASED, 0)), "i"(CODE_BASE) : "memory");
	test__eq(SEL(G_CODE_BASED, 0), cs_in & 0xfffc, "far CALL into a code segment with base 0x%x",
		 CODE_BASE);
	test__eq((u32)(uintptr_t)priv_far_probe_ip - CODE_BASE, ip,
		 "EIP there is the offset from the segment base");

	trap__arm();
	asm volatile(TRAP_TRY("ljmp %0, $8002f") : : "i"(SEL(G_DATA, 0)) : "memory");
	trap__expect(VEC_GP, SEL(G_DATA, 0), "far JMP to a data segment: #GP(sel)");
	trap__arm();
	asm volatile(TRAP_TRY("ljmp %0, $8002f") : : "i"(SEL(G_NP_CODE, 0)) : "memory");
	trap__expect(VEC_NP, SEL(G_NP_CODE, 0), "far JMP to a not-present code segment: #NP(sel)");
	trap__arm();
	asm volatile(TRAP_TRY("lcall %0, $8002f") : : "i"(0) : "memory");
	trap__expect(VEC_GP, 0, "far CALL to the null selector: #GP(0)");

	/* Informational only: under trap-and-emulate the guest kernel runs at a real
	 * ring above 0, and a plain MOV from CS shows it. */
	printf("# cs=0x%x\n", read_cs());
}

void privileged__desc_checks(void)
{
	setup_gdt();
	check_gdtr();
	check_idtr();
	check_ldt();
	check_tr();
	check_segments();
	check_far();
}
