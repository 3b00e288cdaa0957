/*
 * lib.h: the user library ("libc-lite"): system calls (sys.c), console output
 * (printf.c), argument parsing, random numbers and timing (util.c), and the string
 * functions of common/string.h.
 */
#ifndef OS_LIB_H
#define OS_LIB_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "../common/abi.h"
#include "../common/string.h"

long syscall3(long nr, long a0, long a1, long a2);

__attribute__((noreturn)) void exit(int status);
int fork(void);
int exec(const char *path, char *const argv[]);
int wait(int *status);
void *sbrk(long incr);
void *mmap(size_t len);		/* anonymous, read/write; (void *)-errno on failure */
int munmap(void *addr, size_t len);
long read(int fd, void *buf, size_t n);
long write(int fd, const void *buf, size_t n);
int open(const char *path);
int close(int fd);
long fsize(int fd);
int getpid(void);
void sleep_ms(unsigned long ms);
unsigned long uptime_us(void);
unsigned long uptime_ms(void);
long meminfo(struct meminfo *mi, struct procinfo *procs, long max);
int balloon(struct balloon_info *bi);	/* -E_NOENT without a balloon device */
__attribute__((noreturn)) void shutdown(int code);
void yield(void);

static inline bool mmap_failed(void *p) { return (long)p < 0 && (long)p > -4096; }

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* util.c */
unsigned long parse_ulong(const char *s, bool *ok);
/* "key=value" argument: the value if arg starts with key=, else NULL. */
const char *arg_value(const char *arg, const char *key);
uint64_t rand_next(uint64_t *state);	/* xorshift64*; state must not be 0 */
uint64_t mix64(uint64_t x);		/* a stateless hash of x */
uint64_t rdtsc(void);

#define MiB (1024UL * 1024UL)
#define PAGE 4096UL

#endif
