/*
 * mptable.c: the Intel MultiProcessor Specification 1.4 tables, for kernels that find
 * their APICs this way (scanning the EBDA and the BIOS area for "_MP_"), and the BIOS
 * data area words those scans and other early code read.
 *
 * The configuration table: one processor entry per vCPU, one bus (ISA, ID 0), the I/O
 * APIC, an I/O interrupt entry per ISA IRQ (IRQ 0 -> INTIN 2, the cascade IRQ 2 has
 * none, PCI/SCI IRQs 5, 9, 10, 11 level-triggered active high as in the MADT) and the
 * local interrupt entries (ExtINT on LINT0, NMI on LINT1, for every processor).
 */
#include <errno.h>
#include <string.h>

#include "firmware.h"
#include "types.h"

struct mpf {
	char sig[4];
	uint32_t config;
	uint8_t length, spec_rev, checksum, feature[5];
} __attribute__((packed));

struct mpc {
	char sig[4];
	uint16_t length;
	uint8_t spec_rev, checksum;
	char oem[8], product[12];
	uint32_t oem_table;
	uint16_t oem_size, count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum, reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apic_id, apic_ver, flags;
	uint32_t signature, features, reserved[2];
} __attribute__((packed));

struct mpc_bus { uint8_t type, id; char name[6]; } __attribute__((packed));
struct mpc_ioapic { uint8_t type, id, ver, flags; uint32_t addr; } __attribute__((packed));
struct mpc_int {
	uint8_t type, irq_type;
	uint16_t flags;
	uint8_t src_bus, src_irq, dst_apic, dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mpc) == 44, "MP configuration table header is 44 bytes");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry is 20 bytes");

#define MP_INT    0
#define MP_NMI    1
#define MP_EXTINT 3
#define MP_LEVEL_HIGH 0x000d     /* polarity 01 (high), trigger 11 (level) */
#define LEVEL_IRQS ((1u << 5) | (1u << 9) | (1u << 10) | (1u << 11))

int firmware__build_mptable(struct fw_area *a, const struct fw_platform *p, uint64_t *mpfp)
{
	unsigned nint = 15 + 2;   /* ISA IRQs but 2, then LINT0 and LINT1 */
	size_t len = sizeof(struct mpc) + p->ncpus * sizeof(struct mpc_cpu) +
		     sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
		     nint * sizeof(struct mpc_int);
	uint64_t fp_at = fw_area__alloc(a, sizeof(struct mpf), 16);
	uint64_t cfg_at = fw_area__alloc(a, len, 16);
	if (!fp_at || !cfg_at)
		return -ENOSPC;
	struct mpc *c = fw_area__ptr(a, cfg_at, len);
	uint8_t *e = (uint8_t *)(c + 1);

	memcpy(c->sig, "PCMP", 4);
	c->length = (uint16_t)len;
	c->spec_rev = 4;
	memcpy(c->oem, "SHADE   ", 8);
	memcpy(c->product, "SHADE PC    ", 12);
	c->lapic = FW_LAPIC_ADDR;
	for (unsigned i = 0; i < p->ncpus; i++) {
		struct mpc_cpu cpu = { 0, (uint8_t)i, 0x14, (uint8_t)(1 | (i == 0 ? 2 : 0)),
				       p->cpu_signature, p->cpu_features, { 0, 0 } };
		memcpy(e, &cpu, sizeof(cpu));
		e += sizeof(cpu);
	}
	struct mpc_bus bus = { 1, 0, { 'I', 'S', 'A', ' ', ' ', ' ' } };
	memcpy(e, &bus, sizeof(bus));
	e += sizeof(bus);
	struct mpc_ioapic io = { 2, FW_IOAPIC_ID, 0x11, 1, FW_IOAPIC_ADDR };
	memcpy(e, &io, sizeof(io));
	e += sizeof(io);
	for (unsigned irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;   /* the cascade; pin 2 is IRQ 0's */
		struct mpc_int in = { 3, MP_INT, (LEVEL_IRQS & (1u << irq)) ? MP_LEVEL_HIGH : 0,
				      0, (uint8_t)irq, FW_IOAPIC_ID, (uint8_t)(irq ? irq : 2) };
		memcpy(e, &in, sizeof(in));
		e += sizeof(in);
	}
	struct mpc_int lint0 = { 4, MP_EXTINT, 0, 0, 0, 0xff, 0 };
	struct mpc_int lint1 = { 4, MP_NMI, 0, 0, 0, 0xff, 1 };
	memcpy(e, &lint0, sizeof(lint0));
	memcpy(e + sizeof(lint0), &lint1, sizeof(lint1));
	c->count = (uint16_t)(p->ncpus + 2 + nint);
	c->checksum = fw__checksum(c, len);

	struct mpf *f = fw_area__ptr(a, fp_at, sizeof(*f));
	memcpy(f->sig, "_MP_", 4);
	f->config = (uint32_t)cfg_at;
	f->length = 1;           /* in 16-byte units */
	f->spec_rev = 4;
	/* feature[0] 0: the configuration table is present; feature[1] bit 7 clear:
	 * no IMCR, virtual wire mode (the PIC reaches LINT0 directly). */
	f->checksum = fw__checksum(f, sizeof(*f));
	*mpfp = fp_at;
	return 0;
}

static void put16(uint8_t *bda, unsigned addr, uint16_t v)
{
	memcpy(bda + addr - FW_BDA_BASE, &v, 2);
}

void firmware__build_bda(uint8_t *bda, uint8_t *ebda)
{
	memset(bda, 0, 256);
	put16(bda, 0x400, 0x3f8);                 /* COM1 */
	/* Equipment: one serial port (bits 11:9), x87 present (bit 1), initial video
	 * mode 80x25 colour (bits 5:4 = 10). */
	put16(bda, 0x410, (1u << 9) | (1u << 1) | (2u << 4));
	put16(bda, 0x413, 640 - FW_EBDA_KIB);     /* base memory, KiB */
	put16(bda, 0x40e, FW_EBDA_BASE >> 4);     /* EBDA segment */
	bda[0x449 - FW_BDA_BASE] = 3;             /* video mode 3 */
	put16(bda, 0x44a, 80);                    /* columns */
	put16(bda, 0x44c, 80 * 25 * 2);           /* page size */
	put16(bda, 0x463, 0x3d4);                 /* CRTC base port */
	bda[0x484 - FW_BDA_BASE] = 25 - 1;        /* rows - 1 */
	put16(bda, 0x485, 16);                    /* character height */
	memset(ebda, 0, 1024);
	ebda[0] = FW_EBDA_KIB;                    /* the EBDA's size in KiB */
}

/* The map the multiboot loader gives (src/vmm/multiboot.c): conventional memory up to
 * the EBDA, the EBDA and the BIOS segment reserved, RAM from 1 MiB. */
unsigned firmware__e820(uint64_t mem_bytes, struct fw_e820 *out)
{
	out[0] = (struct fw_e820){ 0, FW_EBDA_BASE, 1 };
	out[1] = (struct fw_e820){ FW_EBDA_BASE, 0xa0000 - FW_EBDA_BASE, 2 };
	out[2] = (struct fw_e820){ FW_FSEG_BASE, FW_FSEG_SIZE, 2 };
	out[3] = (struct fw_e820){ 0x100000, mem_bytes - 0x100000, 1 };
	return 4;
}
