/*
 * virtio_balloon.h: a virtio memory balloon (virtio 1.x, 5.5 "Memory Balloon Device")
 * on the legacy virtio-PCI transport: PCI 1af4:1002, subsystem 5, BAR0 an I/O window
 * with the legacy register layout, INTx through the PIC. Queues: inflate (0), deflate
 * (1), stats (2). Features offered: MUST_TELL_HOST, STATS_VQ, DEFLATE_ON_OOM.
 *
 * Inflated pages are unmapped from every real table of the VM, their machine frames
 * freed (or their shared reference dropped) and the pmap marks them BALLOONED; a guest
 * that touches one anyway, or deflates it, gets a fresh zeroed frame on demand. A
 * driver that breaks the protocol (bad descriptors, PFNs outside RAM, its own page
 * tables) gets a device error (DEVICE_NEEDS_RESET), never a crash or another guest's
 * memory. The host sets the target (num_pages) through vballoon__set_target.
 */
#ifndef SHADE_VIRTIO_BALLOON_H
#define SHADE_VIRTIO_BALLOON_H

#include <stdatomic.h>
#include <stdio.h>

#include "irq.h"
#include "pci.h"
#include "virtqueue.h"

struct vm;

#define VB_QUEUES 3
#define VB_QUEUE_SIZE 128
#define VB_IO_SIZE 32
#define VB_STATS_TAGS 16

struct vballoon_stats {
	uint64_t inflated, deflated, bad_pfns, device_errors, notifies, stats_updates;
};

struct vballoon {
	struct pci_device pci;
	struct vm *vm;
	struct irq_line irq;
	uint64_t io_base;                 /* where BAR0 decodes, or PCI_BAR_UNMAPPED */
	uint32_t guest_features;
	uint16_t queue_sel;
	struct vq q[VB_QUEUES];
	uint8_t status, isr;
	uint32_t num_pages, actual;       /* target and what the driver says it holds */
	/* the guest's last statistics, by virtio tag, and whether each was given */
	uint64_t guest_stat[VB_STATS_TAGS];
	bool guest_stat_valid[VB_STATS_TAGS];
	uint64_t last_update;             /* host seconds of the last stats buffer */
	bool stats_held;                  /* the driver's stats buffer is ours to return */
	uint16_t stats_head;
	uint64_t stats_due_ns;
	/* a target posted from another thread (the control socket), applied by poll */
	_Atomic int64_t pending_target;
	struct vballoon_stats st;
};

int vballoon__init(struct vballoon *b, struct vm *vm, struct irq_line irq);
int vballoon__register(struct vballoon *b, struct pci *pci, unsigned devfn);
/* Host side: ask the guest to hold `pages` 4 KiB pages in its balloon. */
void vballoon__set_target(struct vballoon *b, uint32_t pages);
/* From any thread: post a target for the vCPU thread to apply (then kick the vCPU). */
void vballoon__post_target(struct vballoon *b, uint32_t pages);
/* Periodic work on the vCPU thread: apply a posted target, hand the stats buffer back
 * when it is due. */
void vballoon__poll(struct vballoon *b);
void vballoon__print_stats(const struct vballoon *b, const char *who, FILE *f);
/* Only the libvirt memory-stat lines ("WHO.memstat.TAG VALUE", KiB). */
void vballoon__print_memstats(const struct vballoon *b, const char *who, FILE *f);

#endif
