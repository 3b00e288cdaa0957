/*
 * test_pci.c: configuration mechanism #1 through ports 0xcf8/0xcfc: the enable bit,
 * byte/word/dword accesses at every offset, the host bridge, absent functions, write
 * masks, BAR sizing and the remap callback on BAR and command changes.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdlib.h>

#include "fakes.h"
#include "pci.h"

struct remap_log {
	unsigned n;
	unsigned bar[8];
	uint64_t old_addr[8], new_addr[8];
};

struct env {
	struct bus pio;
	struct pci pci;
	struct pci_device dev;
	struct remap_log log;
};

static int on_remap(struct pci_device *d, unsigned bar, uint64_t old_addr, uint64_t new_addr)
{
	struct remap_log *l = d->owner;
	if (l->n < 8) {
		l->bar[l->n] = bar;
		l->old_addr[l->n] = old_addr;
		l->new_addr[l->n] = new_addr;
		l->n++;
	}
	return 0;
}

#define DEVFN PCI_DEVFN(3, 0)

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	bus__init(&e->pio, "pio");
	pci__init(&e->pci);
	ck_assert_int_eq(pci__register(&e->pci, &e->pio), 0);
	pci_device__init(&e->dev, 0x1af4, 0x1000, 0x020000, 0);
	ck_assert_int_eq(pci_device__set_bar(&e->dev, 0, PCI_BAR_MEM32, 4096), 0);
	ck_assert_int_eq(pci_device__set_bar(&e->dev, 1, PCI_BAR_IO, 32), 0);
	pci_device__set_irq_pin(&e->dev, 1);
	e->dev.owner = &e->log;
	e->dev.bar_remap = on_remap;
	ck_assert_int_eq(pci__add_device(&e->pci, &e->dev, DEVFN), 0);
}

static uint32_t cfg_addr(unsigned devfn, unsigned off)
{
	return 0x80000000u | devfn << 8 | (off & 0xfc);
}

static uint32_t cfg_read(struct env *e, unsigned devfn, unsigned off, unsigned len)
{
	outl(&e->pio, 0xcf8, cfg_addr(devfn, off));
	return io_in(&e->pio, 0xcfc + (off & 3), len);
}

static void cfg_write(struct env *e, unsigned devfn, unsigned off, uint32_t v, unsigned len)
{
	outl(&e->pio, 0xcf8, cfg_addr(devfn, off));
	io_out(&e->pio, 0xcfc + (off & 3), v, len);
}

START_TEST(test_host_bridge_and_widths)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(cfg_read(&e, 0, 0x00, 4), 0x12378086);
	ck_assert_uint_eq(cfg_read(&e, 0, 0x00, 2), 0x8086);
	ck_assert_uint_eq(cfg_read(&e, 0, 0x02, 2), 0x1237);
	ck_assert_uint_eq(cfg_read(&e, 0, 0x01, 1), 0x80);
	ck_assert_uint_eq(cfg_read(&e, 0, 0x03, 1), 0x12);
	ck_assert_uint_eq(cfg_read(&e, 0, 0x08, 4) >> 8, 0x060000);
	ck_assert_uint_eq(cfg_read(&e, 0, 0x0e, 1), 0x00);
	/* An unaligned word inside the dword is still served byte-accurately. */
	ck_assert_uint_eq(cfg_read(&e, 0, 0x01, 2), 0x3780);

	/* CONFIG_ADDRESS reads back; reserved bits read zero; narrow writes miss it. */
	outl(&e.pio, 0xcf8, 0x80000000);
	ck_assert_uint_eq(inl(&e.pio, 0xcf8), 0x80000000);
	outb(&e.pio, 0xcfb, 0x01);
	ck_assert_uint_eq(inl(&e.pio, 0xcf8), 0x80000000);
	outl(&e.pio, 0xcf8, 0xff000003);
	ck_assert_uint_eq(inl(&e.pio, 0xcf8), 0x80000000);
	ck_assert_uint_eq(inb(&e.pio, 0xcf8), 0xff);

	/* With the enable bit clear the data port decodes nothing. */
	outl(&e.pio, 0xcf8, 0x00000000);
	ck_assert_uint_eq(inl(&e.pio, 0xcfc), 0xffffffff);
	ck_assert_uint_eq(e.pci.stats.disabled, 1);
}
END_TEST

START_TEST(test_absent)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(cfg_read(&e, PCI_DEVFN(5, 0), 0, 4), 0xffffffff);
	ck_assert_uint_eq(cfg_read(&e, PCI_DEVFN(5, 0), 2, 2), 0xffff);
	ck_assert_uint_eq(cfg_read(&e, PCI_DEVFN(0, 1), 0, 1), 0xff);
	/* Bus 1 does not exist. */
	outl(&e.pio, 0xcf8, 0x80010000);
	ck_assert_uint_eq(inl(&e.pio, 0xcfc), 0xffffffff);
	cfg_write(&e, PCI_DEVFN(5, 0), 0x04, 0x7, 2); /* dropped */
	ck_assert_uint_eq(e.pci.stats.absent_reads, 4);
}
END_TEST

START_TEST(test_write_masks)
{
	struct env e;
	setup(&e);
	cfg_write(&e, DEVFN, 0x00, 0xdeadbeef, 4);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x00, 4), 0x10001af4);
	cfg_write(&e, DEVFN, 0x3c, 0xffff, 2); /* line writable, pin read-only */
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x3c, 1), 0xff);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x3d, 1), 0x01);
	cfg_write(&e, DEVFN, 0x0d, 0x40, 1);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x0c, 4), 0x00004000);
	cfg_write(&e, DEVFN, 0x04, 0xffff, 2);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x04, 2), 0x0547);
	/* Status error bits are write-one-to-clear. */
	e.dev.cfg[PCI_STATUS + 1] = 0x30;
	cfg_write(&e, DEVFN, 0x06, 0x1000, 2);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x06, 2), 0x2000);
	/* Host bridge identity is read-only too. */
	cfg_write(&e, 0, 0x00, 0, 4);
	ck_assert_uint_eq(cfg_read(&e, 0, 0x00, 4), 0x12378086);
}
END_TEST

START_TEST(test_bar_sizing)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x10, 4), 0x00000000);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x14, 4), 0x00000001);
	cfg_write(&e, DEVFN, 0x10, 0xffffffff, 4);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x10, 4), 0xfffff000);
	cfg_write(&e, DEVFN, 0x14, 0xffffffff, 4);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x14, 4), 0xffffffe1);
	/* Unimplemented BARs size as zero. */
	cfg_write(&e, DEVFN, 0x18, 0xffffffff, 4);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x18, 4), 0);
	/* Low address bits below the size drop. */
	cfg_write(&e, DEVFN, 0x10, 0xfebf0abc, 4);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x10, 4), 0xfebf0000);
	cfg_write(&e, DEVFN, 0x14, 0xc07f, 4);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x14, 4), 0xc061);
	/* Byte-wise BAR programming works too. */
	cfg_write(&e, DEVFN, 0x12, 0xfe, 1);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x10, 4), 0xfefe0000);

	ck_assert_int_eq(pci_device__set_bar(&e.dev, 2, PCI_BAR_MEM32, 3000), -EINVAL);
	ck_assert_int_eq(pci_device__set_bar(&e.dev, 2, PCI_BAR_IO, 2), -EINVAL);
	ck_assert_int_eq(pci_device__set_bar(&e.dev, 6, PCI_BAR_IO, 16), -EINVAL);
	ck_assert_int_eq(pci_device__set_bar(&e.dev, 2, PCI_BAR_MEM32_PREFETCH, 1 << 20), 0);
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x18, 4), 0x8);
}
END_TEST

START_TEST(test_remap_callback)
{
	struct env e;
	setup(&e);
	/* Sizing with decode off tells the owner nothing. */
	cfg_write(&e, DEVFN, 0x10, 0xffffffff, 4);
	cfg_write(&e, DEVFN, 0x10, 0xfebf0000, 4);
	cfg_write(&e, DEVFN, 0x14, 0xc040, 4);
	ck_assert_uint_eq(e.log.n, 0);

	cfg_write(&e, DEVFN, 0x04, PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(e.log.n, 1);
	ck_assert_uint_eq(e.log.bar[0], 0);
	ck_assert_uint_eq(e.log.old_addr[0], PCI_BAR_UNMAPPED);
	ck_assert_uint_eq(e.log.new_addr[0], 0xfebf0000);
	ck_assert_uint_eq(pci_device__bar_addr(&e.dev, 0), 0xfebf0000);
	ck_assert_uint_eq(pci_device__bar_addr(&e.dev, 1), PCI_BAR_UNMAPPED);

	cfg_write(&e, DEVFN, 0x04, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	ck_assert_uint_eq(e.log.n, 2);
	ck_assert_uint_eq(e.log.bar[1], 1);
	ck_assert_uint_eq(e.log.new_addr[1], 0xc040);

	/* Moving a decoding BAR; sizing it while decoding unmaps it for the moment. */
	cfg_write(&e, DEVFN, 0x10, 0xfe000000, 4);
	ck_assert_uint_eq(e.log.n, 3);
	ck_assert_uint_eq(e.log.old_addr[2], 0xfebf0000);
	ck_assert_uint_eq(e.log.new_addr[2], 0xfe000000);
	cfg_write(&e, DEVFN, 0x10, 0xffffffff, 4);
	ck_assert_uint_eq(e.log.n, 4);
	ck_assert_uint_eq(e.log.new_addr[3], PCI_BAR_UNMAPPED);

	cfg_write(&e, DEVFN, 0x04, 0, 2);
	ck_assert_uint_eq(e.log.n, 5);
	ck_assert_uint_eq(e.log.bar[4], 1);
	ck_assert_uint_eq(e.log.new_addr[4], PCI_BAR_UNMAPPED);
	ck_assert_uint_eq(e.dev.remaps, 5);
}
END_TEST

START_TEST(test_add_device)
{
	struct env e;
	setup(&e);
	struct pci_device f1;
	pci_device__init(&f1, 0x8086, 0x7010, 0x010180, 0);
	ck_assert_int_eq(pci__add_device(&e.pci, &f1, DEVFN), -EEXIST);
	ck_assert_int_eq(pci__add_device(&e.pci, &f1, 256), -EINVAL);
	ck_assert_int_eq(pci__add_device(&e.pci, &f1, DEVFN + 1), 0);
	/* Function 0 now announces a multi-function device. */
	ck_assert_uint_eq(cfg_read(&e, DEVFN, 0x0e, 1), 0x80);
	ck_assert_uint_eq(cfg_read(&e, DEVFN + 1, 0x00, 4), 0x70108086);
	ck_assert_uint_eq(cfg_read(&e, DEVFN + 1, 0x08, 4), 0x01018000);
	/* Direct accessors validate what the bus handler never passes. */
	uint32_t v;
	ck_assert_int_eq(pci_device__cfg_read(&e.dev, 254, 4, &v), -EINVAL);
	ck_assert_int_eq(pci_device__cfg_write(&e.dev, 0, 3, 0), -EINVAL);
}
END_TEST

/* 0xcf9 sits inside CONFIG_ADDRESS's dword: its byte accesses go to the reset-control
 * model when one is hooked in, dword accesses at 0xcf8 still reach the bridge. */
static unsigned rcr_calls;
static uint8_t rcr_last;
static int fake_rcr(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	rcr_calls++;
	if (is_write)
		rcr_last = *(uint8_t *)data;
	else
		*(uint8_t *)data = 0x42;
	return 0;
}

START_TEST(test_reset_control_hook)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(inb(&e.pio, 0xcf9), 0xff);    /* nothing hooked: empty */
	e.pci.rcr_fn = fake_rcr;
	outb(&e.pio, 0xcf9, 0x06);
	ck_assert_uint_eq(rcr_calls, 1);
	ck_assert_uint_eq(rcr_last, 0x06);
	ck_assert_uint_eq(inb(&e.pio, 0xcf9), 0x42);
	outl(&e.pio, 0xcf8, 0x80000000);
	ck_assert_uint_eq(inl(&e.pio, 0xcf8), 0x80000000);
	ck_assert_uint_eq(inw(&e.pio, 0xcfc), 0x8086);
	ck_assert_uint_eq(inb(&e.pio, 0xcfa), 0xff);    /* other bytes: still empty */
	ck_assert_uint_eq(rcr_calls, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("conf1");

	tcase_add_test(tc, test_host_bridge_and_widths);
	tcase_add_test(tc, test_absent);
	tcase_add_test(tc, test_write_masks);
	tcase_add_test(tc, test_bar_sizing);
	tcase_add_test(tc, test_remap_callback);
	tcase_add_test(tc, test_add_device);
	tcase_add_test(tc, test_reset_control_hook);
	suite_add_tcase(s, tc);

	return check_run(s);
}
