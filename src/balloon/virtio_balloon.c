/*
 * virtio_balloon.c: the virtio-balloon device model and the host side of inflate and
 * deflate (see virtio_balloon.h). The legacy register window (virtio 1.x, 4.1.4.8):
 *   0x00 host features   0x04 guest features   0x08 queue PFN   0x0c queue size
 *   0x0e queue select    0x10 queue notify     0x12 status      0x13 ISR (read clears)
 *   0x14 config: num_pages (u32, the host's target), actual (u32, the driver's count)
 * Everything runs on the VM's vCPU thread, inside the exit of the guest's I/O access.
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <time.h>

#include "vcpu.h"
#include "virtio_balloon.h"

#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ 1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VB_FEATURES (BIT(VIRTIO_BALLOON_F_MUST_TELL_HOST) | BIT(VIRTIO_BALLOON_F_STATS_VQ) | \
		     BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VB_ISR_QUEUE 1
#define VB_ISR_CONFIG 2
#define VB_STATS_PERIOD_NS 1000000000ULL

enum { Q_INFLATE, Q_DEFLATE, Q_STATS };

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* ---- guest memory for the queues ---- */

static int mem_read(void *ctx, gpa_t gpa, void *buf, unsigned len)
{
	struct vm *vm = ctx;
	return pmap__read(&vm->pmap, gpa, buf, len);
}

static int mem_write(void *ctx, gpa_t gpa, const void *buf, unsigned len)
{
	struct vm *vm = ctx;
	return pmap__write(&vm->pmap, gpa, buf, len);   /* a device write: COW-safe */
}

static struct vq_mem qmem(struct vballoon *b)
{
	return (struct vq_mem){ mem_read, mem_write, b->vm, b->vm->pmap.nframes * PAGE_SIZE };
}

static void update_irq(struct vballoon *b)
{
	irq_line__set(&b->irq, b->isr ? 1 : 0);
}

static void device_error(struct vballoon *b)
{
	b->st.device_errors++;
	b->status |= VIRTIO_STATUS_NEEDS_RESET;
	b->isr |= VB_ISR_CONFIG;
	update_irq(b);
}

/* ---- the pages ---- */

/* Give PPN g to the balloon: no mapping, no machine frame. -EPROTO for a PFN the driver
 * may not give (outside RAM, or one of its live page tables). */
static int inflate_page(struct vballoon *b, uint64_t pfn, bool *revoked)
{
	struct vm *vm = b->vm;
	struct pmap *pm = &vm->pmap;
	if (pfn >= pm->nframes || (pm->e[pfn].flags & PPN_F_PT)) {
		b->st.bad_pfns++;
		return -EPROTO;
	}
	struct pmap_entry *pe = &pm->e[pfn];
	gfn_t g = GFN(pfn);
	if (pe->state == PPN_BALLOONED)
		return 0;
	if (vm__unmap_gfn(vm, g))
		*revoked = true;
	pmap__drop(pm, g, PPN_BALLOONED);   /* frame, shared reference or swap slot */
	b->st.inflated++;
	return 0;
}

static int deflate_page(struct vballoon *b, uint64_t pfn)
{
	struct pmap *pm = &b->vm->pmap;
	if (pfn >= pm->nframes) {
		b->st.bad_pfns++;
		return -EPROTO;
	}
	/* The next touch gets a fresh zeroed frame (pmap__touch). */
	if (pm->e[pfn].state == PPN_BALLOONED) {
		pm->e[pfn].state = PPN_UNBACKED;
		b->st.deflated++;
	}
	return 0;
}

/* ---- queues ---- */

static int pfn_chain(struct vballoon *b, const struct vq_mem *m, const struct vq_chain *c,
		     bool inflate, bool *revoked)
{
	for (unsigned s = 0; s < c->n; s++) {
		const struct vq_seg *seg = &c->seg[s];
		if (seg->write || seg->len % 4)
			return -EPROTO;
		for (uint32_t off = 0; off < seg->len; off += 4) {
			uint32_t pfn;
			int r = m->read(m->ctx, GPA(seg->gpa.v + off), &pfn, 4);
			if (!r)
				r = inflate ? inflate_page(b, pfn, revoked) : deflate_page(b, pfn);
			if (r)
				return r;
		}
	}
	return 0;
}

static int stats_chain(struct vballoon *b, const struct vq_mem *m, const struct vq_chain *c)
{
	for (unsigned s = 0; s < c->n; s++) {
		const struct vq_seg *seg = &c->seg[s];
		if (seg->write || seg->len % 10)
			return -EPROTO;
		for (uint32_t off = 0; off < seg->len; off += 10) {
			uint8_t e[10];
			int r = m->read(m->ctx, GPA(seg->gpa.v + off), e, 10);
			if (r)
				return r;
			uint16_t tag = (uint16_t)(e[0] | e[1] << 8);
			uint64_t val;
			memcpy(&val, e + 2, 8);
			if (tag < VB_STATS_TAGS) {
				b->guest_stat[tag] = val;
				b->guest_stat_valid[tag] = true;
			}
		}
	}
	b->last_update = now_ns() / 1000000000ULL;
	b->st.stats_updates++;
	return 0;
}

static void notify(struct vballoon *b, unsigned q)
{
	struct vq_mem m = qmem(b);
	struct vq_chain c;
	bool revoked = false, used = false;
	int r;

	b->st.notifies++;
	if (q >= VB_QUEUES || (b->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	while ((r = vq__pop(&b->q[q], &m, &c)) == 1) {
		if (q == Q_STATS) {
			r = stats_chain(b, &m, &c);
			if (r)
				break;
			/* Held until the next period: then the driver refills it. */
			b->stats_held = true;
			b->stats_head = c.head;
			b->stats_due_ns = now_ns() + VB_STATS_PERIOD_NS;
			continue;
		}
		r = pfn_chain(b, &m, &c, q == Q_INFLATE, &revoked);
		if (r)
			break;
		if ((r = vq__push(&b->q[q], &m, c.head, 0)))
			break;
		used = true;
	}
	if (revoked && b->vm->nvcpus) {
		/* The guest runs again right after this I/O exit: flush now. */
		b->vm->mmu.flush_needed = false;
		vcpu__flush_now(b->vm->vcpu[0]);
	}
	if (r < 0) {
		device_error(b);
		return;
	}
	if (used) {
		b->isr |= VB_ISR_QUEUE;
		update_irq(b);
	}
}

static void reset(struct vballoon *b)
{
	memset(b->q, 0, sizeof(b->q));
	b->guest_features = 0;
	b->queue_sel = 0;
	b->status = 0;
	b->isr = 0;
	b->stats_held = false;
	update_irq(b);
}

/* ---- the register window ---- */

static void regs_image(const struct vballoon *b, uint8_t r[VB_IO_SIZE])
{
	uint32_t host = VB_FEATURES, pfn = 0;
	uint16_t qsize = b->queue_sel < VB_QUEUES ? VB_QUEUE_SIZE : 0;
	if (b->queue_sel < VB_QUEUES)
		pfn = (uint32_t)(b->q[b->queue_sel].base.v >> 12);
	memset(r, 0, VB_IO_SIZE);
	memcpy(r + 0x00, &host, 4);
	memcpy(r + 0x04, &b->guest_features, 4);
	memcpy(r + 0x08, &pfn, 4);
	memcpy(r + 0x0c, &qsize, 2);
	memcpy(r + 0x0e, &b->queue_sel, 2);
	r[0x12] = b->status;
	r[0x13] = b->isr;
	memcpy(r + 0x14, &b->num_pages, 4);
	memcpy(r + 0x18, &b->actual, 4);
}

static int io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct vballoon *b = dev;
	unsigned off = (unsigned)(addr - b->io_base);
	uint8_t r[VB_IO_SIZE];
	uint32_t v = 0;

	if (off + len > VB_IO_SIZE)
		return 0;
	regs_image(b, r);
	if (!is_write) {
		memcpy(data, r + off, len);
		if (off <= 0x13 && off + len > 0x13) {
			b->isr = 0;                 /* reading ISR acknowledges */
			update_irq(b);
		}
		return 0;
	}
	memcpy(&v, data, len);
	switch (off) {
	case 0x04: b->guest_features = v & VB_FEATURES; break;
	case 0x08: {
		struct vq_mem m = qmem(b);
		if (b->queue_sel < VB_QUEUES &&
		    vq__setup(&b->q[b->queue_sel], &m, VB_QUEUE_SIZE, v))
			device_error(b);
		break;
	}
	case 0x0e: b->queue_sel = (uint16_t)v; break;
	case 0x10: notify(b, v & 0xffff); break;
	case 0x12:
		if ((v & 0xff) == 0)
			reset(b);
		else
			b->status = (uint8_t)v;
		break;
	default:
		if (off >= 0x18) {             /* actual: the driver's own count */
			memcpy(r + off, data, len);
			memcpy(&b->actual, r + 0x18, 4);
		}
		break;                         /* read-only registers ignore writes */
	}
	return 0;
}

static int bar_remap(struct pci_device *d, unsigned bar, uint64_t old_addr, uint64_t new_addr)
{
	struct vballoon *b = d->owner;
	struct bus *pio = &b->vm->pio;
	if (bar != 0)
		return 0;
	if (old_addr != PCI_BAR_UNMAPPED)
		bus__unregister(pio, old_addr, b);
	b->io_base = new_addr;
	if (new_addr == PCI_BAR_UNMAPPED)
		return 0;
	return bus__register(pio, new_addr, VB_IO_SIZE, io, b, "virtio-balloon");
}

int vballoon__init(struct vballoon *b, struct vm *vm, struct irq_line irq)
{
	memset(b, 0, sizeof(*b));
	b->vm = vm;
	b->irq = irq;
	b->io_base = PCI_BAR_UNMAPPED;
	atomic_store(&b->pending_target, -1);
	/* Legacy virtio-PCI: 1af4:1002, class "other" (0xff0000), subsystem 1af4:0005. */
	pci_device__init(&b->pci, 0x1af4, 0x1002, 0xff0000, 0);
	b->pci.cfg[0x2c] = 0xf4; b->pci.cfg[0x2d] = 0x1a;
	b->pci.cfg[0x2e] = 0x05; b->pci.cfg[0x2f] = 0x00;
	b->pci.name = "virtio-balloon";
	b->pci.owner = b;
	b->pci.bar_remap = bar_remap;
	pci_device__set_irq_pin(&b->pci, 1);
	return pci_device__set_bar(&b->pci, 0, PCI_BAR_IO, VB_IO_SIZE);
}

int vballoon__register(struct vballoon *b, struct pci *pci, unsigned devfn)
{
	return pci__add_device(pci, &b->pci, devfn);
}

void vballoon__set_target(struct vballoon *b, uint32_t pages)
{
	if (pages == b->num_pages)
		return;
	b->num_pages = pages;
	b->isr |= VB_ISR_CONFIG;
	update_irq(b);
}

void vballoon__post_target(struct vballoon *b, uint32_t pages)
{
	atomic_store(&b->pending_target, (int64_t)pages);
}

void vballoon__poll(struct vballoon *b)
{
	int64_t t = atomic_exchange(&b->pending_target, -1);
	if (t >= 0)
		vballoon__set_target(b, (uint32_t)t);
	if (!b->stats_held || now_ns() < b->stats_due_ns)
		return;
	struct vq_mem m = qmem(b);
	b->stats_held = false;
	if (vq__push(&b->q[Q_STATS], &m, b->stats_head, 0)) {
		device_error(b);
		return;
	}
	b->isr |= VB_ISR_QUEUE;
	update_irq(b);
}

/* virsh dommemstat's names, indexed by libvirt's VIR_DOMAIN_MEMORY_STAT_* tags. */
static const char *const memstat_name[VIR_DOMAIN_MEMORY_STAT_NR] = {
	[VIR_DOMAIN_MEMORY_STAT_SWAP_IN] = "swap_in",
	[VIR_DOMAIN_MEMORY_STAT_SWAP_OUT] = "swap_out",
	[VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT] = "major_fault",
	[VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT] = "minor_fault",
	[VIR_DOMAIN_MEMORY_STAT_UNUSED] = "unused",
	[VIR_DOMAIN_MEMORY_STAT_AVAILABLE] = "available",
	[VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON] = "actual",
	[VIR_DOMAIN_MEMORY_STAT_RSS] = "rss",
	[VIR_DOMAIN_MEMORY_STAT_USABLE] = "usable",
	[VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE] = "last_update",
	[VIR_DOMAIN_MEMORY_STAT_DISK_CACHES] = "disk_caches",
};

/* The virtio stats tag (5.5.6.3) each libvirt tag comes from; -1: not from the guest. */
static const int memstat_virtio[VIR_DOMAIN_MEMORY_STAT_NR] = {
	[VIR_DOMAIN_MEMORY_STAT_SWAP_IN] = 0, [VIR_DOMAIN_MEMORY_STAT_SWAP_OUT] = 1,
	[VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT] = 2, [VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT] = 3,
	[VIR_DOMAIN_MEMORY_STAT_UNUSED] = 4, [VIR_DOMAIN_MEMORY_STAT_AVAILABLE] = 5,
	[VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON] = -1, [VIR_DOMAIN_MEMORY_STAT_RSS] = -1,
	[VIR_DOMAIN_MEMORY_STAT_USABLE] = 6, [VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE] = -1,
	[VIR_DOMAIN_MEMORY_STAT_DISK_CACHES] = 7, [VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC] = -1,
	[VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL] = -1,
};

void vballoon__print_stats(const struct vballoon *b, const char *who, FILE *f)
{
	const struct pmap *pm = &b->vm->pmap;
	uint64_t held = 0;
	for (uint64_t g = 0; g < pm->nframes; g++)
		held += pm->e[g].state == PPN_BALLOONED;
#define P(x) fprintf(f, "%s.balloon.%s %llu\n", who, #x, (unsigned long long)b->st.x)
	P(inflated); P(deflated); P(bad_pfns); P(device_errors); P(notifies); P(stats_updates);
#undef P
	fprintf(f, "%s.balloon.target_pages %u\n%s.balloon.actual_pages %u\n", who, b->num_pages,
		who, b->actual);
	fprintf(f, "%s.balloon.held_pages %llu\n", who, (unsigned long long)held);
	vballoon__print_memstats(b, who, f);
}

void vballoon__print_memstats(const struct vballoon *b, const char *who, FILE *f)
{
	const struct pmap *pm = &b->vm->pmap;
	/* Memory statistics as virsh dommemstat gives them: KiB, fault counts as counts. */
	for (unsigned t = 0; t < VIR_DOMAIN_MEMORY_STAT_NR; t++) {
		uint64_t v;
		int vt = memstat_virtio[t];
		if (!memstat_name[t])
			continue;
		if (t == VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON)
			v = (pm->nframes - MIN((uint64_t)b->actual, pm->nframes)) * 4;
		else if (t == VIR_DOMAIN_MEMORY_STAT_RSS)
			v = (pm->private_frames + pm->shared_frames) * 4;
		else if (t == VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE)
			v = b->last_update;
		else if (vt >= 0 && b->guest_stat_valid[vt])
			v = (vt == 2 || vt == 3) ? b->guest_stat[vt] : b->guest_stat[vt] / 1024;
		else
			continue;
		fprintf(f, "%s.memstat.%s %llu\n", who, memstat_name[t], (unsigned long long)v);
	}
}
