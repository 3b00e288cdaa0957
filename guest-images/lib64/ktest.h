/*
 * ktest.h: the report protocol of tests/guest/run-guest.sh for 64-bit guests (the same
 * lines as ../lib/test.h): "ok N - what" or "not ok N - what (expected X got Y)",
 * "# " for information, then "shade-test: P passed, F failed" and the verdict on the
 * isa-debug-exit port 0xf4 (0: all passed, 1: some failed).
 */
#ifndef GUEST64_KTEST_H
#define GUEST64_KTEST_H

#include "x64.h"

/* Banner, plus check 1: the multiboot magic was in EAX at entry. */
void ktest__begin(const char *name);
bool ktest__ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Values printed in hex. */
bool ktest__eq(u64 expected, u64 got, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ktest__info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ktest__done(void) __noreturn;

#endif
