/*
 * pci.h: PCI configuration space through mechanism #1 (pci.c): bus 0 enumeration,
 * config reads and writes, I/O BARs and the command register.
 */
#ifndef OS_PCI_H
#define OS_PCI_H
#include <stdint.h>
#include <stdbool.h>

#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_ID 0x2e
#define PCI_INTERRUPT_LINE 0x3c

#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_MASTER 0x0004

struct pci_dev {
	uint8_t bus, slot, func;
	uint16_t vendor, device;
};

uint32_t pci__read32(const struct pci_dev *d, uint8_t off);
uint16_t pci__read16(const struct pci_dev *d, uint8_t off);
uint8_t pci__read8(const struct pci_dev *d, uint8_t off);
void pci__write32(const struct pci_dev *d, uint8_t off, uint32_t v);
void pci__write16(const struct pci_dev *d, uint8_t off, uint16_t v);

/* The first function on bus 0 with this vendor and device id; false if none. */
bool pci__find(uint16_t vendor, uint16_t device, struct pci_dev *out);
/* The I/O port base of I/O BAR n; assigns one from a free window when the firmware
 * left it unassigned (no BIOS under some VMMs). 0 if the BAR is not an I/O BAR. */
uint16_t pci__io_bar(const struct pci_dev *d, int n);
void pci__enable(const struct pci_dev *d, uint16_t cmd_bits);

#endif
