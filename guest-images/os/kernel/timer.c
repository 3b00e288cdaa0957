/*
 * timer.c: the interrupt hardware: the i8259 PIC pair (remapped to vectors 32-47,
 * everything masked but the timer until a driver unmasks its line) and the i8254 PIT channel 0 at HZ, the scheduler's
 * tick. HZ is low on purpose: every tick costs an interrupt and an EOI, and each of
 * those is a VM exit under a hypervisor.
 */
#include "kernel.h"
#include "timer.h"
#include "x86.h"

#define PIC1 0x20
#define PIC2 0xa0
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182

static void pic_init(void)
{
	outb(PIC1, 0x11);		/* ICW1: edge, cascade, ICW4 */
	outb(PIC2, 0x11);
	outb(PIC1 + 1, TIMER_VEC_BASE);	/* ICW2: vectors */
	outb(PIC2 + 1, TIMER_VEC_BASE + 8);
	outb(PIC1 + 1, 0x04);		/* ICW3: slave on IRQ2 */
	outb(PIC2 + 1, 0x02);
	outb(PIC1 + 1, 0x01);		/* ICW4: 8086 mode */
	outb(PIC2 + 1, 0x01);
	outb(PIC1 + 1, 0xfe);		/* only IRQ0 */
	outb(PIC2 + 1, 0xff);
}

void timer__init(void)
{
	pic_init();
	uint16_t div = (PIT_HZ + HZ / 2) / HZ;
	outb(PIT_CMD, 0x34);		/* channel 0, lo/hi, mode 2 (rate generator) */
	outb(PIT_CH0, div & 0xff);
	outb(PIT_CH0, div >> 8);
}

void timer__eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2, 0x20);
	outb(PIC1, 0x20);
}

void pic__unmask(int irq)
{
	if (irq >= 8) {
		outb(PIC2 + 1, inb(PIC2 + 1) & (uint8_t)~(1 << (irq - 8)));
		irq = 2;	/* the slave's cascade input on the master */
	}
	outb(PIC1 + 1, inb(PIC1 + 1) & (uint8_t)~(1 << irq));
}
