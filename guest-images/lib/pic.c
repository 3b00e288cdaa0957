/* pic.c: i8259 initialisation, masking, EOI and OCW3 register reads. */
#include "pic.h"
#include "x86.h"

void pic__remap(u8 master_base, u8 slave_base)
{
	outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 needed */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, master_base); /* ICW2: vector base */
	outb(PIC2_DATA, slave_base);
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02); /* ICW3: slave identity 2 */
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode, normal EOI */
	outb(PIC2_DATA, 0x01);
}

void pic__set_mask(u16 mask)
{
	outb(PIC1_DATA, mask & 0xff);
	outb(PIC2_DATA, mask >> 8);
}

u16 pic__get_mask(void)
{
	return (u16)(inb(PIC1_DATA) | (inb(PIC2_DATA) << 8));
}

void pic__mask(int irq, bool masked)
{
	u16 m = pic__get_mask();

	if (masked)
		m |= (u16)(1u << irq);
	else
		m &= (u16)~(1u << irq);
	/* A slave line needs the cascade input unmasked on the master. */
	if (irq >= 8 && !masked)
		m &= (u16)~(1u << 2);
	pic__set_mask(m);
}

void pic__eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
}

static u16 read_ocw3(u8 ocw3)
{
	outb(PIC1_CMD, ocw3);
	outb(PIC2_CMD, ocw3);
	return (u16)(inb(PIC1_CMD) | (inb(PIC2_CMD) << 8));
}

u16 pic__irr(void)
{
	return read_ocw3(0x0a);
}

u16 pic__isr(void)
{
	return read_ocw3(0x0b);
}
