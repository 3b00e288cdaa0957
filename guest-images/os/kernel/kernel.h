/*
 * kernel.h: what every kernel file needs: the address-space layout, physical <->
 * virtual conversion through the direct map, the console and panic.
 *
 * Virtual layout (4-level paging, 48-bit addresses):
 *   0x0000000000400000..   user programs (static ELF64), heap (brk) after them
 *   0x0000001000000000..   user mmap area (anonymous, demand-zero)
 *   0x00007ffffff00000..   user stack, top at USER_STACK_TOP
 *   0xffff800000000000     PML4 slot 256: never mapped (left to hypervisors)
 *   0xffff888000000000     direct map of all physical memory (PML4 slot 273)
 *   0xffffffff80000000     the kernel image (PML4 slot 511), phys 0 + KERNEL_VMA
 */
#ifndef OS_KERNEL_H
#define OS_KERNEL_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "../common/string.h"

#define PAGE_SIZE 4096UL
#define PAGE_SHIFT 12
#define KERNEL_VMA 0xffffffff80000000UL
#define DMAP_BASE 0xffff888000000000UL
#define USER_TOP 0x0000800000000000UL
#define USER_STACK_TOP 0x00007ffffffff000UL
#define USER_STACK_PAGES 256        /* 1 MiB of demand-zero stack */
#define USER_MMAP_BASE 0x0000001000000000UL

#define PAGE_ROUND_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(x) ((x) & ~(PAGE_SIZE - 1))

static inline void *p2v(uint64_t pa) { return (void *)(pa + DMAP_BASE); }
static inline uint64_t v2p(const void *va)
{
	uint64_t v = (uint64_t)va;
	return v >= KERNEL_VMA ? v - KERNEL_VMA : v - DMAP_BASE;
}

/* console.c */
void console__init(void);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console__write(const char *s, size_t n);
int console__read(char *buf, size_t n);
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void kernel__shutdown(int code);

#define ASSERT(c) do { if (!(c)) panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__); } while (0)

#endif
