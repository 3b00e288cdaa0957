/*
 * balloon_stats.c: the guest memory statistics a virtio-balloon device collects on
 * its stats queue (VIRTIO_BALLOON_F_STATS_VQ): one record (u16 tag, u64 value; packed,
 * little-endian) per tag, memory amounts in bytes. The host uses them to decide how far
 * to inflate, so "available" counts what this kernel could give up without harm: free
 * pages plus page-cache pages (re-readable from the initial file system).
 * No swap exists, so the swap counters stay 0.
 */
#include "kernel.h"
#include "balloon.h"
#include "pmem.h"
#include "fs.h"
#include "proc.h"

enum {
	S_SWAP_IN = 0, S_SWAP_OUT = 1, S_MAJFLT = 2, S_MINFLT = 3,
	S_MEMFREE = 4, S_MEMTOT = 5, S_AVAIL = 6, S_CACHES = 7,
};

uint32_t balloon_stats__fill(struct virtio_balloon_stat *buf)
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
