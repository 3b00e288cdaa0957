/* cpu.c: the CPUID snapshot in cpu__info (see cpu.h). */
#include "cpu.h"
#include "string.h"
#include "test.h"
#include "printf.h"
#include "x86.h"

struct cpu_info cpu__info;

void cpu__probe(void)
{
	struct cpu_info *c = &cpu__info;
	u32 r[4];

	cpuid(0, 0, r);
	c->max_leaf = r[0];
	memcpy(c->vendor, &r[1], 4);
	memcpy(c->vendor + 4, &r[3], 4);
	memcpy(c->vendor + 8, &r[2], 4);
	c->vendor[12] = '\0';
	if (c->max_leaf >= 1) {
		cpuid(1, 0, r);
		c->f1_eax = r[0];
		c->f1_ebx = r[1];
		c->f1_ecx = r[2];
		c->f1_edx = r[3];
	}
	if (c->max_leaf >= 7) {
		cpuid(7, 0, r);
		c->f7_ebx = r[1];
		c->f7_ecx = r[2];
		c->f7_edx = r[3];
	}
	cpuid(0x80000000, 0, r);
	c->max_ext_leaf = r[0];
	if (c->max_ext_leaf >= 0x80000001 && c->max_ext_leaf < 0x8000ffff) {
		cpuid(0x80000001, 0, r);
		c->e1_ecx = r[2];
		c->e1_edx = r[3];
	}
	c->hypervisor[0] = '\0';
	if (c->f1_ecx & (1u << 31)) { /* CPUID.1:ECX.hypervisor */
		cpuid(0x40000000, 0, r);
		memcpy(c->hypervisor, &r[1], 4);
		memcpy(c->hypervisor + 4, &r[2], 4);
		memcpy(c->hypervisor + 8, &r[3], 4);
		c->hypervisor[12] = '\0';
	}
	c->tcg = strcmp(c->hypervisor, "TCGTCGTCGTCG") == 0;
}

bool cpu__tcg_skip(const char *what, const char *why)
{
	if (!cpu__info.tcg)
		return false;
	printf("# skip: %s: QEMU TCG %s\n", what, why);
	return true;
}
