/*
 * cpuid.c: building and answering the guest CPUID table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpuid.h"

/* Leaf 1 ECX: VMX, SMX, EST, TM2, PDCM, PCID, x2APIC, TSC-deadline, XSAVE, OSXSAVE,
 * AVX, F16C, MONITOR, DTES64, DS-CPL, SDBG, FMA, hypervisor-set separately. */
#define L1_ECX_HIDE (BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(11) | \
		     BIT(12) | BIT(15) | BIT(17) | BIT(18) | BIT(21) | BIT(24) | BIT(26) |  \
		     BIT(27) | BIT(28) | BIT(29))
/* Leaf 1 EDX: MCE, APIC (no local APIC yet), MTRR, MCA, PSN, DS, ACPI, HTT, TM, PBE. */
#define L1_EDX_HIDE (BIT(7) | BIT(9) | BIT(12) | BIT(14) | BIT(18) | BIT(21) | BIT(22) | \
		     BIT(28) | BIT(29) | BIT(31))
/* Leaf 0x80000001 ECX: SVM. (EDX keeps 1 GiB pages: the shadow MMU maps a guest's
 * large pages with 4 KiB leaves, so the host need not have them.) */
#define X1_ECX_HIDE BIT(2)
#define X1_EDX_HIDE 0u
/* Leaf 7.0 EBX keeps only: BMI1, BMI2, ERMS, ADX, CLFLUSHOPT, SHA. */
#define L7_EBX_KEEP (BIT(3) | BIT(8) | BIT(9) | BIT(19) | BIT(23) | BIT(29))

static bool drop_leaf(uint32_t f)
{
	/* Power management, perfmon, XSAVE state, PT, SGX, and KVM's paravirt leaves. */
	return f == 0x5 || f == 0x6 || f == 0xa || f == 0xd || f == 0x12 || f == 0x14 ||
	       f == 0x1b || (f >= 0x40000000 && f < 0x50000000);
}

static struct kvm_cpuid_entry2 *add(struct cpuid_table *t, uint32_t f, uint32_t idx)
{
	if (t->n == CPUID_MAX_ENTRIES)
		return NULL;
	struct kvm_cpuid_entry2 *e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->function = f;
	e->index = idx;
	return e;
}

int cpuid__build(struct cpuid_table *t, const struct kvm_cpuid2 *s)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < s->nent; i++) {
		const struct kvm_cpuid_entry2 *src = &s->entries[i];
		if (drop_leaf(src->function))
			continue;
		struct kvm_cpuid_entry2 *e = add(t, src->function, src->index);
		if (!e)
			return -E2BIG;
		*e = *src;
		switch (e->function) {
		case 1:
			e->ecx = (e->ecx & ~(uint32_t)L1_ECX_HIDE) | (uint32_t)BIT(31);
			e->edx &= ~(uint32_t)L1_EDX_HIDE;
			e->ebx &= 0x0000ffff;  /* one logical processor, APIC ID 0 */
			break;
		case 7:
			if (e->index == 0) {
				e->ebx &= (uint32_t)L7_EBX_KEEP;
				e->ecx = 0;
				e->edx = 0;
				e->eax = 0;  /* no subleaves */
			} else {
				e->eax = e->ebx = e->ecx = e->edx = 0;
			}
			break;
		case 0x80000001:
			e->ecx &= ~(uint32_t)X1_ECX_HIDE;
			e->edx &= ~(uint32_t)X1_EDX_HIDE;
			break;
		case 0xb:
		case 0x1f:
			e->edx = 0;  /* x2APIC id */
			break;
		}
	}
	/* Hypervisor leaves: max leaf and signature "shadeshadeVM". */
	struct kvm_cpuid_entry2 *h = add(t, 0x40000000, 0);
	if (!h)
		return -E2BIG;
	h->eax = 0x40000000;
	memcpy(&h->ebx, "shad", 4);
	memcpy(&h->ecx, "esha", 4);
	memcpy(&h->edx, "deVM", 4);
	return 0;
}

static const struct kvm_cpuid_entry2 *find(const struct cpuid_table *t, uint32_t f, uint32_t i)
{
	for (unsigned k = 0; k < t->n; k++) {
		const struct kvm_cpuid_entry2 *e = &t->e[k];
		if (e->function != f)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != i)
			continue;
		return e;
	}
	return NULL;
}

void cpuid__set_bit(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf, unsigned reg,
		    unsigned bit)
{
	struct kvm_cpuid_entry2 *e = (struct kvm_cpuid_entry2 *)find(t, leaf, subleaf);
	uint32_t *r[4];
	if (!e || reg > 3 || bit > 31)
		return;
	r[0] = &e->eax; r[1] = &e->ebx; r[2] = &e->ecx; r[3] = &e->edx;
	*r[reg] |= (uint32_t)BIT(bit);
}

void cpuid__lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t subleaf,
		   uint32_t out[4])
{
	const struct kvm_cpuid_entry2 *max_basic = find(t, 0, 0);
	const struct kvm_cpuid_entry2 *max_ext = find(t, 0x80000000, 0);
	uint32_t basic = max_basic ? max_basic->eax : 0;
	uint32_t ext = max_ext ? max_ext->eax : 0;

	/* Intel: a leaf above the maximum answers as the highest basic leaf. */
	if ((leaf < 0x40000000 && leaf > basic) || (leaf >= 0x80000000 && leaf > ext))
		leaf = basic;
	const struct kvm_cpuid_entry2 *e = find(t, leaf, subleaf);
	if (!e) {
		out[0] = out[1] = out[2] = out[3] = 0;
		return;
	}
	out[0] = e->eax;
	out[1] = e->ebx;
	out[2] = e->ecx;
	out[3] = e->edx;
}

struct kvm_cpuid2 *cpuid__to_kvm(const struct cpuid_table *t)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + t->n * sizeof(c->entries[0]));
	if (!c)
		return NULL;
	c->nent = t->n;
	memcpy(c->entries, t->e, t->n * sizeof(t->e[0]));
	return c;
}
