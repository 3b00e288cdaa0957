/*
 * test_cga.c: the CRT controller's ports (index read back, registers as written,
 * CR11's write protection, a 16-bit OUT setting index and data at once, input status 1
 * toggling, misc output), and the text buffer rendered as text: blank detection,
 * trailing blanks and rows dropped, non-printables, the CRTC start address.
 */
#include <check.h>

#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>

#include "cga.h"
#include "fakes.h"

static uint8_t vram[CGA_VRAM_SIZE];

static void put(unsigned cell, const char *s)
{
	for (; *s; s++, cell++) {
		vram[cell * 2] = (uint8_t)*s;
		vram[cell * 2 + 1] = 0x1f;
	}
}

START_TEST(test_crtc_ports)
{
	struct bus pio;
	struct cga c;
	bus__init(&pio, "pio");
	cga__init(&c);
	ck_assert_int_eq(cga__register(&c, &pio), 0);
	outb(&pio, 0x3d4, 0x0e);
	ck_assert_uint_eq(inb(&pio, 0x3d4), 0x0e);
	ck_assert_uint_eq(inb(&pio, 0x3d5), 0);
	outb(&pio, 0x3d5, 0x07);
	outw(&pio, 0x3d4, 0xd00f);                   /* index 0x0f, data 0xd0 */
	ck_assert_uint_eq(inb(&pio, 0x3d5), 0xd0);
	ck_assert_uint_eq(cga__cursor(&c), 0x07d0);
	outb(&pio, 0x3d4, 0x0a);
	ck_assert_uint_eq(inb(&pio, 0x3d5), 0x0d);   /* mode 3's cursor shape */
	outb(&pio, 0x3d5, 0x20);                     /* cursor off */
	ck_assert_uint_eq(inb(&pio, 0x3d5), 0x20);
	/* CR11 bit 7 protects CR00-CR07, except CR07 bit 4. */
	outb(&pio, 0x3d4, 0x00);
	outb(&pio, 0x3d5, 0x12);
	ck_assert_uint_eq(inb(&pio, 0x3d5), 0x5f);
	outb(&pio, 0x3d4, 0x11);
	outb(&pio, 0x3d5, 0x0e);
	outb(&pio, 0x3d4, 0x00);
	outb(&pio, 0x3d5, 0x12);
	ck_assert_uint_eq(inb(&pio, 0x3d5), 0x12);
	/* Past the register file: reads 0xff, writes go nowhere. */
	outb(&pio, 0x3d4, 0x40);
	outb(&pio, 0x3d5, 0x12);
	ck_assert_uint_eq(inb(&pio, 0x3d5), 0xff);
	uint8_t a = inb(&pio, 0x3da), b = inb(&pio, 0x3da);
	ck_assert_uint_eq(a ^ b, 0x09);
	ck_assert_uint_eq(inb(&pio, 0x3cc), 0x67);
	outb(&pio, 0x3c2, 0x63);
	ck_assert_uint_eq(inb(&pio, 0x3cc), 0x63);
	/* The mono CRTC is not there (colour mode), as on QEMU's VGA. */
	ck_assert_uint_eq(inb(&pio, 0x3b5), 0xff);
}
END_TEST

START_TEST(test_render)
{
	struct cga c;
	char text[CGA_TEXT_MAX];
	cga__init(&c);
	cga__blank(vram);
	ck_assert(!cga__written(&c, vram));
	ck_assert_uint_eq(cga__render(&c, vram, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "");
	put(0, "hello");
	put(2 * 80 + 78, "ab");
	put(24 * 80 + 79, "z");
	ck_assert(cga__written(&c, vram));
	vram[3 * 80 * 2] = 0x01;                     /* a smiley: not ASCII */
	vram[3 * 80 * 2 + 2] = 0x00;                 /* a NUL cell: blank */
	vram[3 * 80 * 2 + 4] = 'x';
	size_t n = cga__render(&c, vram, text, sizeof(text));
	char want[CGA_TEXT_MAX];
	int w = snprintf(want, sizeof(want), "hello\n\n%78sab\n. x\n", "");
	for (int i = 0; i < 20; i++)
		w += snprintf(want + w, sizeof(want) - (size_t)w, "\n");
	snprintf(want + w, sizeof(want) - (size_t)w, "%79sz\n", "");
	ck_assert_str_eq(text, want);
	ck_assert_uint_eq(n, strlen(want));
	/* Only what fits: a short buffer ends at a whole row. */
	ck_assert_uint_eq(cga__render(&c, vram, text, 8), 6);
	ck_assert_str_eq(text, "hello\n");
	/* The display starts at the CRTC start address (in cells). */
	c.crtc[0x0c] = 0;
	c.crtc[0x0d] = 80;
	cga__render(&c, vram, text, sizeof(text));
	ck_assert(!strncmp(text, "\n", 1));
	ck_assert(!strncmp(text + 1, "                ", 16));
	ck_assert_uint_eq(cga__page_offset(&c), 160);
	c.crtc[0x0c] = 0x3f;
	c.crtc[0x0d] = 0xff;                         /* the page wraps at 32 KiB */
	ck_assert_uint_eq(cga__page_offset(&c), 0x7ffe);
	c.crtc[0x0c] = c.crtc[0x0d] = 0;
	/* Writing blank cells over everything reads as unwritten again; so do zeros and
	 * spaces in other colours (a screen cleared some other way). */
	cga__blank(vram);
	ck_assert(!cga__written(&c, vram));
	memset(vram, 0, 200);
	vram[201] = 0x4e;
	ck_assert(!cga__written(&c, vram));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cga");
	TCase *tc = tcase_create("cga");

	tcase_add_test(tc, test_crtc_ports);
	tcase_add_test(tc, test_render);
	suite_add_tcase(s, tc);
	return check_run(s);
}
