/*
 * lmode.h: IA-32e mode for guests that boot in 32-bit protected mode (SDM vol. 3 9.8.5).
 * The guests' C code is built -m32, so after lmode__enter it keeps running in
 * compatibility mode; 64-bit code is assembly (.code64) reached with lmode__call64, a far
 * call to a 64-bit code segment. In IA-32e mode every exception goes through a 64-bit
 * IDT whose stubs (lmode.S) feed the recovery of trap.h: TRAP_TRY, trap__arm, trap__last
 * and trap__expect work unchanged (also from 64-bit code that arms trap__resume), the
 * full-width RIP/RSP/CR2 land in lmode__last; trap__set_handler handlers are not called.
 * A trap nobody armed for ends the run as failed, as in trap.c.
 *
 * GDT slots taken: 6 (64-bit kernel code), 7 (64-bit user code), 8-9 (64-bit TSS).
 */
#ifndef GUEST_LMODE_H
#define GUEST_LMODE_H

#include "types.h"

#define SEL_KCODE64 0x30
#define SEL_UCODE64 0x3b
#define SEL_TSS64 0x40
#define LMODE_EXIT_VECTOR 0xfd /* DPL3 gate: ring-3 code of lmode_user64 returns with it */

/* The last trap taken in IA-32e mode, full width (trap__last has the low halves). */
struct lmode_trap {
	u64 rip, rsp, rflags, cr2;
	u32 vector, error, cs, ss;
};
extern volatile struct lmode_trap lmode__last;

/* CPUID.80000001H:EDX.LM. */
bool lmode__supported(void);
/*
 * From 32-bit protected mode with paging off: GDT slots and the 64-bit IDT and TSS,
 * CR4.PAE, CR3 = pml4 (the caller's 4-level tables must identity-map this code, its
 * data and stacks), EFER.LME, CR0.PG; then a far call to 64-bit code that reloads IDTR
 * and TR with 64-bit operands. Returns in compatibility mode.
 */
void lmode__enter(u32 pml4);
bool lmode__active(void);
/*
 * Far call from compatibility mode to `fn`, 64-bit code taking its argument in RDI and
 * returning in EAX (System V). `fn` may call lmode_user64 (lmode.S) to run code in 64-bit
 * ring 3 on lmode__user_stack_top: RDI = ring-3 entry, every other register but RAX and
 * RSP passes through unchanged, the ring-3 code leaves with "int $LMODE_EXIT_VECTOR" and
 * its RAX is returned (callee-saved registers restored).
 */
u32 lmode__call64(const void *fn, u32 arg);
extern char lmode__user_stack_top[];

#endif
