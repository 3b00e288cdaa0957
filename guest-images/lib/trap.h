/*
 * trap.h: exception and interrupt handling for tests. Every vector enters
 * trap__dispatch with a struct trap_frame. A vector with a handler installed by
 * trap__set_handler goes to it (it may edit the frame). Otherwise, if a test armed a
 * recovery address (TRAP_TRY), the trap is recorded in trap__last and execution
 * resumes at that address in the interrupted ring (TF cleared; CS forced to the
 * kernel's after #DF, whose saved CS:EIP are undefined). Anything else is reported
 * as an unexpected trap and ends the test run as failed. Works from ring 3 too.
 *
 *	trap__arm();
 *	asm volatile(TRAP_TRY("movw %w0, %%ds") : : "r"(sel) : "memory");
 *	trap__expect(13, sel, "load DS with selector beyond the GDT limit");
 */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include "types.h"

#define TRAP_NONE 0xffffffffu  /* trap__last.vector when nothing was caught */
#define TRAP_NOERR 0xffffffffu /* trap__expect: vector has no error code */

#define VEC_DE 0
#define VEC_DB 1
#define VEC_BP 3
#define VEC_OF 4
#define VEC_BR 5
#define VEC_UD 6
#define VEC_NM 7
#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14

/* Layout pushed by entry.S (lowest address first). */
struct trap_frame {
	u32 gs, fs, es, ds;
	u32 edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
	u32 vector, error;
	u32 eip, cs, eflags;
	u32 user_esp, user_ss; /* only when the trap changed privilege (cs & 3 != 0) */
};

/* What the recovery path saw. esp/ss are the interrupted context's stack. */
struct trap_record {
	u32 vector, error;
	u32 eip, cs, eflags, esp, ss;
	u32 cr2;
	u32 handler_eflags; /* EFLAGS inside the handler (IF shows the gate type) */
	u32 handler_esp;    /* address of the frame: where the CPU put the stack */
	u32 count;          /* traps recorded since trap__arm */
};

typedef void (*trap_handler_fn)(struct trap_frame *f);

extern volatile u32 trap__resume; /* nonzero: resume address for the next trap */
extern volatile u32 trap__insn;   /* address of the instruction under TRAP_TRY */
extern volatile u32 trap__end;    /* just after it: the EIP a trap-class event pushes */
extern volatile struct trap_record trap__last;

/*
 * TRAP_TRY(insn): asm text (for extended asm only) that arms recovery at the end of
 * `insn` (one or more instructions; use %% for registers), records the address of its
 * first instruction in trap__insn, and disarms afterwards. A fault reports
 * EIP == trap__insn, a trap (INT n, INT3, INTO) EIP == trap__end. Its own stores use
 * SS, so `insn` may leave DS null or odd (restore it right after, still in the asm).
 */
#define TRAP_TRY(insn)                                                         \
	"movl $8002f, %%ss:trap__resume\n\t"                                   \
	"movl $8002f, %%ss:trap__end\n\t"                                      \
	"movl $8001f, %%ss:trap__insn\n"                                       \
	"8001:\n\t" insn "\n"                                                  \
	"8002:\n\t"                                                            \
	"movl $0, %%ss:trap__resume\n\t"

void trap__set_handler(int vec, trap_handler_fn fn);
void trap__arm(void);
void trap__record(const struct trap_frame *f);
u32 trap__count(int vec);
/* ESP of the interrupted context (pushed by the CPU only on a privilege change). */
u32 trap__frame_esp(const struct trap_frame *f);
const char *trap__name(u32 vector);
/* One check: the last TRAP_TRY caught exactly one `vector` with `error` (or TRAP_NOERR),
 * or nothing at all if vector == TRAP_NONE. */
bool trap__expect(u32 vector, u32 error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
