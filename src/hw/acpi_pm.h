/*
 * acpi_pm.h: the ACPI fixed-hardware registers of a PIIX4-like chipset, where QEMU's
 * PC has them, and the two other ways a PC guest turns itself off or resets:
 *   0x600 PM1a_EVT_BLK  PM1_STS (write 1 to clear) and PM1_EN, 16 bits each
 *   0x604 PM1a_CNT_BLK  SCI_EN, SLP_TYP, SLP_EN: SLP_EN with SLP_TYP 0 (the DSDT's \_S5)
 *                       or 2 (S4, which QEMU also turns into a power-off) powers off
 *   0x608 PM_TMR_BLK    the 24-bit 3.579545 MHz timer, from the VM's monotonic clock
 *   0xb2/0xb3           APM control/status: ACPI_ENABLE (0xf1) sets SCI_EN, ACPI_DISABLE
 *                       (0xf0) clears it, as the FADT's SMI_CMD says
 *   0xcf9               the reset control register (PIIX3 RCR): a write with bit 2 set
 *                       resets the machine; reads return bit 1 as last written
 * The model owns the register values only: what "power off" and "reset" do to the VM is
 * the callbacks'. Not modelled: the SCI for TMR_STS (the status bit is kept, no
 * interrupt is raised), sleep states other than soft-off (S1/S3 writes are ignored),
 * GPE blocks (the FADT has none).
 */
#ifndef SHADE_ACPI_PM_H
#define SHADE_ACPI_PM_H

#include "bus.h"
#include "clock.h"
#include "irq.h"

#define ACPI_PM_BASE     0x600
#define ACPI_PM_LEN      12
#define ACPI_PM1_EVT     0x600
#define ACPI_PM1_CNT     0x604
#define ACPI_PM_TMR      0x608
#define ACPI_SMI_CMD     0xb2
#define ACPI_ENABLE_CMD  0xf1
#define ACPI_DISABLE_CMD 0xf0
#define ACPI_RESET_PORT  0xcf9
#define ACPI_RESET_VALUE 0x06
#define ACPI_SCI_IRQ     9
#define ACPI_PM_TMR_HZ   3579545ULL

#define PM1_STS_TMR      0x0001
#define PM1_STS_WAK      0x8000
#define PM1_CNT_SCI_EN   0x0001
#define PM1_CNT_SLP_TYP(c) (((c) >> 10) & 7)
#define PM1_CNT_SLP_EN   0x2000

struct acpi_pm_stats {
	uint64_t timer_reads;
};

struct acpi_pm {
	const struct vclock *clock;
	uint64_t t0_ns;              /* the timer counts from here */
	uint16_t en, cnt;
	uint32_t tmr_epoch;          /* counter >> 23 when TMR_STS was last cleared */
	uint16_t sts;                /* status bits other than TMR_STS */
	uint8_t apm_sts, rcr;
	void (*power_off)(void *ctx);
	void (*reset)(void *ctx);
	void *ctx;
	struct acpi_pm_stats stats;
};

void acpi_pm__init(struct acpi_pm *pm, const struct vclock *clock,
		   void (*power_off)(void *ctx), void (*reset)(void *ctx), void *ctx);
/* The PM block and the APM ports; the reset register is reached through
 * acpi_pm__rcr_io, since 0xcf9 sits inside the PCI host bridge's 0xcf8 dword. */
int acpi_pm__register(struct acpi_pm *pm, struct bus *pio);
int acpi_pm__rcr_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write);
/* The counter as the guest reads it (24 bits). */
uint32_t acpi_pm__timer(struct acpi_pm *pm);

#endif
