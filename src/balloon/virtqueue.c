/*
 * virtqueue.c: legacy split virtqueues, device side (see virtqueue.h).
 */
#include <errno.h>
#include <string.h>

#include "virtqueue.h"

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
} __attribute__((packed));

static uint64_t avail_off(uint16_t size) { return 16ULL * size; }

static uint64_t used_off(uint16_t size)
{
	uint64_t end_avail = avail_off(size) + 4 + 2ULL * size + 2;
	return (end_avail + VQ_ALIGN - 1) & ~(uint64_t)(VQ_ALIGN - 1);
}

uint64_t vq__bytes(uint16_t size)
{
	return used_off(size) + 4 + 8ULL * size + 2;
}

static bool in_ram(const struct vq_mem *m, uint64_t gpa, uint64_t len)
{
	return len <= m->ram_bytes && gpa <= m->ram_bytes - len;
}

int vq__setup(struct vq *q, const struct vq_mem *m, uint16_t size, uint32_t pfn)
{
	memset(q, 0, sizeof(*q));
	if (!pfn)
		return 0;
	if (!size || size > VQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	uint64_t base = (uint64_t)pfn << 12;
	if (!in_ram(m, base, vq__bytes(size)))
		return -EINVAL;
	q->size = size;
	q->base = GPA(base);
	return 0;
}

static int rd16(const struct vq_mem *m, uint64_t gpa, uint16_t *v)
{
	return m->read(m->ctx, GPA(gpa), v, 2);
}

int vq__pop(struct vq *q, const struct vq_mem *m, struct vq_chain *c)
{
	uint16_t avail_idx, head;
	uint64_t a = q->base.v + avail_off(q->size);
	int r;

	if (!q->size)
		return 0;
	if ((r = rd16(m, a + 2, &avail_idx)))
		return r;
	if (avail_idx == q->last_avail)
		return 0;
	/* More new entries than the ring holds: the driver's index is nonsense. */
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return -EPROTO;
	if ((r = rd16(m, a + 4 + 2ULL * (q->last_avail % q->size), &head)))
		return r;
	if (head >= q->size)
		return -EPROTO;
	c->head = head;
	c->n = 0;
	uint16_t i = head;
	for (unsigned steps = 0;; steps++) {
		struct vring_desc d;
		/* A chain longer than the table loops; longer than we take is refused. */
		if (steps >= q->size || c->n == VQ_MAX_SEGS)
			return -EPROTO;
		if ((r = m->read(m->ctx, GPA(q->base.v + 16ULL * i), &d, sizeof(d))))
			return r;
		if (d.flags & VRING_DESC_F_INDIRECT)
			return -EPROTO;          /* not negotiated */
		if (!in_ram(m, d.addr, d.len))
			return -EPROTO;
		c->seg[c->n++] = (struct vq_seg){ GPA(d.addr), d.len, d.flags & VRING_DESC_F_WRITE };
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= q->size)
			return -EPROTO;
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

int vq__push(struct vq *q, const struct vq_mem *m, uint16_t head, uint32_t len)
{
	uint64_t u = q->base.v + used_off(q->size);
	uint32_t elem[2] = { head, len };
	int r;

	if (!q->size || head >= q->size)
		return -EINVAL;
	if ((r = m->write(m->ctx, GPA(u + 4 + 8ULL * (q->used_idx % q->size)), elem, 8)))
		return r;
	/* The entry before the index: the driver reads the index first. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->used_idx++;
	return m->write(m->ctx, GPA(u + 2), &q->used_idx, 2);
}
