/*
 * lapic.c: local APIC registers, priorities, delivery and acknowledge, and the xAPIC
 * page. The timer is in lapic_timer.c, IA32_APIC_BASE and the MSRs in lapic_msr.c.
 *
 * Priorities follow the SDM (vol. 3, 10.8.3): PPR is TPR when TPR[7:4] >= ISRV[7:4],
 * else ISRV[7:4]:0; the highest IRR vector is delivered when its class is above
 * PPR's. i8259 vectors (ExtINT) bypass those priorities, after the APIC's own, as in
 * QEMU. While software-disabled (SVR bit 8 clear) every LVT stays masked and nothing
 * from IRR is delivered.
 */
#include <string.h>

#include "lapic.h"
#include "lapic_internal.h"

#define ESR_SEND_ILLEGAL 0x20u
#define ESR_RECV_ILLEGAL 0x40u
#define ESR_ILLEGAL_REG  0x80u

/* Writable bits of each LVT entry (delivery status and remote IRR are read-only). */
static const uint32_t lvt_mask[LAPIC_NR_LVT] = {
	[LVT_TIMER] = 0x700ff,   /* vector, mask, mode (17:18) */
	[LVT_THERMAL] = 0x107ff,
	[LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff,   /* vector, delivery mode, polarity, trigger, mask */
	[LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,
};

static bool bit_get(const uint32_t *v, unsigned n) { return v[n >> 5] & (1u << (n & 31)); }
static void bit_set(uint32_t *v, unsigned n) { v[n >> 5] |= 1u << (n & 31); }
static void bit_clear(uint32_t *v, unsigned n) { v[n >> 5] &= ~(1u << (n & 31)); }

static int highest(const uint32_t *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

bool lapic__hw_enabled(const struct lapic *a) { return a->base & APIC_BASE_EN; }
static bool sw_enabled(const struct lapic *a) { return a->svr & 0x100; }

static uint32_t ppr(const struct lapic *a)
{
	int isrv = highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

/* The IRR vector the CPU would take now, or -1. */
static int deliverable(const struct lapic *a)
{
	if (!lapic__hw_enabled(a) || !sw_enabled(a))
		return -1;
	int v = highest(a->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(a) & 0xf0))
		return -1;
	return v;
}

/* The i8259 reaches the CPU: straight while the APIC is off, else through LINT0 in
 * ExtINT mode. */
static bool pic_routed(const struct lapic *a)
{
	uint32_t l = a->lvt[LVT_LINT0];
	return !lapic__hw_enabled(a) || (!(l & LVT_MASKED) && ((l >> 8) & 7) == 7);
}

static void raise_error(struct lapic *a, uint32_t bits);

void lapic_accept(struct lapic *a, unsigned vector, bool level)
{
	if (vector < 16) {
		raise_error(a, ESR_RECV_ILLEGAL);
		return;
	}
	bit_set(a->irr, vector);
	if (level)
		bit_set(a->tmr, vector);
	else
		bit_clear(a->tmr, vector);
	a->stats.accepted++;
}

static void raise_error(struct lapic *a, uint32_t bits)
{
	a->esr_pending |= bits;
	a->stats.errors++;
	uint32_t l = a->lvt[LVT_ERROR];
	if (!(l & LVT_MASKED) && (l & 0xff) >= 16)
		lapic_accept(a, l & 0xff, false);
}

void lapic_local_deliver(struct lapic *a, enum lapic_lvt which)
{
	uint32_t l = a->lvt[which];
	if (l & LVT_MASKED)
		return;
	switch ((l >> 8) & 7) {
	case 0:
		lapic_accept(a, l & 0xff, false);
		break;
	case 4:
		a->nmi_pending = true;
		a->stats.nmis++;
		break;
	default:
		break;   /* SMI, INIT, ExtINT from a local source: nothing to do */
	}
}

bool lapic__has_interrupt(struct lapic *a)
{
	return deliverable(a) >= 0 || (pic_routed(a) && a->ops.extint_pending(a->ops.ctx));
}

int lapic__ack(struct lapic *a)
{
	int v = deliverable(a);
	if (v >= 0) {
		bit_clear(a->irr, (unsigned)v);
		bit_set(a->isr, (unsigned)v);
		a->stats.delivered++;
		return v;
	}
	if (pic_routed(a) && a->ops.extint_pending(a->ops.ctx)) {
		a->stats.extint++;
		return a->ops.extint_ack(a->ops.ctx);
	}
	return -1;
}

bool lapic__take_nmi(struct lapic *a)
{
	bool n = a->nmi_pending;
	a->nmi_pending = false;
	return n;
}

static void eoi(struct lapic *a)
{
	int v = highest(a->isr);
	a->stats.eois++;
	if (v < 0)
		return;
	bit_clear(a->isr, (unsigned)v);
	if (bit_get(a->tmr, (unsigned)v)) {
		a->stats.eoi_broadcasts++;
		if (a->ops.eoi)
			a->ops.eoi(a->ops.ctx, (unsigned)v);
	}
}

/* Whether an 8-bit (xAPIC, I/O APIC) or 32-bit (x2APIC ICR) destination names us. */
static bool dest_match(const struct lapic *a, uint32_t dest, bool logical, bool wide)
{
	uint32_t bcast = wide ? 0xffffffffu : 0xffu;
	if (dest == bcast)
		return true;
	if (!logical)
		return dest == (wide ? a->id : (a->id & 0xff));
	if (lapic_x2apic_mode(a)) {
		if (!wide)
			return dest & a->ldr & 0xff;
		return (dest >> 16) == (a->ldr >> 16) && (dest & a->ldr & 0xffff);
	}
	uint32_t ldr = a->ldr >> 24;
	if ((a->dfr >> 28) == 0xf)
		return dest & ldr;     /* flat model */
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);   /* cluster model */
}

static void deliver_to_self(struct lapic *a, unsigned mode, unsigned vector, bool level)
{
	switch (mode) {
	case 0:    /* fixed */
	case 1:    /* lowest priority: we are the only candidate */
		lapic_accept(a, vector, level);
		break;
	case 4:
		a->nmi_pending = true;
		a->stats.nmis++;
		break;
	default:   /* SMI, INIT, SIPI, ExtINT: not modelled */
		a->stats.ipis_dropped++;
		break;
	}
}

void lapic__bus_message(struct lapic *a, uint8_t dest, bool logical, unsigned mode,
			unsigned vector, bool level)
{
	if (!lapic__hw_enabled(a) || !dest_match(a, dest, logical, false))
		return;
	deliver_to_self(a, mode, vector, level);
}

static void send_ipi(struct lapic *a, uint32_t lo, uint32_t dest)
{
	unsigned vec = lo & 0xff, mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3;
	bool self;
	a->stats.ipis++;
	switch (shorthand) {
	case 1: case 2: self = true; break;    /* self, all including self */
	case 3: self = false; break;           /* all excluding self: nobody else exists */
	default: self = dest_match(a, lapic_x2apic_mode(a) ? dest : dest >> 24, lo & 0x800, lapic_x2apic_mode(a));
	}
	if ((mode == 0 || mode == 1) && vec < 16) {
		raise_error(a, ESR_SEND_ILLEGAL);
		return;
	}
	if (!self) {
		a->stats.ipis_dropped++;
		return;
	}
	deliver_to_self(a, mode, vec, false);
}

/* The state QEMU's reset gives the BSP (what a BIOS leaves): LINT0 in ExtINT mode, the
 * virtual wire to the i8259, every other LVT masked, software-disabled, the base at
 * 0xfee00000 with the BSP flag. */
void lapic_reset(struct lapic *a, bool keep_base)
{
	if (!keep_base)
		a->base = LAPIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_EN;
	a->id = 0;
	a->tpr = a->ldr = a->esr = a->esr_pending = a->icr_lo = a->icr_hi = 0;
	a->dfr = 0xffffffffu;
	a->svr = 0xff;
	for (unsigned i = 0; i < LAPIC_NR_LVT; i++)
		a->lvt[i] = LVT_MASKED;
	a->lvt[LVT_LINT0] = 0x700;
	memset(a->irr, 0, sizeof(a->irr));
	memset(a->isr, 0, sizeof(a->isr));
	memset(a->tmr, 0, sizeof(a->tmr));
	a->tmict = a->tdcr = 0;
	a->tsc_deadline = 0;
	a->nmi_pending = false;
	lapic_timer_stop(a);
}

/* Register reads, by index (offset >> 4). 0, or -1 for a register that is not there in
 * this mode. */
int lapic_reg_read(struct lapic *a, unsigned r, uint64_t *val, bool x2)
{
	uint64_t now = vclock__mono(a->clock);
	lapic_timer_catch_up(a, now);
	switch (r) {
	case 0x02: *val = x2 ? a->id : a->id << 24; return 0;
	case 0x03: *val = LAPIC_VERSION; return 0;
	case 0x08: *val = a->tpr; return 0;
	case 0x09: if (x2) return -1; *val = 0; return 0;       /* APR */
	case 0x0a: *val = ppr(a); return 0;
	case 0x0c: if (x2) return -1; *val = 0; return 0;       /* RRD */
	case 0x0d: *val = a->ldr; return 0;
	case 0x0e: if (x2) return -1; *val = a->dfr | 0x0fffffff; return 0;
	case 0x0f: *val = a->svr; return 0;
	case 0x10 ... 0x17: *val = a->isr[r & 7]; return 0;
	case 0x18 ... 0x1f: *val = a->tmr[r & 7]; return 0;
	case 0x20 ... 0x27: *val = a->irr[r & 7]; return 0;
	case 0x28: *val = a->esr; return 0;
	case 0x30: *val = x2 ? (uint64_t)a->icr_hi << 32 | a->icr_lo : a->icr_lo; return 0;
	case 0x31: if (x2) return -1; *val = a->icr_hi; return 0;
	case 0x32 ... 0x37: *val = a->lvt[r - 0x32]; return 0;
	case 0x38: *val = a->tmict; return 0;
	case 0x39: *val = lapic_timer_current(a, now); return 0;
	case 0x3e: *val = a->tdcr; return 0;
	default: return -1;     /* EOI and SELF_IPI are write-only; the rest reserved */
	}
}

static void write_svr(struct lapic *a, uint32_t v)
{
	a->svr = v & 0x3ff;
	if (!sw_enabled(a))
		for (unsigned i = 0; i < LAPIC_NR_LVT; i++)
			a->lvt[i] |= LVT_MASKED;
}

static void write_lvt(struct lapic *a, unsigned i, uint32_t v)
{
	v &= lvt_mask[i];
	if (!sw_enabled(a))
		v |= LVT_MASKED;
	if (i == LVT_TIMER)
		lapic_timer_set_lvt(a, v);
	else
		a->lvt[i] = v | (a->lvt[i] & ~lvt_mask[i] & ~LVT_MASKED);
}

/* Register writes. 0, or -1 when an x2APIC access is #GP (read-only, reserved register,
 * reserved bits); in xAPIC mode such writes are ignored. */
int lapic_reg_write(struct lapic *a, unsigned r, uint64_t val, bool x2)
{
	uint32_t v = (uint32_t)val;
	if (x2 && r != 0x30 && (val >> 32))
		return -1;
	lapic_timer_catch_up(a, vclock__mono(a->clock));
	switch (r) {
	case 0x02:
		if (x2)
			return -1;
		a->id = v >> 24;
		return 0;
	case 0x08:
		if (x2 && (v & ~0xffu))
			return -1;
		a->tpr = v & 0xff;
		return 0;
	case 0x0b:
		if (x2 && v)
			return -1;
		eoi(a);
		return 0;
	case 0x0d:
		if (x2)
			return -1;
		a->ldr = v & 0xff000000u;
		return 0;
	case 0x0e:
		if (x2)
			return -1;
		a->dfr = v | 0x0fffffffu;
		return 0;
	case 0x0f:
		if (x2 && (v & ~0x3ffu))
			return -1;
		write_svr(a, v);
		return 0;
	case 0x28:
		if (x2 && v)
			return -1;
		a->esr = a->esr_pending;     /* a write latches the errors seen since */
		a->esr_pending = 0;
		return 0;
	case 0x30:
		a->icr_lo = v & ~0x1000u;    /* delivery status: sent at once */
		if (x2)
			a->icr_hi = (uint32_t)(val >> 32);
		send_ipi(a, a->icr_lo, a->icr_hi);
		return 0;
	case 0x31:
		if (x2)
			return -1;
		a->icr_hi = v & 0xff000000u;
		return 0;
	case 0x32 ... 0x37:
		write_lvt(a, r - 0x32, v);
		return 0;
	case 0x38:
		lapic_timer_set_initial(a, v);
		return 0;
	case 0x3e:
		if (x2 && (v & ~0xbu))
			return -1;
		lapic_timer_set_divide(a, v);
		return 0;
	case 0x3f:
		if (!x2 || (v & ~0xffu))
			return -1;
		a->stats.ipis++;
		if (v < 16)
			raise_error(a, ESR_SEND_ILLEGAL);
		else
			lapic_accept(a, v, false);
		return 0;
	case 0x03: case 0x09: case 0x0a: case 0x0c: case 0x10 ... 0x27: case 0x39:
		return x2 ? -1 : 0;   /* read-only: ignored in xAPIC mode */
	default:
		return -1;
	}
}

static int lapic_mmio(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct lapic *a = dev;
	uint64_t off = addr - a->mapped;

	if (len > 4) {    /* wider than a register: reads 0, writes nothing (as QEMU) */
		if (!is_write)
			memset(data, 0, len);
		return 0;
	}
	/* Not decoded while disabled or in x2APIC mode: reads all ones, writes vanish. */
	if (!lapic__hw_enabled(a) || lapic_x2apic_mode(a)) {
		if (!is_write)
			memset(data, 0xff, len);
		return 0;
	}
	unsigned r = (unsigned)(off >> 4) & 0xff, byte = (unsigned)(off & 15);
	if (!is_write) {
		uint64_t v = 0;
		a->stats.mmio_reads++;
		if (byte + len <= 4) {
			if (lapic_reg_read(a, r, &v, false) < 0 && r != 0x0b) {
				raise_error(a, ESR_ILLEGAL_REG);
				v = 0;
			}
			v >>= byte * 8;
		}
		memcpy(data, &v, len);
		return 0;
	}
	a->stats.mmio_writes++;
	if (len != 4 || byte)
		return 0;    /* only whole aligned dwords reach a register */
	uint32_t v;
	memcpy(&v, data, 4);
	if (lapic_reg_write(a, r, v, false) < 0)
		raise_error(a, ESR_ILLEGAL_REG);
	return 0;
}

/* Keep the claimed page where IA32_APIC_BASE says. */
int lapic_remap(struct lapic *a)
{
	uint64_t want = a->base & ~0xfffULL & ((1ULL << a->phys_bits) - 1);
	if (!a->mmio || want == a->mapped)
		return 0;
	if (a->mapped != ~0ULL)
		bus__unregister(a->mmio, a->mapped, a);
	a->mapped = ~0ULL;
	int r = bus__register(a->mmio, want, 0x1000, lapic_mmio, a, "lapic");
	if (r == 0)
		a->mapped = want;
	return r;
}

void lapic__init(struct lapic *a, const struct vclock *clock, const struct lapic_ops *ops,
		 unsigned phys_bits, bool x2apic_ok)
{
	memset(a, 0, sizeof(*a));
	a->clock = clock;
	a->ops = *ops;
	a->phys_bits = phys_bits ? phys_bits : 36;
	a->x2apic_ok = x2apic_ok;
	a->mapped = ~0ULL;
	lapic_timer_init(a);
	lapic_reset(a, false);
	/* What SeaBIOS leaves the BSP's APIC in before it boots a QEMU -kernel guest:
	 * software-enabled, LINT0 ExtINT and LINT1 NMI, both level (a guest that never
	 * writes SVR still has a working APIC and the i8259 through LINT0). */
	a->svr = 0x1ff;
	a->lvt[LVT_LINT0] = 0x8700;
	a->lvt[LVT_LINT1] = 0x8400;
}

int lapic__register(struct lapic *a, struct bus *mmio, struct timer_queue *tq)
{
	int r = timers__add(tq, &a->timer);
	if (r)
		return r;
	a->mmio = mmio;
	return lapic_remap(a);
}
