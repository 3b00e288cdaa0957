/*
 * virtio.c: the legacy virtio-PCI transport and its split virtqueues.
 *
 * Transport: device reset and status, feature negotiation (the low 32 feature bits,
 * all a legacy device has), the device-specific config window and the ISR. A legacy
 * device has no FEATURES_OK handshake: the features written before DRIVER_OK are the
 * ones in force.
 *
 * Virtqueues, in the legacy layout a legacy virtio-PCI device expects: the driver
 * tells the device only the ring's page frame (QUEUE_PFN); descriptors (16 bytes
 * each), the available ring (flags, idx, ring[size], used_event) follow each other,
 * and the used ring (flags, idx, ring[size] of 8-byte elements, avail_event) starts
 * at the next 4096-byte boundary. The device owns the size (QUEUE_NUM is read-only in
 * the legacy interface).
 *
 * One buffer in flight per queue: descriptor 0 is reused for every buffer, which is
 * all a balloon needs (it waits for each batch of page numbers to be used before the
 * next) and keeps the free-descriptor bookkeeping out. No notification suppression:
 * every submit notifies, every interrupt is taken.
 */
#include "kernel.h"
#include "virtio.h"
#include "x86.h"
#include "proc.h"

void virtio__reset(struct virtio_dev *v)
{
	/* Writing 0 resets a legacy device at once; reading back 0 confirms it. */
	outb(v->io + VIRTIO_PCI_STATUS, 0);
	(void)inb(v->io + VIRTIO_PCI_STATUS);
	v->features = 0;
}

void virtio__add_status(struct virtio_dev *v, uint8_t bits)
{
	outb(v->io + VIRTIO_PCI_STATUS, inb(v->io + VIRTIO_PCI_STATUS) | bits);
}

uint32_t virtio__negotiate(struct virtio_dev *v, uint32_t wanted)
{
	uint32_t offered = inl(v->io + VIRTIO_PCI_HOST_FEATURES);
	v->features = offered & wanted;
	outl(v->io + VIRTIO_PCI_GUEST_FEATURES, v->features);
	return v->features;
}

uint32_t virtio__config_read32(struct virtio_dev *v, unsigned off)
{
	return inl((uint16_t)(v->io + VIRTIO_PCI_CONFIG + off));
}

void virtio__config_write32(struct virtio_dev *v, unsigned off, uint32_t val)
{
	outl((uint16_t)(v->io + VIRTIO_PCI_CONFIG + off), val);
}

uint8_t virtio__isr(struct virtio_dev *v)
{
	return inb(v->io + VIRTIO_PCI_ISR);
}

#define ALIGN(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

/* The device reads the ring asynchronously: stores must reach memory in program order
 * before the notify, and loads of the used ring must not be cached by the compiler.
 * x86 keeps stores in order, so a compiler barrier is enough. */
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

uint64_t virtq__bytes(uint16_t n)
{
	uint64_t first = ALIGN(16UL * n + 2UL * (3 + n), VIRTIO_PCI_QUEUE_ALIGN);
	return first + ALIGN(2UL * 3 + 8UL * n, VIRTIO_PCI_QUEUE_ALIGN);
}

uint16_t virtq__size(struct virtio_dev *v, uint16_t index)
{
	outw(v->io + VIRTIO_PCI_QUEUE_SEL, index);
	return inw(v->io + VIRTIO_PCI_QUEUE_NUM);
}

void virtq__setup(struct virtq *q, struct virtio_dev *v, uint16_t index, uint16_t size,
		  void *va, uint64_t pa)
{
	ASSERT((pa & (VIRTIO_PCI_QUEUE_ALIGN - 1)) == 0);
	q->dev = v;
	q->index = index;
	q->size = size;
	q->desc = va;
	q->avail = (struct vring_avail *)((char *)va + 16UL * size);
	q->used = (struct vring_used *)((char *)va + ALIGN(16UL * size + 2UL * (3 + size),
							    VIRTIO_PCI_QUEUE_ALIGN));
	q->last_used = 0;
	q->busy = false;
	outw(v->io + VIRTIO_PCI_QUEUE_SEL, index);
	outl(v->io + VIRTIO_PCI_QUEUE_PFN, (uint32_t)(pa >> VIRTIO_PCI_PFN_SHIFT));
}

void virtq__submit(struct virtq *q, uint64_t pa, uint32_t len)
{
	ASSERT(!q->busy);
	q->desc[0] = (struct vring_desc){ .addr = pa, .len = len, .flags = 0, .next = 0 };
	uint16_t idx = q->avail->idx;
	q->avail->ring[idx % q->size] = 0;
	barrier();		/* the entry before the index that publishes it */
	q->avail->idx = (uint16_t)(idx + 1);
	barrier();
	q->busy = true;
	outw(q->dev->io + VIRTIO_PCI_QUEUE_NOTIFY, q->index);
}

bool virtq__poll(struct virtq *q)
{
	if (!q->busy)
		return true;
	barrier();
	if (q->used->idx == q->last_used)
		return false;
	q->last_used++;
	q->busy = false;
	return true;
}

bool virtq__wait(struct virtq *q, uint64_t timeout_us)
{
	/* The TSC clock runs with interrupts off too (callers may be in a fault). */
	uint64_t t0 = sched__uptime_us();
	while (!virtq__poll(q)) {
		if (sched__uptime_us() - t0 > timeout_us)
			return false;
		__asm__ volatile("pause");
	}
	return true;
}
