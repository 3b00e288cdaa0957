/*
 * pci.h: PCI bus 0 behind configuration mechanism #1 (0xcf8 address, 0xcfc-0xcff data),
 * with the i440FX host bridge at 00:00.0, and the generic config-space model that every
 * PCI function of shade embeds.
 *
 * struct pci owns the address register and the devfn -> function table. A function
 * (struct pci_device, embedded in its device model) owns its 256-byte config space:
 * write masks decide what the guest can change, BARs get sizing semantics for free,
 * and the owner hears through bar_remap whenever a BAR's decoded address changes (BAR
 * write or command IO/MEM enable), so it can move its range on the port or MMIO bus.
 * Not implemented: capabilities lists, 64-bit BARs, expansion ROM BARs, buses other
 * than 0, the host bridge's PAM/SMRAM registers.
 */
#ifndef SHADE_PCI_H
#define SHADE_PCI_H

#include "bus.h"

#define PCI_CONF_ADDR    0xcf8
#define PCI_CONF_DATA    0xcfc
#define PCI_CFG_SIZE     256
#define PCI_NR_DEVFN     256
#define PCI_NR_BARS      6
#define PCI_BAR_UNMAPPED UINT64_MAX
#define PCI_DEVFN(dev, fn) ((((dev) & 0x1f) << 3) | ((fn) & 7))

/* Standard header offsets the owners of functions need. */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004

enum pci_bar_type { PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM32_PREFETCH };

struct pci_bar {
	uint32_t size;           /* power of two; 0 = BAR not implemented */
	enum pci_bar_type type;
	uint64_t mapped;         /* decoded address the owner last heard of */
};

struct pci_device {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];   /* bits the guest may write */
	uint8_t w1cmask[PCI_CFG_SIZE]; /* bits a guest write of 1 clears (status errors) */
	struct pci_bar bar[PCI_NR_BARS];
	const char *name;
	void *owner;
	/* Optional. new_addr or old_addr is PCI_BAR_UNMAPPED when decoding is off or the
	 * address is unusable (0, or the range leaves the 64K port / 4G memory space).
	 * A negative return is counted in remap_errors; the guest sees nothing. */
	int (*bar_remap)(struct pci_device *d, unsigned bar, uint64_t old_addr,
			 uint64_t new_addr);
	/* Optional hooks for device-specific registers: cfg_read may replace the value
	 * read, cfg_write runs after the masked write has been applied. */
	uint32_t (*cfg_read)(struct pci_device *d, unsigned off, uint32_t val, unsigned len);
	void (*cfg_write)(struct pci_device *d, unsigned off, uint32_t val, unsigned len);
	uint64_t remaps, remap_errors;
};

struct pci_stats {
	uint64_t cfg_reads, cfg_writes;
	uint64_t absent_reads;   /* reads of a devfn with no function: all ones */
	uint64_t disabled;       /* data port accesses with the enable bit clear */
};

struct pci {
	uint32_t addr;                        /* CONFIG_ADDRESS */
	struct pci_device *dev[PCI_NR_DEVFN]; /* bus 0 */
	struct pci_device host_bridge;
	struct pci_stats stats;
	/* Byte accesses to 0xcf9 (the chipset's reset control register, inside the
	 * CONFIG_ADDRESS dword) go here when set. */
	bus_fn rcr_fn;
	void *rcr_dev;
};

/* A type-0 function with a writable command register, BARs unimplemented, pin none. */
void pci_device__init(struct pci_device *d, uint16_t vendor, uint16_t device,
		      uint32_t class_code, uint8_t revision);
/* size: power of two, >= 4 for I/O, >= 16 for memory. Call before pci__add_device. */
int pci_device__set_bar(struct pci_device *d, unsigned bar, enum pci_bar_type type,
			uint32_t size);
/* pin: 0 none, 1-4 INTA-INTD. */
void pci_device__set_irq_pin(struct pci_device *d, uint8_t pin);
/* Where BAR bar currently decodes, or PCI_BAR_UNMAPPED. */
uint64_t pci_device__bar_addr(const struct pci_device *d, unsigned bar);
/* Config accesses as the guest makes them: len 1, 2 or 4, within the space. */
int pci_device__cfg_read(struct pci_device *d, unsigned off, unsigned len, uint32_t *val);
int pci_device__cfg_write(struct pci_device *d, unsigned off, unsigned len, uint32_t val);

/* Sets up bus 0 with the host bridge at 00:00.0. */
void pci__init(struct pci *pci);
int pci__register(struct pci *pci, struct bus *pio);
/* -EINVAL for a bad devfn, -EEXIST if taken. Sets function 0's multi-function bit
 * when a function other than 0 shares its slot. */
int pci__add_device(struct pci *pci, struct pci_device *d, unsigned devfn);

#endif
