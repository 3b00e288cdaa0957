/*
 * walk.h: the guest page-table walker, written once over the x86 paging modes: 32-bit
 * two-level paging (4 KiB and, with CR4.PSE, 4 MiB pages), PAE (4 KiB, 2 MiB) and IA-32e
 * four-level paging (4 KiB, 2 MiB, 1 GiB). It translates a guest-virtual address with
 * the guest's own tables (VPN -> PPN), applies the protection rules of the SDM (vol. 3,
 * ch. 4: U/S, R/W with CR0.WP, NX with EFER.NXE, reserved bits), builds the exact #PF
 * error code of a true fault, and sets accessed/dirty bits in the guest's entries as
 * hardware does (A in every entry of a successful access, D in the leaf of a successful
 * write). It touches guest memory only through struct walk_mem, so it is pure logic:
 * the shadow MMU gives it the pmap, unit tests give it an array.
 */
#ifndef SHADE_WALK_H
#define SHADE_WALK_H

#include "types.h"

enum paging_mode { PG_OFF, PG_32, PG_PAE, PG_LM4 };

/* #PF error code bits (the same bits describe the access being walked). */
#define PFERR_P    BIT(0)
#define PFERR_W    BIT(1)
#define PFERR_U    BIT(2)
#define PFERR_RSVD BIT(3)
#define PFERR_F    BIT(4)

/* What a walk depends on, taken from the guest's CR0/CR3/CR4/EFER. */
struct walk_env {
	enum paging_mode mode;
	uint64_t cr3;
	bool wp;                 /* CR0.WP */
	bool pse;                /* CR4.PSE (32-bit paging only; PAE/IA-32e always allow PS) */
	bool pge;                /* CR4.PGE: G marks global translations */
	bool nxe;                /* EFER.NXE (PAE and IA-32e) */
	bool gbpages;            /* 1 GiB pages exist (CPUID.80000001:EDX.26) */
	unsigned maxphyaddr;     /* physical-address width: higher entry bits are reserved */
	uint64_t pdpte[4];       /* PAE: the PDPTEs loaded with CR3 (the CPU caches them) */
};

/* Guest-physical memory as the walker needs it. read/cmpxchg return 0 or -EFAULT. */
struct walk_mem {
	int (*read)(void *ctx, gpa_t gpa, void *buf, unsigned len);
	/* Atomically replace the entry if it still holds `old` (A/D updates); 1 if it did
	 * not (the walk is then retried), 0 on success. */
	int (*cmpxchg)(void *ctx, gpa_t gpa, uint64_t old, uint64_t new, unsigned len);
	void *ctx;
};

#define WALK_MAX_LEVELS 4

struct walk {
	gpa_t gpa;                        /* the translation, on success */
	unsigned levels;                  /* levels of this mode */
	unsigned leaf;                    /* level of the leaf: 1 = 4K, 2 = 2M/4M, 3 = 1G */
	uint64_t pte[WALK_MAX_LEVELS + 1];     /* entries read, indexed by level */
	gpa_t pte_gpa[WALK_MAX_LEVELS + 1];    /* where each entry lives */
	bool user, writable, nx, global;  /* the translation's combined rights */
	uint32_t error;                   /* #PF error code, when the walk faults */
};

/*
 * Translate `va` for an access described by `access` (PFERR_W, PFERR_U, PFERR_F).
 * Returns 0 (translated, A/D set), 1 (a true fault: w->error), or -EFAULT when a table
 * lies outside guest memory (the caller decides: real hardware would read all ones).
 */
int walker__walk(const struct walk_env *env, const struct walk_mem *mem, uint64_t va,
		 uint32_t access, struct walk *w);

/* Load the PAE PDPTEs from CR3 into env (MOV CR3 / enabling paging). Returns 0, 1 if a
 * present PDPTE has reserved bits set (the load raises #GP(0)), or -EFAULT. */
int walker__load_pdptes(struct walk_env *env, const struct walk_mem *mem);

/* Whether `entry` at `level` has reserved bits set in this mode (exported for tests and
 * for the shadow's handling of guest page-table writes). */
bool walker__reserved(const struct walk_env *env, unsigned level, uint64_t entry);

#endif
