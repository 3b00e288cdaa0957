/*
 * user.h: running a function in ring 3. user__run IRETs to ring 3 on user__stack
 * with the given EFLAGS (choose IF and IOPL), loads the user data selectors, calls
 * fn(arg), and returns its result to ring 0 through INT USER_EXIT_VECTOR (a DPL3
 * interrupt gate whose stub restores the caller's ring-0 context).
 * Ring-3 code may not print (port I/O faults); it stores results for ring 0.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

#include "types.h"

#define USER_EXIT_VECTOR 0xfd

typedef u32 (*user_fn)(u32 arg);

/* tss__init plus the exit gate. */
void user__init(void);
u32 user__run(user_fn fn, u32 arg, u32 eflags);
/* DS as found by the first ring-3 instruction (after IRET from ring 0 with DS=0x10). */
extern u32 user__entry_ds;
extern char user__stack_top[];

#endif
