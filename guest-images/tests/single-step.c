/*
 * single-step.c: guest "single-step": EFLAGS.TF raises the single-step #DB after every
 * instruction, including the ones shade runs in software instead of the CPU (SDM vol.
 * 3 17.3.1.4). A 32-bit kernel sets TF with POPF and steps over XOR, CPUID and RDMSR
 * (both emulated by shade), an IN from the UART, PUSHF/AND and the POPF that clears TF:
 * one #DB at each following instruction, DR6.BS set, and none once TF is clear. Then
 * the same over a MOV SS of the kernel's data selector (one shade emulates: the guest's
 * RPL 0 is not the real one), whose shadow defers the trap past the next instruction.
 * kvm-unit-tests' debug test ("Single-step #DB on emulated instructions") found shade
 * missing the #DB after each emulated instruction.
 */
#include "desc.h"
#include "test.h"
#include "trap.h"

#define MAX_DB 16
#define DR6_BS (1u << 14)

static volatile u32 db_count;
static volatile u32 db_eip[MAX_DB], db_dr6[MAX_DB];
/* The addresses where a #DB is expected, stored by the stepped code itself. */
static volatile u32 want[MAX_DB];

static u32 read_dr6(void)
{
	u32 v;

	asm volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static void clear_dr6(void)
{
	asm volatile("mov %0, %%dr6" : : "r"(0));
}

static void on_db(struct trap_frame *f)
{
	if (db_count < MAX_DB) {
		db_eip[db_count] = f->eip;
		db_dr6[db_count] = read_dr6();
	}
	db_count++;
	clear_dr6();
}

static void check_steps(const char *what, u32 n)
{
	test__eq_dec(n, db_count, "%s: one #DB per stepped instruction", what);
	for (u32 i = 0; i < n && i < db_count && i < MAX_DB; i++) {
		test__eq(want[i], db_eip[i], "%s: #DB %u at the next instruction", what, i);
		test__ok(db_dr6[i] & DR6_BS, "%s: #DB %u has DR6.BS (dr6 %#x)", what, i,
			 db_dr6[i]);
	}
}

/* XOR, CPUID, RDMSR (SYSENTER_CS), IN, PUSHF, AND, POPF: a #DB after each. */
static void step_emulated(void)
{
	db_count = 0;
	clear_dr6();
	asm volatile("pushfl\n\t"
		     "orl $0x100, (%%esp)\n\t"
		     "popfl\n\t"              /* TF from the next instruction on */
		     "xorl %%eax, %%eax\n"
		     "1:\tcpuid\n"
		     "2:\tmovl $0x174, %%ecx\n"
		     "3:\trdmsr\n"
		     "4:\tmovw $0x3fd, %%dx\n"
		     "5:\tinb %%dx, %%al\n"
		     "6:\tpushfl\n"
		     "7:\tandl $~0x100, (%%esp)\n"
		     "8:\tpopfl\n"               /* began with TF set: one more #DB */
		     "9:\tnop\n\t"
		     "movl $1b, want\n\t"
		     "movl $2b, want+4\n\t"
		     "movl $3b, want+8\n\t"
		     "movl $4b, want+12\n\t"
		     "movl $5b, want+16\n\t"
		     "movl $6b, want+20\n\t"
		     "movl $7b, want+24\n\t"
		     "movl $8b, want+28\n\t"
		     "movl $9b, want+32\n\t"
		     : : : "eax", "ebx", "ecx", "edx", "memory", "cc");
	check_steps("XOR, CPUID, MOV, RDMSR, MOV, IN, PUSHF, AND, POPF", 9);
}

/* MOV SS blocks the #DB at the boundary after it: the first one comes after CPUID. */
static void step_mov_ss(void)
{
	db_count = 0;
	clear_dr6();
	asm volatile("movl %0, %%eax\n\t"
		     "pushfl\n\t"
		     "orl $0x100, (%%esp)\n\t"
		     "popfl\n\t"
		     "mov %%ax, %%ss\n\t"        /* #DB deferred past the next instruction */
		     "cpuid\n"
		     "1:\tpushfl\n"
		     "2:\tandl $~0x100, (%%esp)\n"
		     "3:\tpopfl\n"
		     "4:\tnop\n\t"
		     "movl $1b, want\n\t"
		     "movl $2b, want+4\n\t"
		     "movl $3b, want+8\n\t"
		     "movl $4b, want+12\n\t"
		     : : "i"(SEL_KDATA) : "eax", "ebx", "ecx", "edx", "memory", "cc");
	check_steps("MOV SS, CPUID, PUSHF, AND, POPF", 4);
}

void test_main(void)
{
	test__begin("single-step");
	trap__set_handler(VEC_DB, on_db);
	step_emulated();
	step_mov_ss();
	test__done();
}
