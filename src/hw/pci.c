/*
 * pci.c: configuration mechanism #1, the bus-0 function table, the generic masked
 * config-space write, BAR decoding and the i440FX host bridge.
 *
 * The device-specific behaviour of a function belongs to its owner (hooks in struct
 * pci_device); this file only knows the standard type-0 header.
 */
#include <errno.h>
#include <string.h>

#include "pci.h"

#define CONF_ENABLE    0x80000000u
#define CONF_ADDR_MASK 0x80fffffcu /* reserved bits 30:24 and 1:0 read as zero */

#define STATUS_W1C     0xf900 /* parity, target/master abort and SERR bits */
#define COMMAND_WMASK  0x0547 /* IO, MEM, master, parity, SERR, INTx disable */

#define HOST_VENDOR    0x8086
#define HOST_DEVICE    0x1237 /* 82441FX PMC (i440FX) */
#define HOST_CLASS     0x060000

static uint32_t cfg_get(const struct pci_device *d, unsigned off, unsigned len)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	return v;
}

static void cfg_put(uint8_t *space, unsigned off, unsigned len, uint32_t v)
{
	for (unsigned i = 0; i < len; i++)
		space[off + i] = v >> (8 * i);
}

static bool valid_access(unsigned off, unsigned len)
{
	return (len == 1 || len == 2 || len == 4) && off < PCI_CFG_SIZE &&
	       off + len <= PCI_CFG_SIZE;
}

uint64_t pci_device__bar_addr(const struct pci_device *d, unsigned bar)
{
	if (bar >= PCI_NR_BARS || !d->bar[bar].size)
		return PCI_BAR_UNMAPPED;

	const struct pci_bar *b = &d->bar[bar];
	uint16_t cmd = cfg_get(d, PCI_COMMAND, 2);
	uint32_t raw = cfg_get(d, PCI_BAR0 + 4 * bar, 4);
	bool io = b->type == PCI_BAR_IO;
	uint64_t addr = raw & ~(uint32_t)(b->size - 1); /* size >= 4 also drops type bits */
	uint64_t last = addr + b->size - 1;

	if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
		return PCI_BAR_UNMAPPED;
	/* Address 0, ports past 64K, and memory reaching the 4G boundary (where a BAR
	 * being sized with all ones lands) decode nothing, as in QEMU. */
	if (addr == 0 || (io ? last > 0xffff : last >= 0xffffffff))
		return PCI_BAR_UNMAPPED;
	return addr;
}

static void update_mappings(struct pci_device *d)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		uint64_t now = pci_device__bar_addr(d, i), old = d->bar[i].mapped;
		if (now == old)
			continue;
		d->bar[i].mapped = now;
		d->remaps++;
		if (d->bar_remap && d->bar_remap(d, i, old, now) < 0)
			d->remap_errors++;
	}
}

static bool overlaps(unsigned off, unsigned len, unsigned base, unsigned size)
{
	return off < base + size && base < off + len;
}

int pci_device__cfg_read(struct pci_device *d, unsigned off, unsigned len, uint32_t *val)
{
	if (!valid_access(off, len))
		return -EINVAL;
	*val = cfg_get(d, off, len);
	if (d->cfg_read)
		*val = d->cfg_read(d, off, *val, len);
	return 0;
}

int pci_device__cfg_write(struct pci_device *d, unsigned off, unsigned len, uint32_t val)
{
	if (!valid_access(off, len))
		return -EINVAL;
	for (unsigned i = 0; i < len; i++) {
		unsigned a = off + i;
		uint8_t b = val >> (8 * i);
		d->cfg[a] = (d->cfg[a] & ~d->wmask[a]) | (b & d->wmask[a]);
		d->cfg[a] &= ~(b & d->w1cmask[a]);
	}
	if (d->cfg_write)
		d->cfg_write(d, off, val, len);
	if (overlaps(off, len, PCI_COMMAND, 2) ||
	    overlaps(off, len, PCI_BAR0, 4 * PCI_NR_BARS))
		update_mappings(d);
	return 0;
}

void pci_device__init(struct pci_device *d, uint16_t vendor, uint16_t device,
		      uint32_t class_code, uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	cfg_put(d->cfg, PCI_VENDOR_ID, 2, vendor);
	cfg_put(d->cfg, PCI_DEVICE_ID, 2, device);
	d->cfg[PCI_REVISION_ID] = revision;
	cfg_put(d->cfg, PCI_CLASS_PROG, 3, class_code);
	cfg_put(d->wmask, PCI_COMMAND, 2, COMMAND_WMASK);
	cfg_put(d->w1cmask, PCI_STATUS, 2, STATUS_W1C);
	d->wmask[0x0c] = 0xff; /* cache line size */
	d->wmask[0x0d] = 0xff; /* latency timer */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		d->bar[i].mapped = PCI_BAR_UNMAPPED;
}

int pci_device__set_bar(struct pci_device *d, unsigned bar, enum pci_bar_type type,
			uint32_t size)
{
	uint32_t low;

	if (bar >= PCI_NR_BARS || size == 0 || (size & (size - 1)))
		return -EINVAL;
	if (type == PCI_BAR_IO) {
		if (size < 4 || size > 0x10000)
			return -EINVAL;
		low = 0x1;
	} else {
		if (size < 16 || size > 0x80000000u)
			return -EINVAL;
		low = type == PCI_BAR_MEM32_PREFETCH ? 0x8 : 0x0;
	}
	d->bar[bar].size = size;
	d->bar[bar].type = type;
	d->bar[bar].mapped = PCI_BAR_UNMAPPED;
	/* The type bits are read-only and the size's low address bits read as zero, which
	 * is what makes "write all ones, read back" return the size mask. */
	cfg_put(d->cfg, PCI_BAR0 + 4 * bar, 4, low);
	cfg_put(d->wmask, PCI_BAR0 + 4 * bar, 4, ~(size - 1) & (type == PCI_BAR_IO ? ~3u : ~0xfu));
	return 0;
}

void pci_device__set_irq_pin(struct pci_device *d, uint8_t pin)
{
	d->cfg[PCI_INTERRUPT_PIN] = pin <= 4 ? pin : 0;
}

static int conf_addr_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct pci *pci = dev;
	uint32_t v;

	/* Only dword accesses reach CONFIG_ADDRESS; narrower ones belong to other chipset
	 * registers: 0xcf9 reset control goes to its model (rcr_fn), the rest is empty. */
	if (addr == PCI_CONF_ADDR + 1 && len == 1 && pci->rcr_fn)
		return pci->rcr_fn(pci->rcr_dev, addr, data, len, is_write);
	if (addr != PCI_CONF_ADDR || len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return 0;
	}
	if (is_write) {
		memcpy(&v, data, 4);
		pci->addr = v & CONF_ADDR_MASK;
	} else {
		memcpy(data, &pci->addr, 4);
	}
	return 0;
}

static int conf_data_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct pci *pci = dev;
	unsigned byte = addr - PCI_CONF_DATA;
	unsigned off = (pci->addr & 0xfc) + byte;
	unsigned bus = (pci->addr >> 16) & 0xff, devfn = (pci->addr >> 8) & 0xff;
	struct pci_device *d = bus == 0 ? pci->dev[devfn] : NULL;
	uint32_t v = 0;

	if (!is_write)
		memset(data, 0xff, len);
	if (!(pci->addr & CONF_ENABLE)) {
		pci->stats.disabled++;
		return 0;
	}
	if (byte >= 4 || len > 4 - byte || !valid_access(off, len))
		return 0;
	if (is_write) {
		pci->stats.cfg_writes++;
		memcpy(&v, data, len);
		if (d)
			pci_device__cfg_write(d, off, len, v);
		return 0;
	}
	pci->stats.cfg_reads++;
	if (!d) {
		pci->stats.absent_reads++;
		return 0;
	}
	pci_device__cfg_read(d, off, len, &v);
	memcpy(data, &v, len);
	return 0;
}

void pci__init(struct pci *pci)
{
	memset(pci, 0, sizeof(*pci));
	pci_device__init(&pci->host_bridge, HOST_VENDOR, HOST_DEVICE, HOST_CLASS, 0x02);
	pci->host_bridge.name = "i440fx";
	pci->dev[0] = &pci->host_bridge;
}

int pci__register(struct pci *pci, struct bus *pio)
{
	int r = bus__register(pio, PCI_CONF_ADDR, 4, conf_addr_io, pci, "pci-addr");

	if (r)
		return r;
	r = bus__register(pio, PCI_CONF_DATA, 4, conf_data_io, pci, "pci-data");
	if (r)
		bus__unregister(pio, PCI_CONF_ADDR, pci);
	return r;
}

int pci__add_device(struct pci *pci, struct pci_device *d, unsigned devfn)
{
	unsigned slot0 = devfn & ~7u;

	if (devfn >= PCI_NR_DEVFN)
		return -EINVAL;
	if (pci->dev[devfn])
		return -EEXIST;
	pci->dev[devfn] = d;
	for (unsigned fn = 1; fn < 8; fn++) {
		if (pci->dev[slot0] && pci->dev[slot0 + fn]) {
			pci->dev[slot0]->cfg[PCI_HEADER_TYPE] |= 0x80;
			break;
		}
	}
	return 0;
}
