/*
 * boot64.h: how a 64-bit guest kernel starts and what it knows about its machine.
 * boot64.S is the multiboot v1 entry (32-bit protected mode, paging off): early 4-level
 * tables identity-mapping and higher-half-mapping the first GiB with 2 MiB pages,
 * CR4.PAE, EFER.LME, CR0.PG, a far jump to 64-bit code, then kmain() on the boot stack
 * in the higher half. The kernel is linked at KERNBASE + its physical address, so every
 * physical address below 1 GiB is reachable at KERNBASE + pa (the kernel's own final
 * tables, mm.c, keep that direct map and drop the identity map).
 */
#ifndef GUEST64_BOOT64_H
#define GUEST64_BOOT64_H

#include "x64.h"

#define KERNBASE 0xffffffff80000000ul
#define DIRECT_MAP_LIMIT (1ul << 30) /* the direct map covers physical [0, 1 GiB) */

static inline void *p2v(u64 pa) { return (void *)(pa + KERNBASE); }
static inline u64 v2p(const void *va) { return (u64)(uintptr_t)va - KERNBASE; }

/* Provided by each guest: called once, in 64-bit mode, with interrupts off. */
void kmain(void) __noreturn;

/* EAX and EBX at the multiboot entry. */
extern u32 boot64__magic, boot64__mbi;
/* Linker symbols (kernel64.ld). */
extern char __kernel_end[], __utext_start[], __utext_end[];

/* The end of RAM from the multiboot memory fields, capped at DIRECT_MAP_LIMIT. */
u64 boot64__ram_top(void);
/* The first physical address past the kernel image, the multiboot information and the
 * command line: where free memory starts. */
u64 boot64__reserved_end(void);
/* The multiboot command line ("" without one). */
const char *boot64__cmdline(void);
/* The decimal value of "key=N" in the multiboot command line, or `dflt`. */
u64 boot64__cmdline_u64(const char *key, u64 dflt);
/* Whether `word` is a whole word of the multiboot command line. */
bool boot64__cmdline_has(const char *word);

#endif
