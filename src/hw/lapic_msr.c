/*
 * lapic_msr.c: the local APIC's MSRs: IA32_APIC_BASE (relocation, global enable, the
 * xAPIC/x2APIC mode transitions), IA32_TSC_DEADLINE, the x2APIC registers 0x800-0x8ff
 * (the register file of lapic.c with the x2APIC rules: #GP for registers that are
 * MMIO-only, read-only, write-only or reserved, and for reserved bits), and CR8.
 */
#include "lapic_internal.h"

/* IA32_APIC_BASE: the mode transitions of SDM 10.12.5 (figure 10-27). */
static int set_base(struct lapic *a, uint64_t val)
{
	uint64_t reserved = ~((1ULL << a->phys_bits) - 1) | 0x2ffULL;
	if (!a->x2apic_ok)
		reserved |= APIC_BASE_EXTD;
	if (val & reserved)
		return -1;
	bool en = val & APIC_BASE_EN, extd = val & APIC_BASE_EXTD;
	bool was_en = lapic__hw_enabled(a), was_x2 = lapic_x2apic_mode(a);
	if (extd && !en)
		return -1;                      /* invalid state */
	if (was_x2 && en && !extd)
		return -1;                      /* x2APIC -> xAPIC only through disabled */
	if (!was_en && extd)
		return -1;                      /* disabled -> x2APIC only through xAPIC */
	a->base = (val & ~APIC_BASE_BSP) | APIC_BASE_BSP;
	if (was_en && !en)
		lapic_reset(a, true);           /* disabling loses the APIC's state */
	if (extd && !was_x2)
		a->ldr = ((a->id >> 4) << 16) | (1u << (a->id & 15));
	if (lapic_remap(a))
		return -1;
	return 0;
}

bool lapic__owns_msr(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST);
}

int lapic__msr_read(struct lapic *a, uint32_t msr, uint64_t *val)
{
	a->stats.msr_reads++;
	if (msr == MSR_IA32_APIC_BASE) {
		*val = a->base;
		return 0;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		lapic_timer_catch_up(a, vclock__mono(a->clock));
		*val = lapic_timer_mode(a) == TIMER_TSC_DEADLINE ? a->tsc_deadline : 0;
		return 0;
	}
	if (!lapic_x2apic_mode(a))
		return 1;
	return lapic_reg_read(a, msr - MSR_X2APIC_FIRST, val, true) < 0 ? 1 : 0;
}

int lapic__msr_write(struct lapic *a, uint32_t msr, uint64_t val)
{
	a->stats.msr_writes++;
	if (msr == MSR_IA32_APIC_BASE)
		return set_base(a, val) < 0 ? 1 : 0;
	if (msr == MSR_IA32_TSC_DEADLINE) {
		lapic_timer_set_deadline(a, val);
		return 0;
	}
	if (!lapic_x2apic_mode(a))
		return 1;
	return lapic_reg_write(a, msr - MSR_X2APIC_FIRST, val, true) < 0 ? 1 : 0;
}

uint64_t lapic__cr8(struct lapic *a) { return a->tpr >> 4; }
void lapic__set_cr8(struct lapic *a, uint64_t cr8) { a->tpr = (uint32_t)(cr8 & 0xf) << 4; }
