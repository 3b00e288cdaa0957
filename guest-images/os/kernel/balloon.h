/*
 * balloon.h: the virtio-balloon driver (balloon.c: device setup, inflate and deflate,
 * statistics, its kernel thread).
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

/* One statistics record as the device reads it (u16 tag, u64 value, packed). */
struct virtio_balloon_stat {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));

#define VIRTIO_BALLOON_S_NR 8

#endif
