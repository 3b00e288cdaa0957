/*
 * ioapic.c: guest "ioapic": interrupts routed through the I/O APIC at 0xfec00000 (82093AA
 * data sheet; the PC layout of the MP/ACPI tables: ISA IRQ n on pin n, the PIT's IRQ 0
 * on pin 2) with the i8259 fully masked:
 *   the version register (24 pins), ID and arbitration ID, redirection entries masked
 *   at reset and written back as written (remote IRR and delivery status read-only);
 *   the PIT on pin 2 and the RTC's periodic interrupt on pin 8, edge-triggered, counted
 *   (and nothing through the i8259); COM1 on pin 4 level-triggered: its THR-empty
 *   condition holds the line, remote IRR is set in the handler, every EOI with the line
 *   still high delivers again, masking holds it, and once the handler clears the
 *   condition the EOI leaves remote IRR clear and nothing more arrives; and the
 *   kvm-unit-tests ioapic sequences on line 14 through QEMU's pc-testdev IRQ ports.
 */
#include "clock.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

#define IOAPIC 0xfec00000u
#define LAPIC 0xfee00000u
#define VEC_PIT 0x30
#define VEC_RTC 0x38
#define VEC_COM1 0x34
#define COM1 0x3f8
#define LEVEL (1u << 15)
#define MASKED (1u << 16)
#define REMOTE_IRR (1u << 14)

static volatile u32 *const sel = (volatile u32 *)IOAPIC;
static volatile u32 *const win = (volatile u32 *)(IOAPIC + 0x10);
static volatile u32 *const lapic = (volatile u32 *)LAPIC;
static volatile u32 pit_n, rtc_n, com_n, remote_seen, pic_n, com_limit;

static u8 cmos_read(u8 r) { outb(0x70, r); return inb(0x71); }
static void cmos_write(u8 r, u8 v) { outb(0x70, r); outb(0x71, v); }
static u32 io_rd(u32 r) { *sel = r; return *win; }
static void io_wr(u32 r, u32 v) { *sel = r; *win = v; }
static void route(u32 pin, u32 lo) { io_wr(0x11 + 2 * pin, 0); io_wr(0x10 + 2 * pin, lo); }
static void eoi(void) { lapic[0xb0 / 4] = 0; }

static void pit_handler(struct trap_frame *f) { (void)f; pit_n++; eoi(); }
static void pic_handler(struct trap_frame *f) { (void)f; pic_n++; pic__eoi(0); }

static void rtc_handler(struct trap_frame *f)
{
	(void)f;
	rtc_n++;
	cmos_read(0x0c);          /* acknowledge: the RTC raises its next edge */
	eoi();
}

static void com_handler(struct trap_frame *f)
{
	(void)f;
	com_n++;
	remote_seen += (io_rd(0x10 + 2 * 4) & REMOTE_IRR) != 0;
	if (com_n >= com_limit)
		outb(COM1 + 1, 0);    /* IER = 0: the condition, and the line, go */
	eoi();
}

static bool wait_count(volatile u32 *c, u32 n, u32 ms)
{
	u64 end = clock__deadline_ms(ms);
	sti();
	while (*c < n && !clock__expired(end))
		pause();
	cli();
	return *c >= n;
}

static void check_registers(void)
{
	u32 ver = io_rd(1);
	test__eq(0x170000, ver & 0xff0000, "version register: 24 redirection entries");
	test__ok((ver & 0xff) == 0x11 || (ver & 0xff) == 0x20, "version 0x11 or 0x20 (got 0x%x)",
		 ver & 0xff);
	io_wr(1, 0);
	test__eq(ver, io_rd(1), "version is read-only");
	u32 id = io_rd(0);
	io_wr(0, 0x03000000);
	test__eq(0x03000000, io_rd(0) & 0x0f000000, "ID bits 27:24 writable");
	io_wr(0, id);
	bool all = true;
	for (u32 p = 0; p < 24; p++)
		all &= (io_rd(0x10 + 2 * p) & MASKED) != 0;
	test__ok(all, "every redirection entry masked at reset");
	route(10, MASKED | LEVEL | (1u << 13) | 0x99);
	test__eq(MASKED | LEVEL | (1u << 13) | 0x99, io_rd(0x10 + 20), "entry written back");
	io_wr(0x10 + 20, MASKED | REMOTE_IRR | (1u << 12) | 0x99);
	test__eq(MASKED | 0x99, io_rd(0x10 + 20), "remote IRR and delivery status read-only");
	io_wr(0x11 + 20, 0xff000000);
	test__eq(0xff000000, io_rd(0x11 + 20), "destination field");
	route(10, MASKED);
}

static void check_edge(void)
{
	route(2, VEC_PIT);
	pit__start(0, PIT_MODE_RATE, pit__divisor(1000));
	bool ok = wait_count(&pit_n, 20, 3000);
	test__ok(ok, "PIT on pin 2: %u interrupts", pit_n);
	test__eq_dec(0, pic_n, "nothing through the masked i8259");
	route(2, MASKED | VEC_PIT);
	u32 n = pit_n;
	wait_count(&pit_n, n + 2, 60);
	test__ok(pit_n <= n + 1, "masked pin 2: the PIT's interrupts stop (%u more)", pit_n - n);

	route(8, VEC_RTC);
	cmos_write(0x0a, (cmos_read(0x0a) & 0xf0) | 0x06);    /* 1024 Hz */
	cmos_write(0x0b, cmos_read(0x0b) | 0x40);              /* PIE */
	cmos_read(0x0c);
	ok = wait_count(&rtc_n, 20, 3000);
	test__ok(ok, "RTC periodic on pin 8: %u interrupts", rtc_n);
	cmos_write(0x0b, cmos_read(0x0b) & ~0x40);
	route(8, MASKED | VEC_RTC);
}

static void check_level(void)
{
	outb(COM1 + 1, 0);
	route(4, MASKED | LEVEL | VEC_COM1);
	outb(COM1 + 4, 0x08);     /* MCR.OUT2, as PC drivers set it */
	outb(COM1 + 1, 0x02);     /* IER: THR empty, which it is: the line rises */
	com_limit = 5;
	wait_count(&com_n, 1, 50);
	test__eq_dec(0, com_n, "level pin masked: nothing");
	io_wr(0x10 + 8, LEVEL | VEC_COM1);    /* unmask with the line high */
	wait_count(&com_n, 6, 1000);
	test__eq_dec(5, com_n, "COM1 level on pin 4: delivered again after each EOI while high");
	test__eq_dec(5, remote_seen, "remote IRR set in the handler each time");
	test__eq(0, io_rd(0x10 + 8) & REMOTE_IRR, "remote IRR clear after the last EOI");
	route(4, MASKED | VEC_COM1);
}

/* QEMU's pc-testdev IRQ ports (0x2000 + ISA line), the sequences kvm-unit-tests'
 * ioapic test runs on line 14. kvm-unit-tests expects delivery right after STI (one
 * NOP); here interrupts are enabled until the count is reached (200 ms at most) and
 * 20 ms more, since a VMM on a backend without interrupt-window exits delivers at its
 * next exit: the counts are the I/O APIC's semantics, the delay is not. */
static volatile u32 n76, n77, n98, n9a, n82, n83;
static void line14(u8 v) { outb(0x2000 + 14, v); }
static void h76(struct trap_frame *f) { (void)f; n76++; eoi(); }
static void h77(struct trap_frame *f) { (void)f; n77++; line14(0); eoi(); }
static void h98(struct trap_frame *f)
{
	(void)f;
	if (++n98 == 1) {
		line14(0);
		line14(1);       /* while remote IRR is set: coalesced */
	}
	line14(0);
	eoi();
}
static void h9a(struct trap_frame *f) { (void)f; if (++n9a == 2) line14(0); eoi(); }
static void h82(struct trap_frame *f) { (void)f; n82++; line14(0); eoi(); }
static void h83(struct trap_frame *f) { (void)f; n83++; io_wr(0x10 + 28, MASKED | LEVEL | 0x83); eoi(); }
static void settle(volatile u32 *c, u32 n)
{
	wait_count(c, n, 200);
	wait_count(c, n + 1, 20);
}

static void check_testdev(void)
{
	trap__set_handler(0x76, h76);
	trap__set_handler(0x77, h77);
	trap__set_handler(0x98, h98);
	trap__set_handler(0x9a, h9a);
	trap__set_handler(0x82, h82);
	trap__set_handler(0x83, h83);
	route(14, 0x76);
	line14(1);
	line14(0);
	settle(&n76, 1);
	test__eq_dec(1, n76, "pc-testdev line 14, edge: one interrupt");
	route(14, LEVEL | 0x77);
	line14(1);
	settle(&n77, 1);
	test__eq_dec(1, n77, "line 14 level: one interrupt, the handler lowers the line");
	route(14, LEVEL | 0x98);
	line14(1);
	settle(&n98, 1);
	test__eq_dec(1, n98, "level: a re-assertion under remote IRR is coalesced");
	route(14, LEVEL | 0x9a);
	line14(1);
	for (int i = 0; i < 10 && n9a < 2; i++)
		asm volatile("sti; hlt; cli" : : : "memory");
	test__eq_dec(2, n9a, "level: still asserted at EOI, delivered again");
	route(14, MASKED | LEVEL | 0x82);
	line14(1);
	settle(&n82, 0);
	test__eq_dec(0, n82, "level masked: nothing");
	io_wr(0x10 + 28, LEVEL | 0x82);
	settle(&n82, 1);
	test__eq_dec(1, n82, "level unmasked with the line high: one interrupt");
	route(14, LEVEL | 0x83);
	line14(1);
	settle(&n83, 1);
	io_wr(0x10 + 28, LEVEL | 0x83);
	settle(&n83, 2);
	test__eq_dec(2, n83, "level masked by its handler, unmasked: delivered again");
	line14(0);
	route(14, MASKED);
}

void test_main(void)
{
	test__begin("ioapic");
	clock__tsc_hz();
	pic__set_mask(0xffff);
	trap__set_handler(VEC_PIT, pit_handler);
	trap__set_handler(VEC_RTC, rtc_handler);
	trap__set_handler(VEC_COM1, com_handler);
	trap__set_handler(PIC_MASTER_BASE, pic_handler);
	lapic[0xf0 / 4] = 0x1ff;
	check_registers();
	check_edge();
	check_level();
	check_testdev();
}
