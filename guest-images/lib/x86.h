/*
 * x86.h: architectural constants and one-instruction wrappers (port I/O, control
 * registers, MSRs, TSC, CPUID, EFLAGS, descriptor-table registers, segment registers).
 * Descriptor formats live in desc.h, exception frames in trap.h.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include "types.h"

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)

#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_MCE (1u << 6)
#define CR4_PGE (1u << 7)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_PCIDE (1u << 17)
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)
#define CR4_PKE (1u << 22)

#define FL_CF (1u << 0)
#define FL_FIXED (1u << 1)
#define FL_ZF (1u << 6)
#define FL_TF (1u << 8)
#define FL_IF (1u << 9)
#define FL_DF (1u << 10)
#define FL_OF (1u << 11)
#define FL_IOPL(n) ((u32)(n) << 12)
#define FL_IOPL_MASK (3u << 12)
#define FL_NT (1u << 14)
#define FL_RF (1u << 16)
#define FL_VM (1u << 17)
#define FL_AC (1u << 18)

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT 0x277
#define MSR_EFER 0xc0000080
#define MSR_TSC_AUX 0xc0000103
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* CPUID.1:EDX bits the guests rely on. */
#define CPUID1_EDX_VME (1u << 1)
#define CPUID1_EDX_DE (1u << 2)
#define CPUID1_EDX_PSE (1u << 3)
#define CPUID1_EDX_TSC (1u << 4)
#define CPUID1_EDX_MSR (1u << 5)
#define CPUID1_EDX_PAE (1u << 6)
#define CPUID1_EDX_SEP (1u << 11)
#define CPUID1_EDX_PGE (1u << 13)
#define CPUID1_EDX_PAT (1u << 16)
#define CPUID1_EDX_PSE36 (1u << 17)
#define CPUID1_EDX_FXSR (1u << 24)
#define CPUID1_EDX_SSE (1u << 25)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID81_EDX_SYSCALL (1u << 11)
#define CPUID81_EDX_NX (1u << 20)
#define CPUID81_EDX_1GB (1u << 26)
#define CPUID81_EDX_RDTSCP (1u << 27)
#define CPUID81_EDX_LM (1u << 29)

struct dtr {
	u16 limit;
	u32 base;
} __packed;

static inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define DEFINE_CR(n)                                                          \
	static inline u32 read_cr##n(void)                                    \
	{                                                                     \
		u32 v;                                                        \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));                 \
		return v;                                                     \
	}                                                                     \
	static inline void write_cr##n(u32 v)                                 \
	{                                                                     \
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");        \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

static inline u32 cpuid_max(u32 base)
{
	u32 r[4];

	cpuid(base, 0, r);
	return r[0];
}

static inline u32 read_eflags(void)
{
	u32 f;

	asm volatile("pushfl; popl %0" : "=r"(f));
	return f;
}

static inline void write_eflags(u32 f)
{
	asm volatile("pushl %0; popfl" : : "r"(f) : "memory", "cc");
}

/* Invalidate the TLB entries for one linear address (and all paging-structure caches). */
static inline void invlpg(u32 va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }

static inline void cli(void) { asm volatile("cli" : : : "memory"); }
static inline void sti(void) { asm volatile("sti" : : : "memory"); }
static inline void hlt(void) { asm volatile("hlt" : : : "memory"); }
/* STI's one-instruction interrupt shadow makes "sti; hlt" race-free. */
static inline void sti_hlt(void) { asm volatile("sti; hlt" : : : "memory"); }
static inline void pause(void) { asm volatile("pause" : : : "memory"); }

static inline void lgdt(const struct dtr *d) { asm volatile("lgdt %0" : : "m"(*d) : "memory"); }
static inline void lidt(const struct dtr *d) { asm volatile("lidt %0" : : "m"(*d) : "memory"); }
static inline void sgdt(struct dtr *d) { asm volatile("sgdt %0" : "=m"(*d)); }
static inline void sidt(struct dtr *d) { asm volatile("sidt %0" : "=m"(*d)); }
static inline void lldt(u16 sel) { asm volatile("lldt %0" : : "r"(sel) : "memory"); }
static inline void ltr(u16 sel) { asm volatile("ltr %0" : : "r"(sel) : "memory"); }

static inline u16 sldt(void)
{
	u16 s;

	asm volatile("sldt %0" : "=r"(s));
	return s;
}

static inline u16 str(void)
{
	u16 s;

	asm volatile("str %0" : "=r"(s));
	return s;
}

#define DEFINE_SEG(name)                                                      \
	static inline u16 read_##name(void)                                   \
	{                                                                     \
		u16 s;                                                        \
		asm volatile("movw %%" #name ", %0" : "=rm"(s));              \
		return s;                                                     \
	}
DEFINE_SEG(cs)
DEFINE_SEG(ds)
DEFINE_SEG(es)
DEFINE_SEG(fs)
DEFINE_SEG(gs)
DEFINE_SEG(ss)
#undef DEFINE_SEG

static inline void write_ds(u16 s) { asm volatile("movw %0, %%ds" : : "rm"(s) : "memory"); }
static inline void write_es(u16 s) { asm volatile("movw %0, %%es" : : "rm"(s) : "memory"); }
static inline void write_fs(u16 s) { asm volatile("movw %0, %%fs" : : "rm"(s) : "memory"); }
static inline void write_gs(u16 s) { asm volatile("movw %0, %%gs" : : "rm"(s) : "memory"); }

#endif
