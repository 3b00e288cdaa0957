/*
 * abi.h: the system-call interface shared by the kernel (kernel/syscall.c) and the user
 * library (user/sys.c): call numbers, the struct layouts that cross the boundary and
 * the error numbers. Calls use SYSCALL: number in RAX, arguments in RDI, RSI, RDX,
 * R10, R8, R9, result in RAX (a negative value is -errno).
 */
#ifndef OS_ABI_H
#define OS_ABI_H

#define SYS_EXIT 1      /* exit(status): never returns */
#define SYS_FORK 2      /* fork(): child pid in the parent, 0 in the child */
#define SYS_EXEC 3      /* exec(path, argv): only returns on failure */
#define SYS_WAIT 4      /* wait(&status): pid of a reaped child, -ECHILD if none */
#define SYS_BRK 5       /* brk(addr): new break (0 queries it) */
#define SYS_MMAP 6      /* mmap(len): anonymous, read/write, demand-zero memory */
#define SYS_MUNMAP 7    /* munmap(addr, len) */
#define SYS_READ 8      /* read(fd, buf, n) */
#define SYS_WRITE 9     /* write(fd, buf, n) */
#define SYS_OPEN 10     /* open(path): read-only files of the initial file system */
#define SYS_CLOSE 11    /* close(fd) */
#define SYS_GETPID 12   /* getpid() */
#define SYS_SLEEP 13    /* sleep(ms): at timer-tick resolution */
#define SYS_UPTIME 14   /* uptime(): microseconds since boot (timer ticks, TSC in between) */
#define SYS_MEMINFO 15  /* meminfo(&info, procs, max): number of procs filled */
#define SYS_SHUTDOWN 16 /* shutdown(code): debug-exit port, then halt */
#define SYS_YIELD 17    /* yield() */
#define SYS_FSTAT 18    /* fstat(fd): file size */
#define SYS_BALLOON 19  /* balloon(&info): the balloon device's state, -ENOENT without one */
#define NSYSCALL 20

#define E_PERM 1
#define E_NOENT 2
#define E_SRCH 3
#define E_NOEXEC 8
#define E_BADF 9
#define E_CHILD 10
#define E_AGAIN 11
#define E_NOMEM 12
#define E_FAULT 14
#define E_INVAL 22
#define E_MFILE 24
#define E_NOSYS 38

/* Exit status of a process killed by the kernel (bad access, out of memory). */
#define STATUS_KILLED 139

struct meminfo {
	unsigned long page_size;
	unsigned long total_pages;      /* usable RAM pages handed to the allocator */
	unsigned long free_pages;       /* on the free list, all zero (zeroed on free) */
	unsigned long used_pages;       /* total - free */
	unsigned long pagecache_pages;  /* file contents kept in memory */
	unsigned long kernel_pages;     /* kernel image, tables, initial file system */
	unsigned long nproc;            /* live processes (not yet reaped; no kernel threads) */
	unsigned long balloon_pages;    /* lent to the host through the balloon device */
	unsigned long balloon_device;   /* 1 if there is a balloon device */
};

struct balloon_info {
	unsigned long target_pages;     /* the device's num_pages: what the host asks for */
	unsigned long actual_pages;     /* the device's actual: what the driver reported */
	unsigned long pages;            /* pages the driver holds in the balloon */
	unsigned long features;         /* negotiated virtio feature bits */
	unsigned long stats_updates;    /* statistics buffers handed to the device */
	unsigned long oom_pages;        /* deflated because an allocation found no memory */
};

struct procinfo {
	long pid;
	long ppid;
	unsigned long resident_pages;   /* user pages mapped (shared ones in each) */
	unsigned long pt_pages;         /* page-table pages of its address space */
	char state;                     /* R running/ready, S sleeping, W waiting, Z zombie */
	char name[15];
};

#endif
