/*
 * lmode.c: C side of lmode.h: the descriptors IA-32e mode needs (64-bit code segments,
 * 64-bit IDT gates, a 64-bit TSS) and the switch itself. The 64-bit code is in lmode.S.
 */
#include "lmode.h"
#include "cpu.h"
#include "desc.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

struct idt64_gate {
	u16 off0;
	u16 sel;
	u8 ist;
	u8 attr;
	u16 off1;
	u32 off2;
	u32 reserved;
} __packed;

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

struct dtr64 {
	u16 limit;
	u64 base;
} __packed;

_Static_assert(offsetof(struct trap_record, count) == 40, "lmode.S TR_* offsets");
_Static_assert(offsetof(struct trap_record, cr2) == 28, "lmode.S TR_* offsets");
_Static_assert(offsetof(struct lmode_trap, ss) == 44, "lmode.S LT_* offsets");

/* Long-mode code segments: L=1, D=0, G=1, present, execute/read. */
#define DESC_KCODE64 0x00af9a000000ffffull
#define DESC_UCODE64 0x00affa000000ffffull

static struct idt64_gate idt64[256] __aligned(16);
static struct tss64 tss64 __aligned(16);
static bool active;
struct dtr64 lmode_idtr; /* loaded by lmode_init64 */
volatile struct lmode_trap lmode__last;

extern char lmode_stubs[], lmode_exit_stub[], lmode_init64[], lmode_stack0_top[];
void lmode__unexpected(void) __noreturn;

bool lmode__supported(void)
{
	return cpu__info.max_ext_leaf >= 0x80000001 && (cpu__info.e1_edx & CPUID81_EDX_LM);
}

bool lmode__active(void)
{
	return active;
}

static void gate(int vec, const void *handler, int dpl)
{
	u32 off = (u32)(uintptr_t)handler;

	idt64[vec].off0 = off & 0xffff;
	idt64[vec].sel = SEL_KCODE64;
	idt64[vec].ist = 0;
	idt64[vec].attr = GATE_P | GATE_DPL(dpl) | GATE_INT32; /* type 0xe: 64-bit int gate */
	idt64[vec].off1 = off >> 16;
	idt64[vec].off2 = 0;
	idt64[vec].reserved = 0;
}

void lmode__enter(u32 pml4)
{
	struct dtr legacy;
	int v;

	gdt__set(SEL_KCODE64 >> 3, DESC_KCODE64);
	gdt__set(SEL_UCODE64 >> 3, DESC_UCODE64);
	tss64.rsp[0] = (u32)(uintptr_t)lmode_stack0_top;
	tss64.iomap_base = sizeof(tss64); /* no I/O bitmap: ring 3 has no port access */
	gdt__set(SEL_TSS64 >> 3, desc__make((u32)(uintptr_t)&tss64, sizeof(tss64) - 1,
					    ACC_TSS_AVAIL, 0));
	gdt__set((SEL_TSS64 >> 3) + 1, 0); /* base 63:32 */
	for (v = 0; v < 256; v++)
		gate(v, lmode_stubs + 16 * v, 0);
	gate(LMODE_EXIT_VECTOR, lmode_exit_stub, 3);
	lmode_idtr.limit = sizeof(idt64) - 1;
	lmode_idtr.base = (u32)(uintptr_t)idt64;

	/* SDM 9.8.5: PAE on, CR3, EFER.LME, then paging on activates IA-32e mode. The
	 * 64-bit IDT goes in first: from CR0.PG=1 on, every exception uses 16-byte gates. */
	legacy.limit = lmode_idtr.limit;
	legacy.base = (u32)lmode_idtr.base;
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3(pml4);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_LME);
	lidt(&legacy);
	write_cr0(read_cr0() | CR0_PG);
	lmode__call64(lmode_init64, 0);
	active = true;
}

void lmode__unexpected(void)
{
	const volatile struct lmode_trap *t = &lmode__last;

	test__ok(false, "unexpected %s (vector %u) error 0x%x at %04x:%016llx rflags 0x%llx cr2 0x%llx",
		 trap__name(t->vector), t->vector, t->error, t->cs & 0xffff, t->rip, t->rflags,
		 t->cr2);
	test__done();
}
