/* ktest.c: check numbering, result lines, the summary and the exit verdict. */
#include "ktest.h"
#include "boot64.h"
#include "console.h"

#define DEBUG_EXIT_PORT 0xf4
#define MULTIBOOT_LOADER_MAGIC 0x2badb002

static u32 n_checks, n_failed;

static bool report(bool ok, const char *detail, const char *fmt, va_list ap)
{
	n_checks++;
	if (!ok)
		n_failed++;
	kprintf("%sok %u - ", ok ? "" : "not ", n_checks);
	kvprintf(fmt, ap);
	kprintf("%s\n", ok ? "" : detail);
	return ok;
}

bool ktest__ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cond = report(cond, "", fmt, ap);
	va_end(ap);
	return cond;
}

bool ktest__eq(u64 expected, u64 got, const char *fmt, ...)
{
	char detail[64];
	va_list ap;
	bool ok;

	ksnprintf(detail, sizeof(detail), " (expected 0x%lx got 0x%lx)", expected, got);
	va_start(ap, fmt);
	ok = report(expected == got, detail, fmt, ap);
	va_end(ap);
	return ok;
}

void ktest__info(const char *fmt, ...)
{
	va_list ap;

	kprintf("# ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
}

void ktest__begin(const char *name)
{
	kprintf("# shade test guest: %s\n", name);
	ktest__eq(MULTIBOOT_LOADER_MAGIC, boot64__magic, "multiboot magic in EAX at entry");
}

void ktest__done(void)
{
	kprintf("shade-test: %u passed, %u failed\n", n_checks - n_failed, n_failed);
	outl(DEBUG_EXIT_PORT, n_failed ? 1 : 0);
	for (;;)
		asm volatile("cli; hlt");
}
