/*
 * console.c: a VM's console output (see console.h). Output is best effort: a closed
 * terminal or a full disk must never stop the guest, so write errors are ignored.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

static pthread_mutex_t default_term_lock = PTHREAD_MUTEX_INITIALIZER;

void console__init(struct console *c, const char *name, int out, int log, bool prefix,
		   pthread_mutex_t *term_lock)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->out = out;
	c->log = log;
	c->prefix = prefix;
	c->term_lock = term_lock ? term_lock : &default_term_lock;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void emit_line(struct console *c)
{
	if (c->log >= 0)
		write_all(c->log, c->line, c->n);
	if (c->out >= 0) {
		char pre[80];
		size_t pn = (size_t)snprintf(pre, sizeof(pre), "[%s] ", c->name ? c->name : "vm");
		pthread_mutex_lock(c->term_lock);
		write_all(c->out, pre, pn < sizeof(pre) ? pn : sizeof(pre) - 1);
		write_all(c->out, c->line, c->n);
		if (c->line[c->n - 1] != '\n')
			write_all(c->out, "\n", 1);
		pthread_mutex_unlock(c->term_lock);
	}
	c->n = 0;
}

void console__put(struct console *c, uint8_t byte)
{
	if (!c->prefix && c->log < 0) {
		if (c->out >= 0)
			write_all(c->out, &byte, 1);
		return;
	}
	if (byte == '\r')
		return;            /* lines end with \n in the log and on the terminal */
	c->line[c->n++] = (char)byte;
	if (byte == '\n' || c->n == sizeof(c->line))
		emit_line(c);
}

void console__flush(struct console *c)
{
	if (c->n)
		emit_line(c);
}
