/*
 * spte.h: the format of shadow page-table entries and the one function that builds a
 * leaf. A shadow leaf maps a guest-virtual page (VPN) straight to a machine frame (MPN)
 * with the rights of the guest's translation, minus what shade must withhold.
 *
 * Two software bits say why a leaf may be made writable (both needed):
 *   SPTE_HOST_WRITABLE  the machine frame may be written: not a shared copy-on-write
 *                       frame (page sharing clears it)
 *   SPTE_MMU_WRITABLE   the guest frame is not a tracked guest page table (or
 *                       descriptor table), whose writes shade must see
 * A leaf is read-only for one of those reasons, or because the guest's translation is
 * read-only, or because the guest's D bit is still clear (the first write must fault so
 * shade sets D in the guest's entry, as hardware would). The auditor checks that no
 * writable leaf lacks either software bit.
 */
#ifndef SHADE_SPTE_H
#define SHADE_SPTE_H

#include "ptab.h"

#define SPTE_HOST_WRITABLE BIT(9)
#define SPTE_MMU_WRITABLE  BIT(10)
#define SPTE_SOFT_MASK     (SPTE_HOST_WRITABLE | SPTE_MMU_WRITABLE)

/* The guest's view of one translation, as the walker produced it. */
struct spte_rights {
	bool user, writable, nx;
	bool dirty;              /* the guest's leaf has D set */
	bool kernel_write_wp0;   /* a supervisor write allowed by CR0.WP=0 to a read-only page */
};

/*
 * The leaf for a translation to `mfn`. `host_writable` and `mmu_writable` are the two
 * reasons of the header; with both and the guest's D set, a guest-writable page is
 * mapped writable. With CR0.WP=0 a supervisor write to a guest-read-only page is mapped
 * writable but supervisor-only (a later user access faults and gets the user form).
 */
static inline uint64_t spte__make_leaf(mfn_t mfn, const struct spte_rights *r,
				       bool host_writable, bool mmu_writable)
{
	uint64_t e = mfn_to_ma(mfn) | PTE_P | PTE_A;
	bool may_write = host_writable && mmu_writable && r->dirty;

	if (host_writable)
		e |= SPTE_HOST_WRITABLE;
	if (mmu_writable)
		e |= SPTE_MMU_WRITABLE;
	if (r->kernel_write_wp0) {
		if (may_write)
			e |= PTE_RW | PTE_D;
	} else {
		if (r->user)
			e |= PTE_US;
		if (r->writable && may_write)
			e |= PTE_RW | PTE_D;
	}
	if (r->nx)
		e |= PTE_NX;
	return e;
}

/* A non-leaf entry pointing at a shadow table; rights are combined by the CPU, so the
 * guest's own non-leaf rights are copied (all-permissive where the guest has none). */
static inline uint64_t spte__make_table(mfn_t table, bool user, bool writable, bool nx)
{
	return mfn_to_ma(table) | PTE_P | PTE_A | (user ? PTE_US : 0) | (writable ? PTE_RW : 0) |
	       (nx ? PTE_NX : 0);
}

static inline bool spte_present(uint64_t e) { return e & PTE_P; }

#endif
