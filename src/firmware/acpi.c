/*
 * acpi.c: the ACPI tables of shade's PC (ACPI 2.0 layout, read by ACPI 1.0 through 6
 * parsers): RSDP revision 2 pointing at an RSDT and an XSDT, which list the FADT and
 * the MADT; the FADT points at the FACS and the DSDT. No HPET, SRAT, MCFG: the
 * platform has none of those.
 *
 * What the tables describe is fixed by the platform (docs/architecture.md, "Firmware
 * tables"): local APIC at 0xfee00000, I/O APIC 0 at 0xfec00000 with GSI base 0, ISA
 * IRQ 0 on GSI 2, SCI on IRQ 9 (level, active high), the PIIX4-style PM block at
 * 0x600 with the 24-bit PM timer at 0x608, reset through 0xcf9 value 6.
 */
#include <errno.h>
#include <string.h>

#include "acpi_pm.h"
#include "firmware.h"
#include "types.h"

#define OEM_ID       "SHADE "
#define OEM_TABLE_ID "SHADEPC "
#define CREATOR_ID   "SHDE"

struct sdt {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct rsdp {
	char sig[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum, reserved[3];
} __attribute__((packed));

struct gas {                   /* Generic Address Structure */
	uint8_t space, bit_width, bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));

struct fadt {                  /* revision 3 (ACPI 2.0), 244 bytes */
	struct sdt h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr, gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_len, gpe1_len, gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct gas reset_reg;
	uint8_t reset_value, reserved2[3];
	uint64_t x_firmware_ctrl, x_dsdt;
	struct gas x_pm1a_evt, x_pm1b_evt, x_pm1a_cnt, x_pm1b_cnt, x_pm2_cnt, x_pm_tmr,
		x_gpe0, x_gpe1;
} __attribute__((packed));

_Static_assert(sizeof(struct fadt) == 244, "FADT revision 3 is 244 bytes");
_Static_assert(sizeof(struct rsdp) == 36, "RSDP revision 2 is 36 bytes");

#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_PWR_BUTTON    (1u << 4)    /* set: no fixed-feature power button */
#define FADT_SLP_BUTTON    (1u << 5)
#define FADT_RESET_REG_SUP (1u << 10)
#define BOOT_ARCH_LEGACY   (1u << 0)    /* ISA devices (PIC, PIT, RTC, UART) present */
#define BOOT_ARCH_8042     (1u << 1)

/* MADT entries */
struct madt_lapic { uint8_t type, len, acpi_id, apic_id; uint32_t flags; } __attribute__((packed));
struct madt_ioapic { uint8_t type, len, id, reserved; uint32_t addr, gsi_base; } __attribute__((packed));
struct madt_iso { uint8_t type, len, bus, source; uint32_t gsi; uint16_t flags; } __attribute__((packed));
struct madt_nmi { uint8_t type, len, acpi_id; uint16_t flags; uint8_t lint; } __attribute__((packed));

/* MPS INTI flags: polarity bits 1:0 (01 high), trigger bits 3:2 (11 level). */
#define ISO_LEVEL_HIGH 0x000d
/* ISA IRQs that are PCI interrupts or the SCI, level-triggered, as on QEMU's i440FX
 * (5, 9, 10, 11): the balloon's INTx is 11, the SCI 9. */
#define PCI_ISA_IRQS ((1u << 5) | (1u << 9) | (1u << 10) | (1u << 11))

/*
 * The DSDT's body, hand-assembled AML:
 *   Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })
 * 08 NameOp, "_S5_", 12 PackageOp, 06 PkgLength (itself, the count and four elements),
 * 04 NumElements, four ZeroOp (00). SLP_TYP 0 for S5 is what QEMU's PIIX4 DSDT says and
 * what acpi_pm.c turns into a power-off.
 */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
};

uint8_t fw__checksum(const void *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
	return (uint8_t)-sum;
}

uint64_t fw_area__alloc(struct fw_area *a, size_t len, size_t align)
{
	size_t at = (a->used + align - 1) & ~(align - 1);
	if (at > a->size || len > a->size - at)
		return 0;
	memset(a->buf + at, 0, len);
	a->used = at + len;
	return a->base + at;
}

void *fw_area__ptr(struct fw_area *a, uint64_t gpa, size_t len)
{
	if (gpa < a->base || gpa - a->base > a->size || len > a->size - (gpa - a->base))
		return NULL;
	return a->buf + (gpa - a->base);
}

/* A zeroed table of `len` bytes with its header filled in (checksum: sdt_seal). */
static void *sdt_new(struct fw_area *a, const char *sig, size_t len, uint8_t rev,
		     uint64_t *addr)
{
	*addr = fw_area__alloc(a, len, 16);
	struct sdt *h = *addr ? fw_area__ptr(a, *addr, len) : NULL;
	if (!h)
		return NULL;
	memcpy(h->sig, sig, 4);
	h->length = (uint32_t)len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = 1;
	return h;
}

static void sdt_seal(struct sdt *h)
{
	h->checksum = 0;
	h->checksum = fw__checksum(h, h->length);
}

static struct gas io_gas(uint16_t port, uint8_t bytes)
{
	return (struct gas){ .space = 1, .bit_width = (uint8_t)(bytes * 8),
			     .access_size = bytes, .address = port };
}

static int build_fadt(struct fw_area *a, uint64_t facs, uint64_t dsdt, uint64_t *addr)
{
	struct fadt *f = sdt_new(a, "FACP", sizeof(*f), 3, addr);
	if (!f)
		return -ENOSPC;
	f->firmware_ctrl = (uint32_t)facs;
	f->dsdt = (uint32_t)dsdt;
	f->pm_profile = 0;                     /* unspecified */
	f->sci_int = ACPI_SCI_IRQ;
	f->smi_cmd = ACPI_SMI_CMD;
	f->acpi_enable = ACPI_ENABLE_CMD;
	f->acpi_disable = ACPI_DISABLE_CMD;
	f->pm1a_evt = ACPI_PM1_EVT;
	f->pm1a_cnt = ACPI_PM1_CNT;
	f->pm_tmr = ACPI_PM_TMR;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->p_lvl2_lat = 0xfff;                 /* no C2 */
	f->p_lvl3_lat = 0xfff;                 /* no C3 */
	f->century = 0x32;                     /* the RTC's century byte */
	f->iapc_boot_arch = BOOT_ARCH_LEGACY | BOOT_ARCH_8042;
	/* TMR_VAL_EXT (bit 8) clear: the PM timer is 24 bits wide. */
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		   FADT_RESET_REG_SUP;
	f->reset_reg = io_gas(ACPI_RESET_PORT, 1);
	f->reset_value = ACPI_RESET_VALUE;
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->x_pm1a_evt = io_gas(ACPI_PM1_EVT, 4);
	f->x_pm1a_evt.access_size = 2;         /* PM1_STS and PM1_EN are 16-bit registers */
	f->x_pm1a_cnt = io_gas(ACPI_PM1_CNT, 2);
	f->x_pm_tmr = io_gas(ACPI_PM_TMR, 4);
	sdt_seal(&f->h);
	return 0;
}

static int build_madt(struct fw_area *a, const struct fw_platform *p, uint64_t *addr)
{
	unsigned nisos = 1 + __builtin_popcount(PCI_ISA_IRQS);
	size_t len = sizeof(struct sdt) + 8 + p->ncpus * sizeof(struct madt_lapic) +
		     sizeof(struct madt_ioapic) + nisos * sizeof(struct madt_iso) +
		     sizeof(struct madt_nmi);
	uint8_t *t = sdt_new(a, "APIC", len, 1, addr);
	if (!t)
		return -ENOSPC;
	uint8_t *e = t + sizeof(struct sdt);
	uint32_t lapic = FW_LAPIC_ADDR, flags = 1;     /* PCAT_COMPAT: there are 8259s */
	memcpy(e, &lapic, 4);
	memcpy(e + 4, &flags, 4);
	e += 8;
	for (unsigned i = 0; i < p->ncpus; i++) {
		struct madt_lapic l = { 0, sizeof(l), (uint8_t)i, (uint8_t)i, 1 /* enabled */ };
		memcpy(e, &l, sizeof(l));
		e += sizeof(l);
	}
	struct madt_ioapic io = { 1, sizeof(io), FW_IOAPIC_ID, 0, FW_IOAPIC_ADDR, 0 };
	memcpy(e, &io, sizeof(io));
	e += sizeof(io);
	/* IRQ 0 (the PIT) is wired to pin 2; flags 0 = conforming to ISA (edge, high). */
	struct madt_iso iso = { 2, sizeof(iso), 0, 0, 2, 0 };
	memcpy(e, &iso, sizeof(iso));
	e += sizeof(iso);
	for (unsigned irq = 0; irq < 16; irq++) {
		if (!(PCI_ISA_IRQS & (1u << irq)))
			continue;
		iso = (struct madt_iso){ 2, sizeof(iso), 0, (uint8_t)irq, irq, ISO_LEVEL_HIGH };
		memcpy(e, &iso, sizeof(iso));
		e += sizeof(iso);
	}
	/* LINT1 of every processor is NMI (flags 0: conforming). */
	struct madt_nmi nmi = { 4, sizeof(nmi), 0xff, 0, 1 };
	memcpy(e, &nmi, sizeof(nmi));
	sdt_seal((struct sdt *)t);
	return 0;
}

int firmware__build_acpi(struct fw_area *a, const struct fw_platform *p, uint64_t *rsdp_at)
{
	uint64_t rsdp_addr = fw_area__alloc(a, sizeof(struct rsdp), 16);
	/* The FACS has no checksum and must be 64-byte aligned. */
	uint64_t facs = fw_area__alloc(a, 64, 64);
	uint8_t *fp = facs ? fw_area__ptr(a, facs, 64) : NULL;
	if (!rsdp_addr || !fp)
		return -ENOSPC;
	uint32_t facs_len = 64;
	memcpy(fp, "FACS", 4);
	memcpy(fp + 4, &facs_len, 4);
	fp[32] = 1;                                 /* version 1 (ACPI 2.0) */

	uint64_t dsdt, fadt, madt, rsdt, xsdt;
	struct sdt *d = sdt_new(a, "DSDT", sizeof(struct sdt) + sizeof(dsdt_aml), 1, &dsdt);
	if (!d)
		return -ENOSPC;
	memcpy(d + 1, dsdt_aml, sizeof(dsdt_aml));
	sdt_seal(d);
	int r = build_fadt(a, facs, dsdt, &fadt);
	if (!r)
		r = build_madt(a, p, &madt);
	if (r)
		return r;

	const uint64_t tables[] = { fadt, madt };
	struct sdt *rt = sdt_new(a, "RSDT", sizeof(struct sdt) + 4 * ARRAY_SIZE(tables), 1, &rsdt);
	if (!rt)
		return -ENOSPC;
	for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
		uint32_t v = (uint32_t)tables[i];
		memcpy((uint8_t *)(rt + 1) + 4 * i, &v, 4);
	}
	sdt_seal(rt);
	struct sdt *xt = sdt_new(a, "XSDT", sizeof(struct sdt) + 8 * ARRAY_SIZE(tables), 1, &xsdt);
	if (!xt)
		return -ENOSPC;
	memcpy(xt + 1, tables, sizeof(tables));
	sdt_seal(xt);

	struct rsdp *rp = fw_area__ptr(a, rsdp_addr, sizeof(*rp));
	if (!rp)
		return -ENOSPC;
	memcpy(rp->sig, "RSD PTR ", 8);
	memcpy(rp->oem_id, OEM_ID, 6);
	rp->revision = 2;
	rp->rsdt = (uint32_t)rsdt;
	rp->length = sizeof(*rp);
	rp->xsdt = xsdt;
	rp->checksum = fw__checksum(rp, 20);        /* the ACPI 1.0 part */
	rp->ext_checksum = fw__checksum(rp, sizeof(*rp));
	*rsdp_at = rsdp_addr;
	return 0;
}
