/* printf.c: a small vsnprintf-style formatter with a console and a buffer sink. */
#include "printf.h"
#include "serial.h"

struct sink {
	char *buf; /* NULL: write to the serial port */
	size_t size;
	size_t len;
};

static void sink_putc(struct sink *s, char c)
{
	if (!s->buf)
		serial__putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void put_num(struct sink *s, u64 v, u32 base, bool upper, bool neg, int width,
		    bool zero, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, pad;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg && zero)
		sink_putc(s, '-');
	pad = width - n - (neg ? 1 : 0);
	if (!left)
		for (; pad > 0; pad--)
			sink_putc(s, zero ? '0' : ' ');
	if (neg && !zero)
		sink_putc(s, '-');
	while (n)
		sink_putc(s, tmp[--n]);
	for (; pad > 0; pad--)
		sink_putc(s, ' ');
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool zero = false, left = false;
		int width = 0, longs = 0;
		u64 v;

		if (*fmt != '%') {
			sink_putc(s, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		for (; *fmt == 'l'; fmt++)
			longs++;
		switch (*fmt) {
		case 'c':
			sink_putc(s, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			int len = 0;

			if (!str)
				str = "(null)";
			while (str[len])
				len++;
			for (; !left && width > len; width--)
				sink_putc(s, ' ');
			while (*str)
				sink_putc(s, *str++);
			for (; left && width > len; width--)
				sink_putc(s, ' ');
			break;
		}
		case 'd':
		case 'i': {
			s64 sv = longs >= 2 ? va_arg(ap, s64) : va_arg(ap, s32);

			put_num(s, sv < 0 ? -(u64)sv : (u64)sv, 10, false, sv < 0, width, zero,
				left);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = longs >= 2 ? va_arg(ap, u64) : va_arg(ap, u32);
			put_num(s, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, zero, left);
			break;
		case 'p':
			sink_putc(s, '0');
			sink_putc(s, 'x');
			put_num(s, (uintptr_t)va_arg(ap, void *), 16, false, false, 8, true, false);
			break;
		case '%':
			sink_putc(s, '%');
			break;
		case '\0':
			return;
		default:
			sink_putc(s, '%');
			sink_putc(s, *fmt);
			break;
		}
	}
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { NULL, 0, 0 };

	format(&s, fmt, ap);
	return (int)s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { buf, size, 0 };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
