/*
 * console.c: COM1 output, the formatter behind kprintf/ksnprintf, and the memset and
 * memcpy GCC expects of a freestanding program. The UART's FIFO
 * control register is left alone (toggling it would flush input a host may have
 * queued), and every wait for the transmitter is bounded so a missing UART cannot hang
 * the kernel.
 */
#include "console.h"

#define COM1 0x3f8
#define UART_LSR_THRE 0x20

struct out {
	char *buf; /* NULL: the serial port */
	size_t size, len;
};

void console__init(void)
{
	outb(COM1 + 1, 0x00); /* IER: no interrupts */
	outb(COM1 + 3, 0x80); /* LCR.DLAB */
	outb(COM1 + 0, 1);    /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void put(struct out *o, char c)
{
	u32 spin;

	if (o->buf) {
		if (o->len + 1 < o->size)
			o->buf[o->len] = c;
	} else {
		for (spin = 0; spin < 100000 && !(inb(COM1 + 5) & UART_LSR_THRE); spin++)
			;
		outb(COM1, (u8)c);
	}
	o->len++;
}

static void put_u64(struct out *o, u64 v, u32 base, int width, char pad, bool left,
		    bool neg)
{
	char digits[24];
	int n = 0, fill;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	fill = width - n - (neg ? 1 : 0);
	if (neg && pad == '0')
		put(o, '-');
	for (; !left && fill > 0; fill--)
		put(o, pad);
	if (neg && pad != '0')
		put(o, '-');
	while (n)
		put(o, digits[--n]);
	for (; fill > 0; fill--)
		put(o, ' ');
}

static void format(struct out *o, const char *f, va_list ap)
{
	for (; *f; f++) {
		int width = 0, longs = 0;
		bool left = false;
		char pad = ' ';
		const char *s;
		u64 v;

		if (*f != '%') {
			put(o, *f);
			continue;
		}
		for (f++; *f == '0' || *f == '-'; f++) {
			if (*f == '0')
				pad = '0';
			else
				left = true;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			width = width * 10 + (*f - '0');
		for (; *f == 'l'; f++)
			longs++;
		switch (*f) {
		case 'c':
			put(o, (char)va_arg(ap, int));
			break;
		case 's':
			for (s = va_arg(ap, const char *); s && *s; s++)
				put(o, *s);
			break;
		case 'd':
			v = longs ? (u64)va_arg(ap, s64) : (u64)(s64)va_arg(ap, int);
			put_u64(o, (s64)v < 0 ? -v : v, 10, width, pad, left, (s64)v < 0);
			break;
		case 'u':
		case 'x':
			v = longs ? va_arg(ap, u64) : va_arg(ap, u32);
			put_u64(o, v, *f == 'u' ? 10 : 16, width, pad, left, false);
			break;
		case 'p':
			put_u64(o, (uintptr_t)va_arg(ap, void *), 16, 16, '0', false, false);
			break;
		case '\0':
			return;
		default:
			put(o, *f);
		}
	}
}

int kvprintf(const char *fmt, va_list ap)
{
	struct out o = { 0, 0, 0 };

	format(&o, fmt, ap);
	return (int)o.len;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	struct out o = { buf, size, 0 };
	va_list ap;

	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

/* GCC emits calls to these for struct copies even with -ffreestanding. */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	if (!(((uintptr_t)dst | (uintptr_t)src | n) & 7)) {
		n /= 8; /* struct copies: a qword a step */
		asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	} else {
		asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	}
	return dst;
}
