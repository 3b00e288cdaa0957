/*
 * hx-vq.c: the balloon (legacy virtio-PCI 1af4:1002, found on PCI bus 0; the BAR is
 * assigned here when no firmware did) and rounds of malformed virtqueues: random
 * queue selects (past the last queue too), queue PFNs inside the VQ area, past RAM or
 * huge, descriptor tables of random addresses (in RAM, past it, across its end,
 * 64-bit), lengths, flags (NEXT, WRITE, INDIRECT) and next links (loops, past the
 * ring), available rings with random heads and indexes, PFN arrays of balloon pages,
 * pages past RAM and noise, random status and feature writes, notifies of any queue.
 * Buffers the device may write stay in the VQ area and PFNs handed to it in the
 * balloon area, so the guest survives its own abuse.
 */
#include "hostile.h"
#include "printf.h"
#include "x86.h"

u32 hx__pci_read(u32 devfn, u32 off)
{
	outl(0xcf8, 0x80000000u | (devfn << 8) | (off & 0xfc));
	return inl(0xcfc);
}

void hx__pci_write(u32 devfn, u32 off, u32 v)
{
	outl(0xcf8, 0x80000000u | (devfn << 8) | (off & 0xfc));
	outl(0xcfc, v);
}

/* (Re)find the balloon and give it its BAR back at 0xc040 with I/O and bus mastering
 * on (port abuse may have moved or disabled it). */
void hx__balloon_find(void)
{
	hx.balloon_io = 0;
	for (u32 devfn = 0; devfn < 256; devfn++) {
		if (hx__pci_read(devfn, 0) != 0x10021af4u)
			continue;
		hx__pci_write(devfn, 0x10, 0xc040);
		hx__pci_write(devfn, 0x04, (hx__pci_read(devfn, 0x04) & ~0xffffu) | 1 | 4);
		hx.balloon_io = (u16)(hx__pci_read(devfn, 0x10) & ~3u);
		hx.balloon_devfn = (u8)devfn;
		return;
	}
}

static u32 vq_addr(void)
{
	switch (hx__below(6)) {
	case 0: return hx.ram_end - hx__below(8) * 4;                 /* across the end */
	case 1: return hx.ram_end + hx__rand() % 0x10000000u;        /* past RAM */
	case 2: return hx__rand();
	default: return HX_VQ + 0x8000 + hx__below(0x7ff0);          /* in the VQ area */
	}
}

static u32 pfn(void)
{
	switch (hx__below(5)) {
	case 0: return hx.ram_end / 4096 + hx__below(0x100000);
	case 1: return hx__rand();
	default: return HX_BALLOON_PFN + hx__below(HX_BALLOON_PAGES);
	}
}

void hx__round_vq(void)
{
	u16 io = hx.balloon_io;
	if (!io) {
		printf("  no balloon device: nothing to do\n");
		return;
	}
	u32 *pfns = (u32 *)(HX_VQ + 0x8000);
	for (u32 i = 0; i < 0x2000; i++)
		pfns[i] = pfn();
	for (u32 n = 2 + hx__below(6); n; n--) {
		u32 q = hx__chance(6) ? hx__rand() & 0xffff : hx__below(3);
		outb(io + 0x12, 0);
		outb(io + 0x12, (u8)(hx__chance(6) ? hx__rand() : 1 | 2));
		outl(io + 0x04, hx__chance(3) ? hx__rand() : inl(io + 0x00));
		outw(io + 0x0e, (u16)q);
		u32 qsize = inw(io + 0x0c);
		/* The ring (descriptors, available, used) in the first 32 KiB of the VQ area
		 * if it fits, else wherever the PFN says. */
		u32 ring_pfn = HX_VQ >> 12;
		if (hx__chance(6))
			ring_pfn = hx__chance(2) ? hx.ram_end / 4096 + hx__below(4096) : hx__rand();
		u32 *d = (u32 *)HX_VQ;
		u32 ndesc = qsize && qsize <= 256 ? qsize : 16;
		for (u32 i = 0; i < ndesc; i++) {
			d[4 * i] = vq_addr();
			d[4 * i + 1] = hx__chance(8) ? hx__rand() : 0;
			d[4 * i + 2] = hx__chance(3) ? hx__rand() : 4 * (1 + hx__below(64));
			d[4 * i + 3] = (hx__rand() & 7) | (hx__rand() << 16);
			if (hx__chance(3))
				d[4 * i + 3] = (hx__rand() & 7) | ((i + 1) % ndesc) << 16;   /* chains, loops */
		}
		volatile u16 *avail = (u16 *)(HX_VQ + 16 * ndesc);
		avail[0] = (u16)(hx__chance(4) ? hx__rand() : 0);
		for (u32 i = 0; i < ndesc; i++)
			avail[2 + i] = (u16)(hx__chance(6) ? hx__rand() : hx__below(ndesc));
		outl(io + 0x08, ring_pfn);
		outb(io + 0x12, (u8)(hx__chance(8) ? hx__rand() : 1 | 2 | 4));
		if (hx__chance(3))
			outl(io + 0x14 + 4 * hx__below(3), hx__rand());   /* config space */
		for (u32 k = 1 + hx__below(4); k; k--) {
			avail[1] = (u16)(hx__chance(3) ? hx__rand() : avail[1] + 1 + hx__below(ndesc));
			outw(io + 0x10, (u16)(hx__chance(6) ? hx__rand() : q));
		}
		u8 status = inb(io + 0x12), isr = inb(io + 0x13);
		printf("  queue %u size %u pfn 0x%x: status 0x%x isr 0x%x used idx %u\n", q, qsize,
		       ring_pfn, status, isr,
		       ((volatile u16 *)(HX_VQ + ((16 * ndesc + 6 + 2 * ndesc + 4095) & ~4095u)))[1]);
	}
	outb(io + 0x12, 0);
}
