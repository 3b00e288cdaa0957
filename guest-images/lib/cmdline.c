/*
 * cmdline.c: reading "key=value" words of the multiboot command line (see cmdline.h).
 */
#include "cmdline.h"
#include "test.h"

const char *cmdline__value(const char *key)
{
	const u32 *mbi = (const u32 *)(uintptr_t)boot__mbi;
	const char *p;
	int k;

	if (!mbi || !(mbi[0] & (1u << 2)) || !mbi[4])
		return 0;
	for (p = (const char *)(uintptr_t)mbi[4]; *p; p++) {
		if (p != (const char *)(uintptr_t)mbi[4] && p[-1] != ' ')
			continue;
		for (k = 0; key[k] && p[k] == key[k]; k++)
			;
		if (!key[k])
			return p + k;
	}
	return 0;
}

u32 cmdline__u32(const char *key, u32 dflt)
{
	const char *p = cmdline__value(key);
	u32 v = 0;
	bool any = false;

	for (; p && *p >= '0' && *p <= '9'; p++, any = true)
		v = v * 10 + (u32)(*p - '0');
	return any ? v : dflt;
}
