/*
 * balloon.h: the virtio-balloon driver (balloon.c: device setup, inflate and deflate,
 * its kernel thread; balloon_stats.c: the statistics buffer).
 */
#ifndef OS_BALLOON_H
#define OS_BALLOON_H
#include <stdint.h>
#include <stdbool.h>
#include "../common/abi.h"

#define VIRTIO_ID_BALLOON 5
#define VIRTIO_BALLOON_LEGACY_DEVICE 0x1002	/* transitional PCI device id */

#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ 1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2

/* Device config, offsets from VIRTIO_PCI_CONFIG. */
#define VIRTIO_BALLOON_CFG_NUM_PAGES 0		/* u32, device-written: the target */
#define VIRTIO_BALLOON_CFG_ACTUAL 4		/* u32, driver-written */

/* Boot, before pmem__init (the rings are boot memory): finds and sets up the device.
 * Silent when there is none. */
void balloon__probe(void);
/* After the first process exists: the interrupt line and the kernel thread. */
void balloon__start(void);
/* A kernel command-line word balloon.KEY=VALUE; false if it is not one. */
bool balloon__option(const char *tok);
/* -E_NOENT without a device. */
int balloon__info(struct balloon_info *bi);

/* balloon_stats.c: one statistics record as the device reads it. */
struct virtio_balloon_stat {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));

#define VIRTIO_BALLOON_S_NR 8
/* Fills buf with the current values of every tag; returns the bytes used. */
uint32_t balloon_stats__fill(struct virtio_balloon_stat *buf);

#endif
