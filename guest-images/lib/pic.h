/* pic.h: the i8259 pair (master 0x20/0x21, slave 0xa0/0xa1). */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H

#include "types.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE 0x28
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

/* ICW1..ICW4: edge triggered, cascaded on IRQ2, 8086 mode. Leaves IMR = 0. */
void pic__remap(u8 master_base, u8 slave_base);
void pic__set_mask(u16 mask); /* bit n masks IRQ n */
u16 pic__get_mask(void);
void pic__mask(int irq, bool masked);
void pic__eoi(int irq); /* non-specific EOI (to both chips for IRQ 8-15) */
u16 pic__irr(void);     /* OCW3 read IRR */
u16 pic__isr(void);     /* OCW3 read ISR */

#endif
