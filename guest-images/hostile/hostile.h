/*
 * hostile.h: the hostile guest's shared state. The guest ("hostile", built from this
 * directory) takes seed=N on its multiboot command line and runs rounds of hostile
 * operations from a fresh state each: random code at CPL0 and CPL3, random page
 * tables, random descriptor tables, random MSRs, random port I/O on every device, and
 * malformed virtqueues for the balloon. Every exception comes back through hx__bail to
 * the round loop (hostile.c), so one round's damage never leaks into the next; a
 * round that kills the guest (a triple fault a real CPU would give) ends the run.
 *
 * Memory (guest-physical = linear, identity-mapped 0..HX_MAPPED):
 *   1 MiB     the kernel image (lib/guest.ld), supervisor only
 *   8 MiB     HX_CODE: the page random code runs from (user), then a not-present
 *             guard page, then HX_DATA..HX_STACK: user data and stacks
 *   9 MiB     HX_VQ: virtqueue rings and buffers handed to the balloon
 *   10 MiB    HX_BALLOON_PFN..: pages the balloon may be given
 *   12 MiB    HX_SCRATCH..HX_MAPPED: pages random page tables may map writable
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include "paging.h"
#include "types.h"

#define HX_CODE 0x800000u
#define HX_GUARD 0x801000u
#define HX_DATA 0x802000u
#define HX_STACK 0x80f000u   /* top of the random code's stack (user, writable) */
#define HX_VQ 0x900000u
#define HX_BALLOON_PFN 0xa00u
#define HX_BALLOON_PAGES 0x200u
#define HX_SCRATCH 0xc00000u
#define HX_MAPPED 0x1000000u /* 16 MiB: what every round's page tables identity-map */

/* hx__try's results besides 0 (the function returned): vector + 1, or these. */
#define HX_TIMEOUT 0x1000u

/* Registers random code starts with (hx-run.S knows this layout). */
struct hx_regs {
	u32 eax, ecx, edx, ebx, esp, ebp, esi, edi, eip, eflags;
};

/* What the last bail saw. */
struct hx_fault {
	u32 vector, error, eip, cs, cr2;
};

struct hx_state {
	u64 rng;
	u32 round;
	u32 ram_end;          /* first byte past guest RAM (multiboot mem_upper) */
	u16 balloon_io;       /* the balloon's I/O BAR, 0: none found */
	u8 balloon_devfn;
	bool has_pse, has_efer, has_pge;
	u32 cr0, cr4;         /* at boot, plus what every round adds */
	volatile u32 depth;   /* inside hx__try */
	volatile u32 ticks, tick_limit;
	struct hx_fault last;
	u32 faults, timeouts; /* over the whole run */
};

extern struct hx_state hx;
extern struct pt_pool hx__pool;   /* page-table pages of this round */
extern struct paging hx__as;      /* this round's identity map (hx__build_tables) */

/* PRNG (xorshift64*), reseeded per round from the seed and the round number. */
u32 hx__rand(void);
u32 hx__below(u32 n);        /* uniform in [0, n) */
bool hx__chance(u32 one_in); /* true with probability 1/one_in */
u32 hx__pick(const u32 *v, u32 n);
void hx__fill(void *p, u32 bytes);

/* Runs fn(arg) with recovery armed: 0 if it returned, else HX_TIMEOUT or vector + 1
 * (details in hx.last). Interrupts stay off unless the code run turns them on. */
u32 hx__try(void (*fn)(u32), u32 arg);
u32 hx__asm_try(void (*fn)(u32), u32 arg);
void hx__bail(u32 code) __noreturn;
/* Start running at r->eip with r's registers, at CPL 0 (IF on: the watchdog) or 3.
 * Never return: the code ends by an exception or the watchdog. */
void hx__jump_kernel(const struct hx_regs *r) __noreturn;
void hx__jump_user(const struct hx_regs *r) __noreturn;
void hx__reload_segments(void);

/* Run r at `cpl` under hx__try with the watchdog at `ticks` timer periods. */
u32 hx__run(const struct hx_regs *r, u32 cpl, u32 ticks);
/* Random registers pointing into the user data area, EIP = HX_CODE + eip_off. */
void hx__random_regs(struct hx_regs *r, u32 eip_off, u32 cpl);
/* One line, "    -> <what happened>", for a hx__try result (0: done). Every operation
 * prints what it is about to do first, so a run that dies names its killer. */
void hx__report(u32 result);
const char *hx__result_name(u32 result);
/* The page tables of a fresh round (identity map, user sandbox, guard page). */
u32 hx__build_tables(void);
void hx__reset_devices(void);

/* The kinds of round (hx-*.c); each prints what it does. */
void hx__round_code(void);
void hx__round_pt(bool out_of_ram);
void hx__round_desc(void);
void hx__round_msr(void);
void hx__round_io(void);
void hx__round_vq(void);
/* PCI config access and the balloon (hx-vq.c). */
u32 hx__pci_read(u32 devfn, u32 off);
void hx__pci_write(u32 devfn, u32 off, u32 v);
void hx__balloon_find(void);

#endif
