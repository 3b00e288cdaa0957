/*
 * cpu64.c: the descriptor tables, SYSCALL MSRs and per-CPU block of cpu64.h, and the C
 * side of the trap path (trap64__dispatch). The trap stack serves exceptions (TSS.RSP0)
 * and SYSCALL (per-CPU block) alike; #DF has its own (IST1) so a broken kernel stack
 * still gets reported. The 8259s are masked: nothing here uses external interrupts.
 */
#include "cpu64.h"
#include "console.h"
#include "ktest.h"

struct gate64 {
	u16 off0, sel;
	u8 ist, attr;
	u16 off1;
	u32 off2, reserved;
} __packed;

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap_base;
} __packed;

struct dtr64 {
	u16 limit;
	u64 base;
} __packed;

struct percpu {
	u64 kstack_top; /* entry64.S PC_KSTACK */
	u64 user_rsp;   /* entry64.S PC_USER_RSP */
};

#define GATE_INT64(dpl) (0x8e | ((dpl) << 5))
#define NSTUBS 33 /* 0-31, then INT 0x80 */

static u64 gdt[8] __aligned(16) = {
	0,
	0x00af9a000000ffff, /* 0x08 kernel code, 64-bit */
	0x00cf92000000ffff, /* 0x10 kernel data */
	0,                  /* 0x18 STAR[63:48] base; 32-bit user code would go here */
	0x00cff2000000ffff, /* 0x20 user data, DPL3 */
	0x00affa000000ffff, /* 0x28 user code, 64-bit, DPL3 */
	0, 0,               /* 0x30 TSS (16 bytes) */
};
static struct gate64 idt[256] __aligned(16);
static struct tss64 tss __aligned(16);
static struct percpu percpu;
static u8 trap_stack[16384] __aligned(16);
static u8 df_stack[4096] __aligned(16);
static trap_handler_fn handler;

extern char trap64_stubs[], syscall64_entry[];

static void set_gate(int vec, const void *fn, int dpl, int ist)
{
	u64 off = (u64)(uintptr_t)fn;

	idt[vec] = (struct gate64){ (u16)off, SEL_KCODE, (u8)ist, (u8)GATE_INT64(dpl),
				    (u16)(off >> 16), (u32)(off >> 32), 0 };
}

static void load_tables(void)
{
	struct dtr64 g = { sizeof(gdt) - 1, (u64)(uintptr_t)gdt };
	struct dtr64 i = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	asm volatile("lgdt %0\n\t"
		     "1:\tmovl %2, %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%eax, %%es\n\t"
		     "movl %%eax, %%ss\n\t"
		     "movl %%eax, %%fs\n\t"
		     "movl %%eax, %%gs\n\t"
		     "lidt %3\n\t"
		     "ltr %w4"
		     : : "m"(g), "i"(SEL_KCODE), "i"(SEL_KDATA), "m"(i), "r"(SEL_TSS)
		     : "rax", "memory");
}

/*
 * Nothing here takes external interrupts, but firmware may leave the 8259 pair with
 * IRQ0 unmasked at vector 8 (#DF's): remap it to 0x20-0x2f and mask every line, as
 * kernels do before their first STI.
 */
static void pic_disable(void)
{
	static const u8 init[2][4] = {
		{ 0x11, 0x20, 0x04, 0x01 }, /* ICW1 (ICW4 follows), base 0x20, slave on 2, 8086 */
		{ 0x11, 0x28, 0x02, 0x01 },
	};
	u16 base[2] = { 0x20, 0xa0 };
	int c;

	for (c = 0; c < 2; c++) {
		outb(base[c], init[c][0]);
		outb(base[c] + 1, init[c][1]);
		outb(base[c] + 1, init[c][2]);
		outb(base[c] + 1, init[c][3]);
		outb(base[c] + 1, 0xff); /* OCW1: all masked */
	}
}

bool cpu64__init(void)
{
	u64 tss_base = (u64)(uintptr_t)&tss;
	u32 r[4];
	int v;

	tss.rsp[0] = (u64)(uintptr_t)(trap_stack + sizeof(trap_stack));
	tss.ist[0] = (u64)(uintptr_t)(df_stack + sizeof(df_stack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 has no port access */
	gdt[6] = (sizeof(tss) - 1) | (tss_base & 0xffffff) << 16 | 0x89ul << 40 |
		 (tss_base >> 24 & 0xff) << 56;
	gdt[7] = tss_base >> 32;
	for (v = 0; v < 32; v++)
		set_gate(v, trap64_stubs + 16 * v, 0, v == 8 ? 1 : 0);
	set_gate(VEC_INT80, trap64_stubs + 16 * 32, 3, 0);
	load_tables();
	pic_disable();

	/* In the kernel GS is the per-CPU block; SWAPGS parks it in KERNEL_GS_BASE while
	 * ring 3 runs. */
	percpu.kstack_top = tss.rsp[0];
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)&percpu);
	wrmsr(MSR_KERNEL_GS_BASE, 0);

	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000001)
		return false;
	cpuid(0x80000001, 0, r);
	if (!(r[3] & CPUID81_EDX_SYSCALL))
		return false;
	wrmsr(MSR_STAR, (u64)0x18 << 48 | (u64)SEL_KCODE << 32);
	wrmsr(MSR_LSTAR, (u64)(uintptr_t)syscall64_entry);
	/* IF, TF, DF, AC, IOPL and NT cleared on entry, as Linux does. */
	wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC | RFLAGS_IOPL | RFLAGS_NT);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	return true;
}

void cpu64__set_handler(trap_handler_fn fn)
{
	handler = fn;
}

struct trapframe *trap64__dispatch(struct trapframe *tf);

struct trapframe *trap64__dispatch(struct trapframe *tf)
{
	if (trapframe__user(tf) && handler)
		return handler(tf);
	ktest__ok(false, "unexpected trap %lu in the kernel: error 0x%lx at %lx rsp %lx cr2 %lx",
		  tf->vector, tf->error, tf->rip, tf->rsp, read_cr2());
	ktest__done();
}
