/*
 * pgcheck.h: the oracle and the check helpers of the paging test guests.
 * pgcheck__expect is SDM vol. 3 4.6 (access rights), 4.7 (#PF error code) and the
 * reserved bits of tables 4-4..4-20 written as code: what one access through given
 * paging-structure entries does, so that guests compute their expected results instead
 * of copying them from a run. The checks wrap paging__access (paging.h) with the report
 * protocol of test.h.
 */
#ifndef GUEST_PGCHECK_H
#define GUEST_PGCHECK_H

#include "paging.h"
#include "types.h"

/* The state the rules depend on; the guest keeps it in step with the CPU. */
struct pg_rules {
	enum paging_mode mode;
	bool wp;  /* CR0.WP */
	bool nxe; /* EFER.NXE */
	bool pse; /* CR4.PSE (32-bit paging; PAE and 4-level always honour PS) */
	bool pse36, has_1g;
	u32 maxphy;
};

struct pg_outcome {
	bool fault;
	u32 error; /* the #PF error code if fault */
};

/* CPUID facts for `mode`; wp, nxe false, pse as the CPU supports it. */
void pgcheck__init(struct pg_rules *r, enum paging_mode mode);
/* The bits any #PF of this access reports: W/R, U/S, and I/D (fetches with CR4.PAE=1
 * and EFER.NXE=1; CR4.SMEP is never set by these guests). */
u32 pgcheck__error(const struct pg_rules *r, int op, int cpl);
/* Reserved bits of the present entry `e` at `level` (PAE PDPTEs: see the .c). */
u64 pgcheck__rsvd_bits(const struct pg_rules *r, u64 e, int level);
/* Whether `e` at `level` maps a page (level 1, or PS honoured at levels 2-3). */
bool pgcheck__is_leaf(const struct pg_rules *r, u64 e, int level);
/* The access through val[top] .. val[leaf] (indexed by level). */
struct pg_outcome pgcheck__expect(const struct pg_rules *r, const u64 *val, int leaf, int op,
				  int cpl);
/*
 * Error codes compare equal, except one QEMU TCG deviation: it reports reserved-bit
 * faults with P=0 where SDM 4.7 has P=1. On TCG alone that bit is not compared (the
 * guest prints a "# skip" line for it with pgcheck__note_tcg).
 */
bool pgcheck__error_ok(u32 got, u32 want);
void pgcheck__note_tcg(void);

/* One access at exactly `va` (paging__access). */
struct pg_access pgcheck__access(int op, int cpl, u64 va, u64 value);
/* A check: the access does not fault, and a read returns (a fetch's code returns)
 * `want` in its low 32 bits; a write stores `want`. */
bool pgcheck__ok(int op, int cpl, u64 va, u32 want, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A check: exactly one #PF with `error`, CR2 = va, and the saved RIP at the accessing
 * instruction (data) or at va (fetch). */
bool pgcheck__pf(int op, int cpl, u64 va, u32 error, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
