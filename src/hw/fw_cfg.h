/*
 * fw_cfg.h: QEMU's firmware configuration device (docs/specs/fw_cfg.rst in QEMU), as
 * a PC has it: selector port 0x510 (16-bit), data port 0x511 (byte stream of the
 * selected item), DMA address register 0x514-0x51b (a 64-bit big-endian address of a
 * FWCfgDmaAccess in guest memory; the write of its low half starts the transfer).
 *
 * The device owns the items (copies of their bytes), the file directory (item 0x19)
 * and the stream position. Guest memory is reached only through the two callbacks in
 * struct fw_cfg_mem, which say no (-EFAULT) outside RAM: a bad DMA address sets the
 * error bit, it never reaches the host. Every item is read-only, as QEMU's are for a
 * PC unless a device registers a writable one: a DMA write sets the error bit.
 */
#ifndef SHADE_FW_CFG_H
#define SHADE_FW_CFG_H

#include "bus.h"

#define FW_CFG_PORT_SEL   0x510
#define FW_CFG_PORT_DATA  0x511
#define FW_CFG_PORT_DMA   0x514

/* Item keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE     0x00
#define FW_CFG_ID            0x01
#define FW_CFG_UUID          0x02
#define FW_CFG_RAM_SIZE      0x03
#define FW_CFG_NOGRAPHIC     0x04
#define FW_CFG_NB_CPUS       0x05
#define FW_CFG_MACHINE_ID    0x06
#define FW_CFG_KERNEL_ADDR   0x07
#define FW_CFG_KERNEL_SIZE   0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR   0x0a
#define FW_CFG_INITRD_SIZE   0x0b
#define FW_CFG_BOOT_DEVICE   0x0c
#define FW_CFG_NUMA          0x0d
#define FW_CFG_BOOT_MENU     0x0e
#define FW_CFG_MAX_CPUS      0x0f
#define FW_CFG_KERNEL_ENTRY  0x10
#define FW_CFG_KERNEL_DATA   0x11
#define FW_CFG_INITRD_DATA   0x12
#define FW_CFG_CMDLINE_ADDR  0x13
#define FW_CFG_CMDLINE_SIZE  0x14
#define FW_CFG_CMDLINE_DATA  0x15
#define FW_CFG_FILE_DIR      0x19
#define FW_CFG_FILE_FIRST    0x20
#define FW_CFG_FILE_SLOTS    0x20
#define FW_CFG_ARCH_LOCAL    0x8000
#define FW_CFG_IRQ0_OVERRIDE (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_ENTRY_MASK    0x3fff
#define FW_CFG_INVALID       0xffff

#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA         0x02

/* FWCfgDmaAccess.control */
#define FW_CFG_DMA_ERROR  0x01
#define FW_CFG_DMA_READ   0x02
#define FW_CFG_DMA_SKIP   0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE  0x10

#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ULL   /* "QEMU CFG", read from 0x514 */
#define FW_CFG_NAME_MAX 56

/* Guest-physical memory as the DMA engine sees it: 0, or -EFAULT outside RAM. */
struct fw_cfg_mem {
	int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	void *ctx;
};

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg_stats {
	uint64_t selects, data_reads, dma_transfers, dma_errors;
};

struct fw_cfg {
	struct fw_cfg_mem mem;
	/* [0]: generic keys, [1]: arch-local (0x8000 | n) */
	struct fw_cfg_item items[2][FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS];
	unsigned nfiles;
	char file_names[FW_CFG_FILE_SLOTS][FW_CFG_NAME_MAX];
	uint16_t cur;               /* selected key, FW_CFG_INVALID when none */
	uint32_t offset;            /* stream position in the selected item */
	uint8_t dma_reg[8];         /* the big-endian DMA address as written */
	struct fw_cfg_stats stats;
};

/* Signature and ID are added here; everything else by the platform. */
int fw_cfg__init(struct fw_cfg *f, const struct fw_cfg_mem *mem);
void fw_cfg__exit(struct fw_cfg *f);
int fw_cfg__register(struct fw_cfg *f, struct bus *pio);
/* Copy `len` bytes as item `key` (replacing it); -EINVAL for a key past the table. */
int fw_cfg__add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len);
/* Little-endian integers, as QEMU's fw_cfg_add_i16/i32/i64. */
int fw_cfg__add_i16(struct fw_cfg *f, uint16_t key, uint16_t v);
int fw_cfg__add_i32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg__add_i64(struct fw_cfg *f, uint16_t key, uint64_t v);
/* A named file: the next free key from 0x20, listed in the directory (sorted by name,
 * as QEMU keeps it). -ENOSPC when the slots are used up, -EEXIST for a duplicate. */
int fw_cfg__add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len);

#endif
