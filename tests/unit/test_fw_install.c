/*
 * test_fw_install.c: the init step "firmware tables" on a VM made without /dev/kvm (a
 * real memfd pool, the real devices): after a multiboot load with a command line and
 * two modules, guest RAM holds the BDA words, the EBDA, the RSDP and MP pointer in the
 * F segment and a blank text page; fw_cfg, read through its ports, gives RAM_SIZE, the
 * CPU counts, the multiboot information block as QEMU's KERNEL_* items, the command
 * line and the first module as CMDLINE_* and INITRD_*, and an etc/e820 equal to the
 * memory map the loader gave the kernel.
 */
#include <check.h>

#include "check_run.h"
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "firmware.h"
#include "fw_cfg.h"
#include "multiboot.h"
#include "vm.h"

static struct host host;
static struct vm vm;

static void setup(void)
{
	ck_assert_int_eq(pool__init(&host.pool, 32ULL << 20), 0);
	memset(&vm, 0, sizeof(vm));
	vm.host = &host;
	vm.fd = -1;
	vm.clock = vclock_host;
	vm.cfg.name = "t";
	vm.cfg.mem_bytes = 16ULL << 20;
	vm.cfg.console_in = vm.cfg.console_out = vm.cfg.console_log = -1;
	vm.cfg.cmdline = "console=ttyS0 quiet";
	ck_assert_int_eq(pmap__init(&vm.pmap, &host.pool, vm.cfg.mem_bytes), 0);
	bus__init(&vm.pio, "pio");
	bus__init(&vm.mmio, "mmio");
	ck_assert_int_eq(devices__init(&vm), 0);
}

static void teardown(void)
{
	devices__exit(&vm);
	pmap__exit(&vm.pmap);
	pool__exit(&host.pool);
}

/* The a.out kludge: a 4 KiB image at 1 MiB, entry 0x100010. */
static void load(void)
{
	static uint8_t k[4096], m1[5000], m2[100];
	uint32_t flags = 1u << 16;
	uint32_t h[8] = { MB_HEADER_MAGIC, flags, -(MB_HEADER_MAGIC + flags), 0x100000,
			  0x100000, 0, 0, 0x100010 };
	memcpy(k, h, sizeof(h));
	memset(m1, 0x5a, sizeof(m1));
	struct mb_image kern = { k, sizeof(k), "kern" };
	struct mb_image mods[2] = { { m1, sizeof(m1), "m1" }, { m2, sizeof(m2), "m2" } };
	ck_assert_int_eq(multiboot__load_images(&vm, &kern, mods, 2), 0);
	ck_assert_int_eq(firmware__install(&vm), 0);
}

static uint64_t item(uint16_t key, void *buf, unsigned len)
{
	uint64_t v = 0;
	uint16_t k = key;
	ck_assert_int_eq(bus__access(&vm.pio, FW_CFG_PORT_SEL, &k, 2, true), 0);
	for (unsigned i = 0; i < len; i++) {
		uint8_t b;
		ck_assert_int_eq(bus__access(&vm.pio, FW_CFG_PORT_DATA, &b, 1, false), 0);
		if (buf)
			((uint8_t *)buf)[i] = b;
		if (i < 8)
			v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static uint32_t peek32(uint64_t gpa)
{
	uint32_t v;
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(gpa), &v, 4), 0);
	return v;
}

START_TEST(test_memory)
{
	load();
	uint8_t bda[256];
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(0x400), bda, sizeof(bda)), 0);
	ck_assert_uint_eq(bda[0] | bda[1] << 8, 0x3f8);
	ck_assert_uint_eq(bda[0x13] | bda[0x14] << 8, 639);
	ck_assert_uint_eq(bda[0x0e] | bda[0x0f] << 8, 0x9fc0);
	ck_assert_uint_eq(peek32(0x9fc00) & 0xff, 1);
	/* RSDP first in the F segment, the MP floating pointer after the ACPI tables */
	ck_assert_uint_eq(peek32(0xf0000), 0x20445352);      /* "RSD " */
	bool mp = false;
	for (uint64_t a = 0xf0000; a < 0x100000 && !mp; a += 16)
		mp = peek32(a) == 0x5f504d5f;                    /* "_MP_" */
	ck_assert(mp);
	ck_assert_uint_eq(peek32(0xb8000), 0x07200720);
	ck_assert_uint_eq(peek32(0xb8000 + 80 * 25 * 2 - 4), 0x07200720);
}
END_TEST

START_TEST(test_fw_cfg_items)
{
	load();
	char sig[4];
	item(FW_CFG_SIGNATURE, sig, 4);
	ck_assert(!memcmp(sig, "QEMU", 4));
	ck_assert_uint_eq(item(FW_CFG_RAM_SIZE, NULL, 8), 16ULL << 20);
	ck_assert_uint_eq(item(FW_CFG_NB_CPUS, NULL, 2), 1);
	ck_assert_uint_eq(item(FW_CFG_MAX_CPUS, NULL, 2), VM_MAX_VCPUS);
	ck_assert_uint_eq(item(FW_CFG_IRQ0_OVERRIDE, NULL, 4), 1);
	ck_assert_uint_eq(item(FW_CFG_KERNEL_ENTRY, NULL, 4), 0x100010);
	ck_assert_uint_eq(item(FW_CFG_KERNEL_ADDR, NULL, 4), vm.mbi);
	uint32_t size = (uint32_t)item(FW_CFG_KERNEL_SIZE, NULL, 4), mbi[30], ram_mbi[30];
	ck_assert_uint_eq(size, sizeof(mbi));
	item(FW_CFG_KERNEL_DATA, mbi, sizeof(mbi));
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(vm.mbi), ram_mbi, sizeof(ram_mbi)), 0);
	ck_assert(!memcmp(mbi, ram_mbi, sizeof(mbi)));

	/* The command line as the kernel got it (the kernel's name, then the arguments). */
	const char *want = "kern console=ttyS0 quiet";
	ck_assert_uint_eq(item(FW_CFG_CMDLINE_SIZE, NULL, 4), strlen(want) + 1);
	ck_assert_uint_eq(item(FW_CFG_CMDLINE_ADDR, NULL, 4), mbi[4]);
	char cmd[64];
	item(FW_CFG_CMDLINE_DATA, cmd, (unsigned)strlen(want) + 1);
	ck_assert_str_eq(cmd, want);
	/* The first module */
	uint32_t mod[4];
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(mbi[6]), mod, sizeof(mod)), 0);
	ck_assert_uint_eq(item(FW_CFG_INITRD_ADDR, NULL, 4), mod[0]);
	ck_assert_uint_eq(item(FW_CFG_INITRD_SIZE, NULL, 4), 5000);

	/* etc/e820, found through the directory, is the loader's memory map. */
	uint8_t dir[4 + 64];
	item(FW_CFG_FILE_DIR, dir, sizeof(dir));
	ck_assert_uint_eq(dir[3], 1);
	ck_assert_str_eq((const char *)dir + 12, "etc/e820");
	uint32_t len = (uint32_t)(dir[4] << 24 | dir[5] << 16 | dir[6] << 8 | dir[7]);
	uint16_t key = (uint16_t)(dir[8] << 8 | dir[9]);
	uint32_t mmap_len = mbi[11], mmap_at = mbi[12];
	ck_assert_uint_eq(len * 24, mmap_len * 20);   /* 20-byte entries vs 24 with size */
	uint8_t e820[20 * 8], mm[24 * 8];
	item(key, e820, len);
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(mmap_at), mm, mmap_len), 0);
	for (uint32_t i = 0; i < len / 20; i++)
		ck_assert(!memcmp(e820 + 20 * i, mm + 24 * i + 4, 20));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fw_install");
	TCase *tc = tcase_create("firmware__install");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_memory);
	tcase_add_test(tc, test_fw_cfg_items);
	suite_add_tcase(s, tc);
	return check_run(s);
}
