/*
 * vcpu.h: one virtual CPU: the KVM vCPU it runs on, the virtual CPU state the guest
 * programmed, the register state of the exit being handled, and its counters.
 */
#ifndef SHADE_VCPU_H
#define SHADE_VCPU_H

#include <capstone/capstone.h>
#include <pthread.h>
#include <time.h>

#include "cpu.h"
#include "stats.h"
#include "vm.h"

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	timer_t deadline_timer;
	uint64_t armed_deadline;

	struct vcpu_virt v;          /* what the guest programmed */
	unsigned iopl;               /* the guest's own IOPL (the real one is compressed) */
	struct gstate g;             /* the exit being handled */
	bool halted;                 /* in HLT, waiting for an interrupt */
	bool virq_in_flight;         /* MON_VEC_VIRQ injected, not yet taken */
	bool shutdown;               /* triple fault */

	csh cs32, cs64;              /* capstone handles */
	struct vcpu_stats stats;
};

int vcpu__init(struct vcpu *vcpu, struct vm *vm, unsigned id);
void vcpu__exit(struct vcpu *vcpu);
/* Set the real and virtual state a multiboot loader leaves: 32-bit, paging off. */
int vcpu__reset_multiboot(struct vcpu *vcpu, uint32_t entry, uint32_t mbi);
void *vcpu__thread(void *arg);
/* Interrupt a vCPU in KVM_RUN or asleep in vcpu__wait (any thread may call it). */
void vcpu__kick(struct vcpu *vcpu);
/* Sleep until a kick, a device deadline or a stop. */
void vcpu__wait(struct vcpu *vcpu);

/* Load vcpu->g from the exit (frame or sync registers) and write it back. */
void vcpu__load_state(struct vcpu *vcpu, bool from_frame);
void vcpu__store_state(struct vcpu *vcpu);
/* Rebuild the real CR0/CR4/EFER from the virtual ones and queue them to KVM. */
void vcpu__sync_control_regs(struct vcpu *vcpu);

#endif
