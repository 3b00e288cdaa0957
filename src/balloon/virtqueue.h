/*
 * virtqueue.h: the device side of a split virtqueue in the legacy layout (virtio 1.x
 * spec, 2.7 "Split Virtqueues", and 4.1.5.1 / "Legacy Interfaces: A Note on Virtqueue
 * Layout"): the descriptor table at the queue's page, the available ring right after it,
 * the used ring at the next 4096-byte boundary.
 *
 * Everything the guest supplies is checked before use: descriptor indexes, chain
 * length and loops, buffer addresses and lengths against guest RAM. A violation is a
 * device error (-EPROTO) for the caller to report; it never touches memory outside
 * the guest. Pure logic over struct vq_mem, so unit tests give it an array.
 */
#ifndef SHADE_VIRTQUEUE_H
#define SHADE_VIRTQUEUE_H

#include "types.h"

#define VQ_MAX_SIZE 1024
#define VQ_MAX_SEGS 16
#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VQ_ALIGN 4096

/* Guest-physical memory as the queue sees it; read/write return 0 or -EFAULT. */
struct vq_mem {
	int (*read)(void *ctx, gpa_t gpa, void *buf, unsigned len);
	int (*write)(void *ctx, gpa_t gpa, const void *buf, unsigned len);
	void *ctx;
	uint64_t ram_bytes;          /* buffers must lie in [0, ram_bytes) */
};

struct vq {
	uint16_t size;               /* entries, a power of two; 0: not set up */
	gpa_t base;                  /* descriptor table (the queue PFN << 12) */
	uint16_t last_avail;         /* next available-ring slot the device reads */
	uint16_t used_idx;
};

struct vq_seg {
	gpa_t gpa;
	uint32_t len;
	bool write;                  /* device-writable */
};

struct vq_chain {
	uint16_t head;
	unsigned n;
	struct vq_seg seg[VQ_MAX_SEGS];
};

/* Bytes the legacy layout of a queue of `size` entries occupies. */
uint64_t vq__bytes(uint16_t size);
/* Set the queue up at `pfn` (0: reset it). -EINVAL for a bad size or a ring outside RAM. */
int vq__setup(struct vq *q, const struct vq_mem *m, uint16_t size, uint32_t pfn);
/* The next available chain: 1 (in *c), 0 (none), -EPROTO (malformed), -EFAULT. */
int vq__pop(struct vq *q, const struct vq_mem *m, struct vq_chain *c);
/* Return chain `head` to the driver with `len` bytes written. */
int vq__push(struct vq *q, const struct vq_mem *m, uint16_t head, uint32_t len);

#endif
