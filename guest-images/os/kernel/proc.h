/*
 * proc.h: processes: the table, each process's address space, memory areas, open
 * files and scheduling state (proc.c: life cycle; sched.c: who runs; fault.c: areas
 * and page faults; file.c: descriptors; exec.c: program loading).
 */
#ifndef OS_PROC_H
#define OS_PROC_H
#include <stdint.h>
#include "vm.h"
#include "trap.h"

#define NPROC 64
#define NVMA 32
#define NFD 16
#define KSTACK_SIZE 16384
#define ARG_MAX 128		/* exec arguments */
#define ARG_BYTES 4096

enum proc_state { P_FREE, P_EMBRYO, P_READY, P_RUNNING, P_SLEEPING, P_WAITING, P_ZOMBIE };

#define VMA_R 0x1
#define VMA_W 0x2
#define VMA_X 0x4
#define VMA_FILE 0x8		/* contents come from an initial file (through the page cache) */
#define VMA_USED 0x80

struct vma {
	uint64_t start, end;	/* page-aligned */
	uint32_t flags;
	int file;		/* VMA_FILE: initrd file index */
	uint64_t foff;		/* file offset of start */
	uint64_t fsize;		/* bytes of file content from start; the rest reads zero */
};

struct fd {
	int kind;		/* FD_NONE, FD_CONSOLE, FD_FILE */
	int file;
	uint64_t off;
};
enum { FD_NONE, FD_CONSOLE, FD_FILE };

struct proc {
	enum proc_state state;
	int pid;
	struct proc *parent;
	int exit_status;
	char name[16];
	uint64_t ksp;		/* saved kernel stack pointer (swtch) */
	uint8_t *kstack;
	struct trapframe *tf;	/* the user state, at the top of kstack */
	struct aspace as;
	struct vma vma[NVMA];
	uint64_t brk_start, brk;
	uint64_t mmap_next;
	struct fd fd[NFD];
	uint64_t wake_tick;	/* P_SLEEPING */
	bool kthread;		/* a kernel thread: not a process meminfo lists */
};

extern struct proc procs[NPROC];

struct proc *proc__current(void);
struct proc *proc__alloc(void);		/* P_EMBRYO, pid set, kernel stack ready */
void proc__free(struct proc *p);
int proc__fork(struct trapframe *tf);
__attribute__((noreturn)) void proc__exit(int status);
int proc__wait(int *status_out);	/* kernel pointer */
/* The first process, loaded and ready; sched__run_first starts it. */
struct proc *proc__create_init(const char *path, char *const argv[]);
/* A kernel thread: runs fn(arg) in kernel mode on the kernel's page tables, with
 * interrupts on; fn never returns. NULL without a free slot. */
struct proc *proc__kthread(const char *name, void (*fn)(void *), void *arg);

/* sched.c */
void sched__calibrate(void);		/* boot: measures the TSC rate (~100 ms) */
void sched__tick(void);			/* timer interrupt */
void sched__yield(void);		/* current gives up the CPU (stays ready) */
void sched__block(void);		/* current (already marked not ready) gives up the CPU */
void sched__run_first(struct proc *p) __attribute__((noreturn));
void sched__wake(struct proc *p);
void sched__sleep_ms(uint64_t ms);
uint64_t sched__ticks(void);
uint64_t sched__uptime_us(void);
extern volatile int sched_need_resched;

/* fault.c */
struct vma *vma__find(struct proc *p, uint64_t va);
int vma__add(struct proc *p, uint64_t start, uint64_t end, uint32_t flags, int file,
	     uint64_t foff, uint64_t fsize);
int vma__remove(struct proc *p, uint64_t start, uint64_t end);
void vma__clear(struct proc *p);
int fault__handle(struct proc *p, uint64_t va, bool write, bool hw);
uint64_t fault__count(void);		/* faults handled (hardware and software) */
int copy_to_user(struct proc *p, uint64_t uva, const void *src, uint64_t n);
int copy_from_user(struct proc *p, void *dst, uint64_t uva, uint64_t n);
int copy_str_from_user(struct proc *p, char *dst, uint64_t uva, uint64_t max);

/* exec.c */
int exec__load(struct proc *p, const char *path, char *const argv[], int argc);

/* file.c */
void file__init_fds(struct proc *p);
void file__fork_fds(struct proc *dst, struct proc *src);
long file__open(struct proc *p, const char *path);
long file__close(struct proc *p, int fd);
long file__read(struct proc *p, int fd, uint64_t ubuf, uint64_t n);
long file__write(struct proc *p, int fd, uint64_t ubuf, uint64_t n);
long file__size(struct proc *p, int fd);

#endif
