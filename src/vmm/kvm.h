/*
 * kvm.h: thin wrappers over the KVM ioctls shade uses. Everything else in the VMM talks
 * to KVM through these, so the ioctl count per exit is visible in one place.
 */
#ifndef SHADE_KVM_H
#define SHADE_KVM_H

#include <linux/kvm.h>

#include "types.h"

struct kvm_sys {
	int fd;                /* /dev/kvm */
	int run_size;
	/* The backend shadows the real page tables itself and does not see shade rewrite
	 * them (the nested kvm_pvm): see backend_resync() in vcpu.c. */
	bool shadows_our_tables;
};

int kvm__open(struct kvm_sys *k);
void kvm__close(struct kvm_sys *k);
int kvm__create_vm(struct kvm_sys *k);
int kvm__set_memslot(int vmfd, unsigned slot, uint64_t gpa, uint64_t size, void *host,
		     bool readonly);
int kvm__create_vcpu(struct kvm_sys *k, int vmfd, unsigned id, struct kvm_run **run);
void kvm__destroy_vcpu(struct kvm_sys *k, int vcpufd, struct kvm_run *run);
int kvm__supported_cpuid(struct kvm_sys *k, struct kvm_cpuid2 **out);
int kvm__set_cpuid(int vcpufd, struct kvm_cpuid2 *c);
int kvm__get_msr(int vcpufd, uint32_t index, uint64_t *val);
int kvm__set_msr(int vcpufd, uint32_t index, uint64_t val);
int kvm__interrupt(int vcpufd, unsigned vector);
int kvm__get_debugregs(int vcpufd, struct kvm_debugregs *d);
int kvm__set_debugregs(int vcpufd, const struct kvm_debugregs *d);

#endif
