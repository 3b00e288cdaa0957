/*
 * fmt.c: printf-style formatting into a caller's sink (see fmt.h). Kept to what the
 * kernel and the user programs print: integers in decimal and hex, strings,
 * characters, with width, zero padding and left alignment. No floating point: the
 * guest code is built without SSE/x87.
 */
#include "fmt.h"
#include <stdbool.h>

struct spec {
	int width;
	bool zero, left, alt;   /* alt: '#', "0x" before a hex number */
};

static int pad(fmt_put_fn *put, void *ctx, int n, char c)
{
	int i;
	for (i = 0; i < n; i++)
		put(ctx, c);
	return n > 0 ? n : 0;
}

static int emit(fmt_put_fn *put, void *ctx, const struct spec *s, const char *str, int len)
{
	int out = 0;
	if (!s->left)
		out += pad(put, ctx, s->width - len, s->zero ? '0' : ' ');
	for (int i = 0; i < len; i++)
		put(ctx, str[i]);
	out += len;
	if (s->left)
		out += pad(put, ctx, s->width - len, ' ');
	return out;
}

static int number(fmt_put_fn *put, void *ctx, const struct spec *s, unsigned long long v,
		  bool neg, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = sizeof(buf), out = 0;
	struct spec rest = *s;

	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (neg) {
		if (s->zero && !s->left) {
			/* The sign goes before the zero padding. */
			put(ctx, '-');
			out = 1;
			rest.width--;
		} else {
			buf[--i] = '-';
		}
	}
	return out + emit(put, ctx, &rest, buf + i, (int)sizeof(buf) - i);
}

int fmt__vformat(fmt_put_fn *put, void *ctx, const char *fmt, va_list ap)
{
	int out = 0;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(ctx, *fmt);
			out++;
			continue;
		}
		struct spec s = { 0, false, false, false };
		int lng = 0;
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				s.left = true;
			else if (*fmt == '0')
				s.zero = true;
			else if (*fmt == '#')
				s.alt = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			s.width = s.width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			out += number(put, ctx, &s, v < 0 ? -(unsigned long long)v : (unsigned long long)v,
				      v < 0, 10, false);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			if (s.alt && *fmt != 'u' && v) {
				put(ctx, '0');
				put(ctx, *fmt);
				out += 2;
			}
			out += number(put, ctx, &s, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X');
			break;
		}
		case 'p':
			put(ctx, '0');
			put(ctx, 'x');
			out += 2 + number(put, ctx, &s, (unsigned long)va_arg(ap, void *), false, 16, false);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			int len = 0;
			if (!str)
				str = "(null)";
			while (str[len])
				len++;
			out += emit(put, ctx, &s, str, len);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			out += emit(put, ctx, &s, &c, 1);
			break;
		}
		case '\0':
			return out;
		default:
			put(ctx, *fmt);
			out++;
			break;
		}
	}
	return out;
}
