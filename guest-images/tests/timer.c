/*
 * timer.c: guest "timer": the PC timer devices a small kernel relies on, checked
 * against their data sheets (Intel 8259A, 8254, Motorola MC146818A):
 *   PIC: ICW1-4 remap, IMR (OCW1) round trip, IRR/ISR through OCW3, masking, EOI
 *   (nothing more is delivered while ISR holds the line);
 *   PIT: counter latch and read-back, the counter's rate, IRQ0 rates in mode 2
 *   (1000 Hz) and mode 3 (100 Hz);
 *   RTC: UIP set and cleared, plausible BCD date and time, periodic interrupt (IRQ8 at
 *   1024 Hz, counted while the PIT's IRQ0 runs too).
 *
 * Rates are measured by timer-window.c, against a TSC calibrated by the RTC's seconds
 * and with the host's pauses accounted, so a busy host cannot fail them; its header
 * gives the bounds.
 */
#include "clock.h"
#include "desc.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "test.h"
#include "timer-window.h"
#include "trap.h"
#include "x86.h"

#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_C 0x0c
#define RTC_CENTURY 0x32
#define REG_A_UIP 0x80
#define REG_B_PIE 0x40
#define REG_B_24H 0x02
#define UIP_UPDATES 100u /* hang guard: RTC updates to wait for UIP (see check_uip) */
#define RTC_PERIODIC_HZ 1024u /* rate select 6 */

static volatile u32 ticks, rtc_reg_c;
static volatile bool hold_eoi;

static void irq0_handler(struct trap_frame *f)
{
	u64 entry = rdtsc();
	bool eoi = window__irq_begin(SRC_IRQ0, entry);

	(void)f;
	ticks++;
	if (!hold_eoi && eoi)
		pic__eoi(0);
	window__irq_end(entry);
}

static void irq8_handler(struct trap_frame *f)
{
	u64 entry = rdtsc();
	bool eoi = window__irq_begin(SRC_IRQ8, entry);

	(void)f;
	rtc_reg_c |= cmos_read(RTC_REG_C); /* reading C acknowledges the interrupt */
	if (eoi)
		pic__eoi(8);
	window__irq_end(entry);
}

static bool bcd_ok(u8 v)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

/* Poll for up to `periods` PIT periods (a loaded host may run timer callbacks late). */
static bool wait_ticks(u32 target, u32 periods)
{
	while (ticks < target && periods--)
		pit__wait_periods(1);
	return ticks >= target;
}

static bool wait_irr0(u32 periods)
{
	while (!(pic__irr() & 1) && periods--)
		pit__wait_periods(1);
	return pic__irr() & 1;
}

static void check_pic(void)
{
	u16 irr, isr, m;
	bool ok;

	pic__set_mask(0x1234);
	pic__remap(PIC_MASTER_BASE, PIC_SLAVE_BASE);
	test__eq(0, pic__get_mask(), "PIC: ICW1 initialisation clears the IMR");
	pic__set_mask(0xa5fb);
	m = pic__get_mask();
	test__eq(0xa5fb, m, "PIC: OCW1 mask round trip (0xa5fb)");
	pic__set_mask(0x5a04);
	test__eq(0x5a04, pic__get_mask(), "PIC: OCW1 mask round trip (0x5a04)");
	pic__set_mask(0xffff);

	/* IRQ0 masked, PIT running: IRR latches the request, ISR stays empty. */
	pit__start(0, PIT_MODE_RATE, pit__divisor(1000));
	ok = wait_irr0(100);
	test__ok(ok, "PIC: OCW3 IRR shows the masked IRQ0 request (irr 0x%x)", pic__irr());
	test__eq(0, pic__isr(), "PIC: OCW3 ISR empty while nothing is in service");

	trap__set_handler(PIC_MASTER_BASE, irq0_handler);
	ticks = 0;
	sti();
	pit__wait_periods(10);
	cli();
	test__eq_dec(0, ticks, "PIC: masked IRQ0 delivers nothing over 10 PIT periods");
	pic__mask(0, false);
	sti();
	ok = wait_ticks(1, 100);
	cli();
	test__ok(ok, "PIC: unmasking IRQ0 delivers it (%u)", ticks);

	/* Without EOI the in-service bit blocks further IRQ0s. */
	hold_eoi = true;
	ticks = 0;
	sti();
	wait_ticks(1, 100);
	pit__wait_periods(10);
	cli();
	isr = pic__isr();
	wait_irr0(100);
	irr = pic__irr();
	test__eq_dec(1, ticks, "PIC: without EOI exactly one IRQ0 in 10+ periods");
	test__ok(isr & 1, "PIC: ISR bit 0 set until EOI (isr 0x%x)", isr);
	test__ok(irr & 1, "PIC: the next request waits in IRR (irr 0x%x)", irr);
	outb(PIC1_CMD, 0x60); /* specific EOI for IRQ0 */
	isr = pic__isr();
	test__eq(0, isr & 1, "PIC: specific EOI clears ISR bit 0");
	hold_eoi = false;
	sti();
	ok = wait_ticks(3, 100);
	cli();
	test__ok(ok, "PIC: IRQ0 flows again after EOI (%u)", ticks);
}

static void check_pit_rates(void)
{
	struct window w;
	u16 div;

	div = pit__divisor(1000);
	pit__start(0, PIT_MODE_RATE, div);
	pic__mask(0, false);
	window__set_due(SRC_IRQ0, PIT_HZ, div);
	window__measure(&w, PIT_HZ, div);
	window__check_rate(&w, SRC_IRQ0, PIT_HZ, div, "PIT mode 2 at 1000 Hz: IRQ0s");

	div = pit__divisor(100);
	pit__start(0, PIT_MODE_SQUARE, div);
	window__set_due(SRC_IRQ0, PIT_HZ, div);
	window__measure(&w, PIT_HZ, div);
	window__check_rate(&w, SRC_IRQ0, PIT_HZ, div, "PIT mode 3 at 100 Hz: IRQ0s");
	pic__mask(0, true);
}

/* TSC ticks from t0 to t1, no more than ms milliseconds at the slowest TSC rate? */
static bool within_ms(u64 t0, u64 t1, u32 ms)
{
	return t1 - t0 <= window__tsc_lo() / 1000 * ms;
}

static void check_pit_latch(void)
{
	u16 a = 0, b = 0, c = 0, held = 0;
	u64 t0 = 0, t1 = 0, t2 = 0, wait = window__tsc_hi() / 1000 * 5; /* at least 5 ms */
	u32 lo_ticks = PIT_HZ / 200, hi_ticks;
	u8 status, lo, hi;
	int tries;

	/*
	 * Channel 0 counts 65535 ticks (55 ms) per period: a measurement the host stretched
	 * past 40 ms may span a reload, so it is taken again (up to 8 times).
	 */
	pit__start(0, PIT_MODE_RATE, 0xffff);
	for (tries = 0; tries < 8; tries++) {
		t0 = rdtsc();
		a = pit__latch(0);
		b = pit__latch(0);
		if (b < a && within_ms(t0, rdtsc(), 40))
			break;
	}
	test__ok(b < a, "PIT: two latched reads of channel 0 decrease (%u then %u)", a, b);

	/* A latched count is held until read, while the counter keeps running. */
	for (tries = 0; tries < 8; tries++) {
		t0 = rdtsc();
		outb(PIT_CMD, 0x00); /* counter latch, channel 0 */
		t1 = rdtsc();
		while (rdtsc() - t1 < wait)
			;
		lo = inb(PIT_CH0);
		hi = inb(PIT_CH0);
		held = (u16)(lo | (hi << 8));
		c = pit__latch(0);
		t2 = rdtsc();
		if (held > c && within_ms(t0, t2, 40))
			break;
	}
	/* The two latches lie at least 5 ms and at most t2 - t0 apart (+-1% for models on
	 * different host clocks): this checks the counter's 1.193 MHz against the RTC. */
	hi_ticks = window__periods_max(t2 - t0, PIT_HZ, 1);
	hi_ticks += hi_ticks / 100 + 2;
	lo_ticks -= lo_ticks / 100 + 2;
	test__range(lo_ticks, hi_ticks, (u32)(held - c),
		    "PIT: latch holds the count while 5 ms pass (%u -> %u)", held, c);

	/* Read-back: latch status and count of channel 0 (11 0 0 001 0). */
	for (tries = 0; tries < 8; tries++) {
		t0 = rdtsc();
		outb(PIT_CMD, 0xc2);
		status = inb(PIT_CH0);
		lo = inb(PIT_CH0);
		hi = inb(PIT_CH0);
		a = (u16)(lo | (hi << 8));
		/* At least 2 us (two PIT ticks) before the second read: QEMU TCG ran the
		 * read-back and the latch within one tick (56818 then 56818). */
		for (u64 t = rdtsc(); rdtsc() - t < window__tsc_hi() / 500000;)
			;
		b = pit__latch(0);
		if ((b < a || a < 100) && within_ms(t0, rdtsc(), 40))
			break;
	}
	test__eq(0x34, status & 0x3f, "PIT read-back status: lo/hi access, mode 2, binary");
	test__ok(a != 0 && (b < a || a < 100), "PIT read-back count is a running count (%u then %u)",
		 a, b);
	pit__start(0, PIT_MODE_SQUARE, 1000);
	outb(PIT_CMD, 0xe2); /* read-back status only */
	status = inb(PIT_CH0);
	test__eq(0x36, status & 0x3f, "PIT read-back status after reprogramming: mode 3");
}

/*
 * UIP is set for only ~244 us before each update: poll the data port alone (the index
 * stays selected). A host that preempts the guest hides the updates that fall while it
 * does not run (at load average ~20 the guest ran ~3 % of the time and missed 30 in a
 * row), so the guard is UIP_UPDATES updates; an idle host shows the first.
 */
static void check_uip(void)
{
	bool uip_set = false, uip_clear = false;
	u64 end = clock__deadline_ms(UIP_UPDATES * 1000);

	outb(CMOS_INDEX, RTC_REG_A);
	while (!uip_set && !clock__expired(end))
		uip_set = inb(CMOS_DATA) & REG_A_UIP;
	end = clock__deadline_ms(1000);
	while (uip_set && !uip_clear) {
		bool late = clock__expired(end);
		uip_clear = !(inb(CMOS_DATA) & REG_A_UIP);
		if (late)
			break;
	}
	test__ok(uip_set, "RTC: register A UIP is set before an update");
	test__ok(uip_clear, "RTC: UIP clears again (update finished)");
}

static void check_rtc(void)
{
	u8 sec, min, hour, day, mon, year, cent, b;
	bool binary, all_bcd;
	struct window w;
	u32 y, h;
	u16 div;

	check_uip();
	/* Right after UIP fell there are ~999 ms before the next update. */
	b = cmos_read(RTC_REG_B);
	sec = cmos_read(RTC_SEC);
	min = cmos_read(RTC_MIN);
	hour = cmos_read(RTC_HOUR);
	day = cmos_read(RTC_DAY);
	mon = cmos_read(RTC_MONTH);
	year = cmos_read(RTC_YEAR);
	cent = cmos_read(RTC_CENTURY);
	printf("# rtc: %02x%02x-%02x-%02x %02x:%02x:%02x reg B 0x%02x\n", cent, year, mon, day,
	       hour, min, sec, b);
	binary = b & REG_B_BINARY;
	test__ok(!binary, "RTC: register B selects BCD (as PC firmware leaves it)");
	all_bcd = bcd_ok(sec) && bcd_ok(min) && bcd_ok(hour & 0x7f) && bcd_ok(day) &&
		  bcd_ok(mon) && bcd_ok(year) && bcd_ok(cent);
	test__ok(all_bcd, "RTC: time and date registers hold valid BCD");
	h = bcd(hour & 0x7f);
	test__ok(bcd(sec) < 60 && bcd(min) < 60, "RTC: seconds and minutes in range");
	test__ok((b & REG_B_24H) ? h < 24 : (h >= 1 && h <= 12), "RTC: hour in range (%u)", h);
	test__ok(bcd(day) >= 1 && bcd(day) <= 31 && bcd(mon) >= 1 && bcd(mon) <= 12,
		 "RTC: day and month in range");
	y = bcd(cent) * 100 + bcd(year);
	test__range(2024, 2199, y, "RTC: year (century register 0x32 + year)");

	/* Periodic interrupt: rate 6 = 1024 Hz, IRQ8 on the slave PIC, with the PIT's
	 * IRQ0 at 1000 Hz running at the same time; both counted in one window. */
	trap__set_handler(PIC_SLAVE_BASE + 0, irq8_handler);
	cmos_write(RTC_REG_A, (u8)((cmos_read(RTC_REG_A) & 0xf0) | 0x06));
	(void)cmos_read(RTC_REG_C);
	rtc_reg_c = 0;
	pic__mask(8, false);
	pic__mask(0, false);
	div = pit__divisor(1000);
	pit__start(0, PIT_MODE_RATE, div);
	cmos_write(RTC_REG_B, b | REG_B_PIE);
	window__set_due(SRC_IRQ0, PIT_HZ, div);
	window__set_due(SRC_IRQ8, RTC_PERIODIC_HZ, 1);
	window__measure(&w, RTC_PERIODIC_HZ, 1);
	cmos_write(RTC_REG_B, b);
	pic__mask(8, true);
	pic__mask(0, true);
	(void)cmos_read(RTC_REG_C);
	window__check_rate(&w, SRC_IRQ8, RTC_PERIODIC_HZ, 1, "RTC periodic interrupt at 1024 Hz: IRQ8s");
	window__check_rate(&w, SRC_IRQ0, PIT_HZ, div, "PIT mode 2 at 1000 Hz with IRQ8 active: IRQ0s");
	test__eq(0xc0, rtc_reg_c & 0xc0, "RTC: register C reports IRQF and PF");
}

void test_main(void)
{
	u64 hz;

	test__begin("timer");
	hz = pit__calibrate_tsc(50);
	test__ok(hz > 1000000, "PIT channel 2 gate/output (port 0x61) times 50 ms: TSC %llu Hz",
		 hz);
	window__calibrate_tsc();
	check_pic();
	check_pit_latch();
	check_pit_rates();
	check_rtc();
}
