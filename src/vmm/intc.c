/*
 * intc.c: the interrupt wiring of shade's PC (see intc.h): ISA lines to the i8259 and
 * the I/O APIC, I/O APIC messages and EOIs between it and the local APIC, the i8259 as
 * the local APIC's ExtINT source, the guest TSC the TSC-deadline timer counts in, and
 * QEMU's pc-testdev IRQ ports that drive the ISA lines from the guest.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "cpuid.h"
#include "intc.h"
#include "vcpu.h"

#define MSR_TSC 0x10
#define TESTDEV_IRQ_BASE 0x2000

static void isa_set(void *ctx, unsigned irq, int level)
{
	struct intc *ic = ctx;
	if (irq < PIC_NR_IRQS)
		pic__set_irq(ic->pic, irq, level);
	ioapic__set_irq(&ic->ioapic, ioapic__isa_gsi(irq), level);
}

struct irq_line intc__isa_line(struct intc *ic, unsigned irq)
{
	return (struct irq_line){ .set = isa_set, .ctx = ic, .irq = irq };
}

/* QEMU's pc-testdev IRQ window (ports 0x2000-0x2017, as kvm-unit-tests drives the
 * I/O APIC with it): a write sets ISA line n to the value written. */
static int testdev_irq(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	if (is_write)
		isa_set(dev, (unsigned)(addr - TESTDEV_IRQ_BASE), *(uint8_t *)data != 0);
	else
		memset(data, 0, len);
	return 0;
}

static bool pic_pending(void *ctx) { return pic__has_interrupt(((struct intc *)ctx)->pic); }
static int pic_ack(void *ctx) { return pic__ack(((struct intc *)ctx)->pic); }

static void lapic_eoi(void *ctx, unsigned vector)
{
	ioapic__eoi(&((struct intc *)ctx)->ioapic, vector);
}

static void ioapic_message(void *ctx, uint8_t dest, bool logical, unsigned mode,
			   unsigned vector, bool level)
{
	lapic__bus_message(&((struct intc *)ctx)->lapic, dest, logical, mode, vector, level);
}

/* The guest TSC is KVM's (RDTSC runs natively): read it through the vCPU. */
static uint64_t guest_tsc(void *ctx)
{
	struct intc *ic = ctx;
	uint64_t v = 0;
	if (ic->vm->nvcpus && kvm__get_msr(ic->vm->vcpu[0]->fd, MSR_TSC, &v))
		v = 0;
	return v;
}

static uint64_t guest_tsc_khz(void *ctx)
{
	struct intc *ic = ctx;
	if (!ic->tsc_khz && ic->vm->nvcpus) {
		int khz = ioctl(ic->vm->vcpu[0]->fd, KVM_GET_TSC_KHZ, 0);
		ic->tsc_khz = khz > 0 ? (uint64_t)khz : 0;
	}
	return ic->tsc_khz;
}

void intc__init(struct intc *ic, struct vm *vm, struct pic *pic)
{
	uint32_t x8[4];
	ic->vm = vm;
	ic->pic = pic;
	ic->tsc_khz = 0;
	cpuid__lookup(&vm->cpuid, 0x80000008, 0, x8);
	/* CPUID.1: APIC (EDX 9), x2APIC (ECX 21), TSC-deadline timer (ECX 24). */
	cpuid__set_bit(&vm->cpuid, 1, 0, 3, 9);
	if (!vm->cfg.baseline) {
		/* Under --baseline KVM, not shade, answers the guest's MSRs. */
		cpuid__set_bit(&vm->cpuid, 1, 0, 2, 21);
		cpuid__set_bit(&vm->cpuid, 1, 0, 2, 24);
	}
	struct lapic_ops lops = { pic_pending, pic_ack, lapic_eoi, guest_tsc, guest_tsc_khz, ic };
	lapic__init(&ic->lapic, &vm->clock, &lops, x8[0] & 0xff, !vm->cfg.baseline);
	struct ioapic_ops iops = { ioapic_message, ic };
	ioapic__init(&ic->ioapic, &iops);
}

int intc__register(struct intc *ic, struct vm *vm)
{
	int r = lapic__register(&ic->lapic, &vm->mmio, &vm->timers);
	if (!r)
		r = ioapic__register(&ic->ioapic, &vm->mmio);
	if (!r)
		r = bus__register(&vm->pio, TESTDEV_IRQ_BASE, PIC_NR_IRQS, testdev_irq, ic,
				  "pc-testdev-irq");
	return r;
}

bool intc__pending(struct intc *ic)
{
	return lapic__has_interrupt(&ic->lapic);
}

int intc__ack(struct intc *ic)
{
	return lapic__ack(&ic->lapic);
}

void intc__print_stats(struct intc *ic, const char *n, FILE *f)
{
	const struct lapic_stats *a = &ic->lapic.stats;
#define P(field) fprintf(f, "%s.lapic.%s %llu\n", n, #field, (unsigned long long)a->field)
	P(accepted); P(delivered); P(extint); P(eois); P(eoi_broadcasts); P(timer_fires);
	P(timer_missed); P(ipis); P(ipis_dropped); P(nmis); P(mmio_reads); P(mmio_writes);
	P(msr_reads); P(msr_writes); P(errors);
#undef P
	const struct ioapic_stats *io = &ic->ioapic.stats;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		if (io->delivered[i])
			fprintf(f, "%s.ioapic.delivered.pin%u %llu\n", n, i,
				(unsigned long long)io->delivered[i]);
	fprintf(f, "%s.ioapic.masked %llu\n%s.ioapic.eois %llu\n", n,
		(unsigned long long)io->masked, n, (unsigned long long)io->eois);
}
