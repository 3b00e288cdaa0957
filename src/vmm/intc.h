/*
 * intc.h: how interrupts reach the vCPU on shade's PC: every ISA line drives both the
 * i8259 pair and the I/O APIC (IRQ n -> GSI n, IRQ 0 -> GSI 2), the I/O APIC sends its
 * messages to the local APIC, and the local APIC decides what the CPU takes: its own
 * vectors above the processor priority first, then the i8259 through LINT0 in ExtINT
 * mode (or directly while the APIC is hardware-disabled), as on a PC. The device
 * models are in src/hw/ (pic, ioapic, lapic); this file is their wiring.
 */
#ifndef SHADE_INTC_H
#define SHADE_INTC_H

#include <stdio.h>

#include "ioapic.h"
#include "irq.h"
#include "lapic.h"
#include "pic.h"

struct vm;

struct intc {
	struct vm *vm;
	struct pic *pic;
	struct lapic lapic;
	struct ioapic ioapic;
	uint64_t tsc_khz;         /* the vCPU's TSC rate, asked of KVM once */
};

/* Wire the APICs to the VM's PIC; advertise them in the VM's CPUID. */
void intc__init(struct intc *ic, struct vm *vm, struct pic *pic);
/* Claim the APIC pages on the MMIO bus, the APIC timer on the VM's timer queue. */
int intc__register(struct intc *ic, struct vm *vm);
/* An irq_line for ISA IRQ n (0-15; 16-23 reach the I/O APIC only). */
struct irq_line intc__isa_line(struct intc *ic, unsigned irq);
/* What the CPU would take now with IF set; its acknowledge (the vector, or -1). */
bool intc__pending(struct intc *ic);
int intc__ack(struct intc *ic);
void intc__print_stats(struct intc *ic, const char *name, FILE *f);

#endif
