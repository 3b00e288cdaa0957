/*
 * exit.h: the exit handler: what to do with each way KVM_RUN can end, and what to
 * arrange before the next entry (interrupt injection). A plain function of the vCPU and
 * its struct kvm_run, so tests can drive it with fabricated exits.
 */
#ifndef SHADE_EXIT_H
#define SHADE_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "types.h"

struct vcpu;

void exit__handle(struct vcpu *vcpu);
/* Let the guest's write to traced frame g (at linear `lin`), which could not be
 * executed in software, run natively under TF; false if it cannot be. */
bool exit__step_traced_write(struct vcpu *vcpu, gfn_t g, uint64_t lin);
void exit__prepare_entry(struct vcpu *vcpu);
/* KVM_RUN ended by a signal (a device timer, a kick): the registers KVM synced say the
 * guest's IF and stack now; a pending NMI that can be taken is delivered here. */
void exit__signal_exit(struct vcpu *vcpu);

#endif
