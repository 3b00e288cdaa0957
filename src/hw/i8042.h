/*
 * i8042.h: the PC keyboard controller (data 0x60, status/command 0x64, IRQ 1 and 12)
 * and the System Control Port A at 0x92 (fast A20, fast reset).
 *
 * What a kernel's start-up code does with them works as on QEMU's pckbd: the status
 * register, the command byte (0x20/0x60), controller self-test (0xAA -> 0x55) and
 * interface tests (0xAB, 0xA9 -> 0x00), keyboard/aux disable and enable (0xAD/0xAE,
 * 0xA7/0xA8), the output port (0xD0/0xD1, A20 in bit 1, reset in bit 0), 0xDD/0xDF,
 * pulse output lines (0xF0-0xFF: 0xFE resets) and writes to the keyboard and the aux
 * device (0xD4), which answer like a keyboard and a mouse with nothing pressed (ACK
 * 0xFA; reset -> 0xFA 0xAA [0x00]; identify -> 0xFA 0xAB 0x83 / 0xFA 0x00; echo).
 * No key or mouse events are ever generated (COM1 is the console). A20 is recorded and
 * read back but never masks memory: shade's guests run with A20 enabled, always.
 * A reset request goes to the reset callback; stopping the VM is the VMM's business.
 */
#ifndef SHADE_I8042_H
#define SHADE_I8042_H

#include "bus.h"
#include "irq.h"

#define I8042_DATA    0x60
#define I8042_CMD     0x64
#define I8042_PORT_A  0x92
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12
#define I8042_QUEUE   16

#define I8042_STS_OBF   0x01
#define I8042_STS_IBF   0x02
#define I8042_STS_SYS   0x04
#define I8042_STS_CMD   0x08
#define I8042_STS_UNLOCKED 0x10
#define I8042_STS_AUX   0x20

#define I8042_OUT_RESET 0x01   /* active low: 0 pulls the CPU's reset line */
#define I8042_OUT_A20   0x02

struct i8042_stats {
	uint64_t commands, resets;
};

struct i8042 {
	struct irq_line kbd_irq, aux_irq;
	uint8_t status, mode, outport, port_a;
	uint8_t pending;              /* controller command waiting for its data byte */
	uint8_t kbd_pending;          /* keyboard command waiting for its parameter */
	uint8_t data;                 /* last byte delivered (re-read when empty) */
	struct { uint8_t b; bool aux; } q[I8042_QUEUE];
	unsigned qhead, qlen;
	bool kbd_level, aux_level;
	void (*reset)(void *ctx);
	void *ctx;
	struct i8042_stats stats;
};

void i8042__init(struct i8042 *k, struct irq_line kbd_irq, struct irq_line aux_irq,
		 void (*reset)(void *ctx), void *ctx);
int i8042__register(struct i8042 *k, struct bus *pio);
/* A20 as the two controls leave it (either enables it). */
bool i8042__a20(const struct i8042 *k);

#endif
