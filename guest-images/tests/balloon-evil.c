/*
 * balloon-evil.c: guest "balloon-evil": a driver that breaks the virtio-balloon protocol
 * on purpose, to show that a misbehaving guest cannot crash its VMM or reach memory
 * that is not its own. It finds the legacy balloon (PCI 1af4:1002), sets up the inflate
 * queue, and offers in turn: a descriptor whose buffer lies outside guest RAM, a
 * looping descriptor chain, a head index past the ring, an inflate of a PFN outside RAM,
 * an inflate of the page holding its own GDT, and an available index that jumps past
 * the ring, resetting the device after each (a device may flag an error or ignore the
 * request). After each it checks that it still runs and that a page of its memory
 * holds the pattern it wrote. The host test (tests/host/balloon-evil.sh) checks shade's
 * side: device errors counted, nothing else broken.
 */
#include "printf.h"
#include "test.h"
#include "x86.h"

#define RING_PFN 0x200u                 /* queue at 2 MiB */
#define DATA ((volatile u32 *)0x300000)  /* a page whose contents must survive */
#define BUF 0x310000u                    /* PFN arrays */

static u16 io;
static u32 qsize;

static u32 pci_read(u32 devfn, u32 off)
{
	outl(0xcf8, 0x80000000u | (devfn << 8) | (off & 0xfc));
	return inl(0xcfc);
}

static void pci_write(u32 devfn, u32 off, u32 v)
{
	outl(0xcf8, 0x80000000u | (devfn << 8) | (off & 0xfc));
	outl(0xcfc, v);
}

static bool find_balloon(void)
{
	for (u32 devfn = 0; devfn < 256; devfn++) {
		if (pci_read(devfn, 0) != 0x10021af4u)
			continue;
		io = (u16)(pci_read(devfn, 0x10) & ~3u);
		if (!io) {
			/* No firmware assigned it (a bare multiboot boot): we do. */
			pci_write(devfn, 0x10, 0xc040);
			io = (u16)(pci_read(devfn, 0x10) & ~3u);
		}
		pci_write(devfn, 0x04, pci_read(devfn, 0x04) | 1 | 4);   /* I/O, bus master */
		return io != 0;
	}
	return false;
}

static void *ring(u32 off) { return (void *)(uintptr_t)(RING_PFN * 4096u + off); }

static void desc(u32 i, u32 addr_lo, u32 addr_hi, u32 len, u16 flags, u16 next)
{
	volatile u32 *d = ring(16 * i);
	d[0] = addr_lo;
	d[1] = addr_hi;
	d[2] = len;
	d[3] = (u32)flags | ((u32)next << 16);
}

/* Reset, bring up the inflate queue on a zeroed ring, offer head `head` once with the
 * available index set to `idx`, notify. */
static void offer(u16 head, u16 idx)
{
	outb(io + 0x12, 0);                    /* reset */
	outb(io + 0x12, 1 | 2);                /* ACKNOWLEDGE, DRIVER */
	outl(io + 0x04, 0);
	outw(io + 0x0e, 0);
	qsize = inw(io + 0x0c);
	volatile u16 *avail = ring(16 * qsize);
	avail[2] = head;
	outl(io + 0x08, RING_PFN);
	outb(io + 0x12, 1 | 2 | 4);            /* DRIVER_OK */
	avail[1] = idx;
	outw(io + 0x10, 0);                    /* notify the inflate queue */
}

static void clear_ring(void)
{
	volatile u32 *r = ring(0);
	for (u32 i = 0; i < 3 * 1024; i++)
		r[i] = 0;
}

static void still_fine(const char *what)
{
	u8 status = inb(io + 0x12);
	(void)inb(io + 0x13);                  /* acknowledge any interrupt */
	bool intact = true;
	for (u32 i = 0; i < 1024; i++)
		intact &= DATA[i] == 0x5eed0000u + i;
	test__ok(intact, "%s: the guest runs on, its memory intact (device status 0x%x)", what,
		 status);
}

void test_main(void)
{
	u32 gdt[2];
	test__begin("balloon-evil");
	for (u32 i = 0; i < 1024; i++)
		DATA[i] = 0x5eed0000u + i;
	bool found = find_balloon();
	if (!test__ok(found, "a legacy virtio-balloon is on PCI bus 0 (I/O BAR 0x%x)", io))
		return;

	clear_ring();
	desc(0, 0xfffff000u, 0x7fu, 4, 0, 0);           /* buffer far outside RAM */
	offer(0, 1);
	still_fine("a buffer outside RAM");

	clear_ring();
	desc(0, BUF, 0, 4, 1, 1);                       /* 0 -> 1 -> 0 -> ... */
	desc(1, BUF, 0, 4, 1, 0);
	offer(0, 1);
	still_fine("a looping chain");

	clear_ring();
	offer((u16)(qsize + 5), 1);                     /* head past the ring */
	still_fine("a head index past the ring");

	clear_ring();
	((volatile u32 *)BUF)[0] = 0x7fffffffu;         /* PFN far outside RAM */
	desc(0, BUF, 0, 4, 0, 0);
	offer(0, 1);
	still_fine("a PFN outside RAM");

	clear_ring();
	offer(0, (u16)(qsize * 3));                     /* available index jumped */
	still_fine("an available index past the ring");
	/* Last: a VMM may refuse this (shade does: it is a traced page) or discard the
	 * page's contents, as giving a page away means (QEMU does), so nothing after this
	 * may depend on the GDT. */
	clear_ring();
	asm volatile("sgdt %0" : "=m"(*(u8 (*)[6])gdt));
	((volatile u32 *)BUF)[0] = (u32)((*(u32 *)((u8 *)gdt + 2)) >> 12);   /* GDT's page */
	desc(0, BUF, 0, 4, 0, 0);
	offer(0, 1);
	still_fine("an inflate of its own GDT's page");

	outb(io + 0x12, 0);
}
