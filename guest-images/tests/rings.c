/*
 * rings.c: guest "rings": ring 0 -> ring 3 -> ring 0 transitions (SDM vol. 3 6.12,
 * 5.8, 20.5 and IRET in vol. 2): IRET to ring 3, the user-mode view (CPL, nulled data
 * segments, IOPL and the TSS I/O bitmap, instructions that are privileged or
 * restricted at CPL3), INT 0x80 through a DPL3 gate onto the TSS ring-0 stack and
 * back, faults and hardware interrupts taken in ring 3, and a 1000-fold round trip.
 * Ring-3 bodies only compute and store; ring 0 prints the checks.
 */
#include "clock.h"
#include "desc.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "user.h"
#include "x86.h"

#define SYSCALL_VECTOR 0x80
#define SCRATCH_PORT 0x3ff /* COM1 scratch register: harmless to read and write */
#define FRAME_RING3_SIZE (sizeof(struct trap_frame))

/* What the INT 0x80 handler saw. */
static volatile struct {
	u32 count;
	u32 eip, cs, eflags, esp, ss;
	u32 frame_end; /* address just above the hardware frame */
	u32 handler_ss;
	u32 cr0_fault; /* vector if the privileged probe inside the handler faulted */
} sc;

static void syscall_handler(struct trap_frame *f)
{
	u32 dummy = 0;

	sc.count++;
	sc.eip = f->eip;
	sc.cs = f->cs & 0xffff;
	sc.eflags = f->eflags;
	sc.esp = f->user_esp;
	sc.ss = f->user_ss & 0xffff;
	sc.frame_end = (u32)(uintptr_t)(f + 1);
	sc.handler_ss = read_ss();
	/* Runs at CPL0: a privileged instruction here must not fault. */
	trap__arm();
	asm volatile(TRAP_TRY("mov %%cr0, %0") : "+r"(dummy) : : "memory");
	sc.cr0_fault = trap__last.vector;
	/* A syscall: EAX = EBX + ECX + EDX + ESI + EDI + 1000 * EAX. */
	f->eax = f->ebx + f->ecx + f->edx + f->esi + f->edi + 1000 * f->eax;
}

/* Ring-3 observations. */
static volatile struct {
	u32 cs, ss, ds;
	u32 esp_before, eip_after;
	u32 result, cs_after;
	u32 eflags;
	u32 loops_ok;
} u;

static u32 user_observe(u32 arg)
{
	u.cs = read_cs();
	u.ss = read_ss();
	u.ds = read_ds();
	u.eflags = read_eflags();
	return arg + 1;
}

static u32 user_syscall(u32 arg)
{
	u32 r;

	asm volatile("movl %%esp, %1\n\t"
		     "movl $1f, %2\n\t"
		     "int $0x80\n"
		     "1:"
		     : "=a"(r), "=m"(u.esp_before), "=m"(u.eip_after)
		     : "a"(arg), "b"(1), "c"(20), "d"(300), "S"(4000), "D"(50000) : "memory");
	u.result = r;
	u.cs_after = read_cs();
	return r;
}

static u32 user_syscall_loop(u32 n)
{
	u32 i, r, ok = 0;

	for (i = 0; i < n; i++) {
		asm volatile("int $0x80" : "=a"(r) : "a"(i), "b"(i), "c"(1), "d"(0), "S"(0), "D"(0)
			     : "memory");
		if (r == 1001 * i + 1)
			ok++;
	}
	u.loops_ok = ok;
	return ok;
}

/* One instruction (asm text) at CPL3 under TRAP_TRY; returns the vector seen. */
#define USER_TRY(name, insn, ...)                                                \
	static u32 name(u32 arg)                                                 \
	{                                                                        \
		(void)arg;                                                       \
		trap__arm();                                                     \
		asm volatile(TRAP_TRY(insn) __VA_ARGS__);                       \
		return trap__last.vector;                                        \
	}

USER_TRY(user_cli, "cli", : : : "memory")
USER_TRY(user_sti, "sti", : : : "memory")
USER_TRY(user_hlt, "hlt", : : : "memory")
USER_TRY(user_in_3ff, "inb %%dx, %%al", : : "d"(SCRATCH_PORT) : "eax", "memory")
USER_TRY(user_in_3fe, "inb %%dx, %%al", : : "d"(SCRATCH_PORT - 1) : "eax", "memory")
USER_TRY(user_inw_3fe, "inw %%dx, %%ax", : : "d"(SCRATCH_PORT - 1) : "eax", "memory")
USER_TRY(user_out_80, "outb %%al, $0x80", : : "a"(0) : "memory")
USER_TRY(user_rdtsc, "rdtsc", : : : "eax", "edx", "memory")
USER_TRY(user_rdpmc, "rdpmc", : : "c"(0) : "eax", "edx", "memory")
USER_TRY(user_rd_cr0, "mov %%cr0, %%eax", : : : "eax", "memory")
USER_TRY(user_wr_cr3, "mov %%eax, %%cr3", : : "a"(0) : "memory")
USER_TRY(user_lgdt, "lgdt %0", : : "m"(gdt__dtr) : "memory")
USER_TRY(user_lidt, "lidt %0", : : "m"(idt__dtr) : "memory")
USER_TRY(user_lldt, "lldt %%ax", : : "a"(0) : "memory")
USER_TRY(user_ltr, "ltr %%ax", : : "a"(SEL_TSS) : "memory")
USER_TRY(user_clts, "clts", : : : "memory")
USER_TRY(user_lmsw, "lmsw %%ax", : : "a"(1) : "memory")
USER_TRY(user_invd, "invd", : : : "memory")
USER_TRY(user_wbinvd, "wbinvd", : : : "memory")
USER_TRY(user_invlpg, "invlpg (%%eax)", : : "a"(0) : "memory")
USER_TRY(user_rdmsr, "rdmsr", : : "c"(MSR_SYSENTER_CS) : "eax", "edx", "memory")
USER_TRY(user_wrmsr, "wrmsr", : : "c"(MSR_SYSENTER_CS), "a"(0), "d"(0) : "memory")
USER_TRY(user_mov_dr7, "mov %%dr7, %%eax", : : : "eax", "memory")
USER_TRY(user_ljmp_ring0, "ljmp $0x08, $8002f", : : : "memory")
USER_TRY(user_load_kds, "movw %%ax, %%ds", : : "a"(SEL_KDATA) : "memory")
USER_TRY(user_int3, "int3", : : : "memory")

static struct dtr user_gdtr, user_idtr;
static u32 user_msw, user_tr;

static u32 user_store_regs(u32 arg)
{
	(void)arg;
	sgdt(&user_gdtr);
	sidt(&user_idtr);
	asm volatile("smsw %0" : "=r"(user_msw));
	user_tr = str();
	return 0;
}

static u32 user_scratch(u32 value)
{
	outb(SCRATCH_PORT, (u8)value);
	return inb(SCRATCH_PORT);
}

static u32 user_popf(u32 arg)
{
	u32 f = read_eflags();

	(void)arg;
	/* POPF at CPL3 > IOPL: IF and IOPL are left alone, silently. */
	write_eflags(f ^ FL_IF ^ FL_IOPL(3));
	return read_eflags() ^ f;
}

static u32 user_iopl3(u32 arg)
{
	u32 bad = 0;

	(void)arg;
	trap__arm();
	asm volatile(TRAP_TRY("cli\n\tsti") : : : "memory");
	if (trap__last.vector != TRAP_NONE)
		bad |= 1;
	trap__arm();
	asm volatile(TRAP_TRY("outb %%al, %%dx\n\tinb %%dx, %%al") : "+a"(arg)
		     : "d"(SCRATCH_PORT) : "memory");
	if (trap__last.vector != TRAP_NONE)
		bad |= 2;
	if ((arg & 0xff) != 0x5c)
		bad |= 4;
	if ((read_eflags() & FL_IOPL_MASK) != FL_IOPL(3))
		bad |= 8;
	return bad;
}

static volatile u32 irq_count, irq_cs, irq_frame_end;
static u64 irq_deadline; /* computed in ring 0: calibrating needs port I/O */

static void irq0_handler(struct trap_frame *f)
{
	irq_count++;
	irq_cs = f->cs & 0xffff;
	irq_frame_end = (u32)(uintptr_t)(f + 1);
	pic__eoi(0);
}

static u32 user_wait_irq(u32 arg)
{
	(void)arg;
	while (irq_count == 0 && !clock__expired(irq_deadline))
		pause();
	return irq_count;
}

static void check_entry(void)
{
	u32 r = user__run(user_observe, 41, FL_FIXED);

	test__eq_dec(42, r, "IRET to ring 3, call, INT back: result returned");
	test__eq(3, u.cs & 3, "CS.RPL (CPL) is 3 in ring 3 (cs 0x%x)", u.cs);
	test__eq(SEL_UCODE, u.cs, "CS in ring 3 is the user code selector");
	test__eq(SEL_UDATA, u.ss, "SS in ring 3 is the user data selector");
	test__eq(0, user__entry_ds & 0xffff, "IRET to ring 3 nulls DS holding a DPL0 selector");
	test__eq(SEL_UDATA, u.ds, "DS loadable with the user data selector in ring 3");
	test__eq(0, u.eflags & FL_IOPL_MASK, "ring 3 runs with the IOPL from the IRET frame (0)");
}

static void check_syscall(void)
{
	u32 r;

	memset((void *)&sc, 0, sizeof(sc));
	r = user__run(user_syscall, 7, FL_FIXED);
	test__eq_dec(7 * 1000 + 54321, r, "INT 0x80: arguments in, result out, back in ring 3");
	test__eq_dec(1, sc.count, "INT 0x80 handler ran once");
	test__eq(TRAP_NONE, sc.cr0_fault, "handler runs at CPL0 (MOV from CR0 does not fault)");
	test__eq(tss__esp0(), sc.frame_end, "handler frame sits at the TSS ESP0");
	test__eq(SEL_KDATA, sc.handler_ss & 0xfffc, "handler SS is the TSS SS0");
	test__eq(SEL_UCODE, sc.cs, "frame CS is the user CS (RPL 3)");
	test__eq(u.eip_after, sc.eip, "frame EIP is the instruction after INT 0x80");
	test__eq(SEL_UDATA, sc.ss, "frame SS is the user SS");
	test__eq(u.esp_before, sc.esp, "frame ESP is the user ESP at the INT");
	test__eq(FL_FIXED, sc.eflags & ~(u32)0x8d5, "frame EFLAGS: IF=0 IOPL=0 as in ring 3");
	test__eq(3, u.cs_after & 3, "IRET from the handler continues in ring 3");

	sc.count = 0;
	r = user__run(user_syscall_loop, 1000, FL_FIXED | FL_IF);
	test__eq_dec(1000, sc.count, "1000 INT 0x80 round trips: handler count");
	test__eq_dec(1000, r, "1000 INT 0x80 round trips: every result right");
	test__ok(sc.eflags & FL_IF, "frame EFLAGS has IF=1 when ring 3 ran with IF=1");
}

static void expect_user_gp(user_fn fn, u32 error, const char *what)
{
	user__run(fn, 0, FL_FIXED);
	trap__expect(VEC_GP, error, "ring 3: %s", what);
}

static void check_faults(void)
{
	u32 cr4 = read_cr4();

	user__run(user_hlt, 0, FL_FIXED);
	trap__expect(VEC_GP, 0, "ring 3: HLT raises #GP(0)");
	test__eq(SEL_UCODE, trap__last.cs, "HLT #GP frame CS is the user CS");
	test__eq(trap__insn, trap__last.eip, "HLT #GP frame EIP is the HLT");
	test__eq(SEL_UDATA, trap__last.ss, "HLT #GP frame SS is the user SS");
	test__range((u32)(uintptr_t)user__stack_top - 256, (u32)(uintptr_t)user__stack_top - 4,
		    trap__last.esp, "HLT #GP frame ESP is on the user stack");
	test__eq(tss__esp0() - FRAME_RING3_SIZE, trap__last.handler_esp,
		 "HLT #GP delivered on the ring-0 stack from the TSS");

	expect_user_gp(user_cli, 0, "CLI with IOPL 0 raises #GP(0)");
	expect_user_gp(user_sti, 0, "STI with IOPL 0 raises #GP(0)");
	expect_user_gp(user_in_3ff, 0, "IN without I/O bitmap permission raises #GP(0)");
	expect_user_gp(user_out_80, 0, "OUT without I/O bitmap permission raises #GP(0)");
	expect_user_gp(user_rd_cr0, 0, "MOV from CR0 raises #GP(0)");
	expect_user_gp(user_wr_cr3, 0, "MOV to CR3 raises #GP(0)");
	expect_user_gp(user_lgdt, 0, "LGDT raises #GP(0)");
	expect_user_gp(user_lidt, 0, "LIDT raises #GP(0)");
	expect_user_gp(user_lldt, 0, "LLDT raises #GP(0)");
	expect_user_gp(user_ltr, 0, "LTR raises #GP(0)");
	expect_user_gp(user_clts, 0, "CLTS raises #GP(0)");
	expect_user_gp(user_lmsw, 0, "LMSW raises #GP(0)");
	expect_user_gp(user_invd, 0, "INVD raises #GP(0)");
	expect_user_gp(user_wbinvd, 0, "WBINVD raises #GP(0)");
	expect_user_gp(user_invlpg, 0, "INVLPG raises #GP(0)");
	expect_user_gp(user_rdmsr, 0, "RDMSR raises #GP(0)");
	expect_user_gp(user_wrmsr, 0, "WRMSR raises #GP(0)");
	expect_user_gp(user_mov_dr7, 0, "MOV from DR7 raises #GP(0)");
	expect_user_gp(user_ljmp_ring0, SEL_KCODE, "far JMP to DPL0 code raises #GP(sel)");
	expect_user_gp(user_load_kds, SEL_KDATA, "MOV DS with a DPL0 selector raises #GP(sel)");
	expect_user_gp(user_rdpmc, 0, "RDPMC with CR4.PCE=0 raises #GP(0)");

	write_cr4(cr4 | CR4_TSD);
	expect_user_gp(user_rdtsc, 0, "RDTSC with CR4.TSD=1 raises #GP(0)");
	write_cr4(cr4 & ~CR4_TSD);
	user__run(user_rdtsc, 0, FL_FIXED);
	trap__expect(TRAP_NONE, 0, "ring 3: RDTSC with CR4.TSD=0 is allowed");
	write_cr4(cr4);

	idt__set_stub(VEC_BP, GATE_TRAP32, 3);
	user__run(user_int3, 0, FL_FIXED);
	idt__set_stub(VEC_BP, GATE_INT32, 0);
	trap__expect(VEC_BP, TRAP_NOERR, "ring 3: INT3 through a DPL3 gate delivers #BP");
	test__eq(SEL_UCODE, trap__last.cs, "#BP from ring 3: frame CS is the user CS");
}

static void check_io(void)
{
	u32 r;

	tss__allow_port(SCRATCH_PORT, true);
	r = user__run(user_scratch, 0xa7, FL_FIXED);
	test__eq(0xa7, r, "ring 3: OUT/IN allowed by the TSS I/O bitmap (scratch 0x%x)", SCRATCH_PORT);
	r = user__run(user_scratch, 0x3c, FL_FIXED);
	test__eq(0x3c, r, "ring 3: second value through the permitted port");
	expect_user_gp(user_in_3fe, 0, "IN from the neighbouring port not in the bitmap: #GP(0)");
	expect_user_gp(user_inw_3fe, 0, "16-bit IN spanning a denied port: #GP(0)");
	tss__allow_port(SCRATCH_PORT, false);
	expect_user_gp(user_in_3ff, 0, "IN after revoking the bitmap bit: #GP(0)");

	r = user__run(user_popf, 0, FL_FIXED | FL_IF);
	test__eq(0, r & FL_IF, "ring 3 POPF at IOPL 0 leaves IF unchanged");
	test__eq(0, r & FL_IOPL_MASK, "ring 3 POPF leaves IOPL unchanged");

	r = user__run(user_iopl3, 0x5c, FL_FIXED | FL_IOPL(3));
	test__eq(0, r & 1, "ring 3 with IOPL=3 (IRET frame): CLI/STI allowed");
	test__eq(0, r & 2, "ring 3 with IOPL=3: IN/OUT allowed without bitmap permission");
	test__eq(0, r & 4, "ring 3 with IOPL=3: the port I/O took effect");
	test__eq(0, r & 8, "ring 3 with IOPL=3: PUSHF shows IOPL 3");

	user__run(user_store_regs, 0, FL_FIXED);
	test__eq(gdt__dtr.base, user_gdtr.base, "ring 3 SGDT (UMIP off) returns the guest GDT base");
	test__eq(idt__dtr.base, user_idtr.base, "ring 3 SIDT (UMIP off) returns the guest IDT base");
	test__eq(read_cr0() & 0xffff, user_msw & 0xffff, "ring 3 SMSW returns the guest CR0[15:0]");
	test__eq(SEL_TSS, user_tr & 0xffff, "ring 3 STR returns the guest TR");
}

static void check_irq_in_ring3(void)
{
	u32 r;

	irq_count = 0;
	trap__set_handler(PIC_MASTER_BASE, irq0_handler);
	pit__start(0, PIT_MODE_RATE, pit__divisor(1000));
	irq_deadline = clock__deadline_ms(2000);
	pic__mask(0, false);
	r = user__run(user_wait_irq, 0, FL_FIXED | FL_IF);
	pic__mask(0, true);
	trap__set_handler(PIC_MASTER_BASE, NULL);
	test__ok(r >= 1, "IRQ0 arrives while ring 3 runs with IF=1 (%u)", r);
	test__eq(SEL_UCODE, irq_cs, "IRQ0 frame CS is the user CS");
	test__eq(tss__esp0(), irq_frame_end, "IRQ0 from ring 3 is delivered on the TSS stack");
}

void test_main(void)
{
	test__begin("rings");
	user__init();
	idt__set_stub(SYSCALL_VECTOR, GATE_INT32, 3);
	trap__set_handler(SYSCALL_VECTOR, syscall_handler);
	check_entry();
	check_syscall();
	check_faults();
	check_io();
	check_irq_in_ring3();
}
