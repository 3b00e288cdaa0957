/*
 * test_ioapic.c: the I/O APIC through its MMIO window: ID/version/arbitration, the
 * redirection table's writable and read-only bits, edge and level delivery, masking,
 * remote IRR and the EOI broadcast (the kvm-unit-tests ioapic sequences: coalesced and
 * retriggered level interrupts, a level pin unmasked while asserted).
 */
#include <check.h>

#include "check_run.h"
#include "fakes.h"
#include "ioapic.h"

struct msg { uint8_t dest; bool logical; unsigned mode, vector; bool level; };

static struct bus mmio;
static struct ioapic io;
static struct msg msgs[64];
static unsigned nmsgs;

static void record(void *ctx, uint8_t dest, bool logical, unsigned mode, unsigned vector, bool level)
{
	(void)ctx;
	if (nmsgs < 64)
		msgs[nmsgs] = (struct msg){ dest, logical, mode, vector, level };
	nmsgs++;
}

static void setup(void)
{
	nmsgs = 0;
	bus__init(&mmio, "mmio");
	struct ioapic_ops ops = { record, NULL };
	ioapic__init(&io, &ops);
	ck_assert_int_eq(ioapic__register(&io, &mmio), 0);
}

static uint32_t rreg(unsigned r)
{
	uint32_t v = r;
	bus__access(&mmio, IOAPIC_BASE, &v, 4, true);
	bus__access(&mmio, IOAPIC_BASE + 0x10, &v, 4, false);
	return v;
}

static void wreg(unsigned r, uint32_t v)
{
	uint32_t sel = r;
	bus__access(&mmio, IOAPIC_BASE, &sel, 4, true);
	bus__access(&mmio, IOAPIC_BASE + 0x10, &v, 4, true);
}

static void redir(unsigned pin, uint32_t lo, uint8_t dest)
{
	wreg(0x11 + 2 * pin, (uint32_t)dest << 24);
	wreg(0x10 + 2 * pin, lo);
}

START_TEST(test_registers)
{
	ck_assert_uint_eq(rreg(1), 0x170020);
	wreg(1, 0);
	ck_assert_uint_eq(rreg(1), 0x170020);
	wreg(0, 0xffffffff);
	ck_assert_uint_eq(rreg(0), 0x0f000000);
	ck_assert_uint_eq(rreg(2), 0x0f000000);     /* arbitration follows the ID */
	wreg(2, 0);
	ck_assert_uint_eq(rreg(2), 0x0f000000);
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		ck_assert_uint_eq(rreg(0x10 + 2 * p), 0x10000);   /* masked at reset */
	/* Delivery status and remote IRR cannot be written; the rest can. */
	wreg(0x10, 0xffffffff);
	ck_assert_uint_eq(rreg(0x10), 0x1afff);
	wreg(0x11, 0xffffffff);
	ck_assert_uint_eq(rreg(0x11), 0xff000000);
	uint32_t sel = 0;
	bus__access(&mmio, IOAPIC_BASE, &sel, 4, false);
	ck_assert_uint_eq(sel, 0x11);
}
END_TEST

START_TEST(test_edge_and_mask)
{
	redir(14, 0x76, 0);
	ioapic__set_irq(&io, 14, 1);
	ioapic__set_irq(&io, 14, 1);          /* no new edge */
	ioapic__set_irq(&io, 14, 0);
	ck_assert_uint_eq(nmsgs, 1);
	ck_assert_uint_eq(msgs[0].vector, 0x76);
	ck_assert(!msgs[0].level);
	/* A masked edge is lost, not held for the unmask. */
	redir(14, 0x10081, 0);
	ioapic__set_irq(&io, 14, 1);
	ioapic__set_irq(&io, 14, 0);
	redir(14, 0x81, 0);
	ck_assert_uint_eq(nmsgs, 1);
	ioapic__set_irq(&io, 14, 1);
	ck_assert_uint_eq(nmsgs, 2);
	/* Logical destination, lowest priority, the destination byte pass through. */
	redir(3, 0x00000933, 0x0c);
	ioapic__set_irq(&io, 3, 1);
	ck_assert_uint_eq(nmsgs, 3);
	ck_assert(msgs[2].logical);
	ck_assert_uint_eq(msgs[2].mode, 1);
	ck_assert_uint_eq(msgs[2].dest, 0x0c);
}
END_TEST

START_TEST(test_level_remote_irr)
{
	redir(14, 0x8099, 0);                 /* level, vector 0x99 */
	ioapic__set_irq(&io, 14, 1);
	ck_assert_uint_eq(nmsgs, 1);
	ck_assert(msgs[0].level);
	ck_assert(rreg(0x10 + 28) & 0x4000);  /* remote IRR */
	ioapic__set_irq(&io, 14, 1);          /* held: no second message before the EOI */
	ioapic__set_irq(&io, 14, 0);
	ioapic__set_irq(&io, 14, 1);
	ck_assert_uint_eq(nmsgs, 1);
	ioapic__eoi(&io, 0x98);               /* another vector: nothing */
	ck_assert(rreg(0x10 + 28) & 0x4000);
	ioapic__eoi(&io, 0x99);               /* still asserted: delivered again */
	ck_assert_uint_eq(nmsgs, 2);
	ioapic__set_irq(&io, 14, 0);
	uint32_t vec = 0x99;      /* through the EOI register this time */
	bus__access(&mmio, IOAPIC_BASE + 0x40, &vec, 4, true);
	ck_assert(!(rreg(0x10 + 28) & 0x4000));
	ck_assert_uint_eq(nmsgs, 2);
	/* Masked while asserted: nothing until the unmask, then one message. */
	redir(14, 0x18083, 0);
	ioapic__set_irq(&io, 14, 1);
	ck_assert_uint_eq(nmsgs, 2);
	redir(14, 0x8083, 0);
	ck_assert_uint_eq(nmsgs, 3);
	/* Masked by the handler before its EOI: no redelivery until unmasked. */
	redir(14, 0x18083, 0);
	ioapic__eoi(&io, 0x83);
	ck_assert_uint_eq(nmsgs, 3);
	redir(14, 0x8083, 0);
	ck_assert_uint_eq(nmsgs, 4);
	/* Made edge-triggered: remote IRR goes. */
	redir(14, 0x0083, 0);
	ck_assert(!(rreg(0x10 + 28) & 0x4000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ioapic");
	TCase *tc = tcase_create("ioapic");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_registers);
	tcase_add_test(tc, test_edge_and_mask);
	tcase_add_test(tc, test_level_remote_irr);
	suite_add_tcase(s, tc);
	return check_run(s);
}
