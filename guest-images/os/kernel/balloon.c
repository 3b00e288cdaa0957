/*
 * balloon.c: the virtio-balloon driver (virtio 1.x spec, "Memory Balloon Device",
 * legacy interface over the legacy virtio-PCI transport): finding and setting up the
 * device, inflating (lending free pages to the host) and deflating (taking them back),
 * the statistics queue, the interrupt handler, and the kernel thread "balloon" that
 * does the work.
 *
 * Boot (balloon__probe, before the page allocator exists, so that the three rings can
 * be physically contiguous boot memory): PCI vendor 0x1af4 device 0x1002 with
 * subsystem id 5; BAR0 is the legacy register block in I/O space. Reset, ACKNOWLEDGE,
 * DRIVER, features (MUST_TELL_HOST, STATS_VQ, DEFLATE_ON_OOM when offered), queues
 * 0 inflate, 1 deflate, 2 stats (with STATS_VQ), DRIVER_OK. No output unless the
 * device misbehaves, device or not (the OS tests compare transcripts).
 *
 * The thread compares num_pages (the host's target) with the pages it holds and sends
 * one batch of at most 256 page numbers (u32, 4 KiB frames) per buffer, waiting for
 * the device to use each buffer before it updates `actual`. Pages come from the free
 * list untouched; when it runs short the page cache is shrunk, and the allocator keeps
 * a reserve the balloon never takes, so the guest keeps running. Deflated pages go
 * back to the allocator only after the device used the deflate buffer (MUST_TELL_HOST
 * or not: simpler, and correct either way). With DEFLATE_ON_OOM, an allocation that
 * finds the free list empty deflates one batch first (pmem's reclaim hook).
 *
 * The interrupt handler only reads (and so clears) the ISR and wakes the thread; the
 * thread also wakes every poll_ms to re-read the target, in case an interrupt was
 * lost or the line is not wired. One CPU and a kernel that is never preempted: the
 * thread never sleeps with a buffer outstanding (it spins for the device), so the OOM
 * path, which runs in a process, never meets a half-done batch.
 */
#include "kernel.h"
#include "balloon.h"
#include "virtio.h"
#include "pci.h"
#include "pmem.h"
#include "fs.h"
#include "proc.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

#define BATCH 256			/* page numbers per buffer (Linux's limit too) */
#define DEVICE_TIMEOUT_US 5000000	/* a device that does not use a buffer is dead */
#define Q_INFLATE 0
#define Q_DEFLATE 1
#define Q_STATS 2

static struct {
	bool present, dead;
	struct pci_dev pci;
	struct virtio_dev dev;
	int irq;			/* -1: no usable line, polling only */
	struct virtq vq[3];
	int nvq;
	uint64_t pages;			/* in the balloon (the `actual` we reported) */
	uint64_t reserve;		/* free pages inflating leaves alone */
	volatile uint8_t isr;		/* ISR bits the interrupt handler saw */
	struct proc *thread;
	bool busy;			/* a batch is being sent (guards the OOM path) */
	uint64_t stats_ms, poll_ms;	/* kernel command line */
	uint64_t stats_at_us;		/* when the stats buffer was last filled */
	uint64_t stats_updates;
	uint64_t oom_pages;		/* deflated by reclaim() */
} bal = { .irq = -1, .stats_ms = 1000, .poll_ms = 1000 };

static uint32_t pfns[BATCH] __attribute__((aligned(64)));
static struct virtio_balloon_stat stats[VIRTIO_BALLOON_S_NR] __attribute__((aligned(64)));

/* The statistics (STATS_VQ): one record per tag, memory amounts in bytes. The host
 * uses them to decide how far to inflate, so "available" counts what this kernel
 * could give up without harm: free pages plus page-cache pages (re-readable from the
 * initial file system). No swap exists, so the swap counters stay 0. */
enum {
	S_SWAP_IN = 0, S_SWAP_OUT = 1, S_MAJFLT = 2, S_MINFLT = 3,
	S_MEMFREE = 4, S_MEMTOT = 5, S_AVAIL = 6, S_CACHES = 7,
};

static uint32_t stats_fill(struct virtio_balloon_stat *buf)
{
	struct pmem_stats s;
	pmem__stats(&s);
	uint64_t cache = pagecache__pages(), major = pagecache__reads();
	uint64_t faults = fault__count();
	/* Total as the guest can use it: the balloon's pages are the host's now. */
	uint64_t total = s.total - s.balloon;
	const uint64_t vals[VIRTIO_BALLOON_S_NR] = {
		[S_SWAP_IN] = 0,
		[S_SWAP_OUT] = 0,
		[S_MAJFLT] = major,
		[S_MINFLT] = faults > major ? faults - major : 0,
		[S_MEMFREE] = s.free * PAGE_SIZE,
		[S_MEMTOT] = total * PAGE_SIZE,
		[S_AVAIL] = (s.free + cache) * PAGE_SIZE,
		[S_CACHES] = cache * PAGE_SIZE,
	};
	for (uint16_t t = 0; t < VIRTIO_BALLOON_S_NR; t++)
		buf[t] = (struct virtio_balloon_stat){ .tag = t, .val = vals[t] };
	return VIRTIO_BALLOON_S_NR * sizeof(*buf);
}

static bool has(int feature)
{
	return bal.dev.features & (1u << feature);
}

static bool setup_queues(void)
{
	for (int i = 0; i < bal.nvq; i++) {
		uint16_t n = virtq__size(&bal.dev, (uint16_t)i);
		if (!n || (n & (n - 1))) {
			kprintf("balloon: queue %d has size %u; device not used\n", i, n);
			return false;
		}
		uint64_t bytes = virtq__bytes(n);
		uint64_t pa = pmem__early_alloc(bytes / PAGE_SIZE);
		memset(p2v(pa), 0, bytes);
		virtq__setup(&bal.vq[i], &bal.dev, (uint16_t)i, n, p2v(pa), pa);
	}
	return true;
}

void balloon__probe(void)
{
	struct pci_dev d;
	if (!pci__find(VIRTIO_VENDOR, VIRTIO_BALLOON_LEGACY_DEVICE, &d) ||
	    pci__read16(&d, PCI_SUBSYS_ID) != VIRTIO_ID_BALLOON)
		return;
	bal.pci = d;
	bal.dev.io = pci__io_bar(&d, 0);
	if (!bal.dev.io) {
		kprintf("balloon: BAR0 is not an I/O BAR; device not used\n");
		return;
	}
	pci__enable(&d, PCI_CMD_IO | PCI_CMD_MASTER);
	uint8_t line = pci__read8(&d, PCI_INTERRUPT_LINE);
	bal.irq = line > 0 && line < 16 && line != 2 ? line : -1;

	virtio__reset(&bal.dev);
	virtio__add_status(&bal.dev, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio__add_status(&bal.dev, VIRTIO_STATUS_DRIVER);
	virtio__negotiate(&bal.dev, 1u << VIRTIO_BALLOON_F_MUST_TELL_HOST |
			  1u << VIRTIO_BALLOON_F_STATS_VQ | 1u << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	bal.nvq = has(VIRTIO_BALLOON_F_STATS_VQ) ? 3 : 2;
	if (!setup_queues()) {
		virtio__add_status(&bal.dev, VIRTIO_STATUS_FAILED);
		return;
	}
	virtio__add_status(&bal.dev, VIRTIO_STATUS_DRIVER_OK);
	/* Silent when it works: a VMM that always has the device (shade) must give the
	 * same transcript as one without it. The runner's `balloon` command shows it. */
	bal.present = true;
}

bool balloon__option(const char *tok)
{
	static const char *const keys[] = { "balloon.stats_ms=", "balloon.poll_ms=" };
	uint64_t *vals[] = { &bal.stats_ms, &bal.poll_ms };
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(keys[i]);
		if (strncmp(tok, keys[i], n))
			continue;
		uint64_t v = 0;
		for (const char *s = tok + n; *s >= '0' && *s <= '9'; s++)
			v = v * 10 + (uint64_t)(*s - '0');
		*vals[i] = v;
		return true;
	}
	return false;
}

static uint32_t target(void)
{
	return virtio__config_read32(&bal.dev, VIRTIO_BALLOON_CFG_NUM_PAGES);
}

static void report_actual(void)
{
	virtio__config_write32(&bal.dev, VIRTIO_BALLOON_CFG_ACTUAL, (uint32_t)bal.pages);
}

/* One buffer of page numbers on queue q, used by the device before this returns. */
static bool send_pfns(int q, uint64_t n)
{
	virtq__submit(&bal.vq[q], v2p(pfns), (uint32_t)(n * sizeof(pfns[0])));
	if (virtq__wait(&bal.vq[q], DEVICE_TIMEOUT_US))
		return true;
	kprintf("balloon: the device did not use a buffer on queue %d; driver stopped\n", q);
	bal.dead = true;
	return false;
}

/* Returns the pages added (0: no free memory to lend right now). */
static uint64_t inflate(uint64_t n)
{
	uint64_t got = pmem__balloon_take(pfns, n, bal.reserve);
	if (got < n && pagecache__shrink(n - got))
		got += pmem__balloon_take(pfns + got, n - got, bal.reserve);
	if (!got)
		return 0;
	/* On a timeout the pages stay in the balloon: the host may have them already. */
	bal.pages += got;
	if (send_pfns(Q_INFLATE, got))
		report_actual();
	return got;
}

static uint64_t deflate(uint64_t n)
{
	uint64_t got = pmem__balloon_find(pfns, n);
	if (!got || !send_pfns(Q_DEFLATE, got))
		return 0;
	pmem__balloon_give(pfns, got);
	bal.pages -= got;
	report_actual();
	return got;
}

/* One batch toward the target; false when there is nothing (more) to do now. */
static bool adjust(void)
{
	if (bal.dead)
		return false;
	uint64_t want = target(), done = 0;
	bal.busy = true;
	if (want > bal.pages)
		done = inflate(want - bal.pages < BATCH ? want - bal.pages : BATCH);
	else if (want < bal.pages)
		done = deflate(bal.pages - want < BATCH ? bal.pages - want : BATCH);
	bal.busy = false;
	return done > 0;
}

/* pmem's hook when the free list is empty (DEFLATE_ON_OOM only). */
static uint64_t reclaim(void)
{
	if (!has(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) || bal.busy || bal.dead || !bal.pages)
		return 0;
	bal.busy = true;
	uint64_t n = deflate(BATCH);
	bal.busy = false;
	bal.oom_pages += n;
	return n;
}

/* The stats buffer goes back to the device at most once per stats_ms: the device
 * returns it when it wants fresh values (QEMU: every guest-stats-polling-interval). */
static void stats_submit(void)
{
	uint32_t len = stats_fill(stats);
	bal.stats_at_us = sched__uptime_us();
	bal.stats_updates++;
	virtq__submit(&bal.vq[Q_STATS], v2p(stats), len);
}

/* How long until the stats buffer is due (~0: it is with the device). */
static uint64_t stats_due_ms(void)
{
	if (bal.nvq < 3 || bal.dead || !virtq__poll(&bal.vq[Q_STATS]))
		return ~0UL;
	uint64_t since = (sched__uptime_us() - bal.stats_at_us) / 1000;
	return since >= bal.stats_ms ? 0 : bal.stats_ms - since;
}

static void balloon_irq(void)
{
	uint8_t isr = virtio__isr(&bal.dev);	/* the read lowers the line */
	if (!isr)
		return;
	bal.isr |= isr;
	if (bal.thread)
		sched__wake(bal.thread);
}

static void thread_main(void *arg)
{
	(void)arg;
	for (;;) {
		bal.isr = 0;
		if (stats_due_ms() == 0)
			stats_submit();
		if (adjust()) {
			if (sched_need_resched)
				sched__yield();
			continue;
		}
		uint64_t ms = stats_due_ms();
		if (ms > bal.poll_ms)
			ms = bal.poll_ms;
		/* Interrupts off from the check to the sleep: a wakeup cannot be lost. */
		cli();
		if (!bal.isr)
			sched__sleep_ms(ms ? ms : 1);
		sti();
	}
}

void balloon__start(void)
{
	if (!bal.present)
		return;
	struct pmem_stats s;
	pmem__stats(&s);
	bal.reserve = 256 + s.total / 64;	/* 1 MiB + 1.5 %: room for the kernel's own needs */
	pmem__set_reclaim(reclaim);
	if (bal.nvq == 3)
		stats_submit();		/* the device holds it until it wants stats */
	bal.thread = proc__kthread("balloon", thread_main, NULL);
	if (!bal.thread)
		panic("balloon: no process slot for the kernel thread");
	if (bal.irq >= 0) {
		trap__set_irq_handler(bal.irq, balloon_irq);
		pic__unmask(bal.irq);
	}
}

int balloon__info(struct balloon_info *bi)
{
	if (!bal.present)
		return -E_NOENT;
	bi->target_pages = target();
	bi->actual_pages = virtio__config_read32(&bal.dev, VIRTIO_BALLOON_CFG_ACTUAL);
	bi->pages = bal.pages;
	bi->features = bal.dev.features;
	bi->stats_updates = bal.stats_updates;
	bi->oom_pages = bal.oom_pages;
	return 0;
}
