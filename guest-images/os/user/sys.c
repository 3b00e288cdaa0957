/*
 * sys.c: one C wrapper per system call (common/abi.h has the numbers), over the
 * SYSCALL stub of crt0.S.
 */
#include "lib.h"

void exit(int status)
{
	syscall3(SYS_EXIT, status, 0, 0);
	for (;;)
		;
}

int fork(void) { return (int)syscall3(SYS_FORK, 0, 0, 0); }
int exec(const char *path, char *const argv[]) { return (int)syscall3(SYS_EXEC, (long)path, (long)argv, 0); }
int wait(int *status) { return (int)syscall3(SYS_WAIT, (long)status, 0, 0); }
void *mmap(size_t len) { return (void *)syscall3(SYS_MMAP, (long)len, 0, 0); }
int munmap(void *addr, size_t len) { return (int)syscall3(SYS_MUNMAP, (long)addr, (long)len, 0); }
long read(int fd, void *buf, size_t n) { return syscall3(SYS_READ, fd, (long)buf, (long)n); }
long write(int fd, const void *buf, size_t n) { return syscall3(SYS_WRITE, fd, (long)buf, (long)n); }
int open(const char *path) { return (int)syscall3(SYS_OPEN, (long)path, 0, 0); }
int close(int fd) { return (int)syscall3(SYS_CLOSE, fd, 0, 0); }
long fsize(int fd) { return syscall3(SYS_FSTAT, fd, 0, 0); }
int getpid(void) { return (int)syscall3(SYS_GETPID, 0, 0, 0); }
void sleep_ms(unsigned long ms) { syscall3(SYS_SLEEP, (long)ms, 0, 0); }
unsigned long uptime_us(void) { return (unsigned long)syscall3(SYS_UPTIME, 0, 0, 0); }
unsigned long uptime_ms(void) { return uptime_us() / 1000; }
void yield(void) { syscall3(SYS_YIELD, 0, 0, 0); }

long meminfo(struct meminfo *mi, struct procinfo *procs, long max)
{
	return syscall3(SYS_MEMINFO, (long)mi, (long)procs, max);
}

int balloon(struct balloon_info *bi) { return (int)syscall3(SYS_BALLOON, (long)bi, 0, 0); }

void shutdown(int code)
{
	syscall3(SYS_SHUTDOWN, code, 0, 0);
	for (;;)
		;
}

void *sbrk(long incr)
{
	long old = syscall3(SYS_BRK, 0, 0, 0);
	if (!incr)
		return (void *)old;
	long now = syscall3(SYS_BRK, old + incr, 0, 0);
	return now == old + incr ? (void *)old : (void *)-E_NOMEM;
}
