/*
 * cpu.c: the CPU's descriptor tables and entry registers: the final GDT (kernel and
 * user segments in the order SYSCALL/SYSRET expect, and the TSS), the TSS whose RSP0 is
 * the current process's kernel stack, the IDT pointing at the stubs of entry.S, and the
 * SYSCALL MSRs. What happens on each vector is trap.c's business.
 */
#include "kernel.h"
#include "trap.h"
#include "x86.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static struct tss tss __attribute__((aligned(16)));
static struct gate idt[256] __attribute__((aligned(16)));
static uint64_t gdt[7] __attribute__((aligned(16))) = {
	0,
	0x00af9a000000ffff,	/* 0x08 kernel code, 64-bit */
	0x00cf92000000ffff,	/* 0x10 kernel data */
	0x00cff2000000ffff,	/* 0x18 user data (selector 0x1b) */
	0x00affa000000ffff,	/* 0x20 user code, 64-bit (selector 0x23) */
	0, 0,			/* 0x28 TSS, 16 bytes */
};

extern char trap_stubs[];	/* 48 stubs of 16 bytes each (entry.S) */
extern char syscall_entry[];
extern uint64_t syscall_kstack_top;

static void load_gdt(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;
	struct dtr d = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%ss\n\t"
			 "pushq %2\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:"
			 : : "m"(d), "r"(SEL_KDATA), "i"(SEL_KCODE) : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

static void load_idt(void)
{
	for (int v = 0; v < 48; v++) {
		uint64_t off = (uint64_t)(trap_stubs + 16 * v);
		idt[v] = (struct gate){
			.off_lo = off & 0xffff, .sel = SEL_KCODE, .ist = 0,
			.type = 0x8e,	/* present, DPL0, 64-bit interrupt gate: IF off on entry */
			.off_mid = (off >> 16) & 0xffff, .off_hi = off >> 32, .zero = 0,
		};
	}
	struct dtr d = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(d));
}

void cpu__init(void)
{
	tss.iomap_base = sizeof(tss);	/* no I/O bitmap: user port I/O faults */
	load_gdt();
	load_idt();
	/* SYSCALL: CS=0x08/SS=0x10; SYSRET (unused: we return with IRETQ) would take
	 * 0x23/0x1b. FMASK clears IF, DF, TF and AC on entry. */
	wrmsr(MSR_STAR, ((uint64_t)(0x10 | 3) << 48) | ((uint64_t)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, 0x40700);
}

void cpu__set_kstack(uint64_t top)
{
	tss.rsp0 = top;
	syscall_kstack_top = top;
}
