/*
 * test.h: the report protocol checked by tests/guest/run-guest.sh. One line per check,
 * "ok N - what" or "not ok N - what (expected X got Y)", informational lines start
 * with "# ", then "shade-test: P passed, F failed" and the verdict written to the
 * isa-debug-exit port 0xf4 (0: all passed, 1: some failed). If that OUT returns
 * (no exit device), the guest halts forever.
 */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include "types.h"

#define DEBUG_EXIT_PORT 0xf4
#define MULTIBOOT_LOADER_MAGIC 0x2badb002

extern u32 boot__magic, boot__mbi;

/* Provided by each guest. */
void test_main(void);

/* Banner, plus check 1: the multiboot magic was in EAX at entry. */
void test__begin(const char *name);
bool test__ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Values printed in hex. */
bool test__eq(u64 expected, u64 got, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Values printed in decimal. */
bool test__eq_dec(u64 expected, u64 got, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* lo <= got <= hi, decimal. */
bool test__range(u64 lo, u64 hi, u64 got, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Generic: `expected` and `got` are already formatted (either may be NULL). */
bool test__report(bool ok, const char *expected, const char *got, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void test__info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void test__skip(const char *what, const char *why);
u32 test__failed(void);
void test__done(void) __noreturn;
/* The summary line alone, for a guest that ends some other way (ACPI soft-off):
 * returns the number of failed checks. */
u32 test__summary(void);
void test__exit(u32 code) __noreturn;

#endif
