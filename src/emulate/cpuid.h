/*
 * cpuid.h: the CPU model a shade guest sees. Built once per VM from what KVM supports
 * and the model's table (cpuid.c), which turns on only what shade or the real vCPU
 * provides (so a guest never turns on something whose instructions or MSRs would reach
 * the real CPU unmediated), plus the hypervisor leaves that name shade. The same table is handed to KVM (which answers CPUID without
 * an exit) and used by the emulator when it must answer CPUID itself.
 */
#ifndef SHADE_CPUID_H
#define SHADE_CPUID_H

#include <linux/kvm.h>

#include "types.h"

#define CPUID_MAX_ENTRIES 128

/* How a feature bit is decided (see the table in cpuid.c). */
enum cpuid_policy { CPUID_OFF, CPUID_HOST, CPUID_ON };

struct cpuid_feature {
	uint32_t leaf;
	uint8_t sub, reg, bit, policy;   /* reg 0..3 = EAX..EDX */
	const char *name, *why;
};

/* The model: every feature bit a guest may see. */
extern const struct cpuid_feature cpuid_model[];
extern const unsigned cpuid_model_n;

struct cpuid_table {
	unsigned n;
	struct kvm_cpuid_entry2 e[CPUID_MAX_ENTRIES];
};

/* Filter `supported` (from KVM_GET_SUPPORTED_CPUID) into t. */
int cpuid__build(struct cpuid_table *t, const struct kvm_cpuid2 *supported);
/* The guest-visible values for (leaf, subleaf), as hardware answers out-of-range leaves. */
void cpuid__lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t subleaf,
		   uint32_t out[4]);
/* The vendor string is AuthenticAMD. */
bool cpuid__is_amd(const struct cpuid_table *t);
/* The guest-visible bit (leaf, subleaf 0, reg 0..3 = EAX..EDX, bit). */
bool cpuid__has(const struct cpuid_table *t, uint32_t leaf, unsigned reg, unsigned bit);
/* The CR4 bits a guest of this model may set (the others are reserved: #GP). */
uint64_t cpuid__cr4_valid(const struct cpuid_table *t);
/* Offer a feature shade itself provides (reg 0..3 = EAX..EDX), if the leaf exists. */
void cpuid__set_bit(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf, unsigned reg,
		    unsigned bit);
/* A kvm_cpuid2 copy for KVM_SET_CPUID2 (caller frees). */
struct kvm_cpuid2 *cpuid__to_kvm(const struct cpuid_table *t);

#endif
