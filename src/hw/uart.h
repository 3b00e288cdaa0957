/*
 * uart.h: a 16550A UART (COM1 at 0x3f8, IRQ4 on a PC).
 *
 * The UART owns its registers, its 16-byte receive FIFO and the level of its interrupt
 * output; the VMM owns the host side: it feeds host input with uart__rx() only when
 * uart__rx_space() says there is room (input is deferred, never dropped) and receives
 * transmitted bytes through the tx callback. Transmission is instantaneous: the baud
 * divisor is stored for the guest but does not pace output.
 */
#ifndef SHADE_UART_H
#define SHADE_UART_H

#include "bus.h"
#include "irq.h"

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ  4
#define UART_NR_REGS   8
#define UART_FIFO_SIZE 16

struct uart_stats {
	uint64_t tx_bytes;       /* handed to the tx sink */
	uint64_t rx_bytes;       /* accepted from the host */
	uint64_t loopback_bytes; /* transmitted into our own receiver (MCR LOOP) */
	uint64_t overruns;       /* bytes lost because the receiver was full (loopback only) */
	uint64_t irq_raised;     /* low-to-high transitions of the IRQ pin */
};

struct uart {
	uint16_t base;
	struct irq_line irq;
	void (*tx)(void *ctx, uint8_t c);
	void *tx_ctx;

	uint8_t ier, iir, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	uint8_t rbr;             /* last byte read, returned again when the FIFO is empty */
	bool thr_ipending;       /* THRE interrupt latched, cleared by IIR read or THR write */
	bool irq_level;

	uint8_t rx_buf[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;

	struct uart_stats stats;
};

/* tx may be NULL (output discarded). The UART starts in its power-on reset state. */
void uart__init(struct uart *u, uint16_t base, struct irq_line irq,
		void (*tx)(void *ctx, uint8_t c), void *tx_ctx);
int uart__register(struct uart *u, struct bus *pio);

/* Bytes the receiver can take now: 0 in loopback, FIFO room otherwise (1 without FIFO). */
size_t uart__rx_space(const struct uart *u);
/* Accepts up to uart__rx_space() bytes of host input; returns how many it took. */
size_t uart__rx(struct uart *u, const uint8_t *buf, size_t n);

#endif
