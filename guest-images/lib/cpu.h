/*
 * cpu.h: CPUID facts the guests consult before using optional features, read once at
 * boot (boot.c). `tcg` is set when the hypervisor leaf says "TCGTCGTCGTCG": a few
 * checks where QEMU's TCG deviates from the SDM are skipped there (and only there),
 * each with a "# skip" line naming the deviation.
 */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include "types.h"

struct cpu_info {
	u32 max_leaf, max_ext_leaf;
	u32 f1_eax, f1_ebx, f1_ecx, f1_edx; /* leaf 1 */
	u32 f7_ebx, f7_ecx, f7_edx;         /* leaf 7 subleaf 0 */
	u32 e1_ecx, e1_edx;                 /* leaf 0x80000001 */
	char vendor[13];
	char hypervisor[13]; /* leaf 0x40000000 signature, "" if none */
	bool tcg;
};

extern struct cpu_info cpu__info;

void cpu__probe(void);
/* True (and prints "# skip: what: QEMU TCG ...why") when running on TCG. */
bool cpu__tcg_skip(const char *what, const char *why);

#endif
