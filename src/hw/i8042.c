/*
 * i8042.c: the keyboard controller's command set, its output buffer (one queue of
 * bytes each tagged keyboard or aux, so OBF/AUX and the two interrupt lines follow
 * the byte at the head), the keyboard and mouse replies, and port 0x92.
 *
 * The state at init is what a PC leaves after its BIOS (SeaBIOS on QEMU) ran POST:
 * self-test passed (SYS), keyboard interrupt and scan-code translation on, aux off,
 * A20 enabled through port 0x92 and in the output port.
 */
#include <string.h>

#include "i8042.h"

#define MODE_KBD_INT   0x01
#define MODE_AUX_INT   0x02
#define MODE_SYS       0x04
#define MODE_KBD_OFF   0x10
#define MODE_AUX_OFF   0x20
#define MODE_XLATE     0x40

#define OUT_OBF        0x10
#define OUT_AUX_OBF    0x20
#define OUT_ONES       0xcc     /* QEMU's KBD_OUT_ONES: lines that read as 1 */

#define ACK 0xfa

static void update(struct i8042 *k)
{
	bool kbd = false, aux = false;
	k->status &= (uint8_t)~(I8042_STS_OBF | I8042_STS_AUX);
	k->outport &= (uint8_t)~(OUT_OBF | OUT_AUX_OBF);
	if (k->qlen) {
		k->status |= I8042_STS_OBF;
		k->outport |= OUT_OBF;
		if (k->q[k->qhead].aux) {
			k->status |= I8042_STS_AUX;
			k->outport |= OUT_AUX_OBF;
			aux = k->mode & MODE_AUX_INT;
		} else {
			kbd = (k->mode & MODE_KBD_INT) && !(k->mode & MODE_KBD_OFF);
		}
	}
	if (kbd != k->kbd_level)
		irq_line__set(&k->kbd_irq, k->kbd_level = kbd);
	if (aux != k->aux_level)
		irq_line__set(&k->aux_irq, k->aux_level = aux);
}

static void queue(struct i8042 *k, uint8_t b, bool aux)
{
	if (k->qlen == I8042_QUEUE)
		return;                 /* a real controller holds one byte; we drop */
	unsigned tail = (k->qhead + k->qlen++) % I8042_QUEUE;
	k->q[tail].b = b;
	k->q[tail].aux = aux;
}

static void reset_request(struct i8042 *k)
{
	k->stats.resets++;
	if (k->reset)
		k->reset(k->ctx);
}

static void write_outport(struct i8042 *k, uint8_t v)
{
	k->outport = v;
	if (!(v & I8042_OUT_RESET))
		reset_request(k);
}

/* A byte for the keyboard: ACK, plus what a PS/2 keyboard sends back. */
static void kbd_write(struct i8042 *k, uint8_t v)
{
	if (k->kbd_pending) {           /* the parameter of 0xed/0xf0/0xf3 */
		uint8_t cmd = k->kbd_pending;
		k->kbd_pending = 0;
		queue(k, ACK, false);
		if (cmd == 0xf0 && v == 0)
			queue(k, (k->mode & MODE_XLATE) ? 0x41 : 0x02, false);
		return;
	}
	switch (v) {
	case 0xee:
		queue(k, 0xee, false);
		return;
	case 0xed: case 0xf0: case 0xf3:
		k->kbd_pending = v;
		break;
	}
	queue(k, ACK, false);
	if (v == 0xff)
		queue(k, 0xaa, false);
	else if (v == 0xf2) {
		queue(k, 0xab, false);
		queue(k, (k->mode & MODE_XLATE) ? 0x41 : 0x83, false);
	}
}

/* A byte for the mouse (controller command 0xd4). */
static void aux_write(struct i8042 *k, uint8_t v)
{
	queue(k, ACK, true);
	if (v == 0xff) {
		queue(k, 0xaa, true);
		queue(k, 0x00, true);
	} else if (v == 0xf2) {
		queue(k, 0x00, true);
	} else if (v == 0xe9) {         /* status: stream mode, resolution 2, 100 Hz */
		queue(k, 0x00, true);
		queue(k, 0x02, true);
		queue(k, 0x64, true);
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;
	k->pending = 0;
	k->status &= (uint8_t)~I8042_STS_CMD;
	switch (cmd) {
	case 0x60:
		k->mode = v;    /* status.SYS stays as self-test left it, as in QEMU */
		break;
	case 0xd1: write_outport(k, v); break;
	case 0xd2: queue(k, v, false); break;
	case 0xd3: queue(k, v, true); break;
	case 0xd4: aux_write(k, v); break;
	default: kbd_write(k, v); break;
	}
}

static void command(struct i8042 *k, uint8_t c)
{
	k->stats.commands++;
	k->status |= I8042_STS_CMD;
	/* 0xf0-0xff pulse output lines 3-0 for each clear bit: bit 0 is the reset line. */
	if ((c & 0xf0) == 0xf0) {
		if (!(c & 1))
			reset_request(k);
		return;
	}
	switch (c) {
	case 0x20: queue(k, k->mode, false); break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: k->pending = c; break;
	case 0xa7: k->mode |= MODE_AUX_OFF; break;
	case 0xa8: k->mode &= (uint8_t)~MODE_AUX_OFF; break;
	case 0xa9: case 0xab: queue(k, 0x00, false); break;
	case 0xaa:
		k->status |= I8042_STS_SYS;
		queue(k, 0x55, false);
		break;
	case 0xad: k->mode |= MODE_KBD_OFF; break;
	case 0xae: k->mode &= (uint8_t)~MODE_KBD_OFF; break;
	case 0xc0: queue(k, 0x80, false); break;   /* input port: keyboard not inhibited */
	case 0xd0: queue(k, k->outport, false); break;
	case 0xdd: k->outport &= (uint8_t)~I8042_OUT_A20; break;
	case 0xdf: k->outport |= I8042_OUT_A20; break;
	case 0xe0: queue(k, 0x00, false); break;   /* test inputs */
	default: break;                            /* unknown: ignored, as QEMU does */
	}
}

static int kbd_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct i8042 *k = dev;
	uint8_t *p = data;

	if (len != 1) {                 /* byte ports: wider accesses decode as nothing */
		if (!is_write)
			memset(data, 0xff, len);
		return 0;
	}
	if (addr == I8042_DATA) {
		if (is_write) {
			data_write(k, *p);
		} else {
			if (k->qlen) {
				k->data = k->q[k->qhead].b;
				k->qhead = (k->qhead + 1) % I8042_QUEUE;
				k->qlen--;
			}
			*p = k->data;
		}
	} else if (is_write) {
		command(k, *p);
	} else {
		*p = k->status;
	}
	if (addr == I8042_DATA || is_write)
		update(k);
	return 0;
}

/* Port 0x92: bit 1 A20, bit 0 a rising edge resets; reads return what was written. */
static int port_a_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct i8042 *k = dev;
	uint8_t v;

	if (!is_write) {
		memset(data, 0, len);
		*(uint8_t *)data = k->port_a;
		return 0;
	}
	memcpy(&v, data, 1);
	uint8_t old = k->port_a;
	k->port_a = v & 0x03;
	if ((v & 1) && !(old & 1))
		reset_request(k);
	return 0;
}

bool i8042__a20(const struct i8042 *k)
{
	return (k->port_a & 0x02) || (k->outport & I8042_OUT_A20);
}

void i8042__init(struct i8042 *k, struct irq_line kbd_irq, struct irq_line aux_irq,
		 void (*reset)(void *ctx), void *ctx)
{
	memset(k, 0, sizeof(*k));
	k->kbd_irq = kbd_irq;
	k->aux_irq = aux_irq;
	k->reset = reset;
	k->ctx = ctx;
	k->mode = MODE_KBD_INT | MODE_AUX_OFF | MODE_XLATE;     /* 0x61, SeaBIOS's */
	k->status = I8042_STS_SYS | I8042_STS_UNLOCKED;
	k->outport = OUT_ONES | I8042_OUT_A20 | I8042_OUT_RESET;
	k->port_a = 0x02;
}

int i8042__register(struct i8042 *k, struct bus *pio)
{
	int r = bus__register(pio, I8042_DATA, 1, kbd_io, k, "i8042-data");
	if (!r)
		r = bus__register(pio, I8042_CMD, 1, kbd_io, k, "i8042-cmd");
	if (!r)
		r = bus__register(pio, I8042_PORT_A, 1, port_a_io, k, "port-92");
	return r;
}
