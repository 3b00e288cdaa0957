/*
 * console.h: where a VM's COM1 output goes. A lone VM writes its bytes straight to the
 * terminal, as a serial line would; a VM of a multi-VM host also keeps a log file of
 * its own and shows whole lines on the terminal, prefixed with its name, so that the
 * consoles of several VMs stay readable. The UART model (src/hw/uart.c) knows nothing
 * of this: it calls console__put for each transmitted byte.
 */
#ifndef SHADE_CONSOLE_H
#define SHADE_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_LINE 512

struct console {
	int out;                 /* terminal, or -1 */
	int log;                 /* log file, or -1 */
	bool prefix;             /* out gets "[name] line" */
	const char *name;
	char line[CONSOLE_LINE];
	size_t n;
	pthread_mutex_t *term_lock;  /* shared by the VMs of one host: lines never interleave */
};

void console__init(struct console *c, const char *name, int out, int log, bool prefix,
		   pthread_mutex_t *term_lock);
void console__put(struct console *c, uint8_t byte);
/* Write out a partial last line (at VM exit). */
void console__flush(struct console *c);

#endif
