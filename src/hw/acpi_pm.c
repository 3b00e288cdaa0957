/*
 * acpi_pm.c: PM1 event/control registers, the PM timer, APM control and the reset
 * control register (see acpi_pm.h for the map and what is not modelled).
 *
 * The block is handled as a 12-byte register file so that any access width the guest
 * uses (ACPICA reads PM1 registers as 16 bits, some kernels as bytes or dwords) sees
 * the bytes it would on QEMU's PIIX4.
 */
#include <string.h>

#include "acpi_pm.h"

/* Ticks since init, 3.579545 MHz, not yet truncated to 24 bits. Monotonic because the
 * clock is; 128-bit so a long-running VM does not overflow the product. */
static uint64_t ticks(struct acpi_pm *pm)
{
	uint64_t ns = vclock__mono(pm->clock) - pm->t0_ns;
	return (uint64_t)((unsigned __int128)ns * ACPI_PM_TMR_HZ / NSEC_PER_SEC);
}

uint32_t acpi_pm__timer(struct acpi_pm *pm)
{
	return (uint32_t)(ticks(pm) & 0xffffff);
}

/* TMR_STS is set whenever bit 23 of the counter has changed since it was cleared. */
static uint16_t status(struct acpi_pm *pm)
{
	uint32_t epoch = (uint32_t)(ticks(pm) >> 23);
	return (uint16_t)(pm->sts | (epoch != pm->tmr_epoch ? PM1_STS_TMR : 0));
}

static void write_cnt(struct acpi_pm *pm, uint16_t v)
{
	pm->cnt = v & (uint16_t)~PM1_CNT_SLP_EN;   /* SLP_EN reads as 0 */
	if (!(v & PM1_CNT_SLP_EN))
		return;
	/* QEMU (hw/acpi/core.c): type 0 is soft-off, the S4 type (2) also shuts down,
	 * type 1 (S3) would suspend: not modelled, ignored. */
	unsigned typ = PM1_CNT_SLP_TYP(v);
	if ((typ == 0 || typ == 2) && pm->power_off)
		pm->power_off(pm->ctx);
}

static int pm_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct acpi_pm *pm = dev;
	unsigned off = (unsigned)(addr - ACPI_PM_BASE);
	uint8_t *p = data;

	if (!is_write) {
		uint8_t regs[ACPI_PM_LEN] = { 0 };
		uint16_t sts = status(pm);
		uint32_t tmr = 0;
		if (off + len > 8) {
			tmr = acpi_pm__timer(pm);
			pm->stats.timer_reads++;
		}
		memcpy(regs + 0, &sts, 2);
		memcpy(regs + 2, &pm->en, 2);
		memcpy(regs + 4, &pm->cnt, 2);
		memcpy(regs + 8, &tmr, 4);
		memcpy(p, regs + off, len);
		return 0;
	}
	uint16_t sts_clear = 0, en = pm->en, cnt = pm->cnt;
	bool cnt_written = false;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i, sh = (o & 1) * 8;
		if (o < 2) {
			sts_clear |= (uint16_t)(p[i] << sh);
		} else if (o < 4) {
			en = (uint16_t)((en & ~(0xff << sh)) | (p[i] << sh));
		} else if (o < 6) {
			cnt = (uint16_t)((cnt & ~(0xff << sh)) | (p[i] << sh));
			cnt_written = true;
		}   /* the timer and the gap are read-only */
	}
	if (sts_clear & PM1_STS_TMR)
		pm->tmr_epoch = (uint32_t)(ticks(pm) >> 23);
	pm->sts &= (uint16_t)~sts_clear;
	pm->en = en;
	if (cnt_written)
		write_cnt(pm, cnt);
	return 0;
}

static int apm_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct acpi_pm *pm = dev;
	uint8_t *p = data;

	for (unsigned i = 0; i < len; i++) {
		bool cmd = addr + i == ACPI_SMI_CMD;
		if (!is_write) {
			p[i] = cmd ? 0 : pm->apm_sts;
		} else if (!cmd) {
			pm->apm_sts = p[i];
		} else if (p[i] == ACPI_ENABLE_CMD) {
			pm->cnt |= PM1_CNT_SCI_EN;
		} else if (p[i] == ACPI_DISABLE_CMD) {
			pm->cnt &= (uint16_t)~PM1_CNT_SCI_EN;
		}
	}
	return 0;
}

int acpi_pm__rcr_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct acpi_pm *pm = dev;
	uint8_t v;

	if (!is_write) {
		memset(data, 0, len);
		*(uint8_t *)data = pm->rcr;
		return 0;
	}
	memcpy(&v, data, 1);
	/* PIIX3: RST_CPU (bit 2) resets; SYS_RST (bit 1) is remembered for the next one. */
	if (v & 0x04) {
		if (pm->reset)
			pm->reset(pm->ctx);
		return 0;
	}
	pm->rcr = v & 0x02;
	return 0;
}

void acpi_pm__init(struct acpi_pm *pm, const struct vclock *clock,
		   void (*power_off)(void *ctx), void (*reset)(void *ctx), void *ctx)
{
	memset(pm, 0, sizeof(*pm));
	pm->clock = clock;
	pm->t0_ns = vclock__mono(clock);
	pm->power_off = power_off;
	pm->reset = reset;
	pm->ctx = ctx;
}

int acpi_pm__register(struct acpi_pm *pm, struct bus *pio)
{
	int r = bus__register(pio, ACPI_PM_BASE, ACPI_PM_LEN, pm_io, pm, "acpi-pm");
	if (!r)
		r = bus__register(pio, ACPI_SMI_CMD, 2, apm_io, pm, "apm");
	return r;
}
