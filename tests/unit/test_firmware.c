/*
 * test_firmware.c: the ACPI and MP builders of src/firmware/, built into a buffer
 * standing for the F segment and parsed back as an OS would: every checksum and
 * length, the RSDP's two checksums, RSDT and XSDT listing the same tables, the FADT's
 * PM block/timer/reset register/flags and its DSDT (with \_S5) and FACS, the MADT's
 * entries, the MP floating pointer and configuration table entry by entry; the BDA
 * words; a too-small area refused; the e820 map.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware.h"

static uint8_t fseg[FW_FSEG_SIZE];

static uint8_t sum(const void *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + ((const uint8_t *)p)[i]);
	return s;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static const uint8_t *at(uint64_t gpa)
{
	ck_assert_uint_ge(gpa, FW_FSEG_BASE);
	ck_assert_uint_lt(gpa, FW_FSEG_BASE + FW_FSEG_SIZE);
	return fseg + (gpa - FW_FSEG_BASE);
}

/* A table at gpa with signature sig, whole inside the area and summing to zero. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = at(gpa);
	ck_assert(!memcmp(t, sig, 4));
	uint32_t len = rd32(t + 4);
	ck_assert_uint_ge(len, 36);
	ck_assert_uint_le(gpa + len, FW_FSEG_BASE + FW_FSEG_SIZE);
	ck_assert_uint_eq(sum(t, len), 0);
	return t;
}

static struct fw_platform plat = { 1, 0x00a00f11, 0x178bfbff };

START_TEST(test_acpi)
{
	struct fw_area a = { fseg, FW_FSEG_BASE, sizeof(fseg), 0 };
	uint64_t rsdp_at;
	ck_assert_int_eq(firmware__build_acpi(&a, &plat, &rsdp_at), 0);
	ck_assert_uint_eq(rsdp_at % 16, 0);
	const uint8_t *r = at(rsdp_at);
	ck_assert(!memcmp(r, "RSD PTR ", 8));
	ck_assert_uint_eq(sum(r, 20), 0);
	ck_assert_uint_eq(r[15], 2);
	ck_assert_uint_eq(rd32(r + 20), 36);
	ck_assert_uint_eq(sum(r, 36), 0);

	const uint8_t *rsdt = table(rd32(r + 16), "RSDT");
	const uint8_t *xsdt = table(rd64(r + 24), "XSDT");
	ck_assert_uint_eq(rd32(rsdt + 4), 36 + 2 * 4);
	ck_assert_uint_eq(rd32(xsdt + 4), 36 + 2 * 8);
	for (int i = 0; i < 2; i++)
		ck_assert_uint_eq(rd32(rsdt + 36 + 4 * i), rd64(xsdt + 36 + 8 * i));
	const uint8_t *fadt = table(rd32(rsdt + 36), "FACP");
	const uint8_t *madt = table(rd32(rsdt + 40), "APIC");

	/* FADT revision 3 */
	ck_assert_uint_eq(rd32(fadt + 4), 244);
	ck_assert_uint_eq(fadt[8], 3);
	ck_assert_uint_eq(rd16(fadt + 46), 9);             /* SCI_INT */
	ck_assert_uint_eq(rd32(fadt + 48), 0xb2);          /* SMI_CMD */
	ck_assert_uint_eq(fadt[52], 0xf1);
	ck_assert_uint_eq(fadt[53], 0xf0);
	ck_assert_uint_eq(rd32(fadt + 56), 0x600);         /* PM1a_EVT */
	ck_assert_uint_eq(rd32(fadt + 64), 0x604);         /* PM1a_CNT */
	ck_assert_uint_eq(rd32(fadt + 76), 0x608);         /* PM_TMR */
	ck_assert_uint_eq(fadt[88], 4);
	ck_assert_uint_eq(fadt[89], 2);
	ck_assert_uint_eq(fadt[91], 4);
	uint32_t flags = rd32(fadt + 112);
	ck_assert(!(flags & (1u << 8)));                   /* TMR_VAL_EXT: 24-bit timer */
	ck_assert(flags & (1u << 10));                     /* RESET_REG_SUP */
	ck_assert_uint_eq(fadt[116], 1);                   /* reset register: I/O space */
	ck_assert_uint_eq(fadt[117], 8);
	ck_assert_uint_eq(rd64(fadt + 120), 0xcf9);
	ck_assert_uint_eq(fadt[128], 0x06);
	ck_assert_uint_eq(rd64(fadt + 208 + 4), 0x608);    /* X_PM_TMR_BLK address */
	ck_assert_uint_eq(fadt[208], 1);
	ck_assert_uint_eq(fadt[209], 32);

	/* DSDT (32- and 64-bit pointers agree) with \_S5 = { 0, 0, 0, 0 } */
	ck_assert_uint_eq(rd32(fadt + 40), rd64(fadt + 140));
	const uint8_t *dsdt = table(rd32(fadt + 40), "DSDT");
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0 };
	ck_assert_uint_eq(rd32(dsdt + 4), 36 + sizeof(s5));
	ck_assert(!memcmp(dsdt + 36, s5, sizeof(s5)));
	/* FACS: no checksum, 64-byte aligned */
	ck_assert_uint_eq(rd32(fadt + 36), rd64(fadt + 132));
	ck_assert_uint_eq(rd32(fadt + 36) % 64, 0);
	const uint8_t *facs = at(rd32(fadt + 36));
	ck_assert(!memcmp(facs, "FACS", 4));
	ck_assert_uint_eq(rd32(facs + 4), 64);

	/* MADT */
	ck_assert_uint_eq(rd32(madt + 36), 0xfee00000);
	ck_assert_uint_eq(rd32(madt + 40), 1);             /* PCAT_COMPAT */
	uint32_t len = rd32(madt + 4), off = 44, n[5] = { 0 };
	int irq0_gsi = -1, irq9_flags = -1;
	while (off < len) {
		const uint8_t *e = madt + off;
		ck_assert_uint_ge(e[1], 2);
		ck_assert_uint_lt(e[0], 5);
		n[e[0]]++;
		if (e[0] == 0) {
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(e[3], 0);                /* APIC ID 0 */
			ck_assert_uint_eq(rd32(e + 4), 1);
		} else if (e[0] == 1) {
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(e[2], 0);
			ck_assert_uint_eq(rd32(e + 4), 0xfec00000);
			ck_assert_uint_eq(rd32(e + 8), 0);
		} else if (e[0] == 2) {
			ck_assert_uint_eq(e[1], 10);
			if (e[3] == 0)
				irq0_gsi = (int)rd32(e + 4);
			if (e[3] == 9) {
				ck_assert_uint_eq(rd32(e + 4), 9);
				irq9_flags = rd16(e + 8);
			}
		} else if (e[0] == 4) {
			ck_assert_uint_eq(e[1], 6);
			ck_assert_uint_eq(e[2], 0xff);
			ck_assert_uint_eq(e[5], 1);                /* LINT1 */
		}
		off += e[1];
	}
	ck_assert_uint_eq(off, len);
	ck_assert_uint_eq(n[0], 1);
	ck_assert_uint_eq(n[1], 1);
	ck_assert_uint_eq(n[2], 5);                            /* IRQ 0, 5, 9, 10, 11 */
	ck_assert_uint_eq(n[4], 1);
	ck_assert_int_eq(irq0_gsi, 2);
	ck_assert_int_eq(irq9_flags, 0x0d);
	ck_assert_uint_le(a.used, a.size);
}
END_TEST

START_TEST(test_mptable)
{
	struct fw_area a = { fseg, FW_FSEG_BASE, sizeof(fseg), 0 };
	uint64_t fp_at;
	ck_assert_int_eq(firmware__build_mptable(&a, &plat, &fp_at), 0);
	ck_assert_uint_eq(fp_at % 16, 0);
	const uint8_t *fp = at(fp_at);
	ck_assert(!memcmp(fp, "_MP_", 4));
	ck_assert_uint_eq(fp[8], 1);
	ck_assert_uint_eq(fp[9], 4);
	ck_assert_uint_eq(sum(fp, 16), 0);
	ck_assert_uint_eq(fp[11], 0);                          /* config table present */
	const uint8_t *c = at(rd32(fp + 4));
	ck_assert(!memcmp(c, "PCMP", 4));
	uint16_t len = rd16(c + 4), count = rd16(c + 34);
	ck_assert_uint_eq(sum(c, len), 0);
	ck_assert_uint_eq(rd32(c + 36), 0xfee00000);
	unsigned off = 44, n[5] = { 0 }, pins[16];
	memset(pins, 0xff, sizeof(pins));
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = c + off;
		ck_assert_uint_lt(e[0], 5);
		n[e[0]]++;
		if (e[0] == 0) {
			ck_assert_uint_eq(e[1], 0);
			ck_assert_uint_eq(e[3], 3);                /* enabled, boot processor */
			ck_assert_uint_eq(rd32(e + 4), plat.cpu_signature);
			ck_assert_uint_eq(rd32(e + 8), plat.cpu_features);
			off += 20;
			continue;
		}
		if (e[0] == 1)
			ck_assert(!memcmp(e + 2, "ISA   ", 6));
		if (e[0] == 2)
			ck_assert_uint_eq(rd32(e + 4), 0xfec00000);
		if (e[0] == 3) {
			ck_assert_uint_eq(e[1], 0);                /* INT */
			ck_assert_uint_lt(e[5], 16);
			pins[e[5]] = e[7];
			ck_assert_uint_eq(rd16(e + 2), (e[5] == 9 || e[5] == 11 || e[5] == 5 ||
							e[5] == 10) ? 0x0d : 0);
		}
		if (e[0] == 4)
			ck_assert_uint_eq(e[7], e[1] == 3 ? 0 : 1);   /* ExtINT LINT0, NMI LINT1 */
		off += 8;
	}
	ck_assert_uint_eq(off, len);
	ck_assert_uint_eq(n[0], 1);
	ck_assert_uint_eq(n[1], 1);
	ck_assert_uint_eq(n[2], 1);
	ck_assert_uint_eq(n[3], 15);
	ck_assert_uint_eq(n[4], 2);
	ck_assert_uint_eq(pins[0], 2);
	ck_assert_uint_eq(pins[2], 0xffffffff);                /* no entry for the cascade */
	ck_assert_uint_eq(pins[8], 8);
}
END_TEST

START_TEST(test_too_small)
{
	static uint8_t small[256];
	struct fw_area a = { small, FW_FSEG_BASE, sizeof(small), 0 };
	uint64_t x;
	ck_assert_int_eq(firmware__build_acpi(&a, &plat, &x), -ENOSPC);
	a.used = 0;
	a.size = 128;                /* the MP table alone needs 16 + 216 bytes */
	ck_assert_int_eq(firmware__build_mptable(&a, &plat, &x), -ENOSPC);
	ck_assert_uint_le(a.used, a.size);
	ck_assert_ptr_null(fw_area__ptr(&a, FW_FSEG_BASE + 250, 8));
	ck_assert_ptr_null(fw_area__ptr(&a, FW_FSEG_BASE - 1, 1));
}
END_TEST

START_TEST(test_bda_e820)
{
	uint8_t bda[256], ebda[1024];
	firmware__build_bda(bda, ebda);
	ck_assert_uint_eq(rd16(bda + 0x00), 0x3f8);
	ck_assert_uint_eq((rd16(bda + 0x10) >> 9) & 7, 1);
	ck_assert_uint_eq(rd16(bda + 0x13), 639);
	ck_assert_uint_eq((uint32_t)rd16(bda + 0x0e) << 4, 0x9fc00);
	ck_assert_uint_eq(rd16(bda + 0x63), 0x3d4);
	ck_assert_uint_eq(ebda[0], 1);

	struct fw_e820 m[8];
	unsigned n = firmware__e820(128 << 20, m);
	ck_assert_uint_eq(n, 4);
	uint64_t ram = 0;
	for (unsigned i = 0; i < n; i++) {
		if (m[i].type == 1)
			ram += m[i].len;
		/* the tables' areas are never available RAM */
		if (m[i].type == 1)
			ck_assert(m[i].addr + m[i].len <= 0x9fc00 || m[i].addr >= 0x100000);
	}
	ck_assert_uint_eq(ram, 0x9fc00 + (127u << 20));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("firmware");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, test_acpi);
	tcase_add_test(tc, test_mptable);
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_bda_e820);
	suite_add_tcase(s, tc);
	return check_run(s);
}
