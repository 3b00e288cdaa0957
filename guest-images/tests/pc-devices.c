/*
 * pc-devices.c: guest "pc-devices": the small PC devices a kernel written against
 * QEMU pokes at, each checked through its ports as such a kernel uses it:
 *   - fw_cfg (QEMU docs/specs/fw_cfg.rst): the "QEMU" signature through the selector
 *     and data ports, the ID with the DMA bit, the DMA register's "QEMU CFG", NB_CPUS,
 *     MAX_CPUS, RAM_SIZE against the multiboot memory size, the file directory read
 *     by DMA, "etc/e820" read by DMA with a RAM entry above 1 MiB, a DMA skip, a
 *     DMA write to a read-only item refused with the error bit;
 *   - the i8042: controller self-test (0xaa -> 0x55, SYS set), interface test (0xab),
 *     the command byte written and read back, keyboard disable/enable seen in it, the
 *     output port (A20 and the reset line high), keyboard echo (0xee) and ACK;
 *   - port 0x92 with A20 on; port 0x80 and an empty port read as 0xff;
 *   - COM1 raising IRQ 4 (seen in the i8259's IRR, the line masked) with MCR.OUT2
 *     clear, as QEMU's 16550 does and kernels written against QEMU expect;
 *   - the VGA CRT controller: index read back, cursor location (0x0e/0x0f) and cursor
 *     shape (0x0a/0x0b) read back as written, input status 1 toggling its retrace bit;
 *     the text buffer at 0xb8000 written and read back (the VMM shows it at the end).
 * QEMU needs a VGA for the last group (tests/guest/guests.cmake gives it -device VGA).
 * With "hold" on the command line it keeps running for up to 300 s (a hang guard) with
 * its screen written, for tests/host/screendump.sh to read through the control socket.
 * With "reset=cf9", "reset=kbc" or "reset=92" it ends by asking for a machine reset that
 * way (0xcf9 value 6, i8042 command 0xfe, port 0x92 bit 0) instead of the debug-exit
 * port (tests/host/reset.sh: shade stops with status 6).
 */
#include "clock.h"
#include "cmdline.h"
#include "pic.h"
#include "printf.h"
#include "string.h"
#include "test.h"
#include "x86.h"

#define FW_SEL 0x510
#define FW_DATA 0x511
#define FW_DMA 0x514

struct dma_access {
	u32 control, length;
	u32 addr_hi, addr_lo;   /* a 64-bit big-endian address, as two halves */
} __attribute__((packed, aligned(16)));

static u32 be32(u32 v) { return __builtin_bswap32(v); }

static void fw_select(u16 key) { outw(FW_SEL, key); }

static u64 fw_read_int(u16 key, u32 bytes)
{
	u64 v = 0;
	fw_select(key);
	for (u32 i = 0; i < bytes; i++)
		v |= (u64)inb(FW_DATA) << (8 * i);
	return v;
}

/* One DMA request; returns the control word the device left (0: done, 1: error). */
static u32 fw_dma(u32 control, void *buf, u32 len)
{
	static struct dma_access d;
	d.control = be32(control);
	d.length = be32(len);
	d.addr_hi = 0;
	d.addr_lo = be32((u32)buf);
	outl(FW_DMA, 0);
	outl(FW_DMA + 4, be32((u32)&d));
	return be32(*(volatile u32 *)&d.control);
}

#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SKIP 0x04
#define DMA_SELECT 0x08
#define DMA_WRITE 0x10

struct file_ent {
	u32 size;
	u16 select, reserved;
	char name[56];
} __attribute__((packed));

static struct file_ent dir[64];
static u8 e820[20 * 32];

static void check_fw_cfg(void)
{
	char sig[5] = { 0 };
	fw_select(0);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_DATA);
	test__ok(!memcmp(sig, "QEMU", 4), "fw_cfg: signature \"%s\" through 0x510/0x511", sig);
	u32 id = (u32)fw_read_int(1, 4);
	test__ok((id & 3) == 3, "fw_cfg: ID 0x%x has the traditional and DMA bits", id);
	u32 d0 = inl(FW_DMA), d1 = inl(FW_DMA + 4);
	test__ok(!memcmp(&d0, "QEMU", 4) && !memcmp(&d1, " CFG", 4),
		 "fw_cfg: the DMA register reads \"QEMU CFG\"");
	u64 ncpus = fw_read_int(5, 2), maxcpus = fw_read_int(0x0f, 2);
	test__eq_dec(1, ncpus, "fw_cfg: NB_CPUS");
	test__ok(maxcpus >= ncpus, "fw_cfg: MAX_CPUS >= NB_CPUS");
	const u32 *mbi = (const u32 *)boot__mbi;
	u64 ram = fw_read_int(3, 8);
	/* mem_upper is RAM from 1 MiB up to the first hole or firmware reservation: under
	 * QEMU SeaBIOS keeps the top 128 KiB for itself, under shade nothing. */
	u64 upper = ((u64)mbi[2] + 1024) << 10;
	test__ok(ram >= upper && ram - upper <= (1u << 20),
		 "fw_cfg: RAM_SIZE is multiboot's mem_upper + 1 MiB, give or take firmware's 1 MiB");

	u32 count = 0;
	test__eq(0, fw_dma((0x19u << 16) | DMA_SELECT | DMA_READ, &count, 4),
		 "fw_cfg DMA: select and read the file directory's count");
	count = be32(count);
	test__range(1, 64, count, "fw_cfg: files in the directory");
	if (count > 64)
		count = 64;
	test__eq(0, fw_dma(DMA_READ, dir, count * sizeof(dir[0])),
		 "fw_cfg DMA: read on from the same item (the directory's entries)");
	const struct file_ent *f = NULL;
	for (u32 i = 0; i < count; i++)
		if (!strcmp(dir[i].name, "etc/e820"))
			f = &dir[i];
	if (!test__ok(f != NULL, "fw_cfg: the directory lists etc/e820"))
		return;
	u32 size = be32(f->size), key = (u16)__builtin_bswap16(f->select);
	test__ok(size && size % 20 == 0 && size <= sizeof(e820),
		 "fw_cfg: etc/e820 is a whole number of 20-byte entries");
	if (size > sizeof(e820))
		size = sizeof(e820);
	test__eq(0, fw_dma((key << 16) | DMA_SELECT | DMA_READ, e820, size),
		 "fw_cfg DMA: read etc/e820");
	bool ram1m = false;
	for (u32 o = 0; o + 20 <= size; o += 20) {
		u64 addr, len;
		u32 type;
		memcpy(&addr, e820 + o, 8);
		memcpy(&len, e820 + o + 8, 8);
		memcpy(&type, e820 + o + 16, 4);
		ram1m |= type == 1 && addr <= 0x100000 && addr + len >= 0x200000;
	}
	test__ok(ram1m, "fw_cfg: etc/e820 has RAM from 1 MiB to 2 MiB");

	char two[3] = { 0 };
	fw_dma((0u << 16) | DMA_SELECT | DMA_SKIP, NULL, 2);
	test__eq(0, fw_dma(DMA_READ, two, 2), "fw_cfg DMA: read after a skip");
	test__ok(!memcmp(two, "MU", 2), "fw_cfg DMA: skipping 2 bytes of the signature leaves \"%s\"",
		 two);
	u32 junk = 0x12345678;
	test__eq(DMA_ERROR, fw_dma((0u << 16) | DMA_SELECT | DMA_WRITE, &junk, 4),
		 "fw_cfg DMA: a write to the read-only signature sets the error bit");
	test__ok(fw_read_int(0, 4) == 0x554d4551, "fw_cfg: the signature is unchanged");
	/* A destination where no memory is (the PCI hole below the I/O APIC): the device
	 * refuses it with the error bit, as QEMU's does, and nothing else happens. */
	test__eq(DMA_ERROR, fw_dma((0u << 16) | DMA_SELECT | DMA_READ, (void *)0xe0000000u, 4),
		 "fw_cfg DMA: a read into a hole sets the error bit");
}

/* Wait for the output buffer (bounded), then read it; -1 if nothing came. */
static int kbc_read(void)
{
	for (u32 i = 0; i < 1000000; i++)
		if (inb(0x64) & 1)
			return inb(0x60);
	return -1;
}

static void kbc_wait_input(void)
{
	for (u32 i = 0; i < 1000000 && (inb(0x64) & 2); i++)
		;
}

static void kbc_cmd(u8 c)
{
	kbc_wait_input();
	outb(0x64, c);
}

static void kbc_data(u8 v)
{
	kbc_wait_input();
	outb(0x60, v);
}

static void check_i8042(void)
{
	for (int i = 0; i < 32 && (inb(0x64) & 1); i++)
		inb(0x60);                           /* drain what the BIOS left */
	kbc_cmd(0x20);
	int mode = kbc_read();
	test__ok(mode >= 0, "i8042: command byte readable");
	/* Interrupts off while we talk to it: nothing here takes IRQ 1. */
	kbc_cmd(0x60);
	kbc_data((u8)(mode & ~0x03));
	kbc_cmd(0x20);
	test__eq((u8)(mode & ~0x03), kbc_read(), "i8042: command byte written (0x60) reads back");
	kbc_cmd(0xaa);
	test__eq(0x55, kbc_read(), "i8042: controller self-test (0xaa) answers 0x55");
	test__ok(inb(0x64) & 0x04, "i8042: status SYS flag set after self-test");
	kbc_cmd(0xab);
	test__eq(0x00, kbc_read(), "i8042: keyboard interface test (0xab) answers 0x00");
	kbc_cmd(0xad);
	kbc_cmd(0x20);
	test__ok(kbc_read() & 0x10, "i8042: 0xad sets the keyboard-disable bit of the command byte");
	kbc_cmd(0xae);
	kbc_cmd(0x20);
	test__ok(!(kbc_read() & 0x10), "i8042: 0xae clears it");
	kbc_cmd(0xd0);
	int out = kbc_read();
	test__ok(out >= 0 && (out & 3) == 3, "i8042: output port (0xd0) has A20 and reset high");
	kbc_data(0xee);
	test__eq(0xee, kbc_read(), "i8042: keyboard echo (0xee)");
	kbc_data(0xf4);
	test__eq(0xfa, kbc_read(), "i8042: keyboard enable (0xf4) is acknowledged");
	test__ok(!(inb(0x64) & 1), "i8042: output buffer empty afterwards");
	kbc_cmd(0x60);
	kbc_data((u8)mode);
	test__ok(inb(0x92) & 0x02, "port 0x92: A20 enabled");
	test__eq(0xff, inb(0x80), "port 0x80 reads 0xff");
	test__eq(0xff, inb(0x2f8 + 7), "an empty port (COM2's scratch) reads 0xff");
}

/* THRE with the interrupt enabled and OUT2 clear: the line rises anyway on QEMU. The
 * i8259 latches the edge in IRR though IRQ 4 is masked (and IF clear): no handler. */
static void check_uart_irq(void)
{
	u8 mcr = inb(0x3f8 + 4);
	outb(0x3f8 + 4, mcr & (u8)~0x08);
	u16 before = pic__irr();
	outb(0x3f8 + 1, 0x02);                  /* ETBEI: THR is empty, so THRE at once */
	u16 after = pic__irr();
	test__ok(!(before & 0x10) && (after & 0x10),
		 "COM1: IRQ 4 rises with MCR.OUT2 clear (THRE enabled)");
	outb(0x3f8 + 1, 0x00);
	inb(0x3f8 + 2);
	outb(0x3f8 + 4, mcr);
}

static u8 crtc(u8 idx)
{
	outb(0x3d4, idx);
	return inb(0x3d5);
}

static void crtc_set(u8 idx, u8 v)
{
	outb(0x3d4, idx);
	outb(0x3d5, v);
}

static void check_vga(void)
{
	outb(0x3d4, 0x0f);
	test__eq(0x0f, inb(0x3d4), "CRTC: the index register reads back");
	crtc_set(0x0e, 0x01);
	crtc_set(0x0f, 0x23);
	test__eq(0x0123, (u32)crtc(0x0e) << 8 | crtc(0x0f), "CRTC: cursor location 0x0e/0x0f");
	crtc_set(0x0a, 0x0d);
	crtc_set(0x0b, 0x0e);
	test__eq(0x0d0e, (u32)crtc(0x0a) << 8 | crtc(0x0b), "CRTC: cursor shape 0x0a/0x0b");
	u8 a = inb(0x3da), b = inb(0x3da);
	test__ok((a ^ b) & 0x08, "input status 1 (0x3da): the retrace bit changes between reads");

	volatile u16 *vram = (volatile u16 *)0xb8000;
	const char *msg = "shade pc-devices guest";
	for (u32 i = 0; msg[i]; i++)
		vram[i] = (u16)(0x0700 | (u8)msg[i]);
	bool same = true;
	for (u32 i = 0; msg[i]; i++)
		same &= vram[i] == (u16)(0x0700 | (u8)msg[i]);
	test__ok(same, "text buffer at 0xb8000 reads back what was written");
	crtc_set(0x0e, 0);
	crtc_set(0x0f, (u8)strlen(msg));
}

void test_main(void)
{
	test__begin("pc-devices");
	check_fw_cfg();
	check_i8042();
	check_uart_irq();
	check_vga();
	if (cmdline__value("hold")) {
		printf("# holding the screen\n");
		u64 until = clock__deadline_ms(300000);
		while (!clock__expired(until))
			asm volatile("pause");
	}
	const char *how = cmdline__value("reset=");
	if (!how)
		test__done();
	if (test__summary())
		test__exit(1);
	if (!memcmp(how, "cf9", 3))
		outb(0xcf9, 0x06);
	else if (!memcmp(how, "kbc", 3))
		kbc_cmd(0xfe);
	else
		outb(0x92, inb(0x92) | 1);
	u64 until = clock__deadline_ms(5000);      /* QEMU resets from its main loop */
	while (!clock__expired(until))
		;
	printf("not ok - the reset request (%s) did not stop the machine\n", how);
	test__exit(1);
}
