/*
 * cga.c: the CRT controller's register file, input status 1, misc output, and the
 * text buffer rendered as lines of text. See cga.h for what is and is not modelled.
 */
#include <string.h>

#include "cga.h"

#define PORT_MISC_W   0x3c2
#define PORT_MISC_R   0x3cc
#define PORT_CRTC_IDX 0x3d4
#define PORT_CRTC_DAT 0x3d5
#define PORT_STATUS   0x3da

#define ST01_DISP_ENABLE 0x01
#define ST01_V_RETRACE   0x08

/* The CRTC of VGA mode 3 (80x25 colour text), as the video BIOS programs it. */
static const uint8_t mode3_crtc[CGA_CRTC_REGS] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
	0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};

static uint8_t read_port(struct cga *c, uint16_t port)
{
	switch (port) {
	case PORT_CRTC_IDX:
		return c->crtc_index;
	case PORT_CRTC_DAT:
		return c->crtc_index < CGA_CRTC_REGS ? c->crtc[c->crtc_index] : 0xff;
	case PORT_MISC_R:
		return c->misc;
	case PORT_STATUS:
		/* Pollers wait for retrace to begin and end: give them both, alternately,
		 * as QEMU's VGA does. */
		c->status ^= ST01_V_RETRACE | ST01_DISP_ENABLE;
		return c->status;
	default:
		return 0xff;
	}
}

static void write_port(struct cga *c, uint16_t port, uint8_t v)
{
	switch (port) {
	case PORT_CRTC_IDX:
		c->crtc_index = v;
		break;
	case PORT_CRTC_DAT:
		if (c->crtc_index >= CGA_CRTC_REGS)
			break;
		/* CR11 bit 7 write-protects CR00-CR07 (the timing registers), except
		 * CR07's line-compare bit 4. */
		if ((c->crtc[0x11] & 0x80) && c->crtc_index <= 7) {
			if (c->crtc_index == 7)
				c->crtc[7] = (uint8_t)((c->crtc[7] & ~0x10) | (v & 0x10));
			break;
		}
		c->crtc[c->crtc_index] = v;
		c->crtc_writes++;
		break;
	case PORT_MISC_W:
		c->misc = v;
		break;
	default:
		break;
	}
}

/* Byte-wide registers; a 16-bit OUT to the index port writes index then data, which
 * is how many drivers set a CRTC register in one instruction. */
static int cga_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct cga *c = dev;
	uint8_t *p = data;

	for (unsigned i = 0; i < len; i++) {
		if (is_write)
			write_port(c, (uint16_t)(addr + i), p[i]);
		else
			p[i] = read_port(c, (uint16_t)(addr + i));
	}
	return 0;
}

void cga__init(struct cga *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->crtc, mode3_crtc, sizeof(c->crtc));
	c->misc = 0x67;    /* colour I/O addresses, 28 MHz clock, RAM enabled */
}

int cga__register(struct cga *c, struct bus *pio)
{
	int r = bus__register(pio, PORT_MISC_W, 1, cga_io, c, "vga-misc");
	if (!r)
		r = bus__register(pio, PORT_MISC_R, 1, cga_io, c, "vga-misc-read");
	if (!r)
		r = bus__register(pio, PORT_CRTC_IDX, 2, cga_io, c, "vga-crtc");
	if (!r)
		r = bus__register(pio, PORT_STATUS, 1, cga_io, c, "vga-status");
	return r;
}

void cga__blank(uint8_t *vram)
{
	for (size_t i = 0; i + 1 < CGA_VRAM_SIZE; i += 2) {
		vram[i] = CGA_BLANK & 0xff;
		vram[i + 1] = CGA_BLANK >> 8;
	}
}

/* The displayed page starts at the CRTC start address (in cells), wrapping in 32 KiB. */
static size_t cell_offset(const struct cga *c, unsigned cell)
{
	unsigned start = (unsigned)(c->crtc[0x0c] << 8 | c->crtc[0x0d]);
	return ((size_t)(start + cell) * 2) % CGA_VRAM_SIZE;
}

/* A cell shows nothing when it holds a space or a NUL, whatever its colours. */
bool cga__written(const struct cga *c, const uint8_t *vram)
{
	for (unsigned i = 0; i < CGA_COLS * CGA_ROWS; i++) {
		uint8_t ch = vram[cell_offset(c, i)];
		if (ch != ' ' && ch != 0)
			return true;
	}
	return false;
}

size_t cga__render(const struct cga *c, const uint8_t *vram, char *out, size_t cap)
{
	size_t n = 0, keep = 0;    /* keep: length up to the last non-blank row */

	if (!cap)
		return 0;
	for (unsigned row = 0; row < CGA_ROWS; row++) {
		char line[CGA_COLS];
		unsigned len = 0;
		for (unsigned col = 0; col < CGA_COLS; col++) {
			uint8_t ch = vram[cell_offset(c, row * CGA_COLS + col)];
			line[col] = ch == 0 ? ' ' : (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
			if (line[col] != ' ')
				len = col + 1;
		}
		if (n + len + 2 > cap)
			break;
		memcpy(out + n, line, len);
		n += len;
		out[n++] = '\n';
		if (len)
			keep = n;
	}
	out[keep] = 0;
	return keep;
}

size_t cga__page_offset(const struct cga *c)
{
	return cell_offset(c, 0);
}

unsigned cga__cursor(const struct cga *c)
{
	return (unsigned)(c->crtc[0x0e] << 8 | c->crtc[0x0f]);
}
