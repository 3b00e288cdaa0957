/*
 * x64.h: the freestanding 64-bit guest runtime's base: fixed-width types, varargs, and
 * one-instruction wrappers (port I/O, control registers, MSRs, TSC, CPUID, INVLPG).
 * Built -m64 -mcmodel=kernel with -nostdinc, so no libc header exists; the 32-bit
 * runtime in ../lib has its own (32-bit size_t and pointers), which is why the two are
 * never mixed in one image.
 */
#ifndef GUEST64_X64_H
#define GUEST64_X64_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long s64;
typedef unsigned long size_t;
typedef unsigned long uintptr_t;

typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define offsetof(type, member) __builtin_offsetof(type, member)
#define __noreturn __attribute__((noreturn))
#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))

#define PAGE_SIZE 4096ul

#define CR4_PAE (1ul << 5)
#define CR4_PGE (1ul << 7)
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define EFER_SCE (1ul << 0)
#define RFLAGS_FIXED (1ul << 1)
#define RFLAGS_TF (1ul << 8)
#define RFLAGS_IF (1ul << 9)
#define RFLAGS_DF (1ul << 10)
#define RFLAGS_IOPL (3ul << 12)
#define RFLAGS_NT (1ul << 14)
#define RFLAGS_AC (1ul << 18)
#define CPUID1_EDX_PGE (1u << 13)
#define CPUID81_EDX_SYSCALL (1u << 11)

static inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define DEFINE_CR(n)                                                          \
	static inline u64 read_cr##n(void)                                    \
	{                                                                     \
		u64 v;                                                        \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));                 \
		return v;                                                     \
	}                                                                     \
	static inline void write_cr##n(u64 v)                                 \
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

static inline void invlpg(u64 va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }

/* Page-sized copies and fills as one string instruction each: every kernel instruction
 * is interpreted (hundreds of ns) on the nested backends, a REP is one. */
static inline void page_zero(void *dst)
{
	void *d = dst;
	u64 n = PAGE_SIZE / 8;

	asm volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0ul) : "memory");
}

static inline void page_copy(void *dst, const void *src)
{
	void *d = dst;
	const void *s = src;
	u64 n = PAGE_SIZE / 8;

	asm volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

#endif
