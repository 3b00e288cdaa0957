/*
 * mkseeds.c: writes the generated seed corpora, so that no binary image is committed:
 *   fuzz_mkseeds DIR   fills DIR/loader/, DIR/virtqueue/, DIR/devices/
 * Each seed is a small well-formed input in its harness's format (see the harness's
 * header comment): tiny multiboot kernels of every kind the loader takes, a driver that
 * sets up and uses a virtqueue and the balloon, a guest that programs every device.
 * Crash reproducers found later go, committed, into tests/fuzz/corpus/<name>/.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "multiboot.h"

struct seed {
	uint8_t b[8192];
	size_t n;
};

static void put(struct seed *s, const void *p, size_t len)
{
	if (s->n + len > sizeof(s->b)) {
		fprintf(stderr, "mkseeds: seed too large\n");
		exit(1);
	}
	memcpy(s->b + s->n, p, len);
	s->n += len;
}

static void u8(struct seed *s, uint8_t v) { put(s, &v, 1); }
static void u16(struct seed *s, uint16_t v) { put(s, &v, 2); }
static void u32(struct seed *s, uint32_t v) { put(s, &v, 4); }
static void u64(struct seed *s, uint64_t v) { put(s, &v, 8); }

static const char *outdir;

static void save(const char *harness, const char *name, const struct seed *s)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", outdir, harness);
	if (mkdir(path, 0777) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, harness, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* ---- loader: tiny multiboot kernels ---- */

/* The loader harness's prefix: RAM in MiB, module count and command line. Without a
 * command line the kernel starts at input offset 3, misaligned for its ELF headers: the
 * regression input for the loader's unaligned header reads (fuzz.loader's replay). */
static void loader_prefix(struct seed *s, unsigned mib, unsigned nmods, const char *cmd)
{
	u8(s, (uint8_t)(mib - 1));
	u8(s, (uint8_t)(nmods | (cmd ? 4 : 0)));
	u8(s, cmd ? (uint8_t)strlen(cmd) : 0);
	if (cmd)
		put(s, cmd, strlen(cmd));
	for (unsigned i = 0; i < nmods; i++) {
		uint8_t m[40];
		for (unsigned k = 0; k < sizeof(m); k++)
			m[k] = (uint8_t)(i * 16 + k);
		u16(s, (uint16_t)(sizeof(m) - 8 * i));
		put(s, m, sizeof(m) - 8 * i);
	}
}

static void mb_header(uint8_t *at, uint32_t flags)
{
	uint32_t h[3] = { MB_HEADER_MAGIC, flags, -(MB_HEADER_MAGIC + flags) };
	memcpy(at, h, sizeof(h));
}

/* ELF32: one PT_LOAD of the whole file at paddr, plus bss; header at 0x54+. */
static size_t elf32(uint8_t *img, uint32_t paddr, uint32_t bss)
{
	size_t len = 160;
	memset(img, 0, len);
	Elf32_Ehdr *e = (Elf32_Ehdr *)img;
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS32;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_type = ET_EXEC;
	e->e_machine = EM_386;
	e->e_entry = paddr + 0x80;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(Elf32_Phdr);
	e->e_phnum = 1;
	Elf32_Phdr *p = (Elf32_Phdr *)(img + sizeof(*e));
	p->p_type = PT_LOAD;
	p->p_vaddr = p->p_paddr = paddr;
	p->p_filesz = (uint32_t)len;
	p->p_memsz = (uint32_t)len + bss;
	mb_header(img + 0x54, 3);
	memcpy(img + 0x80, "\xfa\xf4\xeb\xfd", 4);    /* cli; hlt; jmp . */
	return len;
}

/* ELF64, higher half: two segments (text, then data with bss) linked at -2 GiB. */
static size_t elf64(uint8_t *img)
{
	const uint64_t vbase = 0xffffffff80000000ULL, pbase = 0x200000;
	size_t len = 256;
	memset(img, 0, len);
	Elf64_Ehdr *e = (Elf64_Ehdr *)img;
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_type = ET_EXEC;
	e->e_machine = EM_X86_64;
	e->e_entry = vbase + pbase + 0xc0;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = 2;
	Elf64_Phdr *p = (Elf64_Phdr *)(img + sizeof(*e));
	p[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = vbase + pbase,
			     .p_paddr = pbase, .p_filesz = 0xd0, .p_memsz = 0xd0 };
	p[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0xd0, .p_vaddr = vbase + pbase + 0x1000,
			     .p_paddr = pbase + 0x1000, .p_filesz = 0x30, .p_memsz = 0x3000 };
	mb_header(img + 0xb0, 2);
	memcpy(img + 0xc0, "\xfa\xf4\xeb\xfd", 4);
	return len;
}

/* A flat binary with the a.out kludge: the header's address fields place it. */
static size_t kludge(uint8_t *img, uint32_t load, uint32_t load_end, uint32_t bss_end)
{
	size_t len = 96;
	uint32_t flags = (1u << 16) | 2;
	memset(img, 0, len);
	mb_header(img + 8, flags);
	uint32_t f[5] = { load + 8, load, load_end, bss_end, load + 0x40 };
	memcpy(img + 20, f, sizeof(f));
	memcpy(img + 0x40, "\xfa\xf4\xeb\xfd", 4);
	return len;
}

static void loader_seeds(void)
{
	uint8_t img[512];
	struct seed s;

	s.n = 0; loader_prefix(&s, 8, 0, NULL); put(&s, img, elf32(img, 0x100000, 0x2000));
	save("loader", "elf32", &s);
	s.n = 0; loader_prefix(&s, 4, 2, "console=ttyS0 quiet"); put(&s, img, elf32(img, 0x100000, 0));
	save("loader", "elf32-modules", &s);
	s.n = 0; loader_prefix(&s, 16, 1, "x"); put(&s, img, elf64(img));
	save("loader", "elf64-higher-half", &s);
	s.n = 0; loader_prefix(&s, 4, 0, NULL); put(&s, img, kludge(img, 0x100000, 0, 0));
	save("loader", "aout-kludge", &s);
	s.n = 0; loader_prefix(&s, 2, 3, "a b c");
	put(&s, img, kludge(img, 0x180000, 0x180060, 0x190000));
	save("loader", "aout-kludge-bss-modules", &s);
	/* Regression: a kernel just below the information area (0x8000) once had its
	 * modules placed right after it, where the information block then overwrote them. */
	s.n = 0; loader_prefix(&s, 2, 1, NULL); put(&s, img, kludge(img, 0x7000, 0, 0));
	save("loader", "low-kernel-module", &s);
	size_t n = elf32(img, 0x100000, 0);
	img[0x54 + 8] ^= 1;                                /* checksum off by one */
	s.n = 0; loader_prefix(&s, 4, 0, NULL); put(&s, img, n);
	save("loader", "bad-checksum", &s);
}

/* ---- virtqueue, queue mode: the driver's stores and the device's pops ---- */

static void vq_desc(struct seed *s, uint8_t i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	u8(s, 2); u8(s, i); u64(s, addr); u32(s, len); u16(s, flags); u16(s, next);
}

static void vq_store16(struct seed *s, uint16_t off, uint16_t v) { u8(s, 1); u16(s, off); u16(s, v); }

/* Offer `head` in slot `slot` of a queue of `size` and publish index slot + 1. */
static void vq_offer(struct seed *s, uint16_t size, uint16_t slot, uint16_t head)
{
	uint16_t avail = (uint16_t)(16 * size);
	vq_store16(s, (uint16_t)(avail + 4 + 2 * (slot % size)), head);
	vq_store16(s, (uint16_t)(avail + 2), (uint16_t)(slot + 1));
}

static void virtqueue_seeds(void)
{
	struct seed s;

	/* A two-segment chain, popped and returned; a bogus push; an empty pop. */
	s.n = 0; u8(&s, 0); u16(&s, 8); u32(&s, 4);
	vq_desc(&s, 0, 0x8000, 64, 1, 1);
	vq_desc(&s, 1, 0x9000, 100, 2, 0);
	vq_offer(&s, 8, 0, 0);
	u8(&s, 0x10); u32(&s, 100);
	u8(&s, 3); u16(&s, 9); u32(&s, 0);
	u8(&s, 0);
	save("virtqueue", "chain", &s);

	/* A loop, a next out of range, an indirect descriptor: each refused. */
	s.n = 0; u8(&s, 0); u16(&s, 4); u32(&s, 2);
	vq_desc(&s, 0, 0x100, 8, 1, 0);
	vq_offer(&s, 4, 0, 0);
	u8(&s, 0);
	save("virtqueue", "loop", &s);
	s.n = 0; u8(&s, 0); u16(&s, 4); u32(&s, 2);
	vq_desc(&s, 1, 0x100, 8, 1, 7);
	vq_desc(&s, 2, 0x100, 16, 4, 0);
	vq_offer(&s, 4, 0, 1);
	vq_offer(&s, 4, 1, 2);
	u8(&s, 0); u8(&s, 0);
	save("virtqueue", "bad-next-indirect", &s);

	/* A 128-entry queue used round and round past the index wrap of its ring. */
	s.n = 0; u8(&s, 0); u16(&s, 128); u32(&s, 1);
	vq_desc(&s, 5, 0x6000, 4096, 2, 0);
	for (uint16_t i = 0; i < 140; i++) {
		vq_offer(&s, 128, i, 5);
		u8(&s, 0x10); u32(&s, i);
	}
	u8(&s, 4); u16(&s, 16); u32(&s, 12);      /* set up again elsewhere */
	u8(&s, 4); u16(&s, 3); u32(&s, 1);        /* not a power of two */
	save("virtqueue", "wrap-resetup", &s);
}

/* ---- the balloon driver, for the balloon mode and for the devices harness ---- */

struct enc {
	void (*out)(struct seed *s, unsigned off, unsigned len, uint32_t v);
	void (*in)(struct seed *s, unsigned off, unsigned len);
	void (*mem)(struct seed *s, uint32_t gpa, const void *p, uint8_t n);
};

static const uint8_t len_bits[5] = { 0, 0, 1, 0, 2 };

static void vb_out(struct seed *s, unsigned off, unsigned len, uint32_t v)
{
	u8(s, (uint8_t)(len_bits[len] << 4)); u8(s, (uint8_t)off); u32(s, v);
}

static void vb_in(struct seed *s, unsigned off, unsigned len)
{
	u8(s, (uint8_t)(1 | len_bits[len] << 4)); u8(s, (uint8_t)off);
}

static void vb_mem(struct seed *s, uint32_t gpa, const void *p, uint8_t n)
{
	u8(s, 2); u32(s, gpa); u8(s, n); put(s, p, n);
}

/* Set up queue q at page pfn (128 entries: descriptors, avail at +0x800, used at +0x1000),
 * put one buffer of `len` bytes at `buf` in descriptor 0 and offer it, and notify. */
static void vb_queue(struct seed *s, const struct enc *e, unsigned q, uint32_t pfn, uint32_t buf,
		     const void *data, uint8_t len)
{
	uint8_t d[16] = { 0 };
	uint16_t avail[3] = { 0, 1, 0 };
	uint64_t addr = buf;
	uint32_t l = len;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &l, 4);
	e->out(s, 0x0e, 2, q);
	e->out(s, 0x08, 4, pfn);
	e->in(s, 0x0c, 2);
	e->mem(s, buf, data, len);
	e->mem(s, pfn << 12, d, sizeof(d));
	e->mem(s, (pfn << 12) + 0x800, avail, sizeof(avail));
	e->out(s, 0x10, 2, q);
	e->in(s, 0x13, 1);
}

static void balloon_driver(struct seed *s, const struct enc *e)
{
	uint32_t pfns[4] = { 0x30, 0x31, 0x32, 0x33 };
	uint8_t stats[20] = { 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 0, 0 };
	e->out(s, 0x12, 1, 0);
	e->out(s, 0x12, 1, 3);                           /* ACKNOWLEDGE | DRIVER */
	e->in(s, 0x00, 4);
	e->out(s, 0x04, 4, 7);
	e->in(s, 0x14, 4);
	for (unsigned i = 0; i < 4; i++)              /* pages the guest used */
		e->mem(s, pfns[i] << 12, "data", 4);
	e->out(s, 0x12, 1, 7);                           /* DRIVER_OK */
	vb_queue(s, e, 0, 0x10, 0x20000, pfns, sizeof(pfns));
	e->out(s, 0x18, 4, 4);                           /* actual */
	vb_queue(s, e, 1, 0x12, 0x21000, pfns, 8);
	vb_queue(s, e, 2, 0x14, 0x22000, stats, sizeof(stats));
	e->in(s, 0x18, 4);
}

static void balloon_seeds(void)
{
	const struct enc e = { vb_out, vb_in, vb_mem };
	struct seed s;
	s.n = 0; u8(&s, 1);
	balloon_driver(&s, &e);
	u8(&s, 3); u32(&s, 16);
	save("virtqueue", "balloon", &s);
	/* A PFN outside RAM: a device error, then a reset. */
	uint32_t bad = 0x7fffffff;
	s.n = 0; u8(&s, 1);
	vb_out(&s, 0x12, 1, 7);
	vb_queue(&s, &e, 0, 0x10, 0x20000, &bad, 4);
	vb_in(&s, 0x12, 1);
	vb_out(&s, 0x12, 1, 0);
	save("virtqueue", "balloon-bad-pfn", &s);
}

/* ---- devices: port I/O with raw port numbers ---- */

static void dev_out(struct seed *s, uint16_t port, unsigned len, uint32_t v)
{
	u8(s, (uint8_t)(len_bits[len] << 3)); u8(s, 0xff); u16(s, port); u32(s, v);
}

static void dev_in(struct seed *s, uint16_t port, unsigned len)
{
	u8(s, (uint8_t)(1 | len_bits[len] << 3)); u8(s, 0xff); u16(s, port);
}

static void dev_tick(struct seed *s, uint32_t ns) { u8(s, 2); u32(s, ns); }
static void dev_ack(struct seed *s) { u8(s, 3); }

static void dev_mem(struct seed *s, uint32_t gpa, const void *p, uint8_t n)
{
	u8(s, 4); u32(s, gpa); u8(s, n); put(s, p, n);
}

static void bal_out(struct seed *s, unsigned off, unsigned len, uint32_t v)
{
	dev_out(s, (uint16_t)(0xc000 + off), len, v);
}

static void bal_in(struct seed *s, unsigned off, unsigned len) { dev_in(s, (uint16_t)(0xc000 + off), len); }

static void pic_init(struct seed *s)
{
	static const uint8_t icw[2][4] = { { 0x11, 0x20, 0x04, 0x01 }, { 0x11, 0x28, 0x02, 0x01 } };
	for (unsigned c = 0; c < 2; c++) {
		uint16_t base = c ? 0xa0 : 0x20;
		dev_out(s, base, 1, icw[c][0]);
		for (unsigned i = 1; i < 4; i++)
			dev_out(s, (uint16_t)(base + 1), 1, icw[c][i]);
		dev_out(s, (uint16_t)(base + 1), 1, 0);     /* unmask all */
	}
}

static void devices_seeds(void)
{
	struct seed s;

	/* PIT channel 0 at 1 kHz into the PIC: ticks, acks, EOIs; a latch and read-back. */
	s.n = 0; pic_init(&s);
	dev_out(&s, 0x43, 1, 0x34);
	dev_out(&s, 0x40, 1, 0xa9);
	dev_out(&s, 0x40, 1, 0x04);
	for (unsigned i = 0; i < 4; i++) {
		dev_tick(&s, 1000000);
		dev_ack(&s);
		dev_out(&s, 0x20, 1, 0x20);
	}
	dev_out(&s, 0x43, 1, 0x00);
	dev_in(&s, 0x40, 1);
	dev_in(&s, 0x40, 1);
	dev_out(&s, 0x43, 1, 0xe2);
	dev_in(&s, 0x40, 1);
	dev_out(&s, 0x61, 1, 0x03);
	dev_in(&s, 0x61, 1);
	dev_in(&s, 0x20, 1);
	dev_out(&s, 0x20, 1, 0x0b);                      /* OCW3: read ISR */
	dev_in(&s, 0x20, 1);
	dev_out(&s, 0x4d0, 1, 0x08);
	save("devices", "pit-pic", &s);

	/* RTC: periodic interrupt and update-ended, the time, the alarm, CMOS bytes. */
	s.n = 0; pic_init(&s);
	dev_out(&s, 0x70, 1, 0x0a); dev_out(&s, 0x71, 1, 0x26);
	dev_out(&s, 0x70, 1, 0x0b); dev_out(&s, 0x71, 1, 0x72);
	for (unsigned r = 0; r < 10; r++) {
		dev_out(&s, 0x70, 1, r);
		dev_in(&s, 0x71, 1);
	}
	dev_tick(&s, 1100000000);
	dev_ack(&s);
	dev_out(&s, 0x70, 1, 0x0c); dev_in(&s, 0x71, 1);
	dev_out(&s, 0x70, 1, 0x34); dev_out(&s, 0x71, 1, 0x55);
	dev_out(&s, 0x70, 1, 0x8f); dev_in(&s, 0x71, 1);
	save("devices", "rtc", &s);

	/* UART: divisor, FIFOs, interrupts, loopback, a few bytes each way. */
	s.n = 0; pic_init(&s);
	dev_out(&s, 0x3fb, 1, 0x80); dev_out(&s, 0x3f8, 1, 1); dev_out(&s, 0x3f9, 1, 0);
	dev_out(&s, 0x3fb, 1, 0x03); dev_out(&s, 0x3fa, 1, 0xc7); dev_out(&s, 0x3f9, 1, 0x0f);
	dev_out(&s, 0x3fc, 1, 0x1b);
	for (unsigned i = 0; i < 20; i++)
		dev_out(&s, 0x3f8, 1, 'a' + i);
	for (unsigned i = 0; i < 6; i++) {
		dev_in(&s, 0x3fa, 1);
		dev_in(&s, 0x3fd, 1);
		dev_in(&s, 0x3f8, 1);
	}
	dev_tick(&s, 5000000);
	dev_ack(&s);
	dev_out(&s, 0x3fc, 1, 0x03);
	dev_out(&s, 0x3f8, 1, '\n');
	dev_in(&s, 0x3fe, 1);
	dev_out(&s, 0x3ff, 1, 0x5a); dev_in(&s, 0x3ff, 1);
	save("devices", "uart", &s);

	/* PCI: scan bus 0, size BAR0 of the balloon, map it, then drive the balloon. */
	const struct enc e = { bal_out, bal_in, dev_mem };
	s.n = 0; pic_init(&s);
	for (unsigned dev = 0; dev < 5; dev++) {
		dev_out(&s, 0xcf8, 4, 0x80000000u | dev << 11);
		dev_in(&s, 0xcfc, 4);
	}
	dev_out(&s, 0xcf8, 4, 0x80001810u);
	dev_out(&s, 0xcfc, 4, 0xffffffffu);
	dev_in(&s, 0xcfc, 4);
	dev_out(&s, 0xcfc, 4, 0xc000);
	dev_out(&s, 0xcf8, 4, 0x80001804u);
	dev_out(&s, 0xcfc, 2, 0x0001);
	dev_out(&s, 0xcf8, 4, 0x8000183cu);
	dev_in(&s, 0xcfd, 1);
	dev_in(&s, 0xcfe, 2);
	balloon_driver(&s, &e);
	dev_tick(&s, 2000000000);
	dev_ack(&s);
	dev_out(&s, 0xcf8, 4, 0x80001804u);
	dev_out(&s, 0xcfc, 2, 0);                        /* decoding off: unmapped */
	bal_in(&s, 0, 4);
	dev_out(&s, 0xf4, 1, 0x10);                      /* debug exit */
	save("devices", "pci-balloon", &s);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	loader_seeds();
	virtqueue_seeds();
	balloon_seeds();
	devices_seeds();
	return 0;
}
