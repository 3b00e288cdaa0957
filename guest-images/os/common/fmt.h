/*
 * fmt.h: the printf-style formatter shared by the kernel console (kernel/console.c) and
 * the user library (user/printf.c); each side supplies the sink that takes characters.
 */
#ifndef OS_FMT_H
#define OS_FMT_H
#include <stdarg.h>

typedef void fmt_put_fn(void *ctx, char c);

/* %[-0][width][l|ll|z](d|i|u|x|X|p|s|c|%); returns the number of characters produced. */
int fmt__vformat(fmt_put_fn *put, void *ctx, const char *fmt, va_list ap);

#endif
