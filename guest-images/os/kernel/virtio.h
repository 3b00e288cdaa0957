/*
 * virtio.h: the legacy virtio-PCI transport (virtio.c: an I/O BAR of registers,
 * device status, features, device config) and split virtqueues in the legacy layout. Register offsets are those of the virtio 1.x spec's "Legacy
 * Interfaces" section for a device without MSI-X; all values are little-endian, which
 * on x86 is the native order.
 */
#ifndef OS_VIRTIO_H
#define OS_VIRTIO_H
#include <stdint.h>
#include <stdbool.h>

#define VIRTIO_VENDOR 0x1af4

/* Legacy registers, offsets into BAR0 (I/O space). */
#define VIRTIO_PCI_HOST_FEATURES 0x00	/* 32, read-only */
#define VIRTIO_PCI_GUEST_FEATURES 0x04	/* 32 */
#define VIRTIO_PCI_QUEUE_PFN 0x08	/* 32: ring address >> 12; 0 disables the queue */
#define VIRTIO_PCI_QUEUE_NUM 0x0c	/* 16, read-only: the queue's size */
#define VIRTIO_PCI_QUEUE_SEL 0x0e	/* 16 */
#define VIRTIO_PCI_QUEUE_NOTIFY 0x10	/* 16: queue index */
#define VIRTIO_PCI_STATUS 0x12		/* 8: writing 0 resets the device */
#define VIRTIO_PCI_ISR 0x13		/* 8: reading it clears it and lowers the IRQ */
#define VIRTIO_PCI_CONFIG 0x14		/* device-specific config, without MSI-X */

#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_PCI_QUEUE_ALIGN 4096	/* the legacy ring layout's used-ring alignment */
#define VIRTIO_PCI_PFN_SHIFT 12

struct virtio_dev {
	uint16_t io;		/* BAR0 base port */
	uint32_t features;	/* negotiated */
};

void virtio__reset(struct virtio_dev *v);
void virtio__add_status(struct virtio_dev *v, uint8_t bits);
/* Reads the device's features, accepts those of wanted it offers, writes them back. */
uint32_t virtio__negotiate(struct virtio_dev *v, uint32_t wanted);
uint32_t virtio__config_read32(struct virtio_dev *v, unsigned off);
void virtio__config_write32(struct virtio_dev *v, unsigned off, uint32_t val);
uint8_t virtio__isr(struct virtio_dev *v);

/* Split virtqueue, legacy layout: descriptors, available ring, then (at the next 4096
 * boundary) the used ring, in one physically contiguous block. This driver keeps at
 * most one buffer in flight per queue, as a balloon needs. */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VRING_DESC_F_WRITE 2

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];	/* then avail_event */
};

struct virtq {
	struct virtio_dev *dev;
	uint16_t index, size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	volatile struct vring_used *used;
	uint16_t last_used;	/* used->idx seen so far */
	bool busy;		/* a buffer is with the device */
};

/* Bytes of the ring block for a queue of size n (a multiple of 4096). */
uint64_t virtq__bytes(uint16_t n);
/* Selects queue index, reads its size and points the device at ring (physical pa,
 * 4096-aligned, virtq__bytes(size) zeroed bytes at va). Returns the size, 0 when the
 * queue does not exist. */
uint16_t virtq__size(struct virtio_dev *v, uint16_t index);
void virtq__setup(struct virtq *q, struct virtio_dev *v, uint16_t index, uint16_t size,
		  void *va, uint64_t pa);
/* Puts one device-readable buffer (physical address) on the queue and notifies. */
void virtq__submit(struct virtq *q, uint64_t pa, uint32_t len);
/* True (and the queue free again) if the device has used the buffer. */
bool virtq__poll(struct virtq *q);
/* Spins until the device used the buffer, at most timeout_us: false on timeout. */
bool virtq__wait(struct virtq *q, uint64_t timeout_us);

#endif
