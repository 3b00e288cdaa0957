/*
 * rtc.c: MC146818 time registers, status registers A-D, interrupt flags and CMOS RAM.
 *
 * Time registers are computed from host wall time on every read, never stored, so no
 * periodic work is needed to keep them current. Register C's flags are computed lazily
 * too: whenever C is read or the timer fires, the seconds and periodic boundaries
 * crossed since the last evaluation set UF, AF and PF. The timer runs only while an
 * enabled interrupt could newly assert IRQ8.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "rtc.h"

#define REG_SEC     0x00
#define REG_SEC_AL  0x01
#define REG_MIN     0x02
#define REG_MIN_AL  0x03
#define REG_HOUR    0x04
#define REG_HOUR_AL 0x05
#define REG_WDAY    0x06
#define REG_MDAY    0x07
#define REG_MON     0x08
#define REG_YEAR    0x09
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_C       0x0c
#define REG_D       0x0d

#define A_UIP  0x80
#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_DM   0x04 /* 1 = binary */
#define B_24H  0x02
#define C_IRQF 0x80
#define C_PF   0x40
#define C_AF   0x20
#define C_UF   0x10
#define D_VRT  0x80

#define UIP_NS       244000
#define SEC_PER_DAY  86400
#define DONT_CARE(v) (((v) & 0xc0) == 0xc0)

struct gtime {
	int64_t sec;  /* since the Unix epoch, guest view */
	int64_t nsec;
};

static struct rtc *rtc_of_timer(struct vtimer *t)
{
	return (struct rtc *)((char *)t - offsetof(struct rtc, timer));
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static struct gtime guest_now(const struct rtc *r)
{
	int64_t wall = vclock__wall(r->clock);
	struct gtime g = { floor_div(wall, NSEC_PER_SEC), 0 };

	g.nsec = wall - g.sec * (int64_t)NSEC_PER_SEC + r->offset_nsec;
	g.sec += r->offset_sec;
	if (g.nsec >= (int64_t)NSEC_PER_SEC) {
		g.nsec -= NSEC_PER_SEC;
		g.sec++;
	}
	return g;
}

static void set_guest_time(struct rtc *r, int64_t sec, int64_t nsec)
{
	int64_t wall = vclock__wall(r->clock);
	int64_t wsec = floor_div(wall, NSEC_PER_SEC);

	r->offset_sec = sec - wsec;
	r->offset_nsec = nsec - (wall - wsec * (int64_t)NSEC_PER_SEC);
	if (r->offset_nsec < 0) {
		r->offset_nsec += NSEC_PER_SEC;
		r->offset_sec--;
	}
	/* Jumping the clock is not an update cycle: no UF or AF for the skipped seconds. */
	r->flags_sec = sec;
	r->stats.time_sets++;
}

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
	return (r->cmos[REG_B] & B_DM) ? v : (v / 10) << 4 | v % 10;
}

/* Lenient with invalid BCD digits: a guest's garbage yields an odd time, never a fault. */
static unsigned from_reg(const struct rtc *r, uint8_t v)
{
	return (r->cmos[REG_B] & B_DM) ? v : (v >> 4) * 10 + (v & 15);
}

static uint8_t hour_to_reg(const struct rtc *r, unsigned h)
{
	if (r->cmos[REG_B] & B_24H)
		return to_reg(r, h);
	return to_reg(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static unsigned hour_from_reg(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_24H)
		return from_reg(r, v);
	return from_reg(r, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* Renders guest second sec into the time registers of regs (indexed like cmos). */
static void render(const struct rtc *r, int64_t sec, uint8_t *regs)
{
	int64_t days = floor_div(sec, SEC_PER_DAY), year;
	int64_t sod = sec - days * SEC_PER_DAY;
	unsigned mon, mday;

	civil_from_days(days, &year, &mon, &mday);
	regs[REG_SEC] = to_reg(r, sod % 60);
	regs[REG_MIN] = to_reg(r, sod / 60 % 60);
	regs[REG_HOUR] = hour_to_reg(r, sod / 3600);
	regs[REG_WDAY] = to_reg(r, (unsigned)((days % 7 + 11) % 7) + 1); /* 1970-01-01: Thu */
	regs[REG_MDAY] = to_reg(r, mday);
	regs[REG_MON] = to_reg(r, mon);
	year = year < 0 ? 0 : year > 9999 ? 9999 : year;
	regs[REG_YEAR] = to_reg(r, year % 100);
	regs[RTC_REG_CENTURY] = to_reg(r, year / 100);
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The inverse of render(); the day of week is derived, never read. */
static int64_t parse(const struct rtc *r, const uint8_t *regs)
{
	int64_t year = clamp(from_reg(r, regs[RTC_REG_CENTURY]), 0, 99) * 100 +
		       clamp(from_reg(r, regs[REG_YEAR]), 0, 99);
	int64_t days = days_from_civil(year, clamp(from_reg(r, regs[REG_MON]), 1, 12),
				       clamp(from_reg(r, regs[REG_MDAY]), 1, 31));
	return days * SEC_PER_DAY + clamp(hour_from_reg(r, regs[REG_HOUR]), 0, 23) * 3600 +
	       clamp(from_reg(r, regs[REG_MIN]), 0, 59) * 60 +
	       clamp(from_reg(r, regs[REG_SEC]), 0, 59);
}

static bool is_time_reg(unsigned idx)
{
	return idx == REG_SEC || idx == REG_MIN || idx == REG_HOUR || idx == REG_WDAY ||
	       (idx >= REG_MDAY && idx <= REG_YEAR) || idx == RTC_REG_CENTURY;
}

static bool alarm_matches(const struct rtc *r, int64_t sec)
{
	int64_t sod = sec - floor_div(sec, SEC_PER_DAY) * SEC_PER_DAY;
	const uint8_t *c = r->cmos;

	return (DONT_CARE(c[REG_SEC_AL]) || c[REG_SEC_AL] == to_reg(r, sod % 60)) &&
	       (DONT_CARE(c[REG_MIN_AL]) || c[REG_MIN_AL] == to_reg(r, sod / 60 % 60)) &&
	       (DONT_CARE(c[REG_HOUR_AL]) || c[REG_HOUR_AL] == hour_to_reg(r, sod / 3600));
}

/* Periodic interrupt period in 32768 Hz ticks from RS (register A bits 0-3); 0 = off. */
static uint64_t period_ticks(const struct rtc *r)
{
	unsigned rs = r->cmos[REG_A] & 0x0f;

	if (!rs)
		return 0;
	return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

static uint64_t ns_to_32k(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * 32768 / NSEC_PER_SEC);
}

static uint64_t ns_from_32k_ceil(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * NSEC_PER_SEC + 32767) / 32768);
}

static void update_flags(struct rtc *r, uint64_t mono)
{
	uint8_t *c = &r->cmos[REG_C];

	if (!(r->cmos[REG_B] & B_SET)) {
		int64_t now = guest_now(r).sec;
		if (now > r->flags_sec) {
			if (!(*c & C_UF))
				r->stats.update_ended++;
			*c |= C_UF;
			/* At most a day of seconds can differ in whether the alarm matched. */
			for (int64_t s = MAX(r->flags_sec + 1, now - SEC_PER_DAY + 1); s <= now; s++) {
				if (alarm_matches(r, s)) {
					if (!(*c & C_AF))
						r->stats.alarm++;
					*c |= C_AF;
					break;
				}
			}
		}
		r->flags_sec = now;
	}

	uint64_t period = period_ticks(r);
	if (period && ns_to_32k(mono) / period > ns_to_32k(r->flags_mono_ns) / period) {
		if (!(*c & C_PF))
			r->stats.periodic++;
		*c |= C_PF;
	}
	r->flags_mono_ns = mono;
}

/* IRQ8 follows IRQF = (PF & PIE) | (AF & AIE) | (UF & UIE) until register C is read. */
static void update_irq(struct rtc *r)
{
	bool level = r->cmos[REG_C] & r->cmos[REG_B] & (C_PF | C_AF | C_UF);

	if (level)
		r->cmos[REG_C] |= C_IRQF;
	else
		r->cmos[REG_C] &= ~C_IRQF;
	if (level != r->irq_level) {
		r->irq_level = level;
		if (level)
			r->stats.irq_raised++;
		irq_line__set(&r->irq, level);
	}
}

/* The timer is armed only for an event that could change a flag an enabled source
 * reports: once PF or UF is set, nothing new can happen until the guest reads C. */
static void rearm(struct rtc *r, uint64_t mono)
{
	uint8_t b = r->cmos[REG_B], c = r->cmos[REG_C];
	uint64_t deadline = VTIMER_NEVER, period = period_ticks(r);

	if ((b & B_PIE) && period && !(c & C_PF))
		deadline = ns_from_32k_ceil((ns_to_32k(mono) / period + 1) * period);
	if (!(b & B_SET) && (((b & B_UIE) && !(c & C_UF)) || ((b & B_AIE) && !(c & C_AF)))) {
		uint64_t next_sec = mono + NSEC_PER_SEC - guest_now(r).nsec;
		deadline = MIN(deadline, next_sec);
	}
	r->timer.deadline_ns = deadline;
}

static void rtc_fire(struct vtimer *t, uint64_t now)
{
	struct rtc *r = rtc_of_timer(t);

	update_flags(r, now);
	update_irq(r);
	rearm(r, now);
}

static void write_b(struct rtc *r, uint8_t val, uint64_t mono)
{
	uint8_t old = r->cmos[REG_B];

	update_flags(r, mono); /* updates before the write count under the old settings */
	if ((val & B_SET) && !(old & B_SET)) {
		/* Freeze: the guest edits a snapshot, rendered in the format it had. */
		render(r, guest_now(r).sec, r->cmos);
		val &= ~B_UIE;
	}
	r->cmos[REG_B] = val;
	if (!(val & B_SET) && (old & B_SET)) {
		r->cmos[REG_B] = old; /* parse in the format the registers were written in */
		int64_t sec = parse(r, r->cmos);
		r->cmos[REG_B] = val;
		set_guest_time(r, sec, 0);
	}
}

static void write_time(struct rtc *r, unsigned idx, uint8_t val)
{
	uint8_t regs[RTC_CMOS_SIZE];
	struct gtime g;

	if (r->cmos[REG_B] & B_SET) {
		r->cmos[idx] = val;
		return;
	}
	/* A running clock takes the new field at once and keeps its sub-second phase. */
	g = guest_now(r);
	render(r, g.sec, regs);
	regs[idx] = val;
	set_guest_time(r, parse(r, regs), g.nsec);
}

static void reg_write(struct rtc *r, unsigned idx, uint8_t val, uint64_t mono)
{
	r->stats.writes++;
	if (is_time_reg(idx)) {
		write_time(r, idx, val);
		return;
	}
	switch (idx) {
	case REG_A:
		update_flags(r, mono); /* account PF at the old rate before changing it */
		r->cmos[REG_A] = val & ~A_UIP;
		break;
	case REG_B:
		write_b(r, val, mono);
		break;
	case REG_C:
	case REG_D:
		return; /* read-only */
	default:
		r->cmos[idx] = val;
		return;
	}
	update_irq(r);
	rearm(r, mono);
}

static uint8_t reg_read(struct rtc *r, unsigned idx, uint64_t mono)
{
	uint8_t regs[RTC_CMOS_SIZE], v;
	struct gtime g;

	r->stats.reads++;
	if (is_time_reg(idx)) {
		if (r->cmos[REG_B] & B_SET)
			return r->cmos[idx];
		render(r, guest_now(r).sec, regs);
		return regs[idx];
	}
	switch (idx) {
	case REG_A:
		g = guest_now(r);
		/* UIP warns of the update 244 us before each second boundary. */
		if (!(r->cmos[REG_B] & B_SET) && g.nsec >= (int64_t)(NSEC_PER_SEC - UIP_NS))
			return r->cmos[REG_A] | A_UIP;
		return r->cmos[REG_A];
	case REG_C:
		/* Flags found set by this read are reported but never pulse the line. */
		update_flags(r, mono);
		v = r->cmos[REG_C] & ~C_IRQF;
		if (v & r->cmos[REG_B] & (C_PF | C_AF | C_UF))
			v |= C_IRQF;
		r->cmos[REG_C] = 0;
		update_irq(r);
		rearm(r, mono);
		return v;
	case REG_D:
		return D_VRT;
	default:
		return r->cmos[idx];
	}
}

static int rtc_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct rtc *r = dev;
	uint8_t *b = data;
	uint64_t mono = vclock__mono(r->clock);

	for (unsigned i = 0; i < len; i++) {
		uint64_t port = addr + i;
		if (port == RTC_BASE) {
			if (is_write) {
				r->index = b[i] & 0x7f;
				r->nmi_disabled = b[i] & 0x80;
			} else {
				b[i] = 0xff; /* the index register is write-only */
			}
		} else if (port == RTC_BASE + 1) {
			if (is_write)
				reg_write(r, r->index, b[i], mono);
			else
				b[i] = reg_read(r, r->index, mono);
		} else if (!is_write) {
			b[i] = 0xff;
		}
	}
	return 0;
}

static void set_word(struct rtc *r, unsigned idx, uint64_t v)
{
	v = MIN(v, 0xffff);
	r->cmos[idx] = v & 0xff;
	r->cmos[idx + 1] = v >> 8;
}

void rtc__init(struct rtc *r, const struct vclock *clock, struct irq_line irq8,
	       uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	const uint64_t KiB = 1024, MiB = 1024 * 1024;

	memset(r, 0, sizeof(*r));
	r->clock = clock;
	r->irq = irq8;
	r->timer.deadline_ns = VTIMER_NEVER;
	r->timer.fire = rtc_fire;
	r->timer.name = "rtc";
	r->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	r->cmos[REG_B] = B_24H;
	r->flags_sec = guest_now(r).sec;
	r->flags_mono_ns = vclock__mono(clock);

	/* The layout SeaBIOS and other PC firmware read (as QEMU fills it in). */
	set_word(r, 0x15, MIN(ram_below_4g / KiB, 640));
	uint64_t ext = ram_below_4g > MiB ? (ram_below_4g - MiB) / KiB : 0;
	set_word(r, 0x17, ext);
	set_word(r, 0x30, ext);
	set_word(r, 0x34, ram_below_4g > 16 * MiB ? (ram_below_4g - 16 * MiB) / (64 * KiB) : 0);
	uint64_t high = MIN(ram_above_4g / (64 * KiB), 0xffffff);
	r->cmos[0x5b] = high & 0xff;
	r->cmos[0x5c] = (high >> 8) & 0xff;
	r->cmos[0x5d] = high >> 16;
}

int rtc__register(struct rtc *r, struct bus *pio, struct timer_queue *tq)
{
	int ret = bus__register(pio, RTC_BASE, 2, rtc_io, r, "rtc");

	if (ret)
		return ret;
	ret = timers__add(tq, &r->timer);
	if (ret)
		bus__unregister(pio, RTC_BASE, r);
	return ret;
}

int rtc__cmos_set(struct rtc *r, unsigned idx, uint8_t val)
{
	if (idx < 0x0e || idx >= RTC_CMOS_SIZE || idx == RTC_REG_CENTURY)
		return -EINVAL;
	r->cmos[idx] = val;
	return 0;
}
