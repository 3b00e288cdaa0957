/*
 * opcheck.c: the opcode-map rules a CPU applies before it touches any operand, where
 * capstone (shade's decoder) is more permissive than the CPU or silent: the 15-byte
 * limit, LOCK on anything but a read-modify-write of memory, the one-byte opcodes that
 * 64-bit mode removed, VEX/EVEX/XOP escapes (no AVX for a shade guest), and the
 * instructions whose feature the guest's CPUID hides or whose enabling control bit a
 * shade guest cannot set (VMX, SVM, AVX, FSGSBASE, ...). SDM vol. 2: 2.1 and 2.3
 * (prefixes, VEX), LOCK, Appendix A (opcode maps, the "i64" and "o64" marks); each
 * instruction's "Protected Mode Exceptions" for the CPUID conditions.
 *
 * insn.c asks here before it dispatches, whatever the cause of the exit: an encoding
 * found invalid is #UD for the guest even where capstone decodes it, and it never
 * reaches unicorn (which aborts the process on some of them, e.g. LOCK CMP).
 */
#include <string.h>

#include "cpuid.h"
#include "emu_internal.h"

static bool legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3: case 0x2e: case 0x36: case 0x3e: case 0x26:
	case 0x64: case 0x65: case 0x66: case 0x67:
		return true;
	default:
		return false;
	}
}

int opcheck__scan(const uint8_t *code, unsigned n, bool mode64, struct opscan *s)
{
	unsigned i = 0;

	memset(s, 0, sizeof(*s));
	for (;; i++) {
		if (i >= 15)
			return 1;
		if (i >= n)
			return -1;
		uint8_t b = code[i];
		if (legacy_prefix(b)) {
			s->lock |= b == 0xf0;
			s->rep |= b == 0xf3;
			s->repne |= b == 0xf2;
			s->opsize |= b == 0x66;
			s->adsize |= b == 0x67;
			s->rex = 0;          /* a REX not right before the opcode is ignored */
			continue;
		}
		if (mode64 && (b & 0xf0) == 0x40) {
			s->rex = b;
			continue;
		}
		break;
	}
	s->npfx = i;
	uint8_t b = code[i], next = i + 1 < n ? code[i + 1] : 0;
	if (i + 1 >= n && (b == 0x0f || b == 0xc4 || b == 0xc5 || b == 0x62 || b == 0x8f))
		return -1;
	/* VEX (C4/C5), EVEX (62): escapes in 64-bit mode, and in 32-bit mode when the
	 * following byte would be a register-form ModRM (LES/LDS/BOUND need memory). */
	if ((b == 0xc4 || b == 0xc5 || b == 0x62) && (mode64 || (next & 0xc0) == 0xc0)) {
		s->esc = b == 0x62 ? ESC_EVEX : ESC_VEX;
		s->map = b == 0xc5 ? 1 : (next & 0x1f);
		unsigned at = i + (b == 0xc5 ? 2 : b == 0xc4 ? 3 : 4);
		if (at >= n)
			return -1;
		s->op = code[at];
		return 0;
	}
	if (b == 0x8f && (next & 0x38)) {     /* POP r/m with reg != 0: AMD's XOP escape */
		s->esc = ESC_XOP;
		return 0;
	}
	unsigned at = i;
	if (b == 0x0f) {
		s->map = 1;
		at++;
		if (code[at] == 0x38 || code[at] == 0x3a) {
			s->map = code[at] == 0x38 ? 2 : 3;
			at++;
		}
	}
	if (at >= n)
		return -1;
	s->op = code[at];
	s->opoff = at;
	if (at + 1 < n) {
		s->has_modrm = true;      /* the byte after the opcode, if the opcode has one */
		s->modrm = code[at + 1];
	}
	return 0;
}

/* LOCK is legal only on these, with a memory destination (SDM vol. 2, LOCK). */
static bool lockable(const struct opscan *s)
{
	unsigned reg = (s->modrm >> 3) & 7;
	if (!s->has_modrm || (s->modrm & 0xc0) == 0xc0)
		return false;
	if (s->map == 0) {
		switch (s->op) {
		case 0x00: case 0x01: case 0x08: case 0x09: case 0x10: case 0x11: case 0x18:
		case 0x19: case 0x20: case 0x21: case 0x28: case 0x29: case 0x30: case 0x31:
		case 0x86: case 0x87:
			return true;
		case 0x80: case 0x81: case 0x82: case 0x83:
			return reg != 7;                         /* not CMP */
		case 0xf6: case 0xf7:
			return reg == 2 || reg == 3;             /* NOT, NEG */
		case 0xfe: case 0xff:
			return reg == 0 || reg == 1;             /* INC, DEC */
		default:
			return false;
		}
	}
	if (s->map == 1) {
		switch (s->op) {
		case 0xab: case 0xb3: case 0xbb: case 0xb0: case 0xb1: case 0xc0: case 0xc1:
			return true;
		case 0xba:
			return reg >= 5;                         /* BTS, BTR, BTC */
		case 0xc7:
			return reg == 1;                         /* CMPXCHG8B/16B */
		default:
			return false;
		}
	}
	return false;
}

/* One-byte opcodes marked i64 in the opcode map (invalid in 64-bit mode). */
static bool invalid64(uint8_t op)
{
	static const uint8_t ops[] = { 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f,
				       0x37, 0x3f, 0x60, 0x61, 0x82, 0x9a, 0xce, 0xd4, 0xd5,
				       0xd6, 0xea };
	return memchr(ops, op, sizeof(ops)) != NULL;
}

/* VEX-encoded general-purpose instructions (BMI1/BMI2): legal without AVX. */
static bool vex_gpr(const struct opscan *s)
{
	if (s->map == 2)
		return s->op == 0xf2 || s->op == 0xf3 || s->op == 0xf5 || s->op == 0xf6 ||
		       s->op == 0xf7;
	return s->map == 3 && s->op == 0xf0;
}

int opcheck__fault(const struct opscan *s, bool mode64, struct xfault *xf)
{
	if (s->esc == ESC_EVEX || s->esc == ESC_XOP)
		return xfault_set(xf, X86_UD, false, 0);
	if (s->esc == ESC_VEX) {
		/* VEX after 66/F2/F3/LOCK/REX is #UD (SDM 2.3.2); SIMD VEX needs
		 * XCR0.AVX, which a shade guest cannot set (XCR0 <= x87|SSE). */
		if (s->lock || s->rep || s->repne || s->opsize || s->rex || !vex_gpr(s))
			return xfault_set(xf, X86_UD, false, 0);
		return 0;
	}
	if (s->lock && !lockable(s))
		return xfault_set(xf, X86_UD, false, 0);
	if (mode64 && s->map == 0 && invalid64(s->op))
		return xfault_set(xf, X86_UD, false, 0);
	return 0;
}

/*
 * Instructions a shade guest never has: their enabling bit (CR4.VMXE, EFER.SVME,
 * CR4.SMXE, CR4.FSGSBASE, CR4.PKE) is refused, or the feature is absent from every
 * shade CPUID table (XSAVEOPT/C/S, SGX, SMAP, RTM, INVPCID, RDSEED, RDPID (which
 * capstone decodes as RDSEED), MONITOR): the OFF entries of cpuid.c's model. XSAVE,
 * XRSTOR, XGETBV and XSETBV follow the model's XSAVE bit (xsave.c checks CR4.OSXSAVE).
 */
static const x86_insn never[] = {
	X86_INS_GETSEC, X86_INS_XSAVEOPT, X86_INS_XSAVEOPT64, X86_INS_XSAVEC, X86_INS_XSAVEC64,
	X86_INS_XSAVES, X86_INS_XSAVES64, X86_INS_XRSTORS, X86_INS_XRSTORS64,
	X86_INS_RDFSBASE, X86_INS_RDGSBASE, X86_INS_WRFSBASE,
	X86_INS_WRGSBASE, X86_INS_ENCLS, X86_INS_ENCLU, X86_INS_CLAC, X86_INS_STAC,
	X86_INS_XBEGIN, X86_INS_XEND, X86_INS_XABORT, X86_INS_XTEST, X86_INS_INVPCID,
	X86_INS_RDSEED, X86_INS_MONITOR, X86_INS_MWAIT, X86_INS_INVLPGA,
	X86_INS_SKINIT, X86_INS_VMFUNC, X86_INS_RSM,     /* RSM: never in SMM */
};

/* Capstone groups of features no shade guest has (all need XSAVE state or are AMD's
 * withdrawn extensions), and of those its CPUID may show: leaf, register, bit. */
static const uint8_t never_groups[] = {
	X86_GRP_VM, X86_GRP_AVX, X86_GRP_AVX2, X86_GRP_AVX512, X86_GRP_FMA, X86_GRP_FMA4,
	X86_GRP_F16C, X86_GRP_XOP, X86_GRP_TBM, X86_GRP_CDI, X86_GRP_ERI, X86_GRP_DQI,
	X86_GRP_BWI, X86_GRP_PFI, X86_GRP_VLX, X86_GRP_SGX, X86_GRP_SMAP, X86_GRP_FSGSBASE,
	X86_GRP_RTM, X86_GRP_3DNOW,
};

struct feature { uint32_t id; uint32_t leaf; uint8_t reg, bit; };  /* reg: 1 EBX 2 ECX 3 EDX */

static const struct feature group_features[] = {
	{ X86_GRP_MMX, 1, 3, 23 }, { X86_GRP_SSE1, 1, 3, 25 }, { X86_GRP_SSE2, 1, 3, 26 },
	{ X86_GRP_SSE3, 1, 2, 0 }, { X86_GRP_SSSE3, 1, 2, 9 }, { X86_GRP_SSE41, 1, 2, 19 },
	{ X86_GRP_SSE42, 1, 2, 20 }, { X86_GRP_SSE4A, 0x80000001, 2, 6 },
	{ X86_GRP_AES, 1, 2, 25 }, { X86_GRP_PCLMUL, 1, 2, 1 }, { X86_GRP_SHA, 7, 1, 29 },
	{ X86_GRP_ADX, 7, 1, 19 }, { X86_GRP_BMI, 7, 1, 3 }, { X86_GRP_BMI2, 7, 1, 8 },
	{ X86_GRP_CMOV, 1, 3, 15 },
};

static const struct feature insn_features[] = {
	{ X86_INS_RDRAND, 1, 2, 30 }, { X86_INS_MOVBE, 1, 2, 22 },
	{ X86_INS_POPCNT, 1, 2, 23 }, { X86_INS_CMPXCHG16B, 1, 2, 13 },
	{ X86_INS_CMPXCHG8B, 1, 3, 8 }, { X86_INS_CLFLUSH, 1, 3, 19 },
	{ X86_INS_CLFLUSHOPT, 7, 1, 23 }, { X86_INS_CLWB, 7, 1, 24 }, { X86_INS_FXSAVE, 1, 3, 24 },
	{ X86_INS_FXRSTOR, 1, 3, 24 }, { X86_INS_FXSAVE64, 1, 3, 24 },
	{ X86_INS_FXRSTOR64, 1, 3, 24 }, { X86_INS_XSAVE, 1, 2, 26 }, { X86_INS_XSAVE64, 1, 2, 26 },
	{ X86_INS_XRSTOR, 1, 2, 26 }, { X86_INS_XRSTOR64, 1, 2, 26 }, { X86_INS_XGETBV, 1, 2, 26 },
	{ X86_INS_XSETBV, 1, 2, 26 },
};

static bool cpuid_bit(struct vcpu *vcpu, const struct feature *f)
{
	uint32_t out[4];
	cpuid__lookup(&vcpu->vm->cpuid, f->leaf, 0, out);
	return out[f->reg] & (1u << f->bit);
}

static bool has_group(const cs_insn *ci, unsigned grp)
{
	for (unsigned i = 0; i < ci->detail->groups_count; i++)
		if (ci->detail->groups[i] == grp)
			return true;
	return false;
}

int opcheck__feature(struct vcpu *vcpu, const cs_insn *ci, struct xfault *xf)
{
	for (unsigned i = 0; i < ARRAY_SIZE(never); i++)
		if (ci->id == never[i])
			return xfault_set(xf, X86_UD, false, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(never_groups); i++)
		if (has_group(ci, never_groups[i]))
			return xfault_set(xf, X86_UD, false, 0);
	/* An instruction with a CPUID bit of its own depends on that bit only (capstone
	 * files CLFLUSH under SSE2, whose bit has nothing to do with it). */
	for (unsigned i = 0; i < ARRAY_SIZE(insn_features); i++)
		if (ci->id == insn_features[i].id)
			return cpuid_bit(vcpu, &insn_features[i]) ? 0 : xfault_set(xf, X86_UD, false, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(group_features); i++)
		if (has_group(ci, group_features[i].id) && !cpuid_bit(vcpu, &group_features[i]))
			return xfault_set(xf, X86_UD, false, 0);
	return 0;
}

unsigned opcheck__modrm_len(const uint8_t *code, unsigned n, unsigned at, unsigned addrsize)
{
	if (at >= n)
		return 0;
	unsigned mod = code[at] >> 6, rm = code[at] & 7, len = 1;
	if (mod == 3)
		return 1;
	if (addrsize == 2) {
		len += mod == 1 ? 1 : mod == 2 ? 2 : (rm == 6 ? 2 : 0);
	} else {
		if (rm == 4) {
			if (at + 1 >= n)
				return 0;
			len++;
			if (mod == 0 && (code[at + 1] & 7) == 5)
				len += 4;
		} else if (mod == 0 && rm == 5) {
			len += 4;
		}
		len += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	}
	return at + len <= n ? len : 0;
}
