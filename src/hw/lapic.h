/*
 * lapic.h: the local APIC of the (one) vCPU: xAPIC registers in a 4 KiB MMIO page at the
 * IA32_APIC_BASE address, the x2APIC registers as MSRs 0x800-0x8ff, IA32_APIC_BASE
 * itself and IA32_TSC_DEADLINE.
 *
 * The APIC owns IRR/ISR/TMR, the task and processor priorities, the LVT entries and the
 * timer. The VMM owns delivery: it asks lapic__has_interrupt() when the guest can take an
 * interrupt and lapic__ack() for the vector (IRR -> ISR), as the INTA cycle would. The
 * i8259 is reached through LINT0 in ExtINT mode (the virtual-wire mode a BIOS leaves) or
 * directly while the APIC is hardware-disabled; I/O APIC messages arrive through
 * lapic__bus_message(). The timer counts at 1 GHz before the divider, as QEMU's and
 * KVM's do, on the VM's monotonic clock; the TSC-deadline mode converts the guest TSC to
 * that clock through the ops. Not modelled: other CPUs (IPIs to them are dropped and
 * counted), INIT/SIPI/SMI, LINT0/LINT1 in fixed mode, the thermal and performance
 * counter sources, focus checking and EOI-broadcast suppression (not advertised).
 */
#ifndef SHADE_LAPIC_H
#define SHADE_LAPIC_H

#include "bus.h"
#include "clock.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ULL
#define LAPIC_VERSION      0x50014u     /* version 0x14, 6 LVT entries (as QEMU's) */
#define LAPIC_NR_LVT       6

#define MSR_IA32_APIC_BASE   0x1bu
#define MSR_IA32_TSC_DEADLINE 0x6e0u
#define MSR_X2APIC_FIRST     0x800u
#define MSR_X2APIC_LAST      0x8ffu

#define APIC_BASE_BSP  (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_EN   (1ULL << 11)

enum lapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* What the APIC is wired to. */
struct lapic_ops {
	bool (*extint_pending)(void *ctx);   /* the i8259's INT output */
	int (*extint_ack)(void *ctx);        /* its INTA cycle: the vector */
	void (*eoi)(void *ctx, unsigned vector);   /* EOI of a level interrupt: to the I/O APIC */
	uint64_t (*tsc)(void *ctx);          /* the guest's TSC now */
	uint64_t (*tsc_khz)(void *ctx);      /* its rate */
	void *ctx;
};

struct lapic_stats {
	uint64_t accepted;        /* vectors set in IRR (any source) */
	uint64_t delivered;       /* vectors acknowledged (IRR -> ISR) */
	uint64_t extint;          /* i8259 vectors passed through (LINT0 or disabled APIC) */
	uint64_t eois, eoi_broadcasts;
	uint64_t timer_fires, timer_missed;   /* timer expiries; periods skipped by late service */
	uint64_t ipis, ipis_dropped;          /* ICR/SELF_IPI sends; to nobody, or unsupported */
	uint64_t nmis;
	uint64_t mmio_reads, mmio_writes, msr_reads, msr_writes;
	uint64_t errors;          /* ESR bits raised */
};

struct lapic {
	const struct vclock *clock;
	struct lapic_ops ops;
	struct bus *mmio;
	uint64_t mapped;          /* base of the page claimed on mmio, or ~0 */
	unsigned phys_bits;       /* MAXPHYADDR: base bits at or above it are reserved */
	bool x2apic_ok;           /* x2APIC mode may be entered (CPUID advertises it) */

	uint64_t base;            /* IA32_APIC_BASE */
	uint32_t id;              /* the APIC ID (xAPIC: bits 31:24 of the register) */
	uint32_t tpr, svr, ldr, dfr, esr, esr_pending;
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LAPIC_NR_LVT];
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t tmict, tdcr;
	uint64_t tsc_deadline;    /* IA32_TSC_DEADLINE as programmed; 0 when disarmed */
	uint64_t period_ns;       /* one-shot/periodic: TMICT * divider */
	uint64_t expiry_ns;       /* the next expiry, VTIMER_NEVER when stopped */
	struct vtimer timer;      /* armed at expiry_ns (at least a little in the future) */
	bool nmi_pending;
	struct lapic_stats stats;
};

/* The state after the firmware: enabled at 0xfee00000 (BSP), software-enabled, LINT0
 * ExtINT (the virtual wire to the i8259), LINT1 NMI, as SeaBIOS leaves it under QEMU. */
void lapic__init(struct lapic *a, const struct vclock *clock, const struct lapic_ops *ops,
		 unsigned phys_bits, bool x2apic_ok);
/* Claims the xAPIC page at the base address on mmio and puts the timer on tq. */
int lapic__register(struct lapic *a, struct bus *mmio, struct timer_queue *tq);

/* An interrupt is waiting that the CPU would take with IF set. */
bool lapic__has_interrupt(struct lapic *a);
/* The acknowledge: the vector (IRR -> ISR, or the i8259's INTA), or -1. */
int lapic__ack(struct lapic *a);
/* A message from the I/O APIC (8-bit destination): delivery mode 0/1 (fixed, lowest
 * priority), 4 (NMI); others are dropped and counted. */
void lapic__bus_message(struct lapic *a, uint8_t dest, bool logical, unsigned mode,
			unsigned vector, bool level);
/* Take a pending NMI (true once per NMI). */
bool lapic__take_nmi(struct lapic *a);

/* IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC MSRs: true for the MSRs it owns. */
bool lapic__owns_msr(uint32_t msr);
/* 0, or 1 when the access is #GP(0) for the guest. */
int lapic__msr_read(struct lapic *a, uint32_t msr, uint64_t *val);
int lapic__msr_write(struct lapic *a, uint32_t msr, uint64_t val);
/* CR8 (64-bit mode): TPR[7:4]. */
uint64_t lapic__cr8(struct lapic *a);
void lapic__set_cr8(struct lapic *a, uint64_t cr8);
/* IA32_APIC_BASE.EN: CPUID.1:EDX.APIC follows it. */
bool lapic__hw_enabled(const struct lapic *a);

#endif
