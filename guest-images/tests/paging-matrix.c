/*
 * paging-matrix.c: the permission matrix of one paging mode, shared by the guests
 * paging-matrix-32, paging-matrix-pae and paging-matrix-64 (their test_main picks the
 * mode). SDM vol. 3: 4.6 access rights, 4.7 page-fault error code, 4.8 accessed and
 * dirty flags, tables 4-4..4-20 for reserved bits.
 *
 * For each page size of the mode a test page is mapped through a chain of entries that
 * belongs to it alone; every combination of P, R/W, U/S (and XD outside 32-bit paging)
 * at the leaf and at one upper level is tried for read, write and instruction fetch at
 * CPL 0 and 3, with CR0.WP and EFER.NXE each 0 and 1. Before each access the chain is
 * rewritten with A/D clear and the address invalidated (INVLPG; MOV CR3 after a PAE
 * PDPTE change), so every case is architecturally defined. The expected outcome is
 * pgcheck__expect's (lib/pgcheck.c: the SDM rules as code); each access is checked
 * for fault or none, error code, CR2, the faulting RIP,
 * the data read, written or executed (and a faulting write writing nothing), and, when
 * it succeeded, the A flag of every entry of the walk and the D flag of the leaf (set
 * by a write only). A faulting access's A flags are not checked: the SDM allows either.
 * One check line per (page size, WP, NXE, CPL, access); mismatching cases are printed
 * as "#" lines. Then reserved-bit faults, one line per case.
 *
 * Every translation ends in the frame TARGET_PA: 4 KiB pages map it, 4 MiB and 2 MiB
 * pages map LARGE_PA (which holds it), 1 GiB pages physical 0.
 */
#include "cpu.h"
#include "lmode.h"
#include "paging.h"
#include "pgcheck.h"
#include "printf.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "user.h"
#include "x86.h"

#define IDENT_BYTES (16u << 20)
#define LARGE_PA 0x800000u  /* 4 MiB and 2 MiB aligned */
#define TARGET_PA 0x805000u
#define DATA_OFF 0xab8u     /* the read/write probe, 8-byte aligned */
#define CODE_OFF 0x3c5u     /* the fetch probe: "mov $STUB_MAGIC, %eax; ret" */
#define STUB_MAGIC 0x600dc0deu
#define PATTERN 0x5a17c3e8d2b4960full
#define MAX_DETAIL 12

void matrix__run(enum paging_mode mode, const char *name);

/* One page size: the entries of its walk, levels leaf..top (the mode's top level). */
struct mset {
	const char *name;
	int leaf;
	int upper;	   /* level whose flags vary with the leaf's; 0: none */
	u64 base;	   /* VA of the test page */
	u32 page_pa;
	volatile void *ent[5];
	u64 next[5];	   /* non-leaf levels: the table below */
};

static struct {
	enum paging_mode mode;
	struct paging as;
	struct pg_rules r;
	int top;
	bool has_nx;
	u32 details;
	u32 faults;
} m;

static u8 pool_mem[48 * 4096] __aligned(4096);
static const char *const op_names[] = { "read", "write", "fetch" };

static bool pae_pdpte(int level)
{
	return m.mode == PAGING_PAE && level == 3;
}

/* Flags of non-leaf entries that are not under test. */
static u64 table_flags(int level)
{
	return pae_pdpte(level) ? PTE_P : PTE_P | PTE_RW | PTE_US;
}

/* Combination c of the flags under test: bit 0 P, 1 R/W, 2 U/S, 3 XD. */
static u64 combo(u32 c)
{
	return ((c & 1) ? PTE_P : 0) | ((c & 2) ? PTE_RW : 0) | ((c & 4) ? PTE_US : 0) |
	       ((c & 8) ? PTE_NX : 0);
}

static u32 combos(int level)
{
	if (pae_pdpte(level))
		return 2; /* a PAE PDPTE has P and no access rights */
	return m.mode == PAGING_32 ? 8 : 16;
}

static void chain_values(const struct mset *s, u64 uflags, u64 lflags, u64 *val)
{
	int l;

	for (l = s->leaf; l <= m.top; l++) {
		if (l == s->leaf)
			val[l] = s->page_pa | lflags | (l > 1 ? PTE_PS : 0);
		else if (l == s->upper)
			/* A PAE PDPTE has no R/W or U/S: those bits are reserved there. */
			val[l] = s->next[l] | (pae_pdpte(l) ? uflags & PTE_P : uflags);
		else
			val[l] = s->next[l] | table_flags(l);
	}
}

/* Rewrite what differs; a PAE PDPTE takes effect at the next MOV CR3 (SDM 4.4.1). QEMU
 * sets PDPTE bit 5 (A), which the SDM reserves: ignore it when comparing. */
static void chain_write(const struct mset *s, const u64 *val)
{
	bool reload = false;
	int l;

	for (l = s->leaf; l <= m.top; l++) {
		u64 cur = paging__get(m.mode, s->ent[l]);

		if (pae_pdpte(l) ? ((cur ^ val[l]) & ~PTE_A) == 0 : cur == val[l])
			continue;
		paging__set(m.mode, s->ent[l], val[l]);
		reload = reload || pae_pdpte(l);
	}
	if (reload)
		paging__load(&m.as);
}

static const char *flag_str(char *buf, u32 size, u64 e)
{
	snprintf(buf, size, "%s%s%s%s%s%s", (e & PTE_P) ? "P" : "-", (e & PTE_RW) ? "W" : "-",
		 (e & PTE_US) ? "U" : "-", (e & PTE_NX) ? "X" : "-", (e & PTE_A) ? "A" : "",
		 (e & PTE_D) ? "D" : "");
	return buf;
}

static void detail(const struct mset *s, const u64 *val, int op, int cpl, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void detail(const struct mset *s, const u64 *val, int op, int cpl, const char *fmt, ...)
{
	char f[4][12], what[120];
	va_list ap;
	int l;

	if (m.details++ >= MAX_DETAIL)
		return;
	for (l = 0; l < 4; l++)
		f[l][0] = '\0';
	for (l = s->leaf; l <= m.top; l++)
		flag_str(f[l - 1], sizeof(f[0]), val[l]);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("# mismatch: %s WP=%d NXE=%d CPL%d %s, L4..L1 %s %s %s %s: %s\n", s->name,
	       m.r.wp, m.r.nxe, cpl, op_names[op], f[3], f[2], f[1], f[0], what);
}

static u64 probe_va(const struct mset *s, int op)
{
	return s->base + (TARGET_PA - s->page_pa) + (op == PG_FETCH ? CODE_OFF : DATA_OFF);
}

/* One access through the chain `val`; false (and a "#" line) if anything differs. */
static bool check_access(const struct mset *s, const u64 *val, int op, int cpl, u32 seq)
{
	volatile u64 *data = (volatile u64 *)(uintptr_t)(TARGET_PA + DATA_OFF);
	u64 mask = lmode__active() ? ~0ull : 0xffffffffull;
	u64 wval = 0xfeed000000000000ull | ((u64)seq << 12) | 0x3c;
	struct pg_access a = { 0 };
	struct pg_outcome ex = pgcheck__expect(&m.r, val, s->leaf, op, cpl);
	int l;

	*data = PATTERN;
	chain_write(s, val);
	a.va = probe_va(s, op);
	a.op = (u32)op;
	a.cpl = (u32)cpl;
	a.flags = PG_ACCESS_INVLPG;
	a.value = wval;
	paging__access(&a);

	if (ex.fault) {
		m.faults++;
		if (a.vector != VEC_PF || a.count != 1 || !pgcheck__error_ok(a.error, ex.error)) {
			if (a.vector == TRAP_NONE)
				detail(s, val, op, cpl, "expected #PF(0x%x) got none", ex.error);
			else
				detail(s, val, op, cpl, "expected #PF(0x%x) got %s(0x%x) x%u", ex.error,
				       trap__name(a.vector), a.error, a.count);
			return false;
		}
		if (a.cr2 != a.va) {
			detail(s, val, op, cpl, "CR2 0x%llx, expected 0x%llx", a.cr2, a.va);
			return false;
		}
		if (a.ip != (op == PG_FETCH ? a.va : a.insn)) {
			detail(s, val, op, cpl, "#PF RIP 0x%llx", a.ip);
			return false;
		}
		if (*data != PATTERN) {
			detail(s, val, op, cpl, "faulting write changed memory");
			return false;
		}
		return true;
	}
	if (a.vector != TRAP_NONE) {
		detail(s, val, op, cpl, "expected no fault got %s(0x%x) cr2 0x%llx",
		       trap__name(a.vector), a.error, a.cr2);
		return false;
	}
	if ((op == PG_READ && (a.value & mask) != (PATTERN & mask)) ||
	    (op == PG_WRITE && *data != ((wval & mask) | (PATTERN & ~mask))) ||
	    (op == PG_FETCH && (u32)a.value != STUB_MAGIC)) {
		detail(s, val, op, cpl, "wrong data: value 0x%llx memory 0x%llx", a.value, *data);
		return false;
	}
	for (l = s->leaf; l <= m.top; l++) {
		u64 want = val[l] | PTE_A | (l == s->leaf && op == PG_WRITE ? PTE_D : 0);
		u64 got = paging__get(m.mode, s->ent[l]);
		char w[12], g[12];

		if (pae_pdpte(l) || got == want)
			continue;
		detail(s, val, op, cpl, "level %d entry %s, expected %s", l,
		       flag_str(g, sizeof(g), got), flag_str(w, sizeof(w), want));
		return false;
	}
	return true;
}

static void set_wp_nxe(bool wp, bool nxe)
{
	m.r.wp = wp;
	m.r.nxe = nxe;
	write_cr0(wp ? read_cr0() | CR0_WP : read_cr0() & ~CR0_WP);
	if (m.has_nx)
		wrmsr(MSR_EFER, nxe ? rdmsr(MSR_EFER) | EFER_NXE : rdmsr(MSR_EFER) & ~EFER_NXE);
}

static void run_set(const struct mset *s)
{
	u32 nu = s->upper ? combos(s->upper) : 1, nl = combos(s->leaf);
	u32 uc, lc, seq = 0;
	int wp, nxe, cpl, op;
	u64 val[5];

	for (wp = 0; wp <= 1; wp++) {
		for (nxe = 0; nxe <= (int)m.has_nx; nxe++) {
			set_wp_nxe(wp, nxe);
			for (cpl = 0; cpl <= 3; cpl += 3) {
				for (op = PG_READ; op <= PG_FETCH; op++) {
					u32 fails = 0, faults = m.faults;

					for (uc = 0; uc < nu; uc++) {
						for (lc = 0; lc < nl; lc++) {
							chain_values(s, combo(uc), combo(lc), val);
							if (!check_access(s, val, op, cpl, seq++))
								fails++;
						}
					}
					test__ok(fails == 0,
						 "%s: WP=%d NXE=%d CPL%d %s: %u cases, %u #PF (%u wrong)",
						 s->name, wp, nxe, cpl, op_names[op], nu * nl,
						 m.faults - faults, fails);
				}
			}
		}
	}
}

/* The walk of `s`, created with permissive flags: the sets' chains share nothing. */
static void set_init(struct mset *s, const char *name, int leaf, int upper, u64 base, u32 pa)
{
	int l;

	s->name = name;
	s->leaf = leaf;
	s->upper = upper;
	s->base = base;
	s->page_pa = pa;
	paging__map(&m.as, base, pa, leaf, PTE_P | PTE_RW | PTE_US);
	for (l = leaf; l <= m.top; l++) {
		s->ent[l] = paging__entry(&m.as, base, l, false);
		if (l > leaf)
			s->next[l] = paging__get(m.mode, s->ent[l]) & PTE_ADDR;
	}
}

/* A reserved-bit (or related) case: `set` bits added to and `clear` bits taken from the
 * level-`level` entry of a permissive chain; every access at CPL 0 and 3. `want` is
 * what the rules must say for a CPL0 read (a check that the case means what it says). */
static void rsvd_case(const struct mset *s, int level, u64 set, u64 clear, bool nxe,
		      u32 want, const char *what)
{
	u64 val[5];
	u32 fails = 0, seq = 0;
	int cpl, op;

	set_wp_nxe(true, nxe && m.has_nx);
	chain_values(s, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_RW | PTE_US, val);
	val[level] = (val[level] | set) & ~clear;
	for (cpl = 0; cpl <= 3; cpl += 3)
		for (op = PG_READ; op <= PG_FETCH; op++)
			if (!check_access(s, val, op, cpl, seq++))
				fails++;
	test__ok(fails == 0 && pgcheck__expect(&m.r, val, s->leaf, PG_READ, 0).error == want,
		 "%s: %s: #PF(0x%x) for a CPL0 read, all accesses as the rules say", s->name,
		 what, want);
}

/* PAE: the PDPTEs are loaded by MOV CR3, which checks their reserved bits (SDM 4.4.1). */
static void check_pae_pdptes(const struct mset *s)
{
	volatile void *e = s->ent[3];
	u64 good = paging__get(m.mode, e), val[5];
	u32 root = m.as.root;
	u32 fails = 0, seq = 0;
	int op;

	if (!cpu__tcg_skip("MOV CR3 with a reserved bit in a present PDPTE: #GP(0)",
			   "does not load PDPTE registers at MOV CR3")) {
		paging__set(m.mode, e, good | (1ull << 1));
		trap__arm();
		asm volatile(TRAP_TRY("movl %0, %%cr3") : : "r"(root) : "memory");
		trap__expect(VEC_GP, 0, "PAE: MOV CR3 with PDPTE bit 1 (reserved) set: #GP(0)");
		paging__set(m.mode, e, good | (1ull << m.r.maxphy));
		trap__arm();
		asm volatile(TRAP_TRY("movl %0, %%cr3") : : "r"(root) : "memory");
		trap__expect(VEC_GP, 0, "PAE: MOV CR3 with PDPTE bit %u (MAXPHYADDR) set: #GP(0)",
			     m.r.maxphy);
	}
	/* Not present: its other bits are not checked, the access faults with P=0. */
	set_wp_nxe(true, m.has_nx);
	chain_values(s, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_RW | PTE_US, val);
	paging__set(m.mode, e, (good & ~PTE_P) | (1ull << 1) | (1ull << m.r.maxphy));
	val[3] = paging__get(m.mode, e);
	trap__arm();
	asm volatile(TRAP_TRY("movl %0, %%cr3") : : "r"(root) : "memory");
	trap__expect(TRAP_NONE, 0, "PAE: MOV CR3 with a not-present PDPTE with reserved bits set");
	for (op = PG_READ; op <= PG_FETCH; op++)
		if (!check_access(s, val, op, 0, seq++))
			fails++;
	test__ok(fails == 0, "PAE: access through that not-present PDPTE: #PF with P=0");
	paging__set(m.mode, e, good);
	paging__load(&m.as);
}

static void check_reserved(const struct mset *s4k, const struct mset *big, const struct mset *huge)
{
	u64 mbit = m.r.maxphy < 52 ? 1ull << m.r.maxphy : 0;

	if (m.mode == PAGING_32) {
		if (big)
			rsvd_case(big, 2, 1ull << 21, 0, false, PF_P | PF_RSVD,
				  "4 MiB PDE with bit 21 set (reserved)");
		return;
	}
	if (!mbit)
		test__skip("reserved physical-address bits", "MAXPHYADDR is 52");
	if (m.mode == PAGING_4L)
		rsvd_case(s4k, 4, PTE_PS, 0, true, PF_P | PF_RSVD, "PML4E with PS=1 (reserved)");
	if (mbit) {
		int l;

		for (l = m.top; l >= 1; l--) {
			char what[64];

			if (pae_pdpte(l))
				continue;
			snprintf(what, sizeof(what), "level-%d entry with bit %u (MAXPHYADDR) set",
				 l, m.r.maxphy);
			rsvd_case(s4k, l, mbit, 0, true, PF_P | PF_RSVD, what);
		}
		rsvd_case(s4k, 1, mbit, PTE_P, true, 0,
			  "not-present PTE with bit MAXPHYADDR set: reserved bits not checked");
		rsvd_case(s4k, 1, mbit, PTE_US | PTE_RW, true, PF_P | PF_RSVD,
			  "supervisor read-only PTE with a reserved bit: RSVD, not a rights fault");
	}
	rsvd_case(s4k, 1, PTE_NX, 0, false, PF_P | PF_RSVD, "PTE with XD set while EFER.NXE=0");
	if (m.mode == PAGING_4L)
		rsvd_case(s4k, 4, PTE_NX, 0, false, PF_P | PF_RSVD,
			  "PML4E with XD set while EFER.NXE=0");
	else
		rsvd_case(s4k, 2, PTE_NX, 0, false, PF_P | PF_RSVD,
			  "PDE with XD set while EFER.NXE=0");
	rsvd_case(big, 2, 1ull << 13, 0, true, PF_P | PF_RSVD, "2 MiB PDE with bit 13 set");
	rsvd_case(big, 2, 1ull << 20, 0, true, PF_P | PF_RSVD, "2 MiB PDE with bit 20 set");
	if (m.mode == PAGING_PAE) {
		check_pae_pdptes(big);
		return;
	}
	if (huge) {
		rsvd_case(huge, 3, 1ull << 13, 0, true, PF_P | PF_RSVD, "1 GiB PDPTE with bit 13 set");
		rsvd_case(huge, 3, 1ull << 29, 0, true, PF_P | PF_RSVD, "1 GiB PDPTE with bit 29 set");
	} else {
		/* Without 1 GiB pages PS is reserved in a PDPTE (point the 2 MiB set's
		 * PDPTE at the data page as if it were a 1 GiB page). */
		rsvd_case(big, 3, PTE_PS, 0, true, PF_P | PF_RSVD,
			  "PDPTE with PS=1 on a CPU without 1 GiB pages");
	}
}

/* 32-bit paging with CR4.PSE=0: PS in a PDE is ignored, the PDE points to a page table. */
static void check_pse_off(struct mset *s4k)
{
	u32 cr4 = read_cr4();
	u64 val[5];
	u32 fails = 0, seq = 0;
	int cpl, op, wp;

	write_cr4(cr4 & ~CR4_PSE);
	m.r.pse = false;
	for (wp = 0; wp <= 1; wp++) {
		set_wp_nxe(wp, false);
		chain_values(s4k, PTE_P | PTE_RW | PTE_US | PTE_PS, PTE_P | PTE_RW | PTE_US, val);
		for (cpl = 0; cpl <= 3; cpl += 3)
			for (op = PG_READ; op <= PG_FETCH; op++)
				if (!check_access(s4k, val, op, cpl, seq++))
					fails++;
	}
	test__ok(fails == 0, "CR4.PSE=0: a PDE with PS=1 maps a page table (WP 0 and 1)");
	write_cr4(cr4);
	m.r.pse = true;
}

static void check_noncanonical(void)
{
	struct pg_access a = { 0 };
	int op;

	for (op = PG_READ; op <= PG_WRITE; op++) {
		a.va = 0x0000800000000000ull + DATA_OFF;
		a.op = (u32)op;
		a.value = 1;
		paging__access(&a);
		/* CR2 is not checked: QEMU TCG writes it on this #GP. */
		test__ok(a.vector == VEC_GP && a.error == 0 && a.ip == a.insn && a.count == 1,
			 "4-level: %s of non-canonical 0x%llx: #GP(0), not #PF (got %s(0x%x))",
			 op_names[op], a.va, trap__name(a.vector), a.error);
	}
}

static void prepare_memory(void)
{
	u8 *frame = (u8 *)(uintptr_t)TARGET_PA;

	memset(frame, 0xcc, 4096); /* int3 everywhere but the probes */
	paging__put_stub(frame + CODE_OFF, STUB_MAGIC);
	*(volatile u64 *)(uintptr_t)(TARGET_PA + DATA_OFF) = PATTERN;
}

void matrix__run(enum paging_mode mode, const char *name)
{
	static struct mset s4k, big, huge;
	static struct pt_pool pool;
	bool have_huge = false, have_big = true;

	test__begin(name);
	m.mode = mode;
	m.top = paging__levels(mode);
	m.has_nx = paging__has_nx();
	pgcheck__init(&m.r, mode);
	if ((mode != PAGING_32 && !paging__has_pae()) || (mode == PAGING_4L && !lmode__supported())) {
		test__skip(paging__mode_name(mode), "not supported by this CPU");
		return;
	}
	test__info("%s paging, MAXPHYADDR %u, NX %s, 1 GiB pages %s, PSE-36 %s",
		   paging__mode_name(mode), m.r.maxphy, m.has_nx ? "yes" : "no",
		   m.r.has_1g ? "yes" : "no", m.r.pse36 ? "yes" : "no");
	if (!m.has_nx)
		test__skip("EFER.NXE=1 cases", "CPUID.80000001H:EDX.NX=0");
	pgcheck__note_tcg();
	prepare_memory();
	pt_pool__init(&pool, pool_mem, sizeof(pool_mem));
	paging__init(&m.as, mode, &pool);
	paging__identity(&m.as, IDENT_BYTES, PTE_P | PTE_RW | PTE_US);
	switch (mode) {
	case PAGING_32:
		set_init(&s4k, "32-bit 4K PTE x PDE", 1, 2, 0x40c07000u, TARGET_PA);
		have_big = m.r.pse;
		if (have_big)
			set_init(&big, "32-bit 4M PDE", 2, 0, 0x41000000u, LARGE_PA);
		else
			test__skip("4 MiB pages", "CPUID.1:EDX.PSE=0");
		break;
	case PAGING_PAE:
		set_init(&s4k, "PAE 4K PTE x PDE", 1, 2, 0x40607000u, TARGET_PA);
		set_init(&big, "PAE 2M PDE x PDPTE", 2, 3, 0x80a00000u, LARGE_PA);
		break;
	case PAGING_4L:
		set_init(&s4k, "4-level 4K PTE x PDE", 1, 2,
			 (1ull << 39) | (2ull << 30) | (3ull << 21) | (7ull << 12), TARGET_PA);
		set_init(&big, "4-level 2M PDE x PDPTE", 2, 3,
			 (2ull << 39) | (4ull << 30) | (5ull << 21), LARGE_PA);
		have_huge = m.r.has_1g;
		if (have_huge)
			set_init(&huge, "4-level 1G PDPTE x PML4E", 3, 4,
				 0xffff000000000000ull | (510ull << 39) | (6ull << 30), 0);
		else
			test__skip("1 GiB pages", "CPUID.80000001H:EDX.Page1GB=0");
		break;
	}
	if (mode != PAGING_4L)
		user__init();
	if (paging__enable(&m.as, mode == PAGING_32 && m.r.pse ? CR4_PSE : 0) < 0) {
		test__ok(false, "enable %s paging", paging__mode_name(mode));
		return;
	}
	test__ok(read_cr0() & CR0_PG, "%s paging on (CR0.PG=1, CR3 0x%x)", paging__mode_name(mode),
		 read_cr3());
	if (mode == PAGING_4L)
		test__ok((rdmsr(MSR_EFER) & EFER_LMA) != 0, "IA-32e mode active (EFER.LMA=1)");

	run_set(&s4k);
	if (have_big)
		run_set(&big);
	if (have_huge)
		run_set(&huge);
	check_reserved(&s4k, have_big ? &big : NULL, have_huge ? &huge : NULL);
	if (mode == PAGING_32)
		check_pse_off(&s4k);
	if (mode == PAGING_4L)
		check_noncanonical();
	test__info("%u #PF taken in all", m.faults);
}
