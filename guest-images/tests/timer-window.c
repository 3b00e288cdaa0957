/*
 * timer-window.c: rate measurement for the timer guest (timer.c).
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
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "test.h"
#include "timer-window.h"

#define GAP_US 250u           /* a longer pause between two polls: the guest did not run */
#define WINDOW_MS 1000u
#define WINDOW_TRIES 6u
#define UNSEEN_LOSS_PCT 10u
#define MODEL_SKEW_PCT 1u
#define EDGE_SLACK 3u
#define EDGE_TRIES 30u        /* hang guard: RTC seconds to wait for a precise TSC rate */

/* TSC ticks per RTC second: lo <= true rate <= hi (from bracketed second edges). */
static u64 tsc_lo, tsc_hi;
/* Interrupts of each source counted during a window. */
static volatile u32 counts[2];

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

bool window__irq_begin(int src, u64 entry)
{
	if (!tracking)
		return true;
	last_irq[src] = entry;
	counts[src]++;
	return entry < window_end;
}

void window__irq_end(u64 entry)
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
void window__calibrate_tsc(void)
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

static void run_window(struct window *w)
{
	u64 start, end, prev, now, h_prev, h, d;
	u32 seq, i;

	pause_min = tsc_hi / 1000000 * GAP_US;
	handler_tsc = handler_paused = 0;
	handler_pauses = 0;
	w->paused = w->running = w->overdue[0] = w->overdue[1] = 0;
	w->pauses = 0;
	counts[0] = counts[1] = 0;
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
	w->irqs[0] = counts[0];
	w->irqs[1] = counts[1];
}

/* A tick of source i at num/den Hz is overdue a period (at the fastest TSC) plus a
 * quarter period plus 200 us after the last one. */
void window__set_due(int i, u64 num, u64 den)
{
	u64 p = tsc_hi * den / num;

	due_tsc[i] = p + p / 4 + tsc_hi / 5000;
}

/* Periods of a source at num/den Hz in t TSC ticks, at the slowest and fastest TSC. */
static u32 periods_min(u64 t, u64 num, u64 den)
{
	return (u32)(t * num / (den * tsc_hi));
}

u32 window__periods_max(u64 t, u64 num, u64 den)
{
	return (u32)(t * num / (den * tsc_lo));
}

/* Ticks a source at num/den Hz may have lost to the window's pauses (a pause may be
 * two stretches, before and after a handler, each losing all but one of its ticks). */
static u32 lost_max(const struct window *w, u64 num, u64 den)
{
	return window__periods_max(w->paused, num, den) + 2 * w->pauses;
}

/*
 * Measures windows until one is calm for the source at num/den Hz (its pauses explain
 * at most a quarter of the expected count) or WINDOW_TRIES ran; *w is the calmest.
 */
void window__measure(struct window *w, u64 num, u64 den)
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
	       window__periods_max(w->paused, 1000, 1));
}

/* The bounds of the header comment for n ticks of a source at num/den Hz. */
void window__check_rate(const struct window *w, int src, u64 num, u64 den,
			 const char *what)
{
	u32 n = w->irqs[src];
	u64 overdue_max = w->running / 4 + tsc_hi * den / num;
	u32 lo = periods_min(w->len, num, den), hi = window__periods_max(w->len, num, den);
	u32 lost = lost_max(w, num, den);
	u32 hi_run = window__periods_max(w->len - w->paused, num, den) + 3 * w->pauses + 1;

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
		 what, window__periods_max(w->overdue[src], 1000000, 1),
		 window__periods_max(w->running, 1000000, 1));
}

u64 window__tsc_lo(void)
{
	return tsc_lo;
}

u64 window__tsc_hi(void)
{
	return tsc_hi;
}
