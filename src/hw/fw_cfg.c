/*
 * fw_cfg.c: the fw_cfg item table, the byte-stream data port and the DMA engine.
 *
 * Behaviour follows QEMU's hw/nvram/fw_cfg.c, since guests are written against it:
 * selecting a key past the table selects nothing (reads give 0); reads past an item's
 * end give 0; writes to the data port are ignored; a byte read at 0x510 is a data read
 * too (QEMU's combined port); the DMA registers accept 32-bit accesses (high half at
 * 0x514, low half at 0x518, which starts the transfer) and read back "QEMU CFG".
 * A DMA transfer reads the FWCfgDmaAccess, optionally selects, then reads (unfilled
 * bytes past the item are zeroed), skips or (refused: read-only items) writes, and
 * stores the control word back with 0 or the error bit. The address register clears
 * after each transfer, as in QEMU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_cfg.h"

struct fw_cfg_dma_access {
	uint32_t control;
	uint32_t length;
	uint64_t address;
} __attribute__((packed));

static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }
static uint64_t be64(uint64_t v) { return __builtin_bswap64(v); }

static struct fw_cfg_item *item(struct fw_cfg *f, uint16_t key)
{
	if (key == FW_CFG_INVALID)
		return NULL;
	unsigned idx = key & FW_CFG_ENTRY_MASK;
	if (idx >= FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
		return NULL;
	return &f->items[!!(key & FW_CFG_ARCH_LOCAL)][idx];
}

static void select_key(struct fw_cfg *f, uint16_t key)
{
	f->stats.selects++;
	f->offset = 0;
	f->cur = item(f, key) ? key : FW_CFG_INVALID;
}

static uint8_t data_read(struct fw_cfg *f)
{
	struct fw_cfg_item *it = item(f, f->cur);
	f->stats.data_reads++;
	if (!it || f->offset >= it->len)
		return 0;
	return it->data[f->offset++];
}

static int sel_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct fw_cfg *f = dev;
	uint8_t *p = data;

	if (is_write) {
		uint16_t key;
		/* A 16-bit write at 0x510 selects; byte writes (the old data-port writes)
		 * are ignored, as QEMU has done since 2.4. */
		if (len == 2 && addr == FW_CFG_PORT_SEL) {
			memcpy(&key, data, 2);
			select_key(f, key);
		}
		return 0;
	}
	if (len == 1) {
		*p = data_read(f);
		return 0;
	}
	memset(data, 0xff, len);   /* QEMU accepts only byte reads here */
	return 0;
}

/* Write the control word of the request at `at` (big-endian): QEMU's stl_be_dma. */
static void dma_finish(struct fw_cfg *f, uint64_t at, uint32_t control)
{
	uint32_t v = be32(control);
	if (control & FW_CFG_DMA_ERROR)
		f->stats.dma_errors++;
	f->mem.write(f->mem.ctx, at + offsetof(struct fw_cfg_dma_access, control), &v, 4);
}

static int zero_fill(struct fw_cfg *f, uint64_t gpa, uint32_t len)
{
	static const uint8_t zero[256];
	for (uint32_t done = 0; done < len;) {
		uint32_t n = MIN(len - done, (uint32_t)sizeof(zero));
		if (gpa + done < gpa || f->mem.write(f->mem.ctx, gpa + done, zero, n))
			return -EFAULT;
		done += n;
	}
	return 0;
}

static void dma_transfer(struct fw_cfg *f, uint64_t at)
{
	struct fw_cfg_dma_access req;
	f->stats.dma_transfers++;
	if (f->mem.read(f->mem.ctx, at, &req, sizeof(req))) {
		dma_finish(f, at, FW_CFG_DMA_ERROR);
		return;
	}
	uint32_t control = be32(req.control), length = be32(req.length);
	uint64_t address = be64(req.address);
	if (control & FW_CFG_DMA_SELECT)
		select_key(f, (uint16_t)(control >> 16));
	bool read = control & FW_CFG_DMA_READ;
	bool write = !read && (control & FW_CFG_DMA_WRITE);
	if (!read && !write && !(control & FW_CFG_DMA_SKIP))
		length = 0;

	uint32_t status = 0;
	struct fw_cfg_item *it = item(f, f->cur);
	while (length > 0 && !(status & FW_CFG_DMA_ERROR)) {
		uint32_t n = length;
		if (!it || !it->data || f->offset >= it->len) {
			if ((read && zero_fill(f, address, n)) || write)
				status |= FW_CFG_DMA_ERROR;
		} else {
			n = MIN(n, it->len - f->offset);
			if (read && (address + n < address ||
				     f->mem.write(f->mem.ctx, address, it->data + f->offset, n)))
				status |= FW_CFG_DMA_ERROR;
			if (write)
				status |= FW_CFG_DMA_ERROR;   /* every item is read-only */
			f->offset += n;
		}
		address += n;
		length -= n;
	}
	dma_finish(f, at, status);
}

static int dma_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct fw_cfg *f = dev;
	unsigned off = (unsigned)(addr - FW_CFG_PORT_DMA);

	if (!is_write) {
		/* The register reads as the big-endian signature, byte by byte. */
		uint64_t sig = be64(FW_CFG_DMA_SIGNATURE);
		memcpy(data, (uint8_t *)&sig + off, len);
		return 0;
	}
	if (len != 4 || (off != 0 && off != 4))
		return 0;                  /* QEMU takes only 4- and 8-byte accesses */
	memcpy(f->dma_reg + off, data, 4);
	if (off == 4) {
		uint64_t a;
		memcpy(&a, f->dma_reg, 8);
		memset(f->dma_reg, 0, sizeof(f->dma_reg));
		dma_transfer(f, be64(a));
	}
	return 0;
}

int fw_cfg__add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
	struct fw_cfg_item *it = item(f, key);
	if (!it)
		return -EINVAL;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	free(it->data);
	it->data = copy;
	it->len = len;
	return 0;
}

int fw_cfg__add_i16(struct fw_cfg *f, uint16_t key, uint16_t v)
{
	return fw_cfg__add_bytes(f, key, &v, sizeof(v));
}

int fw_cfg__add_i32(struct fw_cfg *f, uint16_t key, uint32_t v)
{
	return fw_cfg__add_bytes(f, key, &v, sizeof(v));
}

int fw_cfg__add_i64(struct fw_cfg *f, uint16_t key, uint64_t v)
{
	return fw_cfg__add_bytes(f, key, &v, sizeof(v));
}

static int by_name(const void *a, const void *b)
{
	return strncmp(((const char *)a) + 8, ((const char *)b) + 8, FW_CFG_NAME_MAX);
}

/* The directory: a big-endian count, then {size, select, reserved, name[56]} each. */
static int rebuild_dir(struct fw_cfg *f)
{
	struct __attribute__((packed)) ent {
		uint32_t size;
		uint16_t select, reserved;
		char name[FW_CFG_NAME_MAX];
	} ents[FW_CFG_FILE_SLOTS];
	uint8_t buf[4 + sizeof(ents)];

	for (unsigned i = 0; i < f->nfiles; i++) {
		memset(&ents[i], 0, sizeof(ents[i]));
		ents[i].size = be32(f->items[0][FW_CFG_FILE_FIRST + i].len);
		ents[i].select = __builtin_bswap16((uint16_t)(FW_CFG_FILE_FIRST + i));
		memcpy(ents[i].name, f->file_names[i], FW_CFG_NAME_MAX);
	}
	qsort(ents, f->nfiles, sizeof(ents[0]), by_name);
	uint32_t count = be32(f->nfiles);
	memcpy(buf, &count, 4);
	memcpy(buf + 4, ents, f->nfiles * sizeof(ents[0]));
	return fw_cfg__add_bytes(f, FW_CFG_FILE_DIR, buf, 4 + f->nfiles * (uint32_t)sizeof(ents[0]));
}

int fw_cfg__add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len)
{
	if (strlen(name) >= FW_CFG_NAME_MAX)
		return -ENAMETOOLONG;
	for (unsigned i = 0; i < f->nfiles; i++)
		if (!strcmp(f->file_names[i], name))
			return -EEXIST;
	if (f->nfiles == FW_CFG_FILE_SLOTS)
		return -ENOSPC;
	int r = fw_cfg__add_bytes(f, (uint16_t)(FW_CFG_FILE_FIRST + f->nfiles), data, len);
	if (r)
		return r;
	memset(f->file_names[f->nfiles], 0, FW_CFG_NAME_MAX);
	strcpy(f->file_names[f->nfiles], name);
	f->nfiles++;
	return rebuild_dir(f);
}

int fw_cfg__init(struct fw_cfg *f, const struct fw_cfg_mem *mem)
{
	memset(f, 0, sizeof(*f));
	f->mem = *mem;
	f->cur = FW_CFG_INVALID;
	int r = fw_cfg__add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
	if (!r)
		r = fw_cfg__add_i32(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	if (!r)
		r = rebuild_dir(f);        /* an empty directory: count 0 */
	if (r)
		fw_cfg__exit(f);
	return r;
}

void fw_cfg__exit(struct fw_cfg *f)
{
	for (unsigned a = 0; a < 2; a++)
		for (unsigned i = 0; i < ARRAY_SIZE(f->items[a]); i++) {
			free(f->items[a][i].data);
			f->items[a][i] = (struct fw_cfg_item){ 0 };
		}
}

int fw_cfg__register(struct fw_cfg *f, struct bus *pio)
{
	int r = bus__register(pio, FW_CFG_PORT_SEL, 2, sel_io, f, "fw_cfg");
	if (!r)
		r = bus__register(pio, FW_CFG_PORT_DMA, 8, dma_io, f, "fw_cfg-dma");
	return r;
}
