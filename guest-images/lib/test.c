/* test.c: check numbering, result lines, the summary line and the exit verdict. */
#include "test.h"
#include "printf.h"
#include "serial.h"
#include "x86.h"

static u32 n_checks, n_failed;

static bool report_va(bool ok, const char *expected, const char *got, const char *fmt,
		      va_list ap)
{
	n_checks++;
	if (!ok)
		n_failed++;
	printf("%sok %u - ", ok ? "" : "not ", n_checks);
	vprintf(fmt, ap);
	if (!ok && (expected || got))
		printf(" (expected %s got %s)", expected ? expected : "?", got ? got : "?");
	printf("\n");
	return ok;
}

bool test__report(bool ok, const char *expected, const char *got, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ok = report_va(ok, expected, got, fmt, ap);
	va_end(ap);
	return ok;
}

bool test__ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cond = report_va(cond, NULL, NULL, fmt, ap);
	va_end(ap);
	return cond;
}

bool test__eq(u64 expected, u64 got, const char *fmt, ...)
{
	char e[24], g[24];
	va_list ap;
	bool ok;

	snprintf(e, sizeof(e), "0x%llx", expected);
	snprintf(g, sizeof(g), "0x%llx", got);
	va_start(ap, fmt);
	ok = report_va(expected == got, e, g, fmt, ap);
	va_end(ap);
	return ok;
}

bool test__eq_dec(u64 expected, u64 got, const char *fmt, ...)
{
	char e[24], g[24];
	va_list ap;
	bool ok;

	snprintf(e, sizeof(e), "%llu", expected);
	snprintf(g, sizeof(g), "%llu", got);
	va_start(ap, fmt);
	ok = report_va(expected == got, e, g, fmt, ap);
	va_end(ap);
	return ok;
}

bool test__range(u64 lo, u64 hi, u64 got, const char *fmt, ...)
{
	char e[48], g[24];
	va_list ap;
	bool ok;

	snprintf(e, sizeof(e), "%llu..%llu", lo, hi);
	snprintf(g, sizeof(g), "%llu", got);
	va_start(ap, fmt);
	ok = report_va(got >= lo && got <= hi, e, g, fmt, ap);
	va_end(ap);
	return ok;
}

void test__info(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void test__skip(const char *what, const char *why)
{
	printf("# skip: %s: %s\n", what, why);
}

u32 test__failed(void)
{
	return n_failed;
}

void test__begin(const char *name)
{
	printf("# shade test guest: %s\n", name);
	test__eq(MULTIBOOT_LOADER_MAGIC, boot__magic, "multiboot magic in EAX at entry");
}

void test__exit(u32 code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		asm volatile("cli; hlt");
}

u32 test__summary(void)
{
	serial__mute(false);
	printf("shade-test: %u passed, %u failed\n", n_checks - n_failed, n_failed);
	return n_failed;
}

void test__done(void)
{
	test__exit(test__summary() ? 1 : 0);
}
