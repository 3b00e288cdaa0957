/*
 * test_lapic.c: the local APIC through its MMIO page and MSRs against a fake clock and
 * a fake TSC: reset state, priorities (TPR, PPR, ISR), EOI and the level broadcast, the
 * i8259 through LINT0 and with the APIC disabled, the timer in one-shot, periodic and
 * TSC-deadline modes with the divider and late service, the x2APIC MSR rules and the
 * IA32_APIC_BASE transitions, relocation, ESR and CR8.
 */
#include <check.h>

#include "check_run.h"
#include "fakes.h"
#include "lapic.h"

#define T0 1000000000ULL
#define BASE 0xfee00000ULL

struct env {
	struct fake_clock clk;
	struct bus mmio;
	struct timer_queue tq;
	struct lapic a;
	bool pic_int;           /* the fake i8259's output */
	int pic_acks;
	unsigned eoi_vec, eois;
};

static struct env e;

static bool f_pending(void *ctx) { return ((struct env *)ctx)->pic_int; }
static int f_ack(void *ctx) { ((struct env *)ctx)->pic_acks++; return 0x20; }
static void f_eoi(void *ctx, unsigned v) { ((struct env *)ctx)->eoi_vec = v; ((struct env *)ctx)->eois++; }
/* The guest TSC runs at 2 GHz from 0 at T0. */
static uint64_t f_tsc(void *ctx) { return (((struct env *)ctx)->clk.mono - T0) * 2; }
static uint64_t f_khz(void *ctx) { return 2000000; }

static void setup(void)
{
	memset(&e, 0, sizeof(e));
	fake_clock__init(&e.clk, T0, 0);
	bus__init(&e.mmio, "mmio");
	struct lapic_ops ops = { f_pending, f_ack, f_eoi, f_tsc, f_khz, &e };
	lapic__init(&e.a, &e.clk.vc, &ops, 39, true);
	ck_assert_int_eq(lapic__register(&e.a, &e.mmio, &e.tq), 0);
}

static uint32_t rd(unsigned reg)
{
	uint32_t v = 0;
	ck_assert_int_eq(bus__access(&e.mmio, BASE + reg, &v, 4, false), 0);
	return v;
}

static void wr(unsigned reg, uint32_t v)
{
	ck_assert_int_eq(bus__access(&e.mmio, BASE + reg, &v, 4, true), 0);
}

static void run_to(uint64_t t)
{
	e.clk.mono = t;
	timers__run(&e.tq, t);
}

static bool irr(unsigned v) { return rd(0x200 + (v >> 5) * 16) & (1u << (v & 31)); }
static bool isr(unsigned v) { return rd(0x100 + (v >> 5) * 16) & (1u << (v & 31)); }

START_TEST(test_reset_and_virtual_wire)
{
	uint64_t base;
	ck_assert_int_eq(lapic__msr_read(&e.a, MSR_IA32_APIC_BASE, &base), 0);
	ck_assert_uint_eq(base, 0xfee00900ULL);
	ck_assert_uint_eq(rd(0x30), 0x50014);
	/* As SeaBIOS leaves it: software-enabled, LINT0 ExtINT, LINT1 NMI, the rest masked. */
	ck_assert_uint_eq(rd(0xf0), 0x1ff);
	ck_assert_uint_eq(rd(0x350), 0x8700);
	ck_assert_uint_eq(rd(0x360), 0x8400);
	ck_assert_uint_eq(rd(0x320), 0x10000);
	ck_assert_uint_eq(rd(0x370), 0x10000);
	/* LINT0 ExtINT: the i8259 reaches the CPU (a PIC-only guest). */
	ck_assert(!lapic__has_interrupt(&e.a));
	e.pic_int = true;
	ck_assert(lapic__has_interrupt(&e.a));
	ck_assert_int_eq(lapic__ack(&e.a), 0x20);
	ck_assert_int_eq(e.pic_acks, 1);
	/* Masking LINT0 cuts it off. */
	wr(0x350, 0x10700);
	ck_assert(!lapic__has_interrupt(&e.a));
	wr(0x350, 0x700);
	ck_assert(lapic__has_interrupt(&e.a));
	/* Software-disabling masks every LVT, and they cannot be unmasked then. */
	wr(0xf0, 0x0ff);
	ck_assert_uint_eq(rd(0x350), 0x10700);
	ck_assert(!lapic__has_interrupt(&e.a));
	wr(0x350, 0x700);
	ck_assert_uint_eq(rd(0x350), 0x10700);
	ck_assert(!lapic__has_interrupt(&e.a));
	/* Hardware-disabled: the i8259 goes straight to the CPU, the page reads all ones. */
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00100ULL), 0);
	ck_assert(!lapic__hw_enabled(&e.a));
	ck_assert(lapic__has_interrupt(&e.a));
	ck_assert_uint_eq(rd(0x30), 0xffffffffu);
	lapic__bus_message(&e.a, 0, false, 0, 0x40, false);
	ck_assert_int_eq(lapic__ack(&e.a), 0x20);      /* the message was not taken */
}
END_TEST

START_TEST(test_priority_and_eoi)
{
	wr(0xf0, 0x1ff);
	lapic__bus_message(&e.a, 0, false, 0, 0x31, false);
	lapic__bus_message(&e.a, 0, false, 0, 0x51, true);
	ck_assert(irr(0x31) && irr(0x51));
	ck_assert(rd(0x1a0) & (1u << (0x51 - 0x40)));    /* TMR: level */
	ck_assert_int_eq(lapic__ack(&e.a), 0x51);
	ck_assert(isr(0x51) && !irr(0x51));
	ck_assert_uint_eq(rd(0xa0), 0x50);               /* PPR = ISR class */
	ck_assert(!lapic__has_interrupt(&e.a));          /* 0x31 is below it */
	lapic__bus_message(&e.a, 0, false, 0, 0x61, false);
	ck_assert_int_eq(lapic__ack(&e.a), 0x61);        /* nests above */
	wr(0xb0, 0);
	ck_assert(!isr(0x61) && isr(0x51));
	ck_assert_uint_eq(e.eois, 0);                    /* edge: no broadcast */
	wr(0xb0, 0);
	ck_assert_uint_eq(e.eois, 1);
	ck_assert_uint_eq(e.eoi_vec, 0x51);
	/* TPR holds 0x31 back until lowered; PPR follows it. */
	wr(0x80, 0x40);
	ck_assert_uint_eq(rd(0xa0), 0x40);
	ck_assert(!lapic__has_interrupt(&e.a));
	lapic__set_cr8(&e.a, 2);
	ck_assert_uint_eq(rd(0x80), 0x20);
	ck_assert_uint_eq(lapic__cr8(&e.a), 2);
	ck_assert(lapic__has_interrupt(&e.a));
	ck_assert_int_eq(lapic__ack(&e.a), 0x31);
	/* APIC vectors go before the i8259's; ExtINT ignores the priorities. */
	e.pic_int = true;
	lapic__bus_message(&e.a, 0, false, 0, 0x90, false);
	ck_assert_int_eq(lapic__ack(&e.a), 0x90);
	ck_assert_int_eq(lapic__ack(&e.a), 0x20);
	/* Destinations: another APIC's ID is not us; broadcast and flat logical are. */
	lapic__bus_message(&e.a, 3, false, 0, 0x70, false);
	ck_assert(!irr(0x70));
	wr(0xd0, 0x01000000);
	lapic__bus_message(&e.a, 0x01, true, 0, 0x70, false);
	ck_assert(irr(0x70));
}
END_TEST

START_TEST(test_self_ipi_and_esr)
{
	wr(0xf0, 0x1ff);
	wr(0x310, 0);
	wr(0x300, 0x40000 | 0x45);          /* shorthand self, fixed */
	ck_assert(irr(0x45));
	wr(0x310, 0x05000000);
	wr(0x300, 0x46);                    /* to APIC 5: nobody */
	ck_assert(!irr(0x46));
	wr(0x300, 0x40000 | 0x05);          /* illegal vector */
	ck_assert_uint_eq(rd(0x280), 0);    /* not latched yet */
	wr(0x280, 0);
	ck_assert_uint_eq(rd(0x280), 0x20);
	wr(0x280, 0);
	ck_assert_uint_eq(rd(0x280), 0);
	/* A reserved register sets "illegal register address". */
	(void)rd(0x2f0);
	wr(0x280, 0);
	ck_assert_uint_eq(rd(0x280), 0x80);
	/* NMI to self is held for the VMM. */
	wr(0x300, 0x40000 | 0x400);
	ck_assert(lapic__take_nmi(&e.a));
	ck_assert(!lapic__take_nmi(&e.a));
}
END_TEST

START_TEST(test_timer_oneshot_and_periodic)
{
	wr(0xf0, 0x1ff);
	wr(0x320, 0x40);          /* one-shot, vector 0x40 */
	wr(0x3e0, 0xb);           /* divide by 1 */
	wr(0x380, 1000);
	ck_assert_uint_eq(rd(0x390), 1000);
	run_to(T0 + 400);
	ck_assert_uint_eq(rd(0x390), 600);
	ck_assert(!irr(0x40));
	run_to(T0 + 1000);
	ck_assert(irr(0x40));
	ck_assert_uint_eq(rd(0x390), 0);
	ck_assert_int_eq(lapic__ack(&e.a), 0x40);
	wr(0xb0, 0);
	run_to(T0 + 5000);
	ck_assert(!irr(0x40));
	ck_assert_uint_eq(e.a.stats.timer_fires, 1);

	/* Periodic, divide by 2: a period of 1000 ns; a late service fires once, keeps the
	 * phase and counts the periods it skipped. */
	wr(0x320, 0x20041);
	wr(0x3e0, 0x0);
	wr(0x380, 500);
	run_to(T0 + 6000);
	ck_assert(irr(0x41));
	lapic__ack(&e.a);
	wr(0xb0, 0);
	run_to(T0 + 9500);
	ck_assert(irr(0x41));
	ck_assert_uint_eq(e.a.stats.timer_missed, 2);
	ck_assert_uint_eq(rd(0x390), 250);        /* 500 ns to the next expiry, /2 */
	/* A masked timer keeps counting but delivers nothing. */
	lapic__ack(&e.a);
	wr(0xb0, 0);
	wr(0x320, 0x30041);
	run_to(T0 + 10000);
	ck_assert(!irr(0x41));
	ck_assert_uint_eq(rd(0x390), 500);
}
END_TEST

/* kvm-unit-tests' apic "change mode" sequence: switching one-shot <-> periodic keeps
 * the count; an expired one-shot stays at 0 when switched to periodic. */
START_TEST(test_timer_mode_change)
{
	wr(0xf0, 0x1ff);
	wr(0x3e0, 0xb);
	wr(0x320, 0x10040);
	wr(0x380, 1000);
	run_to(T0 + 600);
	wr(0x320, 0x30040);                   /* periodic, masked */
	ck_assert_uint_eq(rd(0x390), 400);
	e.clk.mono = T0 + 1100;               /* read before the vtimer ran */
	ck_assert_uint_eq(rd(0x390), 900);    /* reloaded */
	wr(0x320, 0x10040);                   /* one-shot again */
	e.clk.mono = T0 + 2500;
	ck_assert_uint_eq(rd(0x390), 0);
	wr(0x320, 0x30040);
	ck_assert_uint_eq(rd(0x390), 0);      /* stays at zero */
	ck_assert_uint_eq(rd(0x380), 1000);
}
END_TEST

START_TEST(test_tsc_deadline)
{
	uint64_t v;
	wr(0xf0, 0x1ff);
	/* Ignored outside TSC-deadline mode. */
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_TSC_DEADLINE, 100), 0);
	ck_assert_int_eq(lapic__msr_read(&e.a, MSR_IA32_TSC_DEADLINE, &v), 0);
	ck_assert_uint_eq(v, 0);
	wr(0x320, 0x40050);
	wr(0x380, 1000);                      /* TMICT is ignored in this mode */
	ck_assert_uint_eq(rd(0x380), 0);
	run_to(T0 + 100);
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_TSC_DEADLINE, 200 + 2000), 0);
	lapic__msr_read(&e.a, MSR_IA32_TSC_DEADLINE, &v);
	ck_assert_uint_eq(v, 2200);
	run_to(T0 + 1099);
	ck_assert(!irr(0x50));
	run_to(T0 + 1100);
	ck_assert(irr(0x50));
	lapic__msr_read(&e.a, MSR_IA32_TSC_DEADLINE, &v);
	ck_assert_uint_eq(v, 0);
	lapic__ack(&e.a);
	wr(0xb0, 0);
	/* A deadline already passed fires at the write (kvm-unit-tests checks this). */
	lapic__msr_write(&e.a, MSR_IA32_TSC_DEADLINE, f_tsc(&e));
	ck_assert(irr(0x50));
	/* Leaving the mode disarms it. */
	lapic__ack(&e.a);
	wr(0xb0, 0);
	lapic__msr_write(&e.a, MSR_IA32_TSC_DEADLINE, f_tsc(&e) + 10);
	wr(0x320, 0x50);
	run_to(T0 + 100000);
	ck_assert(!irr(0x50));
}
END_TEST

START_TEST(test_x2apic_rules)
{
	uint64_t v;
	/* x2APIC MSRs #GP in xAPIC mode. */
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x803, &v), 1);
	/* Transitions: disabled -> x2APIC and the invalid state are refused. */
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00000ULL | APIC_BASE_EXTD), 1);
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00000ULL), 0);
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00c00ULL), 1);
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00800ULL), 0);
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00c00ULL), 0);
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00800ULL), 1);
	ck_assert_uint_eq(rd(0x30), 0xffffffffu);      /* the page is not decoded */
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x803, &v), 0);
	ck_assert_uint_eq(v, 0x50014);
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x802, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x80d, &v), 0);
	ck_assert_uint_eq(v, 1);                        /* cluster 0, bit 0 */
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x802, 1), 1);   /* ID read-only */
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x80b, &v), 1);   /* EOI write-only */
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x83f, &v), 1);   /* SELF_IPI write-only */
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x80e, &v), 1);   /* no DFR */
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x831, &v), 1);   /* no ICR high half */
	ck_assert_int_eq(lapic__msr_read(&e.a, 0x809, &v), 1);   /* no APR */
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x80b, 1), 1);   /* EOI must be 0 */
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x808, 0x100), 1);
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x83f, 0x100), 1);
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x80f, 0x1ff), 0);
	/* ICR is one 64-bit register; SELF_IPI. */
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x830, 0x55), 0);
	ck_assert(e.a.irr[0x55 >> 5] & (1u << (0x55 & 31)));
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x830, (7ULL << 32) | 0x56), 0);
	ck_assert(!(e.a.irr[0x56 >> 5] & (1u << (0x56 & 31))));
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x83f, 0x66), 0);
	ck_assert_int_eq(lapic__ack(&e.a), 0x66);
	ck_assert_int_eq(lapic__msr_write(&e.a, 0x80b, 0), 0);
	ck_assert_int_eq(lapic__ack(&e.a), 0x55);
	/* x2APIC -> disabled -> xAPIC. */
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00000ULL), 0);
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00800ULL), 0);
	ck_assert_uint_eq(rd(0x30), 0x50014);
	/* Reserved bits. */
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00801ULL), 1);
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, (1ULL << 39) | 0xfee00800ULL), 1);
}
END_TEST

START_TEST(test_relocate)
{
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfed40000ULL | APIC_BASE_EN), 0);
	uint32_t v = 0;
	ck_assert_int_eq(bus__access(&e.mmio, 0xfed40030, &v, 4, false), 0);
	ck_assert_uint_eq(v, 0x50014);
	ck_assert_int_eq(bus__access(&e.mmio, BASE + 0x30, &v, 4, false), 1);   /* unclaimed */
	ck_assert_int_eq(lapic__msr_write(&e.a, MSR_IA32_APIC_BASE, 0xfee00900ULL), 0);
	ck_assert_uint_eq(rd(0x30), 0x50014);
	/* Sub-dword reads see the register's bytes; sub-dword writes do nothing. */
	uint8_t b = 0;
	ck_assert_int_eq(bus__access(&e.mmio, BASE + 0x32, &b, 1, false), 0);
	ck_assert_uint_eq(b, 0x05);
	b = 0x20;
	bus__access(&e.mmio, BASE + 0x80, &b, 1, true);
	ck_assert_uint_eq(rd(0x80), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lapic");
	TCase *tc = tcase_create("lapic");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_reset_and_virtual_wire);
	tcase_add_test(tc, test_priority_and_eoi);
	tcase_add_test(tc, test_self_ipi_and_esr);
	tcase_add_test(tc, test_timer_oneshot_and_periodic);
	tcase_add_test(tc, test_timer_mode_change);
	tcase_add_test(tc, test_tsc_deadline);
	tcase_add_test(tc, test_x2apic_rules);
	tcase_add_test(tc, test_relocate);
	suite_add_tcase(s, tc);
	return check_run(s);
}
