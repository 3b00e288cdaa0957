/*
 * iretq64.c: guest "iretq64": IRETQ from 64-bit ring 0 back to ring 0, in the forms a
 * 64-bit kernel uses (SDM vol. 2 IRET, IA-32e mode): to the same 64-bit CS with a data
 * SS or a null SS, loading IF and NT from the frame, with a 32-bit operand size
 * (IRETD: a frame of five dwords), to a compatibility-mode code segment; and the
 * faults: current EFLAGS.NT set, SS.RPL different from CS.RPL, a non-canonical RIP, a
 * null SS for a 32-bit code segment. A deprivileged kernel's IRET to a selector of
 * RPL 0 always comes to the VMM, which must do all of this itself.
 * The 32-bit kernel turns on IA-32e mode (lmode.h); each case is one far call into
 * 64-bit code that builds the frame, executes the IRET and reports where it landed.
 * Then, still in IA-32e mode, XSAVE64/XRSTOR64 of XMM8 in 64-bit ring 0.
 * Selectors are compared without their RPL: a deprivileged ring 0 reads its own CS and
 * SS with the RPL of the ring it really runs in (docs/architecture.md).
 */
#include "cpu.h"
#include "desc.h"
#include "lmode.h"
#include "paging.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

#define RFLAGS_IF (1u << 9)
#define RFLAGS_NT (1u << 14)

/* One case: the frame to IRET with, and what the landing site saw. Offsets are used
 * by the assembly below. */
struct iret_case {
	u64 cs, ss, set, clear;   /* 0, 8, 16, 24: selectors; RFLAGS bits to set/clear */
	u64 rip;                  /* 32: 0 = the 64-bit landing site */
	u32 dwords, pre_nt;       /* 40, 44: IRETD frame; set EFLAGS.NT before the IRET */
	u64 rsp_delta, out_ss;    /* 48, 56 */
	u64 out_cs, out_flags;    /* 64, 72 */
	u32 landed;               /* 80 */
};
_Static_assert(__builtin_offsetof(struct iret_case, landed) == 80, "layout");

u32 iretq_run(u32 c);          /* 64-bit: runs one case */
u32 iretq_xsave64(u32 area);   /* 64-bit: XSAVE64/XRSTOR64 of XMM8 */
extern char iretq_compat[];    /* 32-bit landing site (compatibility mode) */
volatile u32 iretq_compat_cs;

asm(".text\n"
    ".code64\n"
    ".globl iretq_run\n"
    "iretq_run:\n\t"
    "pushq %rbx\n\tpushq %rbp\n\tpushq %r12\n\t"
    "movl %edi, %ebx\n\t"
    "pushfq\n\tpopq %r12\n\t"                  /* the caller's flags, restored at the end */
    "movq %rsp, %rbp\n\t"
    "movl $2f, trap__resume(%rip)\n\t"
    "pushfq\n\tpopq %rax\n\t"
    "orq 16(%rbx), %rax\n\tmovq 24(%rbx), %rcx\n\tnotq %rcx\n\tandq %rcx, %rax\n\t"
    "movq 32(%rbx), %rdx\n\ttestq %rdx, %rdx\n\tjnz 3f\n\t"
    "leaq 1f(%rip), %rdx\n"
    "3:\tcmpl $0, 40(%rbx)\n\tjne 5f\n\t"
    "pushq 8(%rbx)\n\tpushq %rbp\n\tpushq %rax\n\tpushq (%rbx)\n\tpushq %rdx\n\t"
    "cmpl $0, 44(%rbx)\n\tje 4f\n\t"
    "pushfq\n\torq $0x4000, (%rsp)\n\tpopfq\n"
    "4:\tiretq\n"
    "5:\tsubq $20, %rsp\n\t"                   /* IRETD: EIP, CS, EFLAGS, ESP, SS */
    "movl %edx, (%rsp)\n\tmovl (%rbx), %ecx\n\tmovl %ecx, 4(%rsp)\n\t"
    "movl %eax, 8(%rsp)\n\tmovl %ebp, 12(%rsp)\n\tmovl 8(%rbx), %ecx\n\tmovl %ecx, 16(%rsp)\n\t"
    "iretl\n"
    "1:\tmovl $0, trap__resume(%rip)\n\t"
    "pushfq\n\tpopq %rax\n\tmovq %rax, 72(%rbx)\n\t"
    "movq %rsp, %rax\n\tsubq %rbp, %rax\n\tmovq %rax, 48(%rbx)\n\t"
    "xorl %eax, %eax\n\tmovw %ss, %ax\n\tmovq %rax, 56(%rbx)\n\t"
    "movw %cs, %ax\n\tmovq %rax, 64(%rbx)\n\t"
    "movl $1, 80(%rbx)\n\t"
    "jmp 9f\n"
    "2:\tmovq %rbp, %rsp\n"                    /* a fault: the frame is still pushed */
    "9:\tpushq %r12\n\tpopfq\n\t"
    "xorl %eax, %eax\n\t"
    "popq %r12\n\tpopq %rbp\n\tpopq %rbx\n\t"
    "ret\n"
    /* u32 iretq_xsave64(u32 area): XMM8 from the area's first 16 bytes, XSAVE64,
     * XMM8 clobbered, XRSTOR64, XMM8 stored at area + 960 */
    ".globl iretq_xsave64\n"
    "iretq_xsave64:\n\t"
    "movl %edi, %edi\n\t"
    "movdqu (%rdi), %xmm8\n\t"
    "movl $3, %eax\n\txorl %edx, %edx\n\t"
    "xsave64 (%rdi)\n\t"
    "movdqu 32(%rdi), %xmm8\n\t"
    "movl $3, %eax\n\txorl %edx, %edx\n\t"
    "xrstor64 (%rdi)\n\t"
    "movdqu %xmm8, 960(%rdi)\n\t"
    "xorl %eax, %eax\n\tret\n"
    ".code32\n"
    ".globl iretq_compat\n"
    "iretq_compat:\n\t"                        /* compatibility mode, ring 0 */
    "movl %cs, %eax\n\tmovl %eax, iretq_compat_cs\n\t"
    "ljmp $0x30, $1b\n"
    ".text\n");

static struct iret_case c;

static void run(u64 cs, u64 ss, u64 set, u64 clear, u64 rip, bool dwords, bool pre_nt)
{
	memset(&c, 0, sizeof(c));
	c.cs = cs, c.ss = ss, c.set = set, c.clear = clear, c.rip = rip;
	c.dwords = dwords, c.pre_nt = pre_nt;
	trap__arm();
	lmode__call64(iretq_run, (u32)(uintptr_t)&c);
}

static void check_lands(const char *what, u64 ss)
{
	test__ok(c.landed && trap__last.vector == TRAP_NONE, "%s: returns (%s)", what,
		 trap__name(trap__last.vector));
	test__eq(0, c.rsp_delta, "%s: RSP is the frame's", what);
	test__eq(ss, c.out_ss & 0xfffc, "%s: SS is the frame's", what);
}

/* While in IA-32e mode: XSAVE64/XRSTOR64 in 64-bit ring 0 keep XMM8 (16 XMM registers
 * in 64-bit mode), when CPUID offers XSAVE. */
static void check_xsave64(void)
{
	static u8 area[1024] __aligned(64);
	static const u32 x8[4] = { 0xa1a1a1a1, 0xb2b2b2b2, 0xc3c3c3c3, 0xd4d4d4d4 };

	if (!(cpu__info.f1_ecx & (1u << 26))) {
		test__skip("XSAVE64 in 64-bit mode", "CPUID offers no XSAVE");
		return;
	}
	memcpy(area, x8, 16);
	write_cr4(read_cr4() | CR4_OSFXSR | (1u << 18));        /* OSXSAVE */
	asm volatile(".byte 0x0f, 0x01, 0xd1" : : "a"(3), "d"(0), "c"(0));   /* XSETBV */
	lmode__call64(iretq_xsave64, (u32)(uintptr_t)area);
	test__ok(!memcmp(area + 160 + 8 * 16, x8, 16), "XSAVE64 in 64-bit ring 0 stores XMM8");
	test__ok(!memcmp(area + 960, x8, 16), "XRSTOR64 in 64-bit ring 0 restores XMM8");
}

static u8 pt_mem[64 * 4096] __aligned(4096);

void test_main(void)
{
	static struct pt_pool pool;
	static struct paging as;

	test__begin("iretq64");
	if (!lmode__supported()) {
		test__skip("iretq64", "no long mode");
		test__done();
	}
	pt_pool__init(&pool, pt_mem, sizeof(pt_mem));
	paging__init(&as, PAGING_4L, &pool);
	paging__identity(&as, 16u << 20, PTE_P | PTE_RW);
	lmode__enter(as.root);

	run(SEL_KCODE64, SEL_KDATA, 0, 0, 0, false, false);
	check_lands("IRETQ to the same CS, SS = kernel data", SEL_KDATA);
	test__eq(SEL_KCODE64, c.out_cs & 0xfffc, "IRETQ to the same CS: CS is the frame's");

	run(SEL_KCODE64, 0, 0, 0, 0, false, false);
	check_lands("IRETQ with a null SS", 0);

	run(SEL_KCODE64, SEL_KDATA, RFLAGS_IF, 0, 0, false, false);
	check_lands("IRETQ loading IF=1", SEL_KDATA);
	test__ok(c.out_flags & RFLAGS_IF, "IRETQ loading IF=1: IF is set (0x%llx)",
		 (unsigned long long)c.out_flags);
	run(SEL_KCODE64, SEL_KDATA, 0, RFLAGS_IF, 0, false, false);
	test__ok(c.landed && !(c.out_flags & RFLAGS_IF), "IRETQ loading IF=0: IF is clear");

	run(SEL_KCODE64, SEL_KDATA, RFLAGS_NT, 0, 0, false, false);
	check_lands("IRETQ whose frame has NT=1", SEL_KDATA);
	test__ok(c.out_flags & RFLAGS_NT, "IRETQ whose frame has NT=1: NT is loaded");

	run(SEL_KCODE64, SEL_KDATA, 0, 0, 0, true, false);
	check_lands("IRETD (32-bit frame) in 64-bit mode", SEL_KDATA);

	iretq_compat_cs = 0;
	run(SEL_KCODE, SEL_KDATA, 0, 0, (u32)(uintptr_t)iretq_compat, false, false);
	check_lands("IRETQ to 32-bit ring-0 code (compatibility mode)", SEL_KDATA);
	test__eq(SEL_KCODE, iretq_compat_cs & 0xfffc, "IRETQ to 32-bit code: CS there is the frame's");

	run(SEL_KCODE64, SEL_KDATA, 0, 0, 0, false, true);
	trap__expect(VEC_GP, 0, "IRETQ with EFLAGS.NT=1: #GP(0)");
	test__ok(!c.landed, "IRETQ with EFLAGS.NT=1 does not return");

	run(SEL_KCODE64, SEL_KDATA | 3, 0, 0, 0, false, false);
	trap__expect(VEC_GP, SEL_KDATA, "IRETQ with SS.RPL 3 to CS.RPL 0: #GP(SS)");

	run(SEL_KCODE64, SEL_KDATA, 0, 0, 0x0000800000000000ull, false, false);
	trap__expect(VEC_GP, 0, "IRETQ to a non-canonical RIP: #GP(0)");

	if (!cpu__tcg_skip("IRETQ to 32-bit code with a null SS: #GP(0)",
			   "allows a null SS for any code segment below ring 3")) {
		run(SEL_KCODE, 0, 0, 0, (u32)(uintptr_t)iretq_compat, false, false);
		trap__expect(VEC_GP, 0, "IRETQ to 32-bit code with a null SS: #GP(0)");
	}
	check_xsave64();
	test__done();
}
