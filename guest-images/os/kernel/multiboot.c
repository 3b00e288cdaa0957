/*
 * multiboot.c: reads the multiboot v1 information the loader left (memory map,
 * modules, command line) into struct bootinfo before anything can overwrite it. Runs
 * on the boot page tables, so it reads physical memory through the kernel image's
 * mapping of the first GiB (KERNEL_VMA + pa).
 */
#include "kernel.h"
#include "boot.h"

#define MB_BOOT_MAGIC 0x2BADB002
#define MBI_MEM 0x001
#define MBI_CMDLINE 0x004
#define MBI_MODS 0x008
#define MBI_MMAP 0x040
#define MMAP_RAM 1
#define LOW_MEM_END 0x100000UL	/* the first MiB (BIOS areas, loader data) stays unused */

struct mbi {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_module {
	uint32_t start, end, string, reserved;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
} __attribute__((packed));

struct bootinfo bootinfo;
extern char __kernel_end[];

static const void *early_ptr(uint64_t pa)
{
	if (pa >= 0x40000000UL)
		panic("multiboot data at %#lx is beyond the boot mapping", pa);
	return (const void *)(pa + KERNEL_VMA);
}

static void add_ram(uint64_t start, uint64_t end)
{
	start = PAGE_ROUND_UP(start < LOW_MEM_END ? LOW_MEM_END : start);
	end = PAGE_ROUND_DOWN(end);
	if (end <= start || bootinfo.nram == BOOT_MAX_RAM)
		return;
	bootinfo.ram[bootinfo.nram++] = (struct ram_range){ start, end };
	if (end > bootinfo.ram_top)
		bootinfo.ram_top = end;
}

static void copy_cmdline(uint64_t pa)
{
	const char *s = early_ptr(pa);
	/* GRUB, QEMU and shade all start the line with the kernel's path: skip it. */
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	strncpy0(bootinfo.cmdline, s, sizeof(bootinfo.cmdline));
}

void multiboot__parse(uint32_t magic, uint64_t mbi_phys)
{
	if (magic != MB_BOOT_MAGIC)
		panic("not booted by a multiboot loader (magic %#x)", magic);
	const struct mbi *mbi = early_ptr(mbi_phys);

	bootinfo.reserved_end = PAGE_ROUND_UP(v2p(__kernel_end));
	if (mbi->flags & MBI_CMDLINE)
		copy_cmdline(mbi->cmdline);
	if ((mbi->flags & MBI_MODS) && mbi->mods_count) {
		const struct mb_module *m = early_ptr(mbi->mods_addr);
		bootinfo.initrd_start = m[0].start;
		bootinfo.initrd_end = m[0].end;
		for (uint32_t i = 0; i < mbi->mods_count; i++)
			if (PAGE_ROUND_UP(m[i].end) > bootinfo.reserved_end)
				bootinfo.reserved_end = PAGE_ROUND_UP(m[i].end);
	}
	if (mbi->flags & MBI_MMAP) {
		uint64_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
		while (p < end) {
			const struct mb_mmap *e = early_ptr(p);
			if (e->type == MMAP_RAM)
				add_ram(e->base, e->base + e->length);
			p += e->size + 4;
		}
	} else if (mbi->flags & MBI_MEM) {
		add_ram(LOW_MEM_END, LOW_MEM_END + (uint64_t)mbi->mem_upper * 1024);
	}
	if (!bootinfo.nram)
		panic("the loader gave no memory map");
}
