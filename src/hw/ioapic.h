/*
 * ioapic.h: the I/O APIC of a PC at 0xfec00000, as QEMU's (version 0x20, 24 pins; the
 * 82093AA register model plus the EOI register at 0x40 that version adds): IOREGSEL,
 * IOWIN, ID, version, arbitration ID, the redirection table, and EOI.
 *
 * Inputs are GSIs: ioapic__set_irq() takes the pin's level as asserted or not (polarity
 * is a property of the wire, not of the model, as in QEMU and KVM). Edge pins deliver
 * on a rising input while unmasked (a masked edge is lost); level pins deliver while the
 * input is asserted, unmasked and remote IRR is clear, set remote IRR, and deliver again
 * after the local APIC's EOI broadcast for their vector if the input is still asserted.
 * Messages go to the local APIC through the ops; delivery status always reads idle
 * (a message is delivered at once). ISA IRQ n is GSI n except IRQ 0 (the PIT), GSI 2.
 */
#ifndef SHADE_IOAPIC_H
#define SHADE_IOAPIC_H

#include "bus.h"

#define IOAPIC_BASE     0xfec00000ULL
#define IOAPIC_PINS     24
#define IOAPIC_VERSION  0x00170020u

struct ioapic_ops {
	/* An interrupt message: 8-bit destination, physical or logical, delivery mode,
	 * vector, level or edge. */
	void (*deliver)(void *ctx, uint8_t dest, bool logical, unsigned mode, unsigned vector,
			bool level);
	void *ctx;
};

struct ioapic_stats {
	uint64_t delivered[IOAPIC_PINS];
	uint64_t masked;          /* edges (or level assertions) that met a masked pin */
	uint64_t eois;            /* EOI broadcasts that cleared a remote IRR */
	uint64_t reads, writes;
};

struct ioapic {
	uint32_t id;              /* bits 27:24 of the ID register */
	uint32_t arb;             /* arbitration ID, loaded from the ID */
	uint8_t regsel;
	uint64_t redir[IOAPIC_PINS];
	uint32_t input;           /* asserted inputs */
	struct ioapic_ops ops;
	struct ioapic_stats stats;
};

void ioapic__init(struct ioapic *io, const struct ioapic_ops *ops);
int ioapic__register(struct ioapic *io, struct bus *mmio);
/* Drive GSI pin (0-23). */
void ioapic__set_irq(struct ioapic *io, unsigned pin, int level);
/* The GSI of ISA IRQ n on a PC. */
static inline unsigned ioapic__isa_gsi(unsigned irq) { return irq == 0 ? 2 : irq; }
/* The local APIC's EOI for a level-triggered vector. */
void ioapic__eoi(struct ioapic *io, unsigned vector);

#endif
