/*
 * cpuid.c: the CPU model a shade guest sees, and answering CPUID from it.
 *
 * One table (`cpuid_model` below) decides every feature bit: each is ON (shade itself
 * provides the feature, whatever the host), HOST (the real vCPU provides it, so it is on
 * exactly when KVM_GET_SUPPORTED_CPUID reports it), or OFF (not virtualized; the reason
 * is in the table). A feature register bit that is not in the table reads 0, so a newer
 * host never leaks a feature shade has not vetted. The identification fields (vendor,
 * family/model/stepping, cache descriptors, address sizes, brand string) are the host's,
 * so the natively executed instructions behave as the CPU the guest is told it runs on.
 * Leaves not listed in `leaf_keep` are absent. The MSRs of this model are in msr.c, the
 * CR4 bits it allows in privop.c (cpuid__cr4_valid), the #UD rules in opcheck.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "cpuid.h"

#define EAX 0
#define EBX 1
#define ECX 2
#define EDX 3
#define F(leaf, sub, reg, bit, pol, name, why) { leaf, sub, reg, bit, CPUID_##pol, name, why }

const struct cpuid_feature cpuid_model[] = {
	/* Leaf 1 EDX */
	F(1, 0, EDX, 0, HOST, "fpu", "x87 runs on the real vCPU (or unicorn)"),
	F(1, 0, EDX, 1, OFF, "vme", "no virtual-8086 mode, CR4.VME/PVI not emulated"),
	F(1, 0, EDX, 2, HOST, "de", "CR4.DE: DR4/5 #UD in the emulator's MOV DR"),
	F(1, 0, EDX, 3, ON, "pse", "4 MiB pages: the shadow walker"),
	F(1, 0, EDX, 4, HOST, "tsc", "RDTSC runs natively (traps under CR4.TSD)"),
	F(1, 0, EDX, 5, ON, "msr", "RDMSR/WRMSR emulated (msr.c)"),
	F(1, 0, EDX, 6, ON, "pae", "PAE paging: the shadow walker"),
	F(1, 0, EDX, 7, ON, "mce", "CR4.MCE is kept virtually; no #MC is ever raised"),
	F(1, 0, EDX, 8, HOST, "cx8", "CMPXCHG8B runs on the real vCPU"),
	F(1, 0, EDX, 9, OFF, "apic", "local APIC: turned on by its model (vm.c)"),
	F(1, 0, EDX, 11, ON, "sep", "SYSENTER/SYSEXIT emulated"),
	F(1, 0, EDX, 12, ON, "mtrr", "MTRR MSRs kept virtually (msr.c)"),
	F(1, 0, EDX, 13, ON, "pge", "global pages: the shadow walker"),
	F(1, 0, EDX, 14, ON, "mca", "MCG_CAP with banks that never report (msr.c)"),
	F(1, 0, EDX, 15, HOST, "cmov", "runs on the real vCPU"),
	F(1, 0, EDX, 16, ON, "pat", "IA32_PAT checked and kept (msr.c)"),
	F(1, 0, EDX, 17, ON, "pse36", "the shadow walker takes PDE bits 13+ (RAM is below 4 GiB)"),
	F(1, 0, EDX, 18, OFF, "psn", "no processor serial number"),
	F(1, 0, EDX, 19, HOST, "clflush", "runs on the real vCPU; emulated where the "
	  "backend hands it to shade (emu_flush_line)"),
	F(1, 0, EDX, 21, OFF, "ds", "no debug store"),
	F(1, 0, EDX, 22, OFF, "acpi", "no thermal-monitor MSRs"),
	F(1, 0, EDX, 23, HOST, "mmx", "runs on the real vCPU"),
	F(1, 0, EDX, 24, HOST, "fxsr", "FXSAVE/FXRSTOR run on the real vCPU"),
	F(1, 0, EDX, 25, HOST, "sse", "runs on the real vCPU"),
	F(1, 0, EDX, 26, HOST, "sse2", "runs on the real vCPU"),
	F(1, 0, EDX, 27, HOST, "ss", "self-snoop: describes the real cache"),
	F(1, 0, EDX, 28, OFF, "htt", "one logical processor per package"),
	F(1, 0, EDX, 29, OFF, "tm", "no thermal monitor"),
	F(1, 0, EDX, 31, OFF, "pbe", "no pending-break enable"),
	/* Leaf 1 ECX */
	F(1, 0, ECX, 0, HOST, "sse3", "runs on the real vCPU"),
	F(1, 0, ECX, 1, HOST, "pclmulqdq", "runs on the real vCPU"),
	F(1, 0, ECX, 3, OFF, "monitor", "MONITOR/MWAIT not emulated (#UD, opcheck.c)"),
	F(1, 0, ECX, 5, OFF, "vmx", "no nested virtualization"),
	F(1, 0, ECX, 6, OFF, "smx", "no safer mode"),
	F(1, 0, ECX, 7, OFF, "est", "no P-state MSRs"),
	F(1, 0, ECX, 9, HOST, "ssse3", "runs on the real vCPU"),
	F(1, 0, ECX, 12, OFF, "fma", "needs AVX state (XSAVE is off)"),
	F(1, 0, ECX, 13, HOST, "cx16", "CMPXCHG16B runs on the real vCPU"),
	F(1, 0, ECX, 15, OFF, "pdcm", "no IA32_PERF_CAPABILITIES"),
	F(1, 0, ECX, 17, OFF, "pcid", "shadow paging keeps no PCID tags: CR4.PCIDE not emulated"),
	F(1, 0, ECX, 19, HOST, "sse4_1", "runs on the real vCPU"),
	F(1, 0, ECX, 20, HOST, "sse4_2", "runs on the real vCPU"),
	F(1, 0, ECX, 21, OFF, "x2apic", "local APIC: turned on by its model (vm.c)"),
	F(1, 0, ECX, 22, HOST, "movbe", "runs on the real vCPU"),
	F(1, 0, ECX, 23, HOST, "popcnt", "runs on the real vCPU"),
	F(1, 0, ECX, 24, OFF, "tsc_deadline", "local APIC: turned on by its model (vm.c)"),
	F(1, 0, ECX, 25, HOST, "aes", "runs on the real vCPU"),
	F(1, 0, ECX, 26, ON, "xsave", "x87 and SSE state only (XCR0 <= 3): XSETBV, and XGETBV, "
	  "XSAVE, XRSTOR where they trap, emulated from KVM_GET/SET_XSAVE (xsave.c)"),
	F(1, 0, ECX, 27, OFF, "osxsave", "set by CPUID itself from CR4.OSXSAVE (emu_cpuid)"),
	F(1, 0, ECX, 28, OFF, "avx", "needs XSAVE"),
	F(1, 0, ECX, 29, OFF, "f16c", "VEX-encoded: needs AVX"),
	F(1, 0, ECX, 30, HOST, "rdrand", "runs on the real vCPU"),
	F(1, 0, ECX, 31, ON, "hypervisor", "a guest may know it is virtualized (leaf 0x40000000)"),
	/* Leaf 7.0 EBX/ECX/EDX */
	F(7, 0, EBX, 0, OFF, "fsgsbase", "WR*BASE at CPL 3 would change the real bases unseen"),
	F(7, 0, EBX, 1, OFF, "tsc_adjust", "IA32_TSC_ADJUST not emulated (and this backend "
	  "ignores TSC writes, which it would have to move)"),
	F(7, 0, EBX, 3, HOST, "bmi1", "runs on the real vCPU"),
	F(7, 0, EBX, 5, OFF, "avx2", "needs XSAVE"),
	F(7, 0, EBX, 6, HOST, "fdp_excptn_only", "describes the real x87 (FXSAVE's FDP)"),
	F(7, 0, EBX, 7, OFF, "smep", "neither the real vCPU here nor the shadow walker enforces it"),
	F(7, 0, EBX, 8, HOST, "bmi2", "runs on the real vCPU"),
	F(7, 0, EBX, 9, HOST, "erms", "REP MOVSB/STOSB run on the real vCPU"),
	F(7, 0, EBX, 10, OFF, "invpcid", "needs PCID"),
	F(7, 0, EBX, 11, OFF, "rtm", "no transactional memory"),
	F(7, 0, EBX, 13, HOST, "zero_fcs_fds", "describes the real x87 (FXSAVE's FCS/FDS)"),
	F(7, 0, EBX, 18, OFF, "rdseed", "not emulated where the backend cannot run it"),
	F(7, 0, EBX, 19, HOST, "adx", "runs on the real vCPU"),
	F(7, 0, EBX, 20, OFF, "smap", "the shadow walker and the emulator's accesses ignore it"),
	F(7, 0, EBX, 23, HOST, "clflushopt", "runs on the real vCPU; emulated where the "
	  "backend hands it to shade (emu_flush_line)"),
	F(7, 0, EBX, 24, HOST, "clwb", "runs on the real vCPU; emulated where the "
	  "backend hands it to shade (emu_flush_line)"),
	F(7, 0, EBX, 29, HOST, "sha", "runs on the real vCPU"),
	F(7, 0, ECX, 2, ON, "umip", "SGDT/SIDT/SLDT/STR/SMSW always trap; the emulator checks "
	  "the guest's CR4.UMIP"),
	F(7, 0, ECX, 3, OFF, "pku", "protection keys are not in the shadow walker"),
	F(7, 0, ECX, 22, OFF, "rdpid", "not offered by this backend; #UD where shade sees it"),
	F(7, 0, EDX, 4, HOST, "fsrm", "REP MOVSB runs on the real vCPU"),
	F(7, 0, EDX, 26, OFF, "ibrs", "no IA32_SPEC_CTRL/PRED_CMD"),
	F(7, 0, EDX, 29, OFF, "arch_capabilities", "IA32_ARCH_CAPABILITIES not emulated"),
	/* Leaf 0x80000001 ECX/EDX (on AMD, EDX also mirrors leaf 1 EDX: cpuid__build) */
	F(0x80000001, 0, ECX, 0, HOST, "lahf_lm", "runs on the real vCPU"),
	F(0x80000001, 0, ECX, 1, OFF, "cmp_legacy", "one core"),
	F(0x80000001, 0, ECX, 2, OFF, "svm", "no nested virtualization"),
	F(0x80000001, 0, ECX, 4, OFF, "cr8_legacy", "LOCK MOV CR0 is not emulated as CR8"),
	F(0x80000001, 0, ECX, 5, HOST, "abm", "LZCNT runs on the real vCPU"),
	F(0x80000001, 0, ECX, 6, HOST, "sse4a", "runs on the real vCPU"),
	F(0x80000001, 0, ECX, 8, HOST, "3dnowprefetch", "PREFETCHW runs on the real vCPU"),
	F(0x80000001, 0, ECX, 9, OFF, "osvw", "no OS-visible-workaround MSRs"),
	F(0x80000001, 0, ECX, 22, OFF, "topoext", "leaves 0x8000001d/1e not modelled"),
	F(0x80000001, 0, ECX, 23, OFF, "perfctr_core", "only the four legacy counters (msr.c)"),
	F(0x80000001, 0, EDX, 11, ON, "syscall", "SYSCALL/SYSRET emulated"),
	F(0x80000001, 0, EDX, 20, ON, "nx", "EFER.NXE: the shadow walker"),
	F(0x80000001, 0, EDX, 22, HOST, "mmxext", "runs on the real vCPU"),
	F(0x80000001, 0, EDX, 25, OFF, "fxsr_opt", "EFER.FFXSR is not accepted"),
	F(0x80000001, 0, EDX, 26, HOST, "pdpe1gb", "shade adds it (vm.c): the shadow MMU maps "
	  "1 GiB pages with 4 KiB leaves; --baseline gets KVM's"),
	F(0x80000001, 0, EDX, 27, ON, "rdtscp", "RDTSCP and IA32_TSC_AUX emulated"),
	F(0x80000001, 0, EDX, 29, ON, "lm", "IA-32e mode emulated"),
	F(0x80000001, 0, EDX, 30, OFF, "3dnowext", "withdrawn"),
	F(0x80000001, 0, EDX, 31, OFF, "3dnow", "withdrawn"),
	/* Leaf 0x80000007 EBX (RAS: no SMCA, whose MCA MSRs are not modelled), EDX;
	 * 0x80000008 EBX */
	F(0x80000007, 0, EBX, 3, OFF, "smca", "scalable MCA banks are not modelled (msr_model.c)"),
	F(0x80000007, 0, EDX, 8, HOST, "invariant_tsc", "the guest TSC is the host's"),
	F(0x80000008, 0, EBX, 0, OFF, "clzero", "not emulated where the backend cannot run it"),
	F(0x80000008, 0, EBX, 2, HOST, "xsaveerptr", "FXSAVE error pointers: the real vCPU's"),
	F(0x80000008, 0, EBX, 4, OFF, "rdpru", "MPERF/APERF not modelled: #UD"),
	F(0x80000008, 0, EBX, 9, OFF, "wbnoinvd", "not emulated"),
	F(0x80000008, 0, EBX, 12, OFF, "ibpb", "no IA32_PRED_CMD"),
	F(0x80000008, 0, EBX, 14, OFF, "ibrs", "no IA32_SPEC_CTRL"),
	F(0x80000008, 0, EBX, 24, OFF, "ssbd", "no IA32_SPEC_CTRL"),
};
const unsigned cpuid_model_n = ARRAY_SIZE(cpuid_model);

/* The registers the model governs bit by bit: leaf, subleaf, register. */
static const struct { uint32_t leaf; uint8_t sub, reg; } feature_regs[] = {
	{ 1, 0, ECX }, { 1, 0, EDX }, { 6, 0, EAX }, { 7, 0, EBX }, { 7, 0, ECX }, { 7, 0, EDX },
	{ 0x80000001, 0, ECX }, { 0x80000001, 0, EDX }, { 0x80000007, 0, EBX },
	{ 0x80000007, 0, EDX }, { 0x80000008, 0, EBX },
};

/* Leaves that exist for the guest (their identification fields are the host's). Leaf
 * 0xd stays (all zero: no XSAVE) so that the highest basic leaf is the same everywhere. */
static bool leaf_keep(uint32_t f)
{
	return f <= 2 || f == 4 || f == 6 || f == 7 || f == 0xb || f == 0xd ||
	       (f >= 0x80000000 && f <= 0x80000008);
}

#define MAX_BASIC 0xdu
#define MAX_EXT 0x80000008u
/* Leaf 1 EDX bits AMD repeats in 0x80000001 EDX (APM vol. 3, CPUID Fn8000_0001_EDX). */
#define AMD_MIRROR 0x0183f3ffu

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, unsigned reg)
{
	return reg == EAX ? &e->eax : reg == EBX ? &e->ebx : reg == ECX ? &e->ecx : &e->edx;
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

static struct kvm_cpuid_entry2 *find(const struct cpuid_table *t, uint32_t f, uint32_t i)
{
	for (unsigned k = 0; k < t->n; k++) {
		const struct kvm_cpuid_entry2 *e = &t->e[k];
		if (e->function != f)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != i)
			continue;
		return (struct kvm_cpuid_entry2 *)e;
	}
	return NULL;
}

/* Feature registers: the model's bits only, each by its policy. */
static void apply_model(struct cpuid_table *t, const struct cpuid_table *host)
{
	for (unsigned i = 0; i < ARRAY_SIZE(feature_regs); i++) {
		struct kvm_cpuid_entry2 *e = find(t, feature_regs[i].leaf, feature_regs[i].sub);
		if (e)
			*reg_of(e, feature_regs[i].reg) = 0;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(cpuid_model); i++) {
		const struct cpuid_feature *m = &cpuid_model[i];
		struct kvm_cpuid_entry2 *e = find(t, m->leaf, m->sub);
		struct kvm_cpuid_entry2 *h = find(host, m->leaf, m->sub);
		if (!e)
			continue;
		bool on = m->policy == CPUID_ON ||
			  (m->policy == CPUID_HOST && h && (*reg_of(h, m->reg) >> m->bit & 1));
		if (on)
			*reg_of(e, m->reg) |= 1u << m->bit;
	}
}

/* Leaf 0xd for XCR0 <= x87|SSE: the legacy region and the header, 576 bytes whatever
 * XCR0 enables; no XSAVEOPT/XSAVEC/XSAVES, no further components. */
static void xsave_leaf(struct kvm_cpuid_entry2 *e)
{
	e->eax = e->ebx = e->ecx = e->edx = 0;
	if (e->index == 0) {
		e->eax = 3;
		e->ebx = e->ecx = 576;
	}
}

/* Identification and topology fields: one logical processor, APIC ID 0 (emu_cpuid puts
 * the vCPU's), no cache sharing beyond it. */
static void fix_fields(struct cpuid_table *t)
{
	struct kvm_cpuid_entry2 *e;

	if ((e = find(t, 0, 0)) && e->eax > MAX_BASIC)
		e->eax = MAX_BASIC;
	if ((e = find(t, 0x80000000, 0)) && e->eax > MAX_EXT)
		e->eax = MAX_EXT;
	if ((e = find(t, 1, 0)))
		e->ebx &= 0x0000ffff;
	if ((e = find(t, 7, 0)))
		e->eax = 0;                       /* no subleaf beyond 0 */
	for (unsigned k = 0; k < t->n; k++) {
		e = &t->e[k];
		if (e->function == 7 && e->index > 0)
			e->eax = e->ebx = e->ecx = e->edx = 0;
		if (e->function == 0xd)
			xsave_leaf(e);
		if (e->function == 6)
			e->ebx = e->ecx = e->edx = 0; /* no power management */
		if (e->function == 0xb)
			e->edx = 0;                   /* x2APIC ID */
		if (e->function == 4)
			e->eax &= 0x03ff;             /* no sharing, one core */
	}
	if ((e = find(t, 0x80000007, 0)))
		e->eax = e->ecx = 0;              /* no power reporting */
	if ((e = find(t, 0x80000008, 0))) {
		e->eax &= 0xffff;                 /* address sizes, no guest-physical override */
		e->ecx = 0;                       /* one core */
		e->edx = 0;
	}
	struct kvm_cpuid_entry2 *l1 = find(t, 1, 0), *x1 = find(t, 0x80000001, 0);
	if (l1 && x1 && cpuid__is_amd(t))
		x1->edx = (x1->edx & ~AMD_MIRROR) | (l1->edx & AMD_MIRROR);
}

int cpuid__build(struct cpuid_table *t, const struct kvm_cpuid2 *s)
{
	struct cpuid_table *host = calloc(1, sizeof(*host));
	int ret = -E2BIG;

	if (!host)
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < s->nent; i++) {
		const struct kvm_cpuid_entry2 *src = &s->entries[i];
		struct kvm_cpuid_entry2 *h = add(host, src->function, src->index);
		if (!h)
			goto out;
		*h = *src;
		if (!leaf_keep(src->function))
			continue;
		struct kvm_cpuid_entry2 *e = add(t, src->function, src->index);
		if (!e)
			goto out;
		*e = *src;
	}
	apply_model(t, host);
	fix_fields(t);
	/* Hypervisor leaves: max leaf and signature "shadeshadeVM". */
	struct kvm_cpuid_entry2 *hv = add(t, 0x40000000, 0);
	if (!hv)
		goto out;
	hv->eax = 0x40000000;
	memcpy(&hv->ebx, "shad", 4);
	memcpy(&hv->ecx, "esha", 4);
	memcpy(&hv->edx, "deVM", 4);
	ret = 0;
out:
	free(host);
	return ret;
}

bool cpuid__is_amd(const struct cpuid_table *t)
{
	const struct kvm_cpuid_entry2 *e = find(t, 0, 0);
	return e && !memcmp(&e->ebx, "Auth", 4) && !memcmp(&e->edx, "enti", 4) &&
	       !memcmp(&e->ecx, "cAMD", 4);
}

bool cpuid__has(const struct cpuid_table *t, uint32_t leaf, unsigned reg, unsigned bit)
{
	uint32_t out[4];
	cpuid__lookup(t, leaf, 0, out);
	return reg < 4 && bit < 32 && (out[reg] >> bit & 1);
}

uint64_t cpuid__cr4_valid(const struct cpuid_table *t)
{
	uint64_t v = CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE | CR4_OSFXSR |
		     CR4_OSXMMEXCPT;                       /* every model has these */
	v |= cpuid__has(t, 1, EDX, 1) ? CR4_VME | CR4_PVI : 0;
	v |= cpuid__has(t, 1, EDX, 4) ? CR4_TSD : 0;
	v |= cpuid__has(t, 1, EDX, 7) ? CR4_MCE : 0;
	v |= cpuid__has(t, 7, ECX, 2) ? CR4_UMIP : 0;
	v |= cpuid__has(t, 1, ECX, 26) ? CR4_OSXSAVE : 0;
	return v;
}

void cpuid__set_bit(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf, unsigned reg,
		    unsigned bit)
{
	struct kvm_cpuid_entry2 *e = find(t, leaf, subleaf);
	if (!e || reg > 3 || bit > 31)
		return;
	*reg_of(e, reg) |= 1u << bit;
	if (leaf == 1 && reg == EDX && ((AMD_MIRROR >> bit) & 1) && cpuid__is_amd(t))
		cpuid__set_bit(t, 0x80000001, 0, EDX, bit);
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
