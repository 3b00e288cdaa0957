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

struct ucctx;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	timer_t deadline_timer;
	uint64_t armed_deadline;
	uint64_t ms_cpu_ns;          /* thread CPU time at the last memsched tick */

	struct vcpu_virt v;          /* what the guest programmed */
	unsigned iopl;               /* the guest's own IOPL (the real one is compressed) */
	uint64_t pdpte[4];           /* PAE PDPTEs loaded by the last CR3 load */
	int paging_mode;             /* enum paging_mode the shadow was built for */
	struct gstate g;             /* the exit being handled */
	/* CS/SS as the real CPU holds them (last seen or loaded): a trap frame holds only
	 * the selectors (see desc_to_seg in vcpu.c). Where that differs from the real
	 * table's entry for the selector, the entry is hidden (made not present) until the
	 * next write-back, so the CPU cannot load it natively (seg__hide_stale). */
	struct kvm_segment last_cs, last_ss;
	struct { uint64_t *entry, orig; } hidden[2];
	bool halted;                 /* in HLT, waiting for an interrupt */
	bool virq_in_flight;         /* MON_VEC_VIRQ injected, not yet taken */
	bool guest_if;               /* the guest's IF as of the last exit */
	bool shutdown;               /* triple fault */
	/* NMI blocking, from an NMI's delivery until its handler returns (judged by the
	 * stack, see exit.c); nmi_frame is the stack pointer the delivery left. */
	bool nmi_blocked;
	uint64_t nmi_frame;
	uint64_t poll_ns;            /* an event waits on the guest: leave KVM_RUN within this (0: no) */

	/* A TLB flush the monitor must run before the guest resumes (-1: all). */
	bool flush_pending;
	uint64_t flush_va;

	/* A write to a traced descriptor-table page, single-stepped with TF. */
	struct {
		bool active, guest_tf;
		gfn_t gfn;
		uint64_t lin;        /* the written linear address */
	} step;
	/* The guest frames the GDT and LDT are traced in (seg.c): 64 KiB of table. */
#define TRACE_PAGES 17
	struct traced_range { gfn_t gfn[TRACE_PAGES]; unsigned n; } traced_gdt, traced_ldt;

	csh cs32, cs64;              /* capstone handles */
	struct ucctx *uc, *uc64;     /* unicorn engines (32-, 64-bit code) for software steps */
	struct vcpu_stats stats;
};

int vcpu__init(struct vcpu *vcpu, struct vm *vm, unsigned id);
void vcpu__exit(struct vcpu *vcpu);
/* Set the real and virtual state a multiboot loader leaves: 32-bit, paging off. */
int vcpu__reset_multiboot(struct vcpu *vcpu, uint32_t entry, uint32_t mbi);
void *vcpu__thread(void *arg);
/* Install the kick signal's handler and block it in the calling thread, before any
 * vCPU or I/O thread is created (they inherit the mask, so an early kick cannot kill the
 * process). */
void vcpu__signals_init(void);
/* Interrupt a vCPU in KVM_RUN or asleep in vcpu__wait (any thread may call it). */
void vcpu__kick(struct vcpu *vcpu);
/* Sleep until a kick, a device deadline or a stop. */
void vcpu__wait(struct vcpu *vcpu);
/* The guest executed HLT: sleep until the interrupt controller has an interrupt for it
 * (or stop the VM, status 0, if the guest halted with interrupts off). */
void vcpu__halt(struct vcpu *vcpu, bool guest_if);

/* Load vcpu->g from the exit (frame or sync registers) and write it back. Loading from
 * the frame fails (-EFAULT) when the trap's RSP is not on one of the monitor's stacks. */
int vcpu__load_state(struct vcpu *vcpu, bool from_frame);
void vcpu__store_state(struct vcpu *vcpu);
/* Ask for the real TLB entry of `va` (or all non-global entries, va = -1) to be flushed
 * before the guest runs again: needed after a present shadow entry is downgraded. */
void vcpu__queue_flush(struct vcpu *vcpu, uint64_t va);
/* Flush the vCPU's TLB before it runs again, outside a trap (e.g. in an I/O exit). */
void vcpu__flush_now(struct vcpu *vcpu);
/* Rebuild the real CR0/CR4/EFER from the virtual ones and queue them to KVM. */
void vcpu__sync_control_regs(struct vcpu *vcpu);

#endif
