/*
 * test_fw_cfg.c: fw_cfg through its ports with a fake guest RAM: the selector/data
 * stream (signature, ID, past the end, unknown keys, ignored data writes), the DMA
 * register (signature, 32-bit halves, reset after a transfer), DMA read/skip/select,
 * the file directory (big-endian, sorted by name), and every refusal: a write to a
 * read-only item, a destination or request outside RAM, a transfer running off RAM.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fakes.h"
#include "fw_cfg.h"

#define RAM_SIZE (64 * 1024)

struct env {
	struct bus pio;
	struct fw_cfg f;
	uint8_t ram[RAM_SIZE];
	unsigned faults;
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct env *e = ctx;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa) {
		e->faults++;
		return -EFAULT;
	}
	memcpy(buf, e->ram + gpa, len);
	return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct env *e = ctx;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa) {
		e->faults++;
		return -EFAULT;
	}
	memcpy(e->ram + gpa, buf, len);
	return 0;
}

static struct env *setup(void)
{
	struct env *e = calloc(1, sizeof(*e));
	struct fw_cfg_mem mem = { ram_read, ram_write, e };
	bus__init(&e->pio, "pio");
	ck_assert_int_eq(fw_cfg__init(&e->f, &mem), 0);
	ck_assert_int_eq(fw_cfg__register(&e->f, &e->pio), 0);
	return e;
}

static void teardown(struct env *e)
{
	fw_cfg__exit(&e->f);
	free(e);
}

static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }

/* A FWCfgDmaAccess at `at`, started through the two 32-bit halves. */
static uint32_t dma(struct env *e, uint32_t at, uint32_t control, uint64_t addr, uint32_t len)
{
	uint32_t req[4] = { be32(control), be32(len), be32((uint32_t)(addr >> 32)),
			    be32((uint32_t)addr) };
	if (at + sizeof(req) <= RAM_SIZE)
		memcpy(e->ram + at, req, sizeof(req));
	outl(&e->pio, 0x514, be32(0));
	outl(&e->pio, 0x518, be32(at));
	uint32_t c;
	if (at + 4 > RAM_SIZE)
		return 0xdeadbeef;       /* no control word to read back */
	memcpy(&c, e->ram + at, 4);
	return be32(c);
}

START_TEST(test_selector_data)
{
	struct env *e = setup();
	char sig[5] = { 0 };
	outw(&e->pio, 0x510, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(&e->pio, 0x511);
	ck_assert_str_eq(sig, "QEMU");
	ck_assert_uint_eq(inb(&e->pio, 0x511), 0);         /* past the end: zeros */
	outw(&e->pio, 0x510, FW_CFG_ID);
	ck_assert_uint_eq(inb(&e->pio, 0x511), 3);
	/* A byte read at 0x510 is a data read too (QEMU's combined port). */
	outw(&e->pio, 0x510, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(inb(&e->pio, 0x510), 'Q');
	ck_assert_uint_eq(inb(&e->pio, 0x511), 'E');
	/* Data-port writes are ignored; selecting again rewinds. */
	outb(&e->pio, 0x511, 'X');
	outw(&e->pio, 0x510, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(inb(&e->pio, 0x511), 'Q');
	/* A key past the table selects nothing: zeros; an empty known key too. */
	outw(&e->pio, 0x510, 0x3fff);
	ck_assert_uint_eq(inb(&e->pio, 0x511), 0);
	outw(&e->pio, 0x510, FW_CFG_NB_CPUS);
	ck_assert_uint_eq(inb(&e->pio, 0x511), 0);
	ck_assert_int_eq(fw_cfg__add_i16(&e->f, FW_CFG_NB_CPUS, 0x0102), 0);
	outw(&e->pio, 0x510, FW_CFG_NB_CPUS);
	ck_assert_uint_eq(inb(&e->pio, 0x511), 2);          /* little-endian */
	ck_assert_uint_eq(inb(&e->pio, 0x511), 1);
	/* Arch-local keys are a table of their own. */
	ck_assert_int_eq(fw_cfg__add_i32(&e->f, FW_CFG_IRQ0_OVERRIDE, 1), 0);
	outw(&e->pio, 0x510, FW_CFG_IRQ0_OVERRIDE);
	ck_assert_uint_eq(inb(&e->pio, 0x511), 1);
	ck_assert_int_eq(fw_cfg__add_i32(&e->f, 0x3fff, 1), -EINVAL);
	/* Wider reads decode as nothing. */
	ck_assert_uint_eq(inw(&e->pio, 0x510), 0xffff);
	teardown(e);
}
END_TEST

START_TEST(test_dma_register)
{
	struct env *e = setup();
	uint32_t hi = inl(&e->pio, 0x514), lo = inl(&e->pio, 0x518);
	ck_assert(!memcmp(&hi, "QEMU", 4));
	ck_assert(!memcmp(&lo, " CFG", 4));
	ck_assert_uint_eq(inb(&e->pio, 0x51b), 'G');
	/* A byte write is not a DMA access: nothing starts. */
	outb(&e->pio, 0x51b, 0x10);
	ck_assert_uint_eq(e->f.stats.dma_transfers, 0);
	teardown(e);
}

END_TEST

START_TEST(test_dma_read_skip)
{
	struct env *e = setup();
	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_READ, 0x200, 2), 0);
	ck_assert(!memcmp(e->ram + 0x200, "QE", 2));
	/* Reading on continues the stream, and past the end fills zeros. */
	memset(e->ram + 0x300, 0xaa, 8);
	ck_assert_uint_eq(dma(e, 0x100, FW_CFG_DMA_READ, 0x300, 6), 0);
	ck_assert(!memcmp(e->ram + 0x300, "MU\0\0\0\0", 6));
	ck_assert_uint_eq(e->ram[0x306], 0xaa);
	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_SKIP, 0, 3), 0);
	outw(&e->pio, 0x510, FW_CFG_SIGNATURE);  /* the port sees the same position... */
	ck_assert_uint_eq(inb(&e->pio, 0x511), 'Q');     /* ...until it selects again */
	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_SKIP, 0, 3), 0);
	ck_assert_uint_eq(dma(e, 0x100, FW_CFG_DMA_READ, 0x400, 1), 0);
	ck_assert_uint_eq(e->ram[0x400], 'U');
	/* No operation bit: length is ignored, nothing moves. */
	ck_assert_uint_eq(dma(e, 0x100, 0, 0x400, 100), 0);
	ck_assert_uint_eq(e->f.stats.dma_transfers, 6);
	ck_assert_uint_eq(e->f.stats.dma_errors, 0);
	teardown(e);
}
END_TEST

START_TEST(test_dma_refusals)
{
	struct env *e = setup();
	/* Every item is read-only: a write is refused, the item keeps its bytes. */
	memcpy(e->ram + 0x200, "XXXX", 4);
	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_WRITE, 0x200, 4), FW_CFG_DMA_ERROR);
	outw(&e->pio, 0x510, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(inb(&e->pio, 0x511), 'Q');
	/* Destinations outside RAM: error bit, the access never reaches the host. */
	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_READ, 0xfee00000, 4), FW_CFG_DMA_ERROR);
	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_READ, RAM_SIZE - 2, 4), FW_CFG_DMA_ERROR);
	/* The zero fill past an item's end is checked too, and an address that wraps. */
	ck_assert_uint_eq(dma(e, 0x100, FW_CFG_DMA_READ, RAM_SIZE - 16, 1u << 30),
			  FW_CFG_DMA_ERROR);
	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_READ, UINT64_MAX - 1, 4), FW_CFG_DMA_ERROR);
	/* A request outside RAM: nothing to read, nothing written, no crash. */
	unsigned before = e->faults;
	ck_assert_uint_eq(dma(e, RAM_SIZE + 0x1000, FW_CFG_DMA_READ, 0, 4), 0xdeadbeef);
	ck_assert_uint_gt(e->faults, before);
	outl(&e->pio, 0x514, 0xffffffff);
	outl(&e->pio, 0x518, 0xffffffff);
	/* The high half is cleared after each transfer, as QEMU's register is. */
	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_READ, 0x200, 4), 0);
	ck_assert(!memcmp(e->ram + 0x200, "QEMU", 4));
	ck_assert_uint_eq(e->f.stats.dma_errors, 7);
	teardown(e);
}
END_TEST

struct __attribute__((packed)) dirent {
	uint32_t size;
	uint16_t select, reserved;
	char name[56];
};

START_TEST(test_file_directory)
{
	struct env *e = setup();
	uint32_t count;
	outw(&e->pio, 0x510, FW_CFG_FILE_DIR);
	for (int i = 0; i < 4; i++)
		((uint8_t *)&count)[i] = inb(&e->pio, 0x511);
	ck_assert_uint_eq(count, 0);                     /* empty, but present */
	ck_assert_int_eq(fw_cfg__add_file(&e->f, "etc/e820", "0123456789", 10), 0);
	ck_assert_int_eq(fw_cfg__add_file(&e->f, "bootorder", "x", 1), 0);
	ck_assert_int_eq(fw_cfg__add_file(&e->f, "etc/e820", "y", 1), -EEXIST);
	char longname[70];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	ck_assert_int_eq(fw_cfg__add_file(&e->f, longname, "y", 1), -ENAMETOOLONG);

	ck_assert_uint_eq(dma(e, 0x100, (FW_CFG_FILE_DIR << 16) | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_READ, 0x1000, 4 + 2 * 64), 0);
	memcpy(&count, e->ram + 0x1000, 4);
	ck_assert_uint_eq(be32(count), 2);
	struct dirent d[2];
	memcpy(d, e->ram + 0x1004, sizeof(d));
	/* Sorted by name, fields big-endian, keys from 0x20 in the order added. */
	ck_assert_str_eq(d[0].name, "bootorder");
	ck_assert_uint_eq(be32(d[0].size), 1);
	ck_assert_uint_eq(__builtin_bswap16(d[0].select), 0x21);
	ck_assert_str_eq(d[1].name, "etc/e820");
	ck_assert_uint_eq(be32(d[1].size), 10);
	ck_assert_uint_eq(__builtin_bswap16(d[1].select), 0x20);
	ck_assert_uint_eq(dma(e, 0x100, (0x20u << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
			      0x2000, 10), 0);
	ck_assert(!memcmp(e->ram + 0x2000, "0123456789", 10));
	/* The slots run out. */
	int r = 0;
	for (int i = 0; i < 40 && !r; i++) {
		char n[16];
		snprintf(n, sizeof(n), "f%d", i);
		r = fw_cfg__add_file(&e->f, n, "z", 1);
	}
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_uint_eq(e->f.nfiles, FW_CFG_FILE_SLOTS);
	teardown(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fw_cfg");
	TCase *tc = tcase_create("fw_cfg");

	tcase_add_test(tc, test_selector_data);
	tcase_add_test(tc, test_dma_register);
	tcase_add_test(tc, test_dma_read_skip);
	tcase_add_test(tc, test_dma_refusals);
	tcase_add_test(tc, test_file_directory);
	suite_add_tcase(s, tc);
	return check_run(s);
}
