/*
 * mmio.h: executing a guest instruction that touched a device page (the local APIC, the
 * I/O APIC) instead of RAM.
 */
#ifndef SHADE_MMIO_H
#define SHADE_MMIO_H

#include "gmem.h"

struct vcpu;

/*
 * The guest's instruction at CS:RIP faulted on guest-physical `gpa`, outside RAM (paging
 * off: the identity map has nothing there; paging on: the guest's own tables map it).
 * If a device claims that address, run the instruction against it and return 0 (done;
 * when the instruction is a form shade does not run against a device, the VM is stopped
 * with the instruction's bytes), or 1 with the guest's fault in *xf. -EFAULT if no
 * device claims the address (the caller reports the stray access).
 */
int emulate__mmio(struct vcpu *vcpu, gpa_t gpa, struct xfault *xf);

#endif
