/*
 * console.h: COM1 (16550 at 0x3f8, polled, 115200 8N1) and a small printf for the
 * 64-bit guest runtime: %c %s %d %u %x %p %%, the flags '0' and '-', a width, and the
 * l / ll length modifiers (both 64-bit here).
 */
#ifndef GUEST64_CONSOLE_H
#define GUEST64_CONSOLE_H

#include "x64.h"

void console__init(void);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
