/*
 * irq.h: how a device model drives an interrupt line.
 *
 * A device holds a struct irq_line and calls irq_line__set(); the VM wires it to its
 * interrupt controller (the i8259 pair now, the I/O APIC later) and kicks the vCPU when
 * the controller gains a deliverable interrupt. Unit tests wire it to a recorder.
 */
#ifndef SHADE_IRQ_H
#define SHADE_IRQ_H

struct irq_line {
	void (*set)(void *ctx, unsigned irq, int level);
	void *ctx;
	unsigned irq;
};

static inline void irq_line__set(const struct irq_line *l, int level)
{
	if (l->set)
		l->set(l->ctx, l->irq, level);
}

/* An edge as ISA devices produce it: raise then lower. */
static inline void irq_line__pulse(const struct irq_line *l)
{
	irq_line__set(l, 1);
	irq_line__set(l, 0);
}

#endif
