/*
 * uart.c: the 16550A register file, receive FIFO and interrupt identification.
 *
 * Owns everything between the guest's port accesses and the IRQ pin. The host side
 * (reading stdin, writing the terminal) belongs to the VMM, through uart__rx() and the
 * tx callback; the interrupt controller behind the pin belongs to whoever wired irq.
 */
#include <string.h>

#include "uart.h"

enum {
	REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
	REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_RDI  0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI  0x08

#define IIR_NONE  0x01
#define IIR_MSI   0x00
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_RLSI  0x06
#define IIR_CTI   0x0c
#define IIR_ID    0x0f
#define IIR_FIFOS 0xc0

#define FCR_FE  0x01
#define FCR_RFR 0x02
#define FCR_XFR 0x04

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_ERRORS 0x1e /* OE, PE, FE, BI: cleared by reading LSR */
#define LSR_THRE   0x20
#define LSR_TEMT   0x40

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTA 0x0f
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

static bool fifo_on(const struct uart *u)
{
	return u->fcr & FCR_FE;
}

/* Without the FIFO the 16550 behaves as a 16450: a single receive holding register. */
static unsigned rx_capacity(const struct uart *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };
	return level[u->fcr >> 6];
}

/*
 * Picks the highest-priority pending source for IIR and drives the pin. Data below the
 * trigger level is reported at once as a character timeout: the 4-character delay of
 * real hardware is not modelled. On a real PC, OUT2 enables the IRQ driver; QEMU's
 * 16550 ignores it and raises the line whatever MCR says, and kernels written against
 * QEMU leave OUT2 clear and still expect their interrupts: shade does as QEMU.
 */
static void update_irq(struct uart *u)
{
	uint8_t id = IIR_NONE;

	if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRORS))
		id = IIR_RLSI;
	else if ((u->ier & IER_RDI) && u->rx_count)
		id = (fifo_on(u) && u->rx_count < rx_trigger(u)) ? IIR_CTI : IIR_RDI;
	else if ((u->ier & IER_THRI) && u->thr_ipending)
		id = IIR_THRI;
	else if ((u->ier & IER_MSI) && (u->msr & MSR_DELTA))
		id = IIR_MSI;
	u->iir = id | (fifo_on(u) ? IIR_FIFOS : 0);

	bool level = id != IIR_NONE;
	if (level != u->irq_level) {
		u->irq_level = level;
		if (level)
			u->stats.irq_raised++;
		irq_line__set(&u->irq, level);
	}
}

/* Modem inputs: a host terminal is always present; in loopback they mirror MCR outputs. */
static void update_msr(struct uart *u)
{
	uint8_t st, old = u->msr, delta = 0;

	if (u->mcr & MCR_LOOP)
		st = ((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
		     ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
	else
		st = MSR_CTS | MSR_DSR | MSR_DCD;

	if ((old ^ st) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ st) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old ^ st) & MSR_DCD)
		delta |= MSR_DDCD;
	if ((old & MSR_RI) && !(st & MSR_RI)) /* trailing edge only */
		delta |= MSR_TERI;
	u->msr = st | (old & MSR_DELTA) | delta;
}

static void rx_reset(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->lsr &= ~LSR_DR;
}

static void rx_push(struct uart *u, uint8_t c)
{
	if (u->rx_count < rx_capacity(u)) {
		u->rx_buf[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = c;
		u->rx_count++;
	} else {
		/* A full FIFO keeps its contents; a lone holding register is overwritten. */
		if (!fifo_on(u))
			u->rx_buf[u->rx_head] = c;
		u->lsr |= LSR_OE;
		u->stats.overruns++;
	}
	u->lsr |= LSR_DR;
}

static uint8_t rx_pop(struct uart *u)
{
	if (u->rx_count) {
		u->rbr = u->rx_buf[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
		if (--u->rx_count == 0)
			u->lsr &= ~LSR_DR;
	}
	return u->rbr;
}

static void write_thr(struct uart *u, uint8_t c)
{
	u->thr_ipending = false;
	if (u->mcr & MCR_LOOP) {
		rx_push(u, c);
		u->stats.loopback_bytes++;
	} else {
		if (u->tx)
			u->tx(u->tx_ctx, c);
		u->stats.tx_bytes++;
	}
	/* The byte left at once, so THR is empty again and THRE re-arms. */
	u->lsr |= LSR_THRE | LSR_TEMT;
	u->thr_ipending = u->ier & IER_THRI;
}

static void write_ier(struct uart *u, uint8_t val)
{
	uint8_t changed = (u->ier ^ val) & 0x0f;

	u->ier = val & 0x0f;
	/* Enabling ETBEI with THR empty raises THRE even if an IIR read had cleared it:
	 * Linux's startup THRE test and Windows depend on this resampling. */
	if (changed & IER_THRI)
		u->thr_ipending = (u->ier & IER_THRI) && (u->lsr & LSR_THRE);
}

static void write_fcr(struct uart *u, uint8_t val)
{
	/* Switching the FIFOs on or off clears them, as the datasheet requires. */
	if ((val ^ u->fcr) & FCR_FE)
		val |= FCR_RFR | FCR_XFR;
	if (val & FCR_RFR)
		rx_reset(u);
	if (val & FCR_XFR) {
		u->lsr |= LSR_THRE | LSR_TEMT;
		u->thr_ipending = u->ier & IER_THRI;
	}
	u->fcr = val & 0xc9;
}

static void reg_write(struct uart *u, unsigned reg, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			u->dll = val;
		else
			write_thr(u, val);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case REG_IIR_FCR:
		write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		u->mcr = val & 0x1f;
		update_msr(u);
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default: /* LSR and MSR are read-only; factory-test writes are ignored */
		break;
	}
	update_irq(u);
}

static uint8_t reg_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			return u->dll;
		v = rx_pop(u);
		break;
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		v = u->iir;
		if ((v & IIR_ID) == IIR_THRI)
			u->thr_ipending = false;
		break;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		v = u->lsr;
		u->lsr &= ~LSR_ERRORS;
		break;
	case REG_MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTA;
		break;
	default:
		return u->scr;
	}
	update_irq(u);
	return v;
}

/* Wider accesses are split into byte cycles, as the ISA bus does for an 8-bit device. */
static int uart_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct uart *u = dev;
	uint8_t *p = data;

	for (unsigned i = 0; i < len; i++) {
		uint64_t reg = addr + i - u->base;
		if (reg >= UART_NR_REGS) {
			if (!is_write)
				p[i] = 0xff;
		} else if (is_write) {
			reg_write(u, reg, p[i]);
		} else {
			p[i] = reg_read(u, reg);
		}
	}
	return 0;
}

void uart__init(struct uart *u, uint16_t base, struct irq_line irq,
		void (*tx)(void *ctx, uint8_t c), void *tx_ctx)
{
	memset(u, 0, sizeof(*u));
	u->base = base;
	u->irq = irq;
	u->tx = tx;
	u->tx_ctx = tx_ctx;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->iir = IIR_NONE;
	u->dll = 0x0c; /* 9600 baud, the BIOS default */
	u->msr = MSR_CTS | MSR_DSR | MSR_DCD;
}

int uart__register(struct uart *u, struct bus *pio)
{
	return bus__register(pio, u->base, UART_NR_REGS, uart_io, u, "uart");
}

size_t uart__rx_space(const struct uart *u)
{
	/* In loopback the receiver is wired to our own transmitter, not to the host. */
	if (u->mcr & MCR_LOOP)
		return 0;
	return rx_capacity(u) > u->rx_count ? rx_capacity(u) - u->rx_count : 0;
}

size_t uart__rx(struct uart *u, const uint8_t *buf, size_t n)
{
	size_t k = MIN(n, uart__rx_space(u));

	for (size_t i = 0; i < k; i++)
		rx_push(u, buf[i]);
	u->stats.rx_bytes += k;
	if (k)
		update_irq(u);
	return k;
}
