/*
 * boot.h: what the kernel keeps from the multiboot information (multiboot.c): the
 * command line, the initial file system module and the usable RAM ranges.
 */
#ifndef OS_BOOT_H
#define OS_BOOT_H
#include <stdint.h>

#define BOOT_MAX_RAM 32

struct ram_range {
	uint64_t start, end;	/* page-aligned, [start, end) */
};

struct bootinfo {
	char cmdline[2048];	/* without the first word (the kernel's own path) */
	uint64_t initrd_start, initrd_end;	/* physical; 0, 0 without a module */
	uint64_t reserved_end;	/* first physical byte after the kernel and modules */
	uint64_t ram_top;	/* highest usable RAM address + 1 */
	struct ram_range ram[BOOT_MAX_RAM];
	int nram;
};

extern struct bootinfo bootinfo;

/* Parses the loader's information; it is read through the boot mapping (first GiB). */
void multiboot__parse(uint32_t magic, uint64_t mbi_phys);

#endif
