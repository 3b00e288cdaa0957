/*
 * firmware.h: what a PC BIOS leaves in memory for the OS, built by shade at VM init:
 * the BIOS data area words, the EBDA, the Intel MP table (MP spec 1.4) and the ACPI
 * tables (RSDP rev 2, RSDT, XSDT, FADT, FACS, DSDT, MADT), plus the fw_cfg items a
 * QEMU PC offers (firmware__install, which also blanks the CGA text buffer).
 *
 * Layout, all outside the multiboot memory map's available ranges:
 *   0x00400-0x004ff  BIOS data area (COM1 base, equipment word, base memory, EBDA
 *                    segment, video mode/columns/rows/CRTC port of text mode 3)
 *   0x9fc00-0x9ffff  EBDA (1 KiB, its size in KiB in the first word)
 *   0xf0000-0xfffff  RSDP, MP floating pointer and configuration table, the ACPI
 *                    tables (the F segment SeaBIOS uses for the first two)
 * The builders are pure: they write into a host buffer that stands for a range of
 * guest-physical memory (struct fw_area), so unit tests can build and parse them back.
 */
#ifndef SHADE_FIRMWARE_H
#define SHADE_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#define FW_BDA_BASE      0x400
#define FW_EBDA_BASE     0x9fc00
#define FW_EBDA_KIB      1
#define FW_FSEG_BASE     0xf0000
#define FW_FSEG_SIZE     0x10000
#define FW_LAPIC_ADDR    0xfee00000u
#define FW_IOAPIC_ADDR   0xfec00000u
#define FW_IOAPIC_ID     0
#define FW_IOAPIC_PINS   24

/* A range of guest-physical memory being built in a host buffer. */
struct fw_area {
	uint8_t *buf;
	uint64_t base;        /* guest-physical address of buf[0] */
	size_t size, used;
};

struct fw_platform {
	unsigned ncpus;              /* APIC IDs 0..ncpus-1 */
	uint32_t cpu_signature;      /* CPUID.1:EAX, for the MP processor entries */
	uint32_t cpu_features;       /* CPUID.1:EDX */
};

/* Guest address of `len` zeroed bytes aligned to `align`, or 0 when the area is full. */
uint64_t fw_area__alloc(struct fw_area *a, size_t len, size_t align);
/* Host pointer to guest address gpa inside the area (NULL outside). */
void *fw_area__ptr(struct fw_area *a, uint64_t gpa, size_t len);
/* The byte that makes the sum of [p, p+len) zero once stored in a zeroed field. */
uint8_t fw__checksum(const void *p, size_t len);

/* The ACPI tables; *rsdp is the RSDP's address. -ENOSPC when the area is too small. */
int firmware__build_acpi(struct fw_area *a, const struct fw_platform *p, uint64_t *rsdp);
/* The MP floating pointer and configuration table; *mpfp is the pointer's address. */
int firmware__build_mptable(struct fw_area *a, const struct fw_platform *p, uint64_t *mpfp);
/* The BDA words (bda: 256 bytes for 0x400-0x4ff) and the EBDA's first KiB. */
void firmware__build_bda(uint8_t *bda, uint8_t *ebda);

/* The memory map a PC's firmware reports (E820 types) for `mem_bytes` of RAM, the
 * same as the multiboot loader's: returns the number of entries (at most 8). */
struct fw_e820 {
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));
unsigned firmware__e820(uint64_t mem_bytes, struct fw_e820 *out);

struct vm;
/* At VM init, after the kernel is loaded: write the tables, BDA, EBDA and blank text
 * screen into guest RAM and give fw_cfg its items. */
int firmware__install(struct vm *vm);

#endif
