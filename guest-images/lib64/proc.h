/*
 * proc.h: ring-3 processes of the 64-bit kernel: one address space each (mm.h) with the
 * kernel's one page of user code (.utext) mapped read-only at USER_CODE_VA in all of
 * them, demand-zero data and stack, a round-robin scheduler that switches CR3 at every
 * yield, and the system calls. Ways into the kernel from ring 3:
 *   SYSCALL            RAX = call number, RDI/RSI = arguments, result in RAX (SYSRETQ)
 *   INT 0x80           the same calls through a DPL-3 gate (IRETQ)
 *   UD2                the same calls as a fault: RAX = call number, resumed after the
 *                      UD2. Valid on every x86 and delivered through the IDT by every
 *                      hypervisor, unlike SYSCALL/INT n from ring 3 under plain KVM on
 *                      nested backends; benchmarks that must run there use only this
 *                      and page faults.
 *   #PF                not-present in the data or stack range: a zeroed frame is mapped
 *                      and the access retried; any other fault kills the process
 * A killed or exited process stays a zombie, with its address space, until proc__reap.
 */
#ifndef GUEST64_PROC_H
#define GUEST64_PROC_H

#include "cpu64.h"

#define USER_CODE_VA 0x400000ul
#define USER_DATA_VA 0x10000000ul /* demand-zero data: [DATA_VA, DATA_END) */
#define USER_DATA_END 0x18000000ul
#define USER_STACK_TOP 0x20000000ul /* demand-zero stack: the MiB below it */
#define USER_STACK_SIZE 0x100000ul

enum sys {
	SYS_EXIT = 1,   /* RDI = exit code */
	SYS_YIELD = 2,  /* to the next runnable process, round robin */
	SYS_GETPID = 3,
	SYS_REPORT = 4, /* RDI = key (< PROC_NREPORT), RSI = value: for the kernel's checks */
	SYS_FORK = 5,   /* a copy of the address space; 0 in the child, its pid in the parent */
	SYS_UNMAP = 6,  /* RDI = a data page to unmap (and free) */
	SYS_STOP = 7,   /* park until the kernel resumes it with proc__resume */
};

#define PROC_NREPORT 8
#define NPROC 16

enum proc_state { PROC_FREE, PROC_RUNNABLE, PROC_STOPPED, PROC_ZOMBIE };

struct proc {
	enum proc_state state;
	u64 pid, pml4;
	struct trapframe tf;       /* the ring-3 state while not running */
	u64 report[PROC_NREPORT];
	u32 reported;              /* bit per key */
	u64 demand_faults;
	u64 exit_code;
	bool killed;               /* by a fault: the trap of the kill follows */
	u64 kill_vector, kill_error, kill_cr2, kill_rip;
};

struct proc_stats {
	u64 cr3_switches, syscalls, int80_calls, ud2_calls, demand_faults;
};
extern struct proc_stats proc__stats;

void proc__init(void);
/* The user VA of `sym`, a label in .utext. */
u64 proc__user_va(const void *sym);
/* A runnable process at `entry` (a .utext label) with RDI, RSI, RDX = a0, a1, a2. */
struct proc *proc__create(const void *entry, u64 a0, u64 a1, u64 a2);
/* Copy of p (address space and registers), runnable, RAX = 0; NULL without memory. */
struct proc *proc__fork(struct proc *p);
/* Run runnable processes until none is left; returns with the kernel's CR3. */
void proc__run(void);
/* The process with this pid, in any state but free; NULL if none. */
struct proc *proc__find(u64 pid);
/* Make a stopped process runnable again. */
void proc__resume(struct proc *p);
/* Free a zombie (or stopped) process and its address space. */
void proc__reap(struct proc *p);

#endif
