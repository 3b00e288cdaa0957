/*
 * cs-reload.c: guest "cs-reload": a segment register keeps the descriptor that was
 * loaded into it, whatever its selector number (SDM vol. 3 3.4.3, 9.8.5). A 32-bit
 * multiboot kernel turns on IA-32e mode (CR0.PG with EFER.LME), then loads a GDT of
 * its own whose 64-bit code segment is 0x08, the number of the 32-bit CS it runs on,
 * and far-jumps to it: once with the descriptor's accessed bit clear (and limit 0),
 * once set. The
 * 64-bit code then takes traps the kernel never sees (demand paging of fresh pages,
 * CPUID), one it does (#UD), and must stay in 64-bit mode: MOVSXD (48 63 ff) after
 * each. Then the GDT is rewritten in place, with paging on, and the same selector
 * reloaded: 0x08 as 32-bit code, then as 64-bit code again, each checked after a trap.
 * The GDT page also holds ordinary data the kernel writes.
 */
#include "desc.h"
#include "lmode.h"
#include "paging.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

#define SEL_CODE32 0x50   /* 32-bit code in the new GDTs, to come back on */
#define DESC_CODE64 0x00af9a000000ffffull
/* The minimal 64-bit code descriptor many kernels use: P, DPL 0, execute-only, L, and
 * base and limit 0 (ignored in 64-bit mode). */
#define DESC_CODE64_MIN 0x0020980000000000ull
#define DESC_CODE32 0x00cf9a000000ffffull

/* What the 64-bit (or 32-bit) body saw. */
struct seen {
	u32 cs;
	u32 push_width[4];     /* bytes one PUSH took: at entry, after each trap */
	u32 movsxd_lo[3], movsxd_hi[3];
	u32 ud_vector;
};
volatile struct seen seen64;
u32 cs_reload_fresh[3];   /* untouched pages the body writes (demand faults) */

/* The GDTs: each page-aligned with kernel data after the table in the same page. */
struct gdt_page {
	u64 gdt[GDT_ENTRIES];
	volatile u32 data[64];
} __aligned(4096);
static struct gdt_page gp[2];
static u8 fresh_pages[3][4096] __aligned(4096);

u32 cs_reload_jump(const struct dtr *gdtr);   /* LGDT; far jump to 0x08: 64-bit body */
u32 cs_reload_jump32(void);                   /* far jump to 0x08: 32-bit body */

asm(".text\n"
    ".globl cs_reload_jump\n"
    "cs_reload_jump:\n\t"
    "pushl %ebx\n\tpushl %esi\n\tpushl %edi\n\tpushl %ebp\n\t"
    "movl 20(%esp), %eax\n\t"
    "lgdt (%eax)\n\t"
    "ljmp $0x08, $body64\n"
    "back32:\n\t"
    "popl %ebp\n\tpopl %edi\n\tpopl %esi\n\tpopl %ebx\n\t"
    "ret\n"
    ".code64\n"
    "body64:\n\t"
    "movl %cs, %eax\n\tmovl %eax, seen64(%rip)\n\t"
    /* PUSH width: 8 in 64-bit mode, 4 in compatibility mode */
    "movq %rsp, %rax\n\tpushq %rax\n\tmovq %rsp, %rcx\n\tpopq %rdx\n\tsubl %ecx, %eax\n\t"
    "movl %eax, seen64+4(%rip)\n\t"
    /* a demand fault on a fresh page, then MOVSXD */
    "movl cs_reload_fresh(%rip), %eax\n\tmovl $1, (%rax)\n\t"
    "movl $0xffffffff, %edi\n\t.byte 0x48, 0x63, 0xff\n\t"
    "movl %edi, seen64+20(%rip)\n\tshrq $32, %rdi\n\tmovl %edi, seen64+32(%rip)\n\t"
    /* CPUID (it traps to the VMM under shade), then MOVSXD */
    "xorl %eax, %eax\n\tcpuid\n\t"
    "movl $0xffffffff, %edi\n\t.byte 0x48, 0x63, 0xff\n\t"
    "movl %edi, seen64+24(%rip)\n\tshrq $32, %rdi\n\tmovl %edi, seen64+36(%rip)\n\t"
    "movq %rsp, %rax\n\tpushq %rax\n\tmovq %rsp, %rcx\n\tpopq %rdx\n\tsubl %ecx, %eax\n\t"
    "movl %eax, seen64+8(%rip)\n\t"
    /* #UD through the kernel's own 64-bit IDT (lmode.S's stubs resume at trap__resume) */
    "movl $1f, trap__resume(%rip)\n\t"
    "ud2\n"
    "1:\tmovl trap__last(%rip), %eax\n\tmovl %eax, seen64+44(%rip)\n\t"
    "movl cs_reload_fresh+4(%rip), %eax\n\tmovl $1, (%rax)\n\t"
    "movl $0xffffffff, %edi\n\t.byte 0x48, 0x63, 0xff\n\t"
    "movl %edi, seen64+28(%rip)\n\tshrq $32, %rdi\n\tmovl %edi, seen64+40(%rip)\n\t"
    "movq %rsp, %rax\n\tpushq %rax\n\tmovq %rsp, %rcx\n\tpopq %rdx\n\tsubl %ecx, %eax\n\t"
    "movl %eax, seen64+12(%rip)\n\t"
    "ljmpl *back_ptr(%rip)\n"
    ".code32\n"
    /* u32 cs_reload_jump32(void): far jump to 0x08 as 32-bit code and back */
    ".globl cs_reload_jump32\n"
    "cs_reload_jump32:\n\t"
    "pushl %ebx\n\tpushl %esi\n\tpushl %edi\n\tpushl %ebp\n\t"
    "ljmp $0x08, $body32\n"
    "body32:\n\t"
    "movl %cs, %eax\n\tmovl %eax, seen64\n\t"
    "movl %esp, %eax\n\tpushl %eax\n\tmovl %esp, %ecx\n\tpopl %edx\n\tsubl %ecx, %eax\n\t"
    "movl %eax, seen64+4\n\t"
    "movl cs_reload_fresh+8, %eax\n\tmovl $1, (%eax)\n\t"
    "xorl %eax, %eax\n\tcpuid\n\t"
    "movl %esp, %eax\n\tpushl %eax\n\tmovl %esp, %ecx\n\tpopl %edx\n\tsubl %ecx, %eax\n\t"
    "movl %eax, seen64+8\n\t"
    "ljmp $0x50, $back32\n"
    ".data\n"
    "back_ptr:\t.long back32\n\t.word 0x50\n"
    ".text\n");

static void check64(const char *what)
{
	test__eq(0x08, seen64.cs & 0xfffc, "%s: CS is selector 0x08", what);
	test__eq_dec(8, seen64.push_width[0], "%s: 64-bit mode at the far jump's target", what);
	test__eq_dec(8, seen64.push_width[1], "%s: still 64-bit after a demand fault and CPUID", what);
	test__eq_dec(8, seen64.push_width[2], "%s: still 64-bit after the kernel's #UD", what);
	for (int i = 0; i < 3; i++)
		test__eq(0xffffffffffffffffull,
			 ((u64)seen64.movsxd_hi[i] << 32) | seen64.movsxd_lo[i],
			 "%s: MOVSXD rdi, edi sign-extends (%s)", what,
			 i == 0 ? "after a demand fault" : i == 1 ? "after CPUID" : "after #UD");
	test__eq(VEC_UD, seen64.ud_vector, "%s: UD2 raised #UD", what);
}

static void build_gdt(struct gdt_page *p, u64 code08)
{
	memcpy(p->gdt, gdt__table, sizeof(p->gdt));
	p->gdt[1] = code08;
	p->gdt[SEL_CODE32 >> 3] = DESC_CODE32;
}

static u8 pt_mem[64 * 4096] __aligned(4096);

void test_main(void)
{
	static struct pt_pool pool;
	static struct paging as;
	struct dtr d;

	test__begin("cs-reload");
	if (!lmode__supported()) {
		test__skip("cs-reload", "no long mode");
		test__done();
	}
	for (int i = 0; i < 3; i++)
		cs_reload_fresh[i] = (u32)(uintptr_t)fresh_pages[i];
	pt_pool__init(&pool, pt_mem, sizeof(pt_mem));
	paging__init(&as, PAGING_4L, &pool);
	paging__identity(&as, 16u << 20, PTE_P | PTE_RW);
	lmode__enter(as.root);   /* IA-32e mode on, still on the 32-bit CS 0x08 */

	/* 1. A new GDT right after paging went on, 0x08 = 64-bit code with limit 0 and
	 * the accessed bit clear (never loaded); far jump to it from compatibility mode. */
	build_gdt(&gp[0], DESC_CODE64_MIN);
	d.limit = sizeof(gp[0].gdt) - 1;
	d.base = (u32)(uintptr_t)gp[0].gdt;
	memset((void *)&seen64, 0, sizeof(seen64));
	cs_reload_jump(&d);
	check64("new GDT, descriptor not yet accessed");

	/* 2. Back on the old GDT's 32-bit 0x08, then a new GDT whose 64-bit 0x08 is
	 * already accessed (a load the CPU makes without the VMM). */
	lgdt(&gdt__dtr);
	asm volatile("ljmp $0x08, $1f\n1:" : : : "memory");
	build_gdt(&gp[1], DESC_CODE64 | (1ull << 40));
	d.base = (u32)(uintptr_t)gp[1].gdt;
	memset((void *)&seen64, 0, sizeof(seen64));
	cs_reload_jump(&d);
	check64("new GDT, descriptor already accessed");

	/* 3. With paging on, rewrite 0x08 in the loaded GDT and reload it: 32-bit code,
	 * then 64-bit code again. The page's ordinary data is written in between. */
	for (int i = 0; i < 64; i++)
		gp[1].data[i] = 0x1000u + (u32)i;
	gp[1].gdt[1] = DESC_CODE32 | (1ull << 40);
	memset((void *)&seen64, 0, sizeof(seen64));
	cs_reload_jump32();
	test__eq(0x08, seen64.cs & 0xfffc, "rewritten 0x08 (32-bit): CS is selector 0x08");
	test__eq_dec(4, seen64.push_width[0], "rewritten 0x08 (32-bit): 32-bit code at the far jump's target");
	test__eq_dec(4, seen64.push_width[1], "rewritten 0x08 (32-bit): still 32-bit after a demand fault and CPUID");
	gp[1].gdt[1] = DESC_CODE64;
	memset((void *)&seen64, 0, sizeof(seen64));
	for (int i = 0; i < 3; i++)
		cs_reload_fresh[i] += 2048;   /* same pages, already mapped: CPUID and #UD remain */
	cs_reload_jump(&d);
	check64("rewritten 0x08 (64-bit again)");
	u32 bad = 0;
	for (int i = 0; i < 64; i++)
		bad += gp[1].data[i] != 0x1000u + (u32)i;
	test__eq_dec(0, bad, "data in the GDT's page kept every write");
	test__done();
}
