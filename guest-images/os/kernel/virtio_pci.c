/*
 * virtio_pci.c: the legacy virtio-PCI transport: device reset and status, feature
 * negotiation (the low 32 feature bits, all a legacy device has), the device-specific
 * config window and the ISR. A legacy device has no FEATURES_OK handshake: the
 * features written before DRIVER_OK are the ones in force.
 */
#include "kernel.h"
#include "virtio.h"
#include "x86.h"

void virtio__reset(struct virtio_dev *v)
{
	/* Writing 0 resets a legacy device at once; reading back 0 confirms it. */
	outb(v->io + VIRTIO_PCI_STATUS, 0);
	(void)inb(v->io + VIRTIO_PCI_STATUS);
	v->features = 0;
}

void virtio__add_status(struct virtio_dev *v, uint8_t bits)
{
	outb(v->io + VIRTIO_PCI_STATUS, inb(v->io + VIRTIO_PCI_STATUS) | bits);
}

uint32_t virtio__negotiate(struct virtio_dev *v, uint32_t wanted)
{
	uint32_t offered = inl(v->io + VIRTIO_PCI_HOST_FEATURES);
	v->features = offered & wanted;
	outl(v->io + VIRTIO_PCI_GUEST_FEATURES, v->features);
	return v->features;
}

uint32_t virtio__config_read32(struct virtio_dev *v, unsigned off)
{
	return inl((uint16_t)(v->io + VIRTIO_PCI_CONFIG + off));
}

void virtio__config_write32(struct virtio_dev *v, unsigned off, uint32_t val)
{
	outl((uint16_t)(v->io + VIRTIO_PCI_CONFIG + off), val);
}

uint8_t virtio__isr(struct virtio_dev *v)
{
	return inb(v->io + VIRTIO_PCI_ISR);
}
