/*
 * vm.h: struct host (what all VMs of a shade process share: /dev/kvm, machine memory),
 * struct vm (one guest: its memory map, monitor, buses, devices, vCPUs) and their init
 * and teardown. The run loop is in vcpu.c, the exit handler in exit.c.
 */
#ifndef SHADE_VM_H
#define SHADE_VM_H

#include <pthread.h>
#include <stdatomic.h>

#include "bus.h"
#include "clock.h"
#include "console.h"
#include "cpuid.h"
#include "kvm.h"
#include "monitor.h"
#include "pmap.h"
#include "mmu.h"
#include "memsched.h"
#include "pageshare.h"
#include "ptab.h"

#define VM_MAX_MODULES 16
#define VM_MAX_VCPUS 1

struct host {
	struct kvm_sys kvm;
	struct pool pool;
	struct share_table share;     /* content-based page sharing across all VMs */
	struct memsched ms;           /* allocation, idle tax, swapping (off unless started) */
};

struct vm_config {
	const char *name;
	const char *kernel;
	const char *cmdline;
	const char *modules[VM_MAX_MODULES];
	unsigned nmodules;
	uint64_t mem_bytes;
	bool baseline;          /* run the guest at real CPL0, no deprivileging */
	bool stats;
	bool trace;             /* log every trap and exit to stderr */
	/*
	 * How a trap returns to the guest: through the monitor's IRETQ (no register
	 * write-back beyond the frame), or directly by writing the guest state into KVM's
	 * sync registers. Some nested KVM backends do not restore IOPL on an IRETQ to
	 * compatibility-mode CPL 1, so direct is the default.
	 */
	bool resume_iret;
	unsigned shadow_max;    /* cap on shadow page-table pages (LRU reclaim beyond) */
	bool audit;             /* check the shadow MMU's invariants after every operation */
	uint64_t share_rate;    /* page-sharing scan rate, pages per second (0: off) */
	uint64_t balloon_target;  /* bytes the balloon is asked to hold from the start */
	bool no_balloon;        /* no virtio-balloon device (a guest without a driver) */
	uint64_t min_bytes;     /* guaranteed machine memory (memsched) */
	uint64_t shares;        /* proportional-share entitlement (memsched) */
	unsigned index;         /* the VM's number in its host (seeds its scan order) */
	int console_in;         /* fd the COM1 input comes from, -1 for none */
	int console_out;        /* fd COM1 output goes to, -1 for none */
	int console_log;        /* fd that also gets COM1 output, -1 for none */
	bool console_prefix;    /* console_out gets whole lines, "[name] " first */
	pthread_mutex_t *term_lock;  /* shared by the VMs of a host (NULL: a default) */
};

struct devices;
struct vcpu;

struct vm {
	struct host *host;
	struct vm_config cfg;
	int fd;
	struct pmap pmap;
	struct monitor mon;
	struct ptab physmap;          /* real tables while the guest has paging off */
	struct mmu mmu;               /* shadow tables while it has paging on */
	struct share_vm share;        /* this VM's side of page sharing */
	struct memsched_vm ms;        /* its working set, targets and swapping */
	struct bus pio, mmio;
	struct timer_queue timers;
	struct vclock clock;
	struct devices *dev;
	struct console console;       /* where COM1 output goes */
	struct cpuid_table cpuid;
	struct vcpu *vcpu[VM_MAX_VCPUS];
	unsigned nvcpus;
	uint64_t entry;               /* guest entry point (32-bit, paging off) */
	uint64_t mbi;                 /* multiboot information address */
	bool backend_stale;           /* the KVM backend's own shadows lag shade's tables */
	uint64_t audit_ops;           /* shadow operations audited (--audit) */

	/* how the VM ended */
	atomic_bool stop;
	int exit_status;
	char stop_reason[256];
};

int host__init(struct host *h, uint64_t machine_bytes);
void host__exit(struct host *h);

int vm__init(struct vm *vm, struct host *h, const struct vm_config *cfg);
void vm__exit(struct vm *vm);
/* Run every vCPU until the guest stops; returns the exit status for the process. */
int vm__run(struct vm *vm);
/* The two halves of vm__run, for a host running several VMs at once. */
void vm__start(struct vm *vm);
int vm__wait(struct vm *vm);
/* Stop the VM with a status and a one-line reason (first caller wins). */
void vm__stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Remove every mapping of PPN g from the VM's real tables (shadow leaves through the
 * reverse map, or the physmap entry); true if a present one went (the caller flushes). */
bool vm__unmap_gfn(struct vm *vm, gfn_t g);
/* Wake vCPUs because an interrupt may have become deliverable. */
void vm__kick(struct vm *vm);

#endif
