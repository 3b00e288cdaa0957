/*
 * boot64.c: the multiboot information (v1) a 64-bit kernel reads after boot64.S: RAM
 * size from mem_upper (flag bit 0) and "key=value" words of the command line (flag
 * bit 2). The structure and the string are physical; they are read through the direct
 * map, which covers them because loaders put them in low memory. Loaders may put them
 * just past the kernel image (QEMU does), so frames start after them.
 */
#include "boot64.h"

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};

static const struct mb_info *info(void)
{
	return boot64__mbi && boot64__mbi < DIRECT_MAP_LIMIT ? p2v(boot64__mbi) : NULL;
}

u64 boot64__ram_top(void)
{
	const struct mb_info *mb = info();
	u64 top = 32ul << 20; /* what every loader here gives at least */

	if (mb && (mb->flags & 1))
		top = (1ul << 20) + (u64)mb->mem_upper * 1024;
	return top < DIRECT_MAP_LIMIT ? top : DIRECT_MAP_LIMIT;
}

u64 boot64__reserved_end(void)
{
	const struct mb_info *mb = info();
	const char *line = boot64__cmdline();
	u64 end = v2p(__kernel_end);

	if (mb && boot64__mbi + sizeof(*mb) > end)
		end = boot64__mbi + sizeof(*mb);
	while (*line)
		line++;
	if (mb && v2p(line) + 1 > end)
		end = v2p(line) + 1;
	return end;
}

const char *boot64__cmdline(void)
{
	const struct mb_info *mb = info();

	if (!mb || !(mb->flags & 4) || !mb->cmdline || mb->cmdline >= DIRECT_MAP_LIMIT)
		return "";
	return p2v(mb->cmdline);
}

/* The text after `key` where it starts a word of the command line, or NULL. */
static const char *find_word(const char *key)
{
	const char *line = boot64__cmdline(), *p;
	int k;

	for (p = line; *p; p++) {
		if (p != line && p[-1] != ' ')
			continue;
		for (k = 0; key[k] && p[k] == key[k]; k++)
			;
		if (!key[k])
			return p + k;
	}
	return NULL;
}

u64 boot64__cmdline_u64(const char *key, u64 dflt)
{
	const char *p = find_word(key);
	u64 v = 0;

	if (!p || *p < '0' || *p > '9')
		return dflt;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (u64)(*p - '0');
	return v;
}

bool boot64__cmdline_has(const char *word)
{
	const char *p = find_word(word);

	return p && (*p == ' ' || *p == '\0');
}
