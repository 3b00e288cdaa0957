/*
 * cga.h: the colour text display of a PC as guests use it without a BIOS call: the
 * text buffer at 0xb8000 (80x25 cells of character + attribute) and the VGA CRT
 * controller's ports (index 0x3d4, data 0x3d5; input status 0x3da; misc output
 * 0x3c2/0x3cc).
 *
 * The buffer is plain guest RAM (the guest writes it at native speed, nothing traps):
 * the VMM fills it blank at boot and hands its bytes to cga__render when it wants
 * the screen as text (at VM stop, on a control request). This model owns the CRTC
 * registers (cursor shape 0x0a/0x0b, start address 0x0c/0x0d, cursor location
 * 0x0e/0x0f and the rest, readable as written, seeded with mode 3's values) and the
 * rendering. Not modelled: graphics modes, the attribute controller, sequencer,
 * graphics controller and DAC (their ports read 0xff), the mono ports 0x3b4/0x3b5
 * (0xff, as on QEMU's VGA in colour mode), blinking, fonts.
 */
#ifndef SHADE_CGA_H
#define SHADE_CGA_H

#include <stddef.h>

#include "bus.h"

#define CGA_VRAM      0xb8000
#define CGA_VRAM_SIZE 0x8000
#define CGA_COLS      80
#define CGA_ROWS      25
#define CGA_BLANK     0x0720     /* space, light grey on black */
#define CGA_CRTC_REGS 0x19
/* The longest text cga__render writes: 25 lines of 80 characters and newlines, NUL. */
#define CGA_TEXT_MAX  (CGA_ROWS * (CGA_COLS + 1) + 1)

struct cga {
	uint8_t crtc_index;
	uint8_t crtc[CGA_CRTC_REGS];
	uint8_t misc;
	uint8_t status;              /* input status 1: toggles retrace/display bits */
	uint64_t crtc_writes;
};

void cga__init(struct cga *c);
int cga__register(struct cga *c, struct bus *pio);
/* Fill a copy of the text buffer (CGA_VRAM_SIZE bytes) with blank cells. */
void cga__blank(uint8_t *vram);
/* Whether the page the CRTC displays shows any character (not space or NUL). */
bool cga__written(const struct cga *c, const uint8_t *vram);
/* The displayed page as text: one line per row, trailing blanks and blank rows at the
 * end dropped, bytes outside printable ASCII shown as '.'. Returns the length. */
size_t cga__render(const struct cga *c, const uint8_t *vram, char *out, size_t cap);
/* Where the displayed page starts in the buffer (bytes); it may wrap at the end. */
size_t cga__page_offset(const struct cga *c);
/* Cursor location (0x0e/0x0f) as a cell index. */
unsigned cga__cursor(const struct cga *c);

#endif
