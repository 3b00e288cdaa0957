/*
 * console.c: the console on the 16550 UART at COM1: output, polled input, kprintf,
 * panic and the power-off through the debug-exit port. Output waits for THRE once per
 * 16 bytes rather than once per byte: with the FIFO on, THRE means the whole transmit
 * FIFO is empty, and every port access is a VM exit under a hypervisor.
 */
#include "kernel.h"
#include "x86.h"
#include "../common/fmt.h"

#define COM1 0x3f8
#define UART_FIFO 16
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define DEBUG_EXIT_PORT 0xf4

void console__init(void)
{
	outb(COM1 + 1, 0x00);	/* no UART interrupts: output is polled */
	outb(COM1 + 3, 0x80);	/* DLAB */
	outb(COM1 + 0, 0x01);	/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);	/* 8N1 */
	outb(COM1 + 2, 0x07);	/* FIFO on, both cleared */
	outb(COM1 + 4, 0x03);	/* DTR, RTS */
}

void console__write(const char *s, size_t n)
{
	size_t room = 0;
	for (size_t i = 0; i < n; i++) {
		if (!room) {
			while (!(inb(COM1 + 5) & LSR_THRE))
				;
			room = UART_FIFO;
		}
		if (s[i] == '\n') {
			outb(COM1, '\r');
			if (!--room) {
				while (!(inb(COM1 + 5) & LSR_THRE))
					;
				room = UART_FIFO;
			}
		}
		outb(COM1, (uint8_t)s[i]);
		room--;
	}
}

int console__read(char *buf, size_t n)
{
	size_t i = 0;
	while (i < n && (inb(COM1 + 5) & LSR_DR)) {
		char c = (char)inb(COM1);
		buf[i++] = c == '\r' ? '\n' : c;
	}
	return (int)i;
}

struct kbuf {
	char buf[128];
	size_t len;
};

static void kbuf_put(void *ctx, char c)
{
	struct kbuf *b = ctx;
	b->buf[b->len++] = c;
	if (b->len == sizeof(b->buf)) {
		console__write(b->buf, b->len);
		b->len = 0;
	}
}

static void vkprintf(const char *fmt, va_list ap)
{
	struct kbuf b = { .len = 0 };
	fmt__vformat(kbuf_put, &b, fmt, ap);
	console__write(b.buf, b.len);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

void kernel__shutdown(int code)
{
	cli();
	/* QEMU's isa-debug-exit and shade exit with status (code << 1) | 1; on a machine
	 * without that device the write goes nowhere and we halt for good. */
	outl(DEBUG_EXIT_PORT, (uint32_t)code);
	for (;;)
		__asm__ volatile("hlt");
}

void panic(const char *fmt, ...)
{
	va_list ap;
	cli();
	kprintf("\nkernel panic: ");
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	kernel__shutdown(0x7f);
}
