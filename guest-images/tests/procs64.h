/*
 * procs64.h: what the procs64 kernel (procs64.c, procs64-bench.c) and its ring-3
 * programs (procs64-user.S) agree on: report keys for SYS_REPORT, the values the fork
 * program writes, and the program entry points. Included from C and from assembly.
 */
#ifndef PROCS64_H
#define PROCS64_H

#define R_PID 0   /* the caller's getpid */
#define R_ZERO 1  /* OR of every word of pages never written */
#define R_BAD 2   /* words that did not hold what the program wrote */
#define R_ROUNDS 3
#define R_VALUE 4
#define R_VALUE2 5
#define R_FLAGS_IRET 6   /* RFLAGS seen first, after the kernel's IRETQ */
#define R_FLAGS_SYSRET 7 /* RFLAGS after the first SYSRETQ */

#define FORK_BEFORE 0x1111aaaa /* parent, before the fork */
#define FORK_PARENT 0x2222bbbb /* parent, after it */
#define FORK_CHILD 0x3333cccc  /* child, after it */
#define INVLPG_VALUE 0x1234

#ifndef __ASSEMBLER__
/* Ring-3 programs (.utext), entered with RDI, RSI, RDX as given to proc__create. */
extern char u_isolate[];                   /* (rounds) */
extern char u_write_code[], u_write_code_insn[];
extern char u_read_kernel[];               /* (kernel address) */
extern char u_int80[];
extern char u_fork[];
extern char u_invlpg[];                    /* (data page) */
extern char u_touch[];                     /* (first page, pages) */
extern char u_bench_touch[];               /* (first page, pages) */
extern char u_bench_parent[];              /* (first page, pages) */
#endif

#endif
