/*
 * exit.h: the exit handler: what to do with each way KVM_RUN can end, and what to
 * arrange before the next entry (interrupt injection). A plain function of the vCPU and
 * its struct kvm_run, so tests can drive it with fabricated exits.
 */
#ifndef SHADE_EXIT_H
#define SHADE_EXIT_H

struct vcpu;

void exit__handle(struct vcpu *vcpu);
void exit__prepare_entry(struct vcpu *vcpu);

#endif
