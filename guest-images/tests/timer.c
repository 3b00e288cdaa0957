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
 * Rates are measured against the TSC, and the TSC against the RTC's seconds: each
 * second edge is bracketed by the TSC reads around the CMOS reads that saw it, and
 * edges are taken until a pair pins the rate within 0.2 % (later edges when the host
 * keeps preempting the guest), so the bounds below hold however busy the host is.
 * The PIT counter's own rate is checked against the same TSC.
 *
 * A host busy with other work stops the guest for milliseconds at a time, and a VMM
 * (shade, QEMU) coalesces the timer ticks that fell in such a pause into one. So the
 * rate windows poll the TSC with interrupts on, the handlers time themselves, and any
 * stretch longer than GAP_US without a poll or inside one handler is a pause: time
 * the guest did not run (or ran with interrupts off). A source of period p keeps at
 * most one pending tick per stretch of a pause (a poll interval is at most two
 * stretches, before and after a handler). A count n over a window of e periods, r of
 * them while the guest ran, with `lost` = paused / p + 2 per pause, must then satisfy
 *   n <= min(e, r + 3 per pause + 1) + 1 % + 3   (no extra ticks), and
 *   n + lost >= e - 10 % - 3                     (no ticks missing beyond the pauses);
 * 1 % for PIT and RTC models on different host clocks, 3 for the window's edges, and
 * 10 % for late deliveries the guest cannot see (QEMU raises IRQs from another
 * thread). A window whose pauses explain more than a quarter of it is measured again
 * (up to WINDOW_TRIES times, keeping the calmest). Those two bounds lose their power
 * when the host lets the guest run only in short bursts, so a third check looks at
 * the time the guest did run: a tick is overdue 1.25 periods + 200 us after the
 * previous one, and a source may be overdue for at most a quarter of the running
 * time (+ a period). A VMM that keeps the rate is never overdue while the guest runs
 * (shade: 0; QEMU, whose timers run in another thread: up to 14 % under load at
 * 1 kHz); one at half the rate is overdue ~40 % of it. Checked with shade's PIT
 * broken on purpose: twice the rate fails the first bound, half the rate (IRQ0 only,
 * or the divisor doubled) fails the overdue check whenever the guest gets to run.
 */
#include "clock.h"
#include "desc.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_CENTURY 0x32
#define REG_A_UIP 0x80
#define REG_B_PIE 0x40
#define REG_B_BINARY 0x04
#define REG_B_24H 0x02
#define RTC_PERIODIC_HZ 1024u /* rate select 6 */

#define GAP_US 250u           /* a longer pause between two polls: the guest did not run */
#define WINDOW_MS 1000u
#define WINDOW_TRIES 6u
#define UNSEEN_LOSS_PCT 10u
#define MODEL_SKEW_PCT 1u
#define EDGE_SLACK 3u
#define EDGE_TRIES 30u        /* hang guard: RTC seconds to wait for a precise TSC rate */

static volatile u32 ticks, rtc_irqs, rtc_reg_c;
static volatile bool hold_eoi;

/* TSC ticks per RTC second: lo <= true rate <= hi (from bracketed second edges). */
static u64 tsc_lo, tsc_hi;

/*
 * Pause tracking for the rate windows. The window's loop polls the TSC; each interrupt
 * handler times itself from entry to exit (its port I/O is where a busy host often
 * preempts the guest) and adds that to handler_tsc. A poll interval less the handler
 * time inside it, or a handler's own time, longer than pause_min is a pause. Plain
 * loads and stores only (the handlers never nest; handler_seq tells the loop that a
 * handler ran while it read): instructions that a VMM may have to emulate would
 * make the loop itself slow.
 */
static volatile bool tracking;
static volatile u64 pause_min, handler_tsc, handler_paused;
static volatile u32 handler_seq, handler_pauses;
/* Entry TSC of the last IRQ0 [0] and IRQ8 [1] handler; overdue after due_tsc[] more. */
static volatile u64 last_irq[2];
static u64 due_tsc[2];
/*
 * A handler that runs after the window's end leaves its ISR bit set (no EOI), which
 * blocks every further IRQ of the master PIC: a host too slow to handle 2000 IRQs a
 * second would otherwise keep the main line from ever ending the window.
 */
static volatile u64 window_end;

static bool window_over(u64 entry)
{
	return tracking && entry >= window_end;
}

static void handler_timed(u64 entry)
{
	u64 d;

	if (!tracking)
		return;
	d = rdtsc() - entry;
	handler_tsc += d;
	if (d > pause_min) {
		handler_paused += d;
		handler_pauses++;
	}
	handler_seq++;
}

static void irq0_handler(struct trap_frame *f)
{
	u64 entry = rdtsc();

	(void)f;
	last_irq[0] = entry;
	ticks++;
	if (!hold_eoi && !window_over(entry))
		pic__eoi(0);
	handler_timed(entry);
}

/*
 * Index then data: not safe against the IRQ8 handler (it selects register C), so the
 * main line never touches the CMOS while the RTC periodic interrupt is enabled and IF=1.
 */
static u8 cmos_read(u8 reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static void cmos_write(u8 reg, u8 v)
{
	outb(CMOS_INDEX, reg);
	outb(CMOS_DATA, v);
}

static void irq8_handler(struct trap_frame *f)
{
	u64 entry = rdtsc();

	(void)f;
	last_irq[1] = entry;
	rtc_irqs++;
	rtc_reg_c |= cmos_read(RTC_REG_C); /* reading C acknowledges the interrupt */
	if (!window_over(entry))
		pic__eoi(8);
	handler_timed(entry);
}

static bool bcd_ok(u8 v)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

static u32 bcd(u8 v)
{
	return (u32)(v >> 4) * 10 + (v & 0x0f);
}

/*
 * The next RTC second edge: it lies after the start of the last read of the seconds
 * register that showed the old second (*lo) and before the end of the first that
 * showed a new one (*hi). *sec is the new second; false if none came within 3 s.
 * Each poll is one port read (the index stays selected), so on an idle host an edge
 * is bracketed within a few microseconds.
 */
static bool rtc_edge(bool binary, u64 *lo, u64 *hi, u32 *sec)
{
	u64 before, t, after, end = clock__deadline_ms(3000);
	u8 s0, s;

	outb(CMOS_INDEX, RTC_SEC);
	before = rdtsc();
	s0 = inb(CMOS_DATA);
	for (;;) {
		t = rdtsc();
		s = inb(CMOS_DATA);
		after = rdtsc();
		if (s != s0) {
			*lo = before;
			*hi = after;
			*sec = binary ? s : bcd(s);
			return true;
		}
		before = t;
		if (after > end)
			return false;
	}
}

/*
 * tsc_lo/tsc_hi from two RTC second edges: the narrowest edge seen so far and a later
 * one, taken once the pair pins the rate within TSC_PRECISION_PPM. A host that keeps
 * preempting the guest widens the brackets; then later edges (more seconds apart) are
 * used, up to EDGE_TRIES seconds, after which the best pair found is used: its bounds
 * still hold, they are only wider.
 */
#define TSC_PRECISION_PPM 2000u
static void calibrate_tsc_rtc(void)
{
	u64 a_lo = 0, a_hi = 0, b_lo, b_hi, lo, hi, best_err = ~0ull, err;
	bool binary = cmos_read(RTC_REG_B) & REG_B_BINARY, have_a = false, ok = true;
	u32 a_s = 0, b_s, secs, seen;

	tsc_lo = tsc_hi = clock__tsc_hz();
	for (seen = 0; seen < EDGE_TRIES; seen++) {
		ok = rtc_edge(binary, &b_lo, &b_hi, &b_s);
		if (!ok)
			break;
		secs = (b_s + 60 - a_s) % 60;
		if (have_a && secs) {
			lo = (b_lo - a_hi) / secs;
			hi = (b_hi - a_lo) / secs;
			err = (hi - lo) * 1000000 / lo;
			if (err < best_err) {
				best_err = err;
				tsc_lo = lo;
				tsc_hi = hi;
			}
			if (err <= TSC_PRECISION_PPM)
				break;
		}
		if (!have_a || b_hi - b_lo < a_hi - a_lo) {
			a_lo = b_lo;
			a_hi = b_hi;
			a_s = b_s;
			have_a = true;
		}
	}
	ok = ok && best_err != ~0ull;
	test__ok(ok, "RTC seconds advance (%u edges seen)", seen + (seen < EDGE_TRIES));
	printf("# TSC: %llu..%llu Hz by the RTC (%llu ppm; PIT channel 2 said %llu Hz)\n",
	       tsc_lo, tsc_hi, best_err, clock__tsc_hz());
}

/*
 * One rate window of WINDOW_MS by the TSC with interrupts on. len: its TSC length;
 * paused: TSC ticks of pauses longer than GAP_US between two poll points, in `pauses`.
 */
struct window {
	u64 len, paused, running, overdue[2];
	u32 pauses, irq0, irq8;
};

static void run_window(struct window *w)
{
	u64 start, end, prev, now, h_prev, h, d;
	u32 seq, i;

	pause_min = tsc_hi / 1000000 * GAP_US;
	handler_tsc = handler_paused = 0;
	handler_pauses = 0;
	w->paused = w->running = w->overdue[0] = w->overdue[1] = 0;
	w->pauses = 0;
	ticks = 0;
	rtc_irqs = 0;
	h_prev = 0;
	start = prev = rdtsc();
	last_irq[0] = last_irq[1] = start;
	end = start + tsc_hi / 1000 * WINDOW_MS;
	window_end = end;
	tracking = true;
	sti();
	do {
		seq = handler_seq;
		now = rdtsc();
		h = handler_tsc;
		if (seq != handler_seq)
			continue; /* a handler ran in between: poll again */
		d = now - prev - (h - h_prev);
		if (d > pause_min) {
			w->paused += d;
			w->pauses++;
		} else if (h == h_prev) {
			/* The guest ran from prev to now with interrupts on: a source whose
			 * next tick was due before prev kept it from a running guest. */
			w->running += d;
			for (i = 0; i < 2; i++)
				if (prev > last_irq[i] + due_tsc[i])
					w->overdue[i] += d;
		}
		prev = now;
		h_prev = h;
	} while (prev < end);
	cli();
	tracking = false;
	/* Non-specific EOIs for what the handlers left in service (IRQ8, IRQ2, IRQ0). */
	outb(PIC2_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
	w->len = prev - start;
	w->paused += handler_paused;
	w->pauses += handler_pauses;
	w->irq0 = ticks;
	w->irq8 = rtc_irqs;
}

/* A tick of source i at num/den Hz is overdue a period (at the fastest TSC) plus a
 * quarter period plus 200 us after the last one. */
static void set_due(int i, u64 num, u64 den)
{
	u64 p = tsc_hi * den / num;

	due_tsc[i] = p + p / 4 + tsc_hi / 5000;
}

/* Periods of a source at num/den Hz in t TSC ticks, at the slowest and fastest TSC. */
static u32 periods_min(u64 t, u64 num, u64 den)
{
	return (u32)(t * num / (den * tsc_hi));
}

static u32 periods_max(u64 t, u64 num, u64 den)
{
	return (u32)(t * num / (den * tsc_lo));
}

/* Ticks a source at num/den Hz may have lost to the window's pauses (a pause may be
 * two stretches, before and after a handler, each losing all but one of its ticks). */
static u32 lost_max(const struct window *w, u64 num, u64 den)
{
	return periods_max(w->paused, num, den) + 2 * w->pauses;
}

/*
 * Measures windows until one is calm for the source at num/den Hz (its pauses explain
 * at most a quarter of the expected count) or WINDOW_TRIES ran; *w is the calmest.
 */
static void measure(struct window *w, u64 num, u64 den)
{
	struct window cur;
	u32 tries;

	for (tries = 0; tries < WINDOW_TRIES; tries++) {
		run_window(&cur);
		if (tries == 0 || lost_max(&cur, num, den) < lost_max(w, num, den))
			*w = cur;
		if (lost_max(w, num, den) * 4 <= periods_min(w->len, num, den))
			break;
	}
	printf("# window %u ms, %u tries: the guest was paused %u times, %u ms in all\n",
	       periods_min(w->len, 1000, 1), tries + (tries < WINDOW_TRIES), w->pauses,
	       periods_max(w->paused, 1000, 1));
}

/* The bounds of the header comment for n ticks of a source at num/den Hz. */
static void check_rate(const struct window *w, int src, u64 num, u64 den, const char *what)
{
	u32 n = src ? w->irq8 : w->irq0;
	u64 overdue_max = w->running / 4 + tsc_hi * den / num;
	u32 lo = periods_min(w->len, num, den), hi = periods_max(w->len, num, den);
	u32 lost = lost_max(w, num, den);
	u32 hi_run = periods_max(w->len - w->paused, num, den) + 3 * w->pauses + 1;

	if (hi_run < hi)
		hi = hi_run;
	hi += hi * MODEL_SKEW_PCT / 100 + EDGE_SLACK;
	lo -= lo * (UNSEEN_LOSS_PCT + MODEL_SKEW_PCT) / 100;
	lo = lo > EDGE_SLACK ? lo - EDGE_SLACK : 0;
	test__range(0, hi, n, "%s: %u in %u ms (%u ms running), no more than the periods", what,
		    n, periods_min(w->len, 1000, 1), periods_min(w->len - w->paused, 1000, 1));
	test__range(lo, hi + lost, n + lost,
		    "%s: %u + up to %u lost in %u pauses cover the window's periods", what, n,
		    lost, w->pauses);
	test__ok(w->overdue[src] <= overdue_max,
		 "%s: overdue for %u of the %u us the guest ran (at most a quarter + a period)",
		 what, periods_max(w->overdue[src], 1000000, 1),
		 periods_max(w->running, 1000000, 1));
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
	set_due(0, PIT_HZ, div);
	measure(&w, PIT_HZ, div);
	check_rate(&w, 0, PIT_HZ, div, "PIT mode 2 at 1000 Hz: IRQ0s");

	div = pit__divisor(100);
	pit__start(0, PIT_MODE_SQUARE, div);
	set_due(0, PIT_HZ, div);
	measure(&w, PIT_HZ, div);
	check_rate(&w, 0, PIT_HZ, div, "PIT mode 3 at 100 Hz: IRQ0s");
	pic__mask(0, true);
}

/* TSC ticks from t0 to t1, no more than ms milliseconds at the slowest TSC rate? */
static bool within_ms(u64 t0, u64 t1, u32 ms)
{
	return t1 - t0 <= tsc_lo / 1000 * ms;
}

static void check_pit_latch(void)
{
	u16 a = 0, b = 0, c = 0, held = 0;
	u64 t0 = 0, t1 = 0, t2 = 0, wait = tsc_hi / 1000 * 5; /* at least 5 ms */
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
	hi_ticks = periods_max(t2 - t0, PIT_HZ, 1);
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
		b = pit__latch(0);
		if (within_ms(t0, rdtsc(), 40))
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
 * stays selected). A host that preempts the guest may hide a few updates from it, so
 * the guard is EDGE_TRIES updates; an idle host shows the first.
 */
static void check_uip(void)
{
	bool uip_set = false, uip_clear = false;
	u64 end = clock__deadline_ms(EDGE_TRIES * 1000);

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
	set_due(0, PIT_HZ, div);
	set_due(1, RTC_PERIODIC_HZ, 1);
	measure(&w, RTC_PERIODIC_HZ, 1);
	cmos_write(RTC_REG_B, b);
	pic__mask(8, true);
	pic__mask(0, true);
	(void)cmos_read(RTC_REG_C);
	check_rate(&w, 1, RTC_PERIODIC_HZ, 1, "RTC periodic interrupt at 1024 Hz: IRQ8s");
	check_rate(&w, 0, PIT_HZ, div, "PIT mode 2 at 1000 Hz with IRQ8 active: IRQ0s");
	test__eq(0xc0, rtc_reg_c & 0xc0, "RTC: register C reports IRQF and PF");
}

void test_main(void)
{
	u64 hz;

	test__begin("timer");
	hz = pit__calibrate_tsc(50);
	test__ok(hz > 1000000, "PIT channel 2 gate/output (port 0x61) times 50 ms: TSC %llu Hz",
		 hz);
	calibrate_tsc_rtc();
	check_pic();
	check_pit_latch();
	check_pit_rates();
	check_rtc();
}
