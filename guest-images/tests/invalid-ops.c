/*
 * invalid-ops.c: guest "invalid-ops": encodings a CPU refuses, each executed at CPL 0
 * and at CPL 3 in 32-bit protected mode, checked for the exception it must raise (SDM
 * vol. 2 Appendix A opcode maps, LOCK, each instruction's exception list): undefined
 * opcodes, register forms of memory-only instructions, LOCK on what cannot be locked,
 * VEX without AVX enabled, instructions whose enabling bit is clear (XGETBV, VMX, SMX,
 * RSM outside SMM), RDPMC from ring 3, an IRET with EFLAGS.NT whose TSS back link is
 * null (#TS), and LGDT of memory where no RAM is (read as QEMU TCG reads unassigned
 * memory: zeros).
 * A VMM that interprets kernel code must give the same faults, not stop the guest.
 *
 * Chosen so that QEMU TCG and hardware agree; where QEMU differs the case is left out
 * (and checked in tests/unit/test_exit.c): RDPMC is #UD in QEMU, #GP on hardware; QEMU
 * runs LOCK MOV and POP r/m with reg 1-7. The 64-bit-mode cases are in the unit tests
 * and the fuzz harness.
 */
#include "desc.h"
#include "printf.h"
#include "test.h"
#include "trap.h"
#include "user.h"
#include "x86.h"

#define NO_RAM 0x40000000u /* 1 GiB: beyond the RAM of either VMM's test runs */

/* One encoding: raw bytes, run with EAX pointing at scratch memory. */
#define CASES(X)                                                                   \
	X(".byte 0x8d, 0xc3", "LEA with a register operand")                       \
	X(".byte 0x0f, 0x00, 0xf0", "0F 00 /6 (undefined)")                        \
	X(".byte 0x0f, 0x00, 0xf8", "0F 00 /7 (undefined)")                        \
	X(".byte 0x0f, 0x01, 0xc4", "VMXOFF (VMX not enabled)")                    \
	X(".byte 0x0f, 0x01, 0xc1", "VMCALL (not in VMX operation)")               \
	X(".byte 0x0f, 0x01, 0xd0", "XGETBV with CR4.OSXSAVE=0")                   \
	X(".byte 0x0f, 0x37", "GETSEC with CR4.SMXE=0")                            \
	X(".byte 0x0f, 0xaa", "RSM outside SMM")                                   \
	X(".byte 0xf0, 0x90", "LOCK NOP")                                          \
	X(".byte 0xf0, 0x01, 0xc0", "LOCK ADD to a register")                      \
	X(".byte 0xc5, 0xf8, 0x77", "VZEROUPPER with CR4.OSXSAVE=0")               \
	X(".byte 0xc4, 0xc0", "LES with a register operand (a VEX escape)")        \
	X(".byte 0x62, 0xc0", "BOUND with a register operand (an EVEX escape)")    \
	X(".byte 0x0f, 0xb2, 0xc0", "LSS with a register operand")                 \
	X(".byte 0x0f, 0x01, 0xf8", "SWAPGS outside 64-bit mode")                  \
	X(".byte 0xf3, 0x0f, 0xae, 0xc0", "RDFSBASE outside 64-bit mode")          \
	X(".byte 0x0f, 0xc7, 0xc8", "CMPXCHG8B with a register operand")           \
	X(".byte 0x0f, 0x0b", "UD2")                                               \
	X(".byte 0x0f, 0xb9, 0xc0", "UD1")                                         \
	X(".byte 0x0f, 0xff, 0xc0", "UD0")

#define NCASES 20

static u8 scratch[64] __aligned(16);
static volatile u32 got_vec[NCASES], got_err[NCASES];

/* Runs every case where it is called (ring 0 or ring 3) and records what was caught. */
static u32 run_cases(u32 unused)
{
	unsigned i = 0;

	(void)unused;
#define RUN(bytes, what)                                                             \
	trap__arm();                                                                 \
	asm volatile(TRAP_TRY(bytes) : : "a"(scratch), "c"(0) : "memory", "cc");     \
	got_vec[i] = trap__last.vector;                                              \
	got_err[i] = trap__last.count == 1 ? 0 : 0xdead;                             \
	i++;
	CASES(RUN)
#undef RUN
	return i;
}

static void check_cases(unsigned cpl)
{
	static const char *const what[] = {
#define NAME(bytes, w) w,
		CASES(NAME)
#undef NAME
	};
	_Static_assert(sizeof(what) / sizeof(what[0]) == NCASES, "NCASES");
	u32 n = cpl ? user__run(run_cases, 0, FL_FIXED) : run_cases(0);

	test__eq_dec(NCASES, n, "CPL%u: every case ran", cpl);
	for (unsigned i = 0; i < NCASES; i++)
		test__ok(got_vec[i] == VEC_UD && got_err[i] == 0,
			 "CPL%u: %s: #UD (got %s x%s)", cpl, what[i], trap__name(got_vec[i]),
			 got_err[i] ? "many" : "1");
}

/* #TS from the IRET: the handler records it and resumes with NT clear (the frame
 * holds the NT=1 EFLAGS, which its own IRET would take as another task return). */
static void ts_handler(struct trap_frame *f)
{
	trap__record(f);
	f->eflags &= ~FL_NT;
	f->eip = trap__resume;
	trap__resume = 0;
}

static void check_task_return(void)
{
	u16 saved = tss__main.link;

	tss__main.link = 0;
	trap__set_handler(VEC_TS, ts_handler);
	trap__arm();
	asm volatile("movl %%esp, %%ebx\n\t"
		     "pushfl\n\t"
		     "orl %0, (%%esp)\n\t"
		     "popfl\n\t" TRAP_TRY("iret") "movl %%ebx, %%esp"
		     : : "i"(FL_NT) : "ebx", "memory", "cc");
	trap__set_handler(VEC_TS, NULL);
	tss__main.link = saved;
	trap__expect(VEC_TS, 0, "IRET with NT=1 and a null TSS back link: #TS(0)");
	test__ok(!(read_eflags() & FL_NT), "NT is clear again");
}

static void check_lgdt_without_ram(void)
{
	struct dtr mine, loaded;

	sgdt(&mine);
	cli();
	lgdt((const struct dtr *)NO_RAM);
	sgdt(&loaded);
	lgdt(&mine);
	test__eq(0, loaded.limit, "LGDT of memory beyond RAM: the limit reads as zero");
	test__eq(0, loaded.base, "LGDT of memory beyond RAM: the base reads as zero");
}

void test_main(void)
{
	test__begin("invalid-ops");
	user__init();
	check_cases(0);
	check_cases(3);
	check_task_return();
	check_lgdt_without_ram();
	test__skip("64-bit mode", "covered by tests/unit/test_exit.c and fuzz_emulate");
	test__done();
}
