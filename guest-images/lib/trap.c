/*
 * trap.c: C side of the trap stubs: per-vector handler table, the recovery path that
 * lets a test execute a faulting instruction and inspect what was delivered, and the
 * report for traps nobody expected.
 */
#include "trap.h"
#include "desc.h"
#include "pic.h"
#include "printf.h"
#include "test.h"
#include "x86.h"

volatile u32 trap__resume;
volatile u32 trap__insn;
volatile u32 trap__end;
volatile struct trap_record trap__last;

static trap_handler_fn handlers[256];
static u32 counts[256];

void trap__dispatch(struct trap_frame *f);

void trap__set_handler(int vec, trap_handler_fn fn)
{
	handlers[vec] = fn;
}

u32 trap__count(int vec)
{
	return counts[vec];
}

void trap__arm(void)
{
	trap__last.vector = TRAP_NONE;
	trap__last.error = 0;
	trap__last.eip = 0;
	trap__last.count = 0;
}

u32 trap__frame_esp(const struct trap_frame *f)
{
	if (f->cs & 3)
		return f->user_esp;
	return (u32)(uintptr_t)&f->user_esp;
}

void trap__record(const struct trap_frame *f)
{
	trap__last.vector = f->vector;
	trap__last.error = f->error;
	trap__last.eip = f->eip;
	trap__last.cs = f->cs & 0xffff;
	trap__last.eflags = f->eflags;
	trap__last.esp = trap__frame_esp(f);
	trap__last.ss = (f->cs & 3) ? (f->user_ss & 0xffff) : read_ss();
	trap__last.cr2 = read_cr2();
	trap__last.handler_eflags = read_eflags();
	trap__last.handler_esp = (u32)(uintptr_t)f;
	trap__last.count++;
}

static const char *const names[] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(9)", "#TS",
	"#NP", "#SS", "#GP", "#PF", "vec15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

const char *trap__name(u32 vector)
{
	if (vector == TRAP_NONE)
		return "none";
	if (vector < ARRAY_SIZE(names))
		return names[vector];
	return "int";
}

/* An IRQ7/IRQ15 with its ISR bit clear is a spurious 8259 interrupt: ignore it. */
static bool spurious_irq(u32 vector)
{
	if (vector == PIC_MASTER_BASE + 7)
		return !(pic__isr() & 0x80);
	if (vector == PIC_SLAVE_BASE + 7) {
		if (pic__isr() & 0x8000)
			return false;
		pic__eoi(2); /* the master saw a real IRQ2 */
		return true;
	}
	return false;
}

void trap__dispatch(struct trap_frame *f)
{
	u32 v = f->vector;

	counts[v]++;
	if (handlers[v]) {
		handlers[v](f);
		return;
	}
	if (trap__resume) {
		trap__record(f);
		f->eip = trap__resume;
		f->eflags &= ~FL_TF; /* a single-step test ends at its first #DB */
		trap__resume = 0;
		/* After #DF the saved CS:EIP are undefined (SDM 6.15): force ours. */
		if (v == VEC_DF)
			f->cs = SEL_KCODE;
		return;
	}
	if (v >= PIC_MASTER_BASE && spurious_irq(v))
		return;
	test__ok(false, "unexpected %s (vector %u) error 0x%x at %04x:%08x eflags 0x%x",
		 trap__name(v), v, f->error, f->cs & 0xffff, f->eip, f->eflags);
	test__done();
}

bool trap__expect(u32 vector, u32 error, const char *fmt, ...)
{
	char what[160], exp[48], got[48];
	bool ok;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	trap__resume = 0;
	ok = trap__last.vector == vector &&
	     (vector == TRAP_NONE || trap__last.count == 1) &&
	     (vector == TRAP_NONE || error == TRAP_NOERR || trap__last.error == error);
	if (error == TRAP_NOERR || vector == TRAP_NONE)
		snprintf(exp, sizeof(exp), "%s", trap__name(vector));
	else
		snprintf(exp, sizeof(exp), "%s(0x%x)", trap__name(vector), error);
	if (trap__last.vector == TRAP_NONE)
		snprintf(got, sizeof(got), "none");
	else
		snprintf(got, sizeof(got), "%s(0x%x) x%u at %08x", trap__name(trap__last.vector),
			 trap__last.error, trap__last.count, trap__last.eip);
	return test__report(ok, exp, got, "%s", what);
}
