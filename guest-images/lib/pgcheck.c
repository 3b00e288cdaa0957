/* pgcheck.c: the SDM paging rules as code, and single-access checks (pgcheck.h). */
#include "pgcheck.h"
#include "cpu.h"
#include "printf.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

static u64 bits(u32 lo, u32 hi)
{
	if (hi < lo)
		return 0;
	return (hi == 63 ? ~0ull : (2ull << hi) - 1) & ~((1ull << lo) - 1);
}

static bool pae_pdpte(const struct pg_rules *r, int level)
{
	return r->mode == PAGING_PAE && level == 3;
}

void pgcheck__init(struct pg_rules *r, enum paging_mode mode)
{
	r->mode = mode;
	r->wp = false;
	r->nxe = false;
	r->pse = mode != PAGING_32 || paging__has_pse();
	r->pse36 = (cpu__info.f1_edx & CPUID1_EDX_PSE36) != 0;
	r->has_1g = paging__has_1g();
	r->maxphy = paging__maxphyaddr();
}

u32 pgcheck__error(const struct pg_rules *r, int op, int cpl)
{
	u32 err = (op == PG_WRITE ? PF_W : 0) | (cpl == 3 ? PF_U : 0);

	/* SDM 4.7: I/D needs CR4.PAE=1 and EFER.NXE=1 (or CR4.SMEP=1): never in 32-bit
	 * paging, even with EFER.NXE=1. QEMU agrees. */
	if (op == PG_FETCH && r->mode != PAGING_32 && r->nxe)
		err |= PF_ID;
	return err;
}

bool pgcheck__is_leaf(const struct pg_rules *r, u64 e, int level)
{
	if (level == 1)
		return true;
	if (!(e & PTE_PS) || level == 4 || pae_pdpte(r, level))
		return false;
	return r->mode != PAGING_32 || r->pse;
}

/*
 * PAE PDPTEs are loaded and checked by MOV CR3 (#GP, SDM 4.4.1), not on accesses, so
 * they have no reserved bits here. For PAE the SDM reserves bits 62:M, QEMU only 51:M:
 * no guest check sets bits 62:52 there.
 */
u64 pgcheck__rsvd_bits(const struct pg_rules *r, u64 e, int level)
{
	u32 mp = r->maxphy;
	u64 rs;

	if (r->mode == PAGING_32) {
		/* 4-MByte page: bits 21:(M-19) with PSE-36 (M at most 40), else 21:13. */
		if (level == 2 && pgcheck__is_leaf(r, e, level))
			return r->pse36 ? bits((mp < 40 ? mp : 40) - 19, 21) : bits(13, 21);
		return 0;
	}
	if (pae_pdpte(r, level))
		return 0;
	rs = r->mode == PAGING_PAE ? bits(mp, 62) : bits(mp, 51);
	if (!r->nxe)
		rs |= PTE_NX;
	if (level == 4)
		rs |= PTE_PS;
	if (level == 3 && (e & PTE_PS))
		rs |= r->has_1g ? bits(13, 29) : PTE_PS;
	if (level == 2 && (e & PTE_PS))
		rs |= bits(13, 20);
	return rs;
}

struct pg_outcome pgcheck__expect(const struct pg_rules *r, const u64 *val, int leaf, int op,
				  int cpl)
{
	struct pg_outcome o = { true, pgcheck__error(r, op, cpl) };
	bool user = true, writable = true, xd = false;
	int l;

	/* The walk stops at the first entry that is not present (P=0 in the error code)
	 * or has a reserved bit set (RSVD=1, P=1): those are checked before rights. */
	for (l = paging__levels(r->mode); l >= leaf; l--) {
		u64 e = val[l];

		if (!(e & PTE_P))
			return o;
		if (pae_pdpte(r, l))
			continue; /* P only: no access rights */
		if (e & pgcheck__rsvd_bits(r, e, l)) {
			o.error |= PF_P | PF_RSVD;
			return o;
		}
		user = user && (e & PTE_US);
		writable = writable && (e & PTE_RW);
		xd = xd || (r->nxe && (e & PTE_NX));
		if (l > leaf && pgcheck__is_leaf(r, e, l))
			break;
	}
	/* SDM 4.6 (CR4.SMEP=SMAP=0): a user-mode address has U/S=1 at every level, a
	 * writable one R/W=1 at every level, an executable one (NXE=1) XD=0 at every level.
	 * CPL3 needs user-mode addresses and, to write, writable ones; CPL0 writes need
	 * writable ones only with CR0.WP=1; fetches need XD=0 at any CPL. */
	o.error |= PF_P;
	if (cpl == 3 && !user)
		return o;
	if (op == PG_WRITE && !writable && (cpl == 3 || r->wp))
		return o;
	if (op == PG_FETCH && xd)
		return o;
	o.fault = false;
	o.error = 0;
	return o;
}

bool pgcheck__error_ok(u32 got, u32 want)
{
	if (got == want)
		return true;
	return cpu__info.tcg && (want & PF_RSVD) && got == (want & ~PF_P);
}

void pgcheck__note_tcg(void)
{
	cpu__tcg_skip("P bit of #PF error codes with RSVD=1", "reports reserved-bit faults with P=0");
}

struct pg_access pgcheck__access(int op, int cpl, u64 va, u64 value)
{
	struct pg_access a = { 0 };

	a.va = va;
	a.op = (u32)op;
	a.cpl = (u32)cpl;
	a.value = value;
	paging__access(&a);
	return a;
}

static void got_str(char *buf, u32 size, const struct pg_access *a)
{
	if (a->vector == TRAP_NONE)
		snprintf(buf, size, "no fault, value 0x%llx", a->value);
	else
		snprintf(buf, size, "%s(0x%x) x%u cr2 0x%llx ip 0x%llx", trap__name(a->vector),
			 a->error, a->count, a->cr2, a->ip);
}

bool pgcheck__ok(int op, int cpl, u64 va, u32 want, const char *fmt, ...)
{
	struct pg_access a = pgcheck__access(op, cpl, va, want);
	char what[160], exp[48], got[96];
	bool ok = a.vector == TRAP_NONE && (op == PG_WRITE || (u32)a.value == want);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(exp, sizeof(exp), "no fault, value 0x%x", want);
	got_str(got, sizeof(got), &a);
	return test__report(ok, exp, got, "%s", what);
}

bool pgcheck__pf(int op, int cpl, u64 va, u32 error, const char *fmt, ...)
{
	struct pg_access a = pgcheck__access(op, cpl, va, 0xbad0bad0u);
	char what[160], exp[64], got[96];
	bool ok = a.vector == VEC_PF && a.count == 1 && pgcheck__error_ok(a.error, error) &&
		  a.cr2 == va && a.ip == (op == PG_FETCH ? va : a.insn);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(exp, sizeof(exp), "#PF(0x%x) cr2 0x%llx", error, va);
	got_str(got, sizeof(got), &a);
	return test__report(ok, exp, got, "%s", what);
}
