/*
 * pci.c: PCI configuration mechanism #1 (address at 0xcf8, data at 0xcfc), the
 * enumeration of bus 0, and I/O BARs. Only bus 0 is scanned: the machines this kernel
 * runs on (QEMU's i440FX PC, shade) put every device there, and a scan costs two port
 * accesses (two VM exits) per slot. With no PCI host bridge at all every read returns
 * all ones and the scan finds nothing, quietly.
 */
#include "kernel.h"
#include "pci.h"
#include "x86.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define PCI_SLOTS 32

/* Where BARs the firmware left at 0 are put: above the legacy ISA ports, where
 * SeaBIOS also starts its I/O window. */
#define PCI_IO_WINDOW 0xc000
static uint16_t io_next = PCI_IO_WINDOW;

static void select_reg(const struct pci_dev *d, uint8_t off)
{
	outl(PCI_ADDR, 0x80000000u | (uint32_t)d->bus << 16 | (uint32_t)d->slot << 11 |
			       (uint32_t)d->func << 8 | (off & 0xfc));
}

uint32_t pci__read32(const struct pci_dev *d, uint8_t off)
{
	uint64_t f = irq_save();	/* address and data are one shared register pair */
	select_reg(d, off);
	uint32_t v = inl(PCI_DATA);
	irq_restore(f);
	return v;
}

uint16_t pci__read16(const struct pci_dev *d, uint8_t off)
{
	return (uint16_t)(pci__read32(d, off) >> ((off & 2) * 8));
}

uint8_t pci__read8(const struct pci_dev *d, uint8_t off)
{
	return (uint8_t)(pci__read32(d, off) >> ((off & 3) * 8));
}

void pci__write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	uint64_t f = irq_save();
	select_reg(d, off);
	outl(PCI_DATA, v);
	irq_restore(f);
}

/* A read-modify-write of the dword: 16-bit config writes are not needed elsewhere.
 * The other half of the dword at 0x04 is the status register, whose bits are
 * write-one-to-clear: it is written back as zero. */
void pci__write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	uint32_t old = pci__read32(d, off);
	int shift = (off & 2) * 8;
	if ((off & 0xfc) == PCI_COMMAND)
		old &= 0xffff;
	old = (old & ~(0xffffu << shift)) | (uint32_t)v << shift;
	pci__write32(d, off, old);
}

bool pci__find(uint16_t vendor, uint16_t device, struct pci_dev *out)
{
	for (uint8_t slot = 0; slot < PCI_SLOTS; slot++) {
		struct pci_dev d = { .bus = 0, .slot = slot, .func = 0 };
		uint8_t nfunc = 1;
		for (d.func = 0; d.func < nfunc; d.func++) {
			uint32_t id = pci__read32(&d, PCI_VENDOR);
			if ((id & 0xffff) == 0xffff)
				continue;	/* no function here */
			if (d.func == 0 && (pci__read8(&d, PCI_HEADER_TYPE) & 0x80))
				nfunc = 8;	/* multi-function device */
			d.vendor = (uint16_t)id;
			d.device = (uint16_t)(id >> 16);
			if (d.vendor == vendor && d.device == device) {
				*out = d;
				return true;
			}
		}
	}
	return false;
}

uint16_t pci__io_bar(const struct pci_dev *d, int n)
{
	uint8_t off = (uint8_t)(PCI_BAR0 + 4 * n);
	uint32_t bar = pci__read32(d, off);
	if (!(bar & 1))
		return 0;
	if (bar & ~3u)
		return (uint16_t)(bar & ~3u);
	/* Unassigned: size it (write all ones, read back the writable bits) and place it
	 * naturally aligned in the window. Decoding is still off (command register). */
	pci__write32(d, off, 0xffffffff);
	uint32_t mask = pci__read32(d, off) & ~3u;
	uint32_t size = (~mask + 1) & 0xffff;
	if (!size)
		return 0;
	uint16_t base = (uint16_t)((io_next + size - 1) & ~(size - 1));
	io_next = (uint16_t)(base + size);
	pci__write32(d, off, base | 1);
	return (uint16_t)(pci__read32(d, off) & ~3u);
}

void pci__enable(const struct pci_dev *d, uint16_t cmd_bits)
{
	pci__write16(d, PCI_COMMAND, pci__read16(d, PCI_COMMAND) | cmd_bits);
}
