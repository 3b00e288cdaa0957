/*
 * fuzz_virtqueue.c: the device side of split virtqueues (src/balloon/virtqueue.c) and
 * the virtio balloon built on it (src/balloon/virtio_balloon.c), driven the way a
 * hostile driver would: guest memory written at will between device operations.
 *
 * Input: u8 mode, then operations until the input ends.
 * mode bit 0 clear: one queue over 64 KiB of guest memory (an array)
 *   u16 size, u32 pfn            vq__setup (size and page as the driver wrote them)
 *   ops, u8 op then its fields:  0 pop a chain (and push it back if op bit 4: u32 len)
 *                                1 u16 off, u16 v: write v at ring base + off
 *                                2 u8 i, u64 addr, u32 len, u16 flags, u16 next: descriptor i
 *                                3 u16 head, u32 len: push whatever head the input says
 *                                4 u16 size, u32 pfn: set the queue up again
 *   Checked: every access the queue makes lies inside its rings; a chain's head and
 *   segment count are in range and its buffers lie in guest RAM; a push lands in the used
 *   ring where the legacy layout puts it, with the index after it.
 * mode bit 0 set: the balloon, its BAR0 at port 0xc000, over 256 KiB of guest RAM
 *   ops: 0 u8 off, u32 v: write the register window (length from op bits 4-5: 1, 2, 4)
 *        1 u8 off: read it        2 u32 gpa, u8 n, n bytes: guest writes memory
 *        3 u32 pages: the host sets a target, then polls
 *   Checked: the memory map's counters agree with its entries afterwards.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "pci.h"
#include "virtio_balloon.h"

#define VQ_RAM (64 * 1024)
#define VB_RAM (256 * 1024)
#define VB_PORT 0xc000
#define MAX_OPS 512

/* Mutations the ctest replay runs (a few seconds; replay.c). */
const unsigned fuzz_replay_runs = 30000;

/* ---- a queue over an array ---- */

struct qfuzz {
	uint8_t ram[VQ_RAM];
	struct vq q;
};

static struct qfuzz Q;

/* The queue may only touch its own rings, and the device only what chains name. */
static void check_access(uint64_t gpa, unsigned len)
{
	FUZZ_CHECK(gpa + len <= VQ_RAM && gpa + len >= gpa);
	FUZZ_CHECK(Q.q.size && gpa >= Q.q.base.v && gpa + len <= Q.q.base.v + vq__bytes(Q.q.size));
}

static int q_read(void *ctx, gpa_t gpa, void *buf, unsigned len)
{
	check_access(gpa.v, len);
	memcpy(buf, Q.ram + gpa.v, len);
	return 0;
}

static int q_write(void *ctx, gpa_t gpa, const void *buf, unsigned len)
{
	check_access(gpa.v, len);
	memcpy(Q.ram + gpa.v, buf, len);
	return 0;
}

static const struct vq_mem qmem = { q_read, q_write, NULL, VQ_RAM };

static void check_chain(const struct vq_chain *c)
{
	FUZZ_CHECK(c->head < Q.q.size);
	FUZZ_CHECK(c->n >= 1 && c->n <= VQ_MAX_SEGS);
	for (unsigned i = 0; i < c->n; i++)
		FUZZ_CHECK(c->seg[i].len <= VQ_RAM && c->seg[i].gpa.v <= VQ_RAM - c->seg[i].len);
}

/* After a push the driver must find {head, len} in the used ring where the legacy layout
 * puts it (the next 4096-byte boundary after the available ring) and the index after it. */
static void check_used(uint16_t head, uint32_t len)
{
	uint64_t used = Q.q.base.v + ((16ULL * Q.q.size + 6 + 2ULL * Q.q.size + 4095) & ~4095ULL);
	uint16_t idx;
	uint32_t elem[2];
	memcpy(&idx, Q.ram + used + 2, 2);
	FUZZ_CHECK(idx == Q.q.used_idx);
	memcpy(elem, Q.ram + used + 4 + 8ULL * ((uint16_t)(idx - 1) % Q.q.size), 8);
	FUZZ_CHECK(elem[0] == head && elem[1] == len);
}

/* The driver's side: plain stores into "guest memory", anywhere in the 64 KiB. */
static void poke(uint64_t gpa, const void *p, size_t len)
{
	if (gpa < VQ_RAM && len <= VQ_RAM - gpa)
		memcpy(Q.ram + gpa, p, len);
}

static void queue_ops(struct fin *in)
{
	memset(&Q, 0, sizeof(Q));
	uint16_t size = fin__u16(in);
	if (vq__setup(&Q.q, &qmem, size, fin__u32(in)))
		FUZZ_CHECK(Q.q.size == 0);
	for (unsigned k = 0; in->n && k < MAX_OPS; k++) {
		uint8_t op = fin__u8(in);
		switch (op % 5) {
		case 0: {
			struct vq_chain c;
			int r = vq__pop(&Q.q, &qmem, &c);
			FUZZ_CHECK(r == 1 || r == 0 || r == -EPROTO);
			if (r == 1) {
				check_chain(&c);
				if (op & 0x10) {
					uint32_t len = fin__u32(in);
					FUZZ_CHECK(vq__push(&Q.q, &qmem, c.head, len) == 0);
					check_used(c.head, len);
				}
			}
			break;
		}
		case 1: {
			uint16_t off = fin__u16(in), v = fin__u16(in);
			poke(Q.q.base.v + off, &v, 2);
			break;
		}
		case 2: {
			uint8_t d[16];
			uint8_t i = fin__u8(in);
			uint64_t addr = fin__u64(in);
			uint32_t len = fin__u32(in);
			uint16_t flags = fin__u16(in), next = fin__u16(in);
			memcpy(d, &addr, 8);
			memcpy(d + 8, &len, 4);
			memcpy(d + 12, &flags, 2);
			memcpy(d + 14, &next, 2);
			poke(Q.q.base.v + 16ULL * i, d, 16);
			break;
		}
		case 3: {
			uint16_t head = fin__u16(in);
			uint32_t len = fin__u32(in);
			int r = vq__push(&Q.q, &qmem, head, len);
			FUZZ_CHECK(r == 0 || (r == -EINVAL && (head >= Q.q.size || !Q.q.size)));
			if (r == 0)
				check_used(head, len);
			break;
		}
		default: {
			uint16_t sz = fin__u16(in);
			if (vq__setup(&Q.q, &qmem, sz, fin__u32(in)))
				FUZZ_CHECK(Q.q.size == 0);
			break;
		}
		}
	}
}

/* ---- the balloon ---- */

static struct fuzz_vm F;

/* What pmap's counters say must match its entries, whatever the balloon did. */
static void check_pmap(const struct pmap *pm)
{
	uint64_t priv = 0;
	for (uint64_t g = 0; g < pm->nframes; g++)
		priv += pm->e[g].state == PPN_PRIVATE;
	FUZZ_CHECK(priv == pm->private_frames);
}

static void balloon_ops(struct fin *in)
{
	static struct pci pci;
	static struct vballoon b;
	static const unsigned lens[4] = { 1, 2, 4, 4 };

	fuzz_vm__begin(&F, VB_RAM + (1 << 20), VB_RAM);
	pci__init(&pci);
	if (vballoon__init(&b, &F.vm, (struct irq_line){ 0 }) ||
	    vballoon__register(&b, &pci, PCI_DEVFN(3, 0)) ||
	    pci_device__cfg_write(&b.pci, PCI_BAR0, 4, VB_PORT) ||
	    pci_device__cfg_write(&b.pci, PCI_COMMAND, 2, PCI_COMMAND_IO))
		fuzz__fail("balloon setup", __FILE__, __LINE__);
	FUZZ_CHECK(b.io_base == VB_PORT);
	for (unsigned k = 0; in->n && k < MAX_OPS; k++) {
		uint8_t op = fin__u8(in);
		unsigned len = lens[(op >> 4) & 3];
		switch (op & 3) {
		case 0: {
			uint8_t off = fin__u8(in) % VB_IO_SIZE;
			uint32_t v = fin__u32(in);
			bus__access(&F.vm.pio, VB_PORT + off, &v, len, true);
			break;
		}
		case 1: {
			uint32_t v = 0;
			bus__access(&F.vm.pio, VB_PORT + fin__u8(in) % VB_IO_SIZE, &v, len, false);
			break;
		}
		case 2: {
			uint32_t gpa = fin__u32(in) % VB_RAM;
			size_t got;
			const uint8_t *p = fin__bytes(in, fin__u8(in), &got);
			if (got > VB_RAM - gpa)
				got = VB_RAM - gpa;
			FUZZ_CHECK(pmap__write(&F.vm.pmap, GPA(gpa), p, got) == 0);
			break;
		}
		default:
			vballoon__post_target(&b, fin__u32(in));
			vballoon__poll(&b);
			break;
		}
	}
	check_pmap(&F.vm.pmap);
	fuzz_vm__end(&F);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	if (fin__u8(&in) & 1)
		balloon_ops(&in);
	else
		queue_ops(&in);
	return 0;
}
