/*
 * printf.c: formatted console output for user programs (the formatter is
 * common/fmt.c). One printf is one write() call, so lines from different processes
 * do not interleave mid-line.
 */
#include "lib.h"
#include "../common/fmt.h"

struct obuf {
	char buf[512];
	size_t len, cap;
	bool console;
};

static void put(void *ctx, char c)
{
	struct obuf *b = ctx;
	if (b->len + 1 >= b->cap) {
		if (!b->console)
			return;
		write(1, b->buf, b->len);
		b->len = 0;
	}
	b->buf[b->len++] = c;
}

int printf(const char *fmt, ...)
{
	struct obuf b = { .len = 0, .cap = sizeof(b.buf), .console = true };
	va_list ap;
	va_start(ap, fmt);
	int n = fmt__vformat(put, &b, fmt, ap);
	va_end(ap);
	if (b.len)
		write(1, b.buf, b.len);
	return n;
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
	struct obuf b = { .len = 0, .cap = n < sizeof(b.buf) ? n : sizeof(b.buf), .console = false };
	va_list ap;
	va_start(ap, fmt);
	int r = fmt__vformat(put, &b, fmt, ap);
	va_end(ap);
	if (n) {
		memcpy(buf, b.buf, b.len);
		buf[b.len] = 0;
	}
	return r;
}
