/*
 * printf.h: formatted output to COM1 and into buffers. Supports %c %s %d %i %u %x %X
 * %p %%, the flags '0' and '-', a field width, and the l / ll length modifiers.
 */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include "types.h"

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
