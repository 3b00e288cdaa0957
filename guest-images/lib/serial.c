/*
 * serial.c: COM1 console. Initialisation programs 115200 8N1 and deliberately leaves
 * the FIFO control register alone: toggling FCR.FIFOE flushes the receiver, and the
 * uart guest's input may already be waiting in RBR when the kernel starts.
 */
#include "serial.h"
#include "x86.h"

static bool muted;

void serial__init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1); /* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1, DLAB=0 */
	outb(COM1 + UART_MCR, MCR_DTR | MCR_RTS);
}

void serial__mute(bool mute)
{
	muted = mute;
}

void serial__putc(char c)
{
	u32 spin;

	if (muted)
		return;
	/* Bounded wait: a missing UART must not hang the guest. */
	for (spin = 0; spin < 1000000; spin++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1 + UART_THR, (u8)c);
}
