/*
 * fuzz_emulate.c: shade's instruction emulator against unicorn, differentially.
 *
 * Each input is one instruction and the state it starts from. shade runs it the way a
 * KVM backend hands it over when it cannot execute it (KVM_EXIT_INTERNAL_ERROR,
 * emulation failure, fabricated as tests/unit/test_exit.c does: a real pool, pmap,
 * monitor, physical-mode and shadow page tables, no /dev/kvm) through exit__handle(); a
 * separate unicorn engine runs the same bytes from the same registers over a copy of
 * the same memory. Required: shade never stops the VM for an encoding except the few
 * listed in allowed_stop[]; where the instruction is comparable (below), the same
 * fault vector (and error code where both have one), or the same registers, flags and
 * memory.
 *
 * Input (little-endian; past its end everything reads as zero):
 *   u8  mode: bit 0 64-bit mode (IA-32e, identity-mapped 2 MiB), bit 1 guest CPL 3,
 *             bit 2 code at the end of the mapped memory (page-crossing fetches),
 *             bit 3 general registers taken whole (else masked into the low 1 MiB)
 *   u8  code offset
 *   15  instruction bytes
 *   16 x u32 general registers (RSP is always placed in a stack area)
 *   u16 arithmetic flags and DF
 *   ... bytes of the data area at DATA
 *
 * Not compared with unicorn (intended differences, each checked another way):
 *  - what shade refuses before decoding (opcheck.c: LOCK misuse, i64 opcodes, VEX/EVEX/
 *    XOP, features shade's CPUID hides): unicorn runs some of these (and aborts on
 *    some LOCK forms); shade must give exactly #UD, checked here;
 *  - instructions that use system state unicorn does not share (privileged ones,
 *    segment and descriptor-table access, far transfers, software interrupts, I/O,
 *    IF/IOPL, CPUID, time stamp): the reference runs at CPL 0 in a flat world; shade
 *    only has to give an architectural outcome, not a stop;
 *  - any CPL 3 instruction shade answers with #GP(0): unicorn runs at CPL 0;
 *  - accesses the reference has no memory for (above 2 MiB): shade's result stands;
 *  - x87/MMX/SSE instructions: shade's unicorn step starts from unicorn's FPU and XMM
 *    state, not the guest's (a known gap of ucstep.c), so only their faults matter;
 *  - ring compression artefacts cannot show here: no instruction runs natively.
 * Build alone for a systematic scan of the opcode space: -DFUZZ_EMULATE_SCAN (main()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include "emu_internal.h"
#include "exit.h"
#include "fuzz.h"
#include "mmu.h"
#include "paging.h"
#include "physmap.h"

#define MAPPED  0x200000ULL     /* identity-mapped, and the reference's memory */
#define GDT     0x1000
#define IDT     0x2000
#define TSS     0x3000
#define HANDLER 0x6000          /* vector v's handler at HANDLER + 16 v */
#define CODE    0x10000ULL
#define DATA    0x20000
#define STACK   0x1f0000
#define KSTACK  0x1fc000        /* TSS ring-0 stack */
#define PML4    0x201000        /* 64-bit page tables, outside the mapped range */

enum outcome { O_DONE, O_FAULT, O_STOP, O_HALT, O_UNMAPPED, O_OTHER };

struct result {
	enum outcome o;
	unsigned vec;
	bool has_err;
	uint32_t err;
	uint64_t gpr[16], rip, rflags;
	char why[300];
};

struct emu_fuzz {
	struct fuzz_vm f;
	struct vcpu vcpu;
	struct kvm_run *run;
	uc_engine *ref[2];
	uint8_t *mem;               /* the reference's memory */
	csh cs[2];
	bool ready;
};

static struct emu_fuzz F;

/* The replay's mutations (ctest fuzz.emulate): each input builds a VM, so fewer. */
const unsigned fuzz_replay_runs = 500;

/* Stops shade may make: a guest state shade does not virtualize. */
static const char *const allowed_stop[] = {
	"real mode is not supported",
	"virtual-8086",
	"guest uses GDT entry",
	"hardware task switch",
	"Input/output error",      /* a KVM ioctl (debug registers, TSC): no /dev/kvm here */
};

static uint64_t desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

static void poke(uint64_t gpa, const void *p, size_t n)
{
	if (pmap__write(&F.f.vm.pmap, GPA(gpa), p, n))
		abort();
}

/* The guest's GDT, IDT, TSS and (64-bit) page tables, as a small kernel sets them up. */
static void build_tables(bool m64)
{
	uint64_t gdt[10] = {
		0,
		desc(0, 0xfffff, 0x9b, 0xc), desc(0, 0xfffff, 0x93, 0xc),
		desc(0, 0xfffff, 0xfb, 0xc), desc(0, 0xfffff, 0xf3, 0xc),
		desc(TSS, 0x67, 0x8b, 0), 0,
		desc(0, 0xfffff, 0x9b, 0xa), desc(0, 0xfffff, 0xfb, 0xa), 0,
	};
	poke(GDT, gdt, sizeof(gdt));
	uint8_t tss[0x68] = { 0 };
	uint32_t esp0 = KSTACK, ss0 = 0x10;
	uint64_t rsp0 = KSTACK;
	if (m64) {
		memcpy(tss + 4, &rsp0, 8);
	} else {
		memcpy(tss + 4, &esp0, 4);
		memcpy(tss + 8, &ss0, 4);
	}
	poke(TSS, tss, sizeof(tss));
	for (unsigned v = 0; v < 256; v++) {
		uint64_t off = HANDLER + 16 * v;
		uint64_t lo = (off & 0xffff) | ((uint64_t)(m64 ? 0x38 : 0x08) << 16) |
			      (0x8eULL << 40) | ((off >> 16) << 48);
		if (m64) {
			uint64_t g[2] = { lo, 0 };
			poke(IDT + 16 * v, g, 16);
		} else {
			poke(IDT + 8 * v, &lo, 8);
		}
	}
	if (m64) {
		uint64_t pml4 = (PML4 + 0x1000) | 7, pdpt = (PML4 + 0x2000) | 7, pde = 0x87;
		poke(PML4, &pml4, 8);
		poke(PML4 + 0x1000, &pdpt, 8);
		poke(PML4 + 0x2000, &pde, 8);
	}
}

/* CPUID as a host like the development machines gives it to a shade guest. */
static void build_cpuid(struct cpuid_table *t)
{
	static const struct kvm_cpuid_entry2 e[] = {
		{ .function = 0, .eax = 0xd },
		{ .function = 1, .ecx = 0x82f82203, .edx = 0x078bfbff },
		{ .function = 7, .ebx = 0x20880108 },
		{ .function = 0x80000000, .eax = 0x80000008 },
		{ .function = 0x80000001, .ecx = 0x00000161, .edx = 0x2ff3fbff },
	};
	t->n = ARRAY_SIZE(e);
	memcpy(t->e, e, sizeof(e));
}

static struct kvm_segment real_seg(uint16_t sel)
{
	struct kvm_segment s;
	seg__decode(*monitor__gdt_entry(&F.f.vm.mon, 0, sel >> 3), sel, &s);
	s.present = 1;
	return s;
}

static void once(void)
{
	if (F.ready)
		return;
	F.run = calloc(1, 8192);
	F.mem = aligned_alloc(4096, MAPPED);
	if (!F.run || !F.mem)
		abort();
	for (unsigned m = 0; m < 2; m++) {
		if (uc_open(UC_ARCH_X86, m ? UC_MODE_64 : UC_MODE_32, &F.ref[m]) != UC_ERR_OK ||
		    uc_mem_map_ptr(F.ref[m], 0, MAPPED, UC_PROT_ALL, F.mem) != UC_ERR_OK ||
		    cs_open(CS_ARCH_X86, m ? CS_MODE_64 : CS_MODE_32, &F.cs[m]) != CS_ERR_OK)
			abort();
		cs_option(F.cs[m], CS_OPT_DETAIL, CS_OPT_ON);
		uint64_t cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
		uc_reg_write(F.ref[m], UC_X86_REG_CR4, &cr4);
	}
	F.vcpu.vm = &F.f.vm;
	F.vcpu.fd = -1;
	F.vcpu.run = F.run;
	if (emulate__init(&F.vcpu))
		abort();
	F.ready = true;
}

/* A fresh VM around the persistent vCPU (whose capstone and unicorn engines live on, as
 * in a real run). */
static void vm_begin(bool m64, bool cpl3)
{
	struct vm *vm = &F.f.vm;
	fuzz_vm__begin(&F.f, 64ULL << 20, 16ULL << 20);
	build_cpuid(&vm->cpuid);
	if (monitor__init(&vm->mon, &F.f.host.pool, 1) || physmap__init(vm) ||
	    mmu__init(&vm->mmu, &F.f.host.pool, &vm->pmap, &vm->mon, 64))
		abort();
	vm->vcpu[0] = &F.vcpu;
	vm->nvcpus = 1;
	struct vcpu *v = &F.vcpu;
	memset(&v->v, 0, sizeof(v->v));
	memset(&v->g, 0, sizeof(v->g));
	memset(&v->stats, 0, sizeof(v->stats));
	memset(&v->traced_gdt, 0, sizeof(v->traced_gdt));
	memset(&v->traced_ldt, 0, sizeof(v->traced_ldt));
	memset(&v->step, 0, sizeof(v->step));
	v->halted = v->shutdown = false;
	v->iopl = 0;
	build_tables(m64);
	v->v.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP | (m64 ? CR0_PG : 0);
	v->v.cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT | (m64 ? CR4_PAE : 0);
	v->v.efer = m64 ? EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE : 0;
	v->v.cr3 = m64 ? PML4 : 0;
	v->v.gdtr = (struct dtr){ GDT, 10 * 8 - 1 };
	v->v.idtr = (struct dtr){ IDT, m64 ? 256 * 16 - 1 : 256 * 8 - 1 };
	v->v.ldtr.unusable = 1;
	uint64_t tss_desc = desc(TSS, 0x67, 0x8b, 0);
	seg__decode(tss_desc, 0x28, &v->v.tr);
	if (seg__mirror_gdt(v))
		abort();
	struct xfault xf;
	if (m64 && paging__update(v, false, &xf))
		abort();
	(void)cpl3;
}

static void vm_end(void)
{
	struct vm *vm = &F.f.vm;
	mmu__exit(&vm->mmu);
	physmap__exit(vm);
	monitor__exit(&vm->mon);
	vm->vcpu[0] = NULL;
	vm->nvcpus = 0;
	fuzz_vm__end(&F.f);
}

struct start {
	bool m64, cpl3, whole;
	uint64_t rip, gpr[16], rflags;
	uint8_t code[15];
};

static void read_start(struct fin *in, struct start *s, const uint8_t **data, size_t *ndata)
{
	uint8_t mode = fin__u8(in), off = fin__u8(in);
	size_t got;
	memset(s, 0, sizeof(*s));
	s->m64 = mode & 1;
	s->cpl3 = mode & 2;
	s->whole = mode & 8;
	s->rip = (mode & 4) ? MAPPED - 16 + (off & 15) : CODE + off;
	const uint8_t *code = fin__bytes(in, 15, &got);
	memcpy(s->code, code, got);
	for (unsigned i = 0; i < 16; i++) {
		uint32_t r = fin__u32(in);
		s->gpr[i] = s->whole ? r : (r & 0xfffff);
	}
	s->gpr[R_SP] = STACK - 64 * (s->gpr[R_SP] & 0xff);
	if (!s->m64)
		for (unsigned i = 8; i < 16; i++)
			s->gpr[i] = 0;
	s->rflags = (fin__u16(in) & (RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_OF | RFL_DF)) |
		    RFL_FIXED;
	*data = fin__bytes(in, 4096, ndata);
}

static unsigned reflected_vector(const struct vcpu *v)
{
	for (unsigned i = 0; i < 256; i++)
		if (v->stats.reflected[i])
			return i;
	return 256;
}

static void run_shade(const struct start *s, struct result *res)
{
	struct vcpu *v = &F.vcpu;
	struct vm *vm = &F.f.vm;
	struct kvm_run *run = F.run;
	struct kvm_regs *r = &run->s.regs.regs;
	struct kvm_sregs *sr = &run->s.regs.sregs;

	memset(run, 0, 8192);
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	const uint64_t *g = s->gpr;
	r->rax = g[0]; r->rcx = g[1]; r->rdx = g[2]; r->rbx = g[3]; r->rsp = g[4]; r->rbp = g[5];
	r->rsi = g[6]; r->rdi = g[7]; r->r8 = g[8]; r->r9 = g[9]; r->r10 = g[10]; r->r11 = g[11];
	r->r12 = g[12]; r->r13 = g[13]; r->r14 = g[14]; r->r15 = g[15];
	r->rip = s->rip;
	r->rflags = s->rflags | (s->cpl3 ? 0 : (1ULL << RFL_IOPL_SHIFT));
	uint16_t cs = s->m64 ? (s->cpl3 ? 0x43 : 0x39) : (s->cpl3 ? 0x1b : 0x09);
	uint16_t ds = s->cpl3 ? 0x23 : 0x11;
	sr->cs = real_seg(cs);
	sr->ss = real_seg(ds);
	sr->ds = sr->es = sr->fs = sr->gs = real_seg(s->cpl3 ? 0x23 : 0x10);
	sr->tr = real_seg(0x28);
	sr->ldt.unusable = 1;
	sr->cr0 = v->v.cr0;
	sr->efer = v->v.efer;

	exit__handle(v);
	memset(res, 0, sizeof(*res));
	memcpy(res->gpr, v->g.gpr, sizeof(res->gpr));
	res->rip = v->g.rip;
	res->rflags = v->g.rflags;
	if (atomic_load(&vm->stop)) {
		res->o = vm->exit_status == 0 ? O_HALT : O_STOP;
		snprintf(res->why, sizeof(res->why), "%s", vm->stop_reason);
		return;
	}
	unsigned vec = reflected_vector(v);
	if (vec == 256) {
		res->o = O_DONE;
		return;
	}
	res->o = O_FAULT;
	res->vec = vec;
	res->has_err = excp__has_error_code(vec);
	uint32_t e = 0;
	if (res->has_err && pmap__read(&vm->pmap, GPA(v->g.gpr[R_SP] & 0xffffffffULL), &e, 4) == 0)
		res->err = e;
}

static int ref_vector;
static void ref_intr(uc_engine *uc, uint32_t intno, void *user)
{
	(void)user;
	ref_vector = (int)intno;
	uc_emu_stop(uc);
}

/* A REP string instruction: shade runs up to 512 iterations in one step (ucstep.c). */
static bool rep_string(const cs_insn *ci)
{
	static const x86_insn ids[] = {
		X86_INS_MOVSB, X86_INS_MOVSW, X86_INS_MOVSD, X86_INS_MOVSQ, X86_INS_STOSB,
		X86_INS_STOSW, X86_INS_STOSD, X86_INS_STOSQ, X86_INS_LODSB, X86_INS_LODSW,
		X86_INS_LODSD, X86_INS_LODSQ, X86_INS_CMPSB, X86_INS_CMPSW, X86_INS_CMPSD,
		X86_INS_CMPSQ, X86_INS_SCASB, X86_INS_SCASW, X86_INS_SCASD, X86_INS_SCASQ,
	};
	bool rep = false, str = false;
	for (unsigned i = 0; i < 4; i++)
		rep |= ci->detail->x86.prefix[i] == 0xf2 || ci->detail->x86.prefix[i] == 0xf3;
	for (unsigned i = 0; i < ARRAY_SIZE(ids); i++)
		str |= ci->id == ids[i];
	return rep && str;
}

static void run_ref(const struct start *s, const cs_insn *ci, struct result *res)
{
	static const int regs[16] = {
		UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP,
		UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8, UC_X86_REG_R9,
		UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
		UC_X86_REG_R15,
	};
	static const int regs32[8] = {
		UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX, UC_X86_REG_ESP,
		UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
	};
	uc_engine *uc = F.ref[s->m64];
	uc_hook h;
	memset(res, 0, sizeof(*res));
	uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)ref_intr, NULL, 1, 0);
	/* This input's code, not the last's; a full flush now and then gives the code
	 * buffer's space back. */
	static unsigned runs;
	if (++runs % 512 == 0)
		uc_ctl_flush_tlb(uc);
	else
		uc_ctl_remove_cache(uc, s->rip, s->rip + 32);
	for (unsigned i = 0; i < (s->m64 ? 16u : 8u); i++) {
		if (s->m64) {
			uc_reg_write(uc, regs[i], &s->gpr[i]);
		} else {
			uint32_t v = (uint32_t)s->gpr[i];
			uc_reg_write(uc, regs32[i], &v);
		}
	}
	uint64_t fl = s->rflags;
	uc_reg_write(uc, UC_X86_REG_EFLAGS, &fl);
	ref_vector = -1;
	uc_err e = rep_string(ci) ? uc_emu_start(uc, s->rip, s->rip + ci->size, 0, 512)
				  : uc_emu_start(uc, s->rip, MAPPED + 0x1000, 0, 1);
	uc_hook_del(uc, h);
	if (s->m64) {
		for (unsigned i = 0; i < 16; i++)
			uc_reg_read(uc, regs[i], &res->gpr[i]);
		uc_reg_read(uc, UC_X86_REG_RIP, &res->rip);
	} else {
		uint32_t v;
		for (unsigned i = 0; i < 8; i++) {
			uc_reg_read(uc, regs32[i], &v);
			res->gpr[i] = v;
		}
		uc_reg_read(uc, UC_X86_REG_EIP, &v);
		res->rip = v;
	}
	uc_reg_read(uc, UC_X86_REG_EFLAGS, &res->rflags);
	if (ref_vector >= 0) {
		res->o = O_FAULT;
		res->vec = (unsigned)ref_vector;
	} else if (e == UC_ERR_INSN_INVALID) {
		res->o = O_FAULT;
		res->vec = X86_UD;
	} else if (e == UC_ERR_READ_UNMAPPED || e == UC_ERR_WRITE_UNMAPPED ||
		   e == UC_ERR_FETCH_UNMAPPED) {
		res->o = O_UNMAPPED;
	} else if (e != UC_ERR_OK) {
		res->o = O_OTHER;
		snprintf(res->why, sizeof(res->why), "%s", uc_strerror(e));
	} else {
		res->o = O_DONE;
	}
}

/* Instructions whose result depends on system state the reference does not share. */
static bool system_insn(const cs_insn *ci)
{
	static const x86_insn ids[] = {
		X86_INS_LJMP, X86_INS_LCALL, X86_INS_RETF, X86_INS_RETFQ, X86_INS_IRET,
		X86_INS_IRETD, X86_INS_IRETQ, X86_INS_INT, X86_INS_INT1, X86_INS_INT3,
		X86_INS_INTO, X86_INS_SYSENTER, X86_INS_SYSEXIT, X86_INS_SYSCALL,
		X86_INS_SYSRET, X86_INS_LDS, X86_INS_LES, X86_INS_LFS, X86_INS_LGS, X86_INS_LSS,
		X86_INS_LAR, X86_INS_LSL, X86_INS_VERR, X86_INS_VERW, X86_INS_ARPL,
		X86_INS_SGDT, X86_INS_SIDT, X86_INS_SLDT, X86_INS_STR, X86_INS_SMSW,
		X86_INS_CPUID, X86_INS_RDTSC, X86_INS_RDTSCP, X86_INS_RDPMC, X86_INS_IN,
		X86_INS_OUT, X86_INS_INSB, X86_INS_INSW, X86_INS_INSD, X86_INS_OUTSB,
		X86_INS_OUTSW, X86_INS_OUTSD, X86_INS_CLI, X86_INS_STI, X86_INS_PUSHF,
		X86_INS_PUSHFD, X86_INS_PUSHFQ, X86_INS_POPF, X86_INS_POPFD, X86_INS_POPFQ,
		X86_INS_HLT, X86_INS_RDRAND, X86_INS_RDSEED, X86_INS_UD2, X86_INS_FXSAVE,
		X86_INS_FXSAVE64, X86_INS_FXRSTOR, X86_INS_FXRSTOR64, X86_INS_RDMSR,
		X86_INS_WRMSR,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(ids); i++)
		if (ci->id == ids[i])
			return true;
	/* x87/MMX/SSE: shade's unicorn step does not get the guest's FPU and XMM state
	 * (a known gap, see ucstep.c), so their results are not comparable. */
	static const uint8_t groups[] = {
		X86_GRP_PRIVILEGE, X86_GRP_INT, X86_GRP_IRET, X86_GRP_FPU, X86_GRP_MMX,
		X86_GRP_SSE1, X86_GRP_SSE2, X86_GRP_SSE3, X86_GRP_SSSE3, X86_GRP_SSE41,
		X86_GRP_SSE42, X86_GRP_SSE4A, X86_GRP_AES, X86_GRP_PCLMUL, X86_GRP_SHA,
		X86_GRP_3DNOW,
	};
	for (unsigned i = 0; i < ci->detail->groups_count; i++)
		for (unsigned k = 0; k < ARRAY_SIZE(groups); k++)
			if (ci->detail->groups[i] == groups[k])
				return true;
	if (ci->detail->x86.opcode[0] >= 0xd8 && ci->detail->x86.opcode[0] <= 0xdf)
		return true;
	/* Segment registers as operands (MOV/PUSH/POP Sreg): the reference's are not the
	 * guest's. */
	const cs_x86 *x = &ci->detail->x86;
	for (unsigned i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_REG && seg_of(x->operands[i].reg) >= 0)
			return true;
	return false;
}

static bool stop_allowed(const char *why)
{
	for (unsigned i = 0; i < ARRAY_SIZE(allowed_stop); i++)
		if (strstr(why, allowed_stop[i]))
			return true;
	return false;
}

static void describe(char *buf, size_t n, const struct result *r)
{
	switch (r->o) {
	case O_DONE:
		snprintf(buf, n, "done rip %#llx rflags %#llx", (unsigned long long)r->rip,
			 (unsigned long long)r->rflags);
		break;
	case O_FAULT: snprintf(buf, n, "fault %u err %#x", r->vec, r->err); break;
	case O_STOP: snprintf(buf, n, "stop: %s", r->why); break;
	case O_HALT: snprintf(buf, n, "halt: %s", r->why); break;
	case O_UNMAPPED: snprintf(buf, n, "unmapped access"); break;
	default: snprintf(buf, n, "other: %s", r->why); break;
	}
}

/* The guest's low MAPPED bytes (pages never backed read as zeros). */
static void copy_guest_memory(uint8_t *dst)
{
	struct pmap *pm = &F.f.vm.pmap;
	for (uint64_t a = 0; a < MAPPED; a += PAGE_SIZE) {
		if (!mfn_valid(pmap__lookup(pm, GFN(a >> PAGE_SHIFT))))
			memset(dst + a, 0, PAGE_SIZE);
		else if (pmap__read(pm, GPA(a), dst + a, PAGE_SIZE))
			abort();
	}
}

/* The verdict for one input: NULL if shade did what it must, else what went wrong. */
static const char *judge(const struct start *s, const struct result *sh,
			 const struct result *ref, const cs_insn *ci, bool intended_ud,
			 char *buf, size_t n)
{
	if (sh->o == O_STOP && !stop_allowed(sh->why))
		return "shade stopped the VM";
	if (sh->o == O_OTHER)
		return "shade: unexpected outcome";
	if (intended_ud)
		return sh->o == O_FAULT && sh->vec == X86_UD ? NULL : "opcheck #UD not given";
	if (!ci || system_insn(ci) || sh->o == O_STOP || sh->o == O_HALT)
		return NULL;
	if (s->cpl3 && sh->o == O_FAULT && sh->vec == X86_GP && sh->err == 0)
		return NULL;
	if (ref->o == O_UNMAPPED || ref->o == O_OTHER)
		return NULL;
	if (sh->o != ref->o)
		return "outcome differs";
	if (sh->o == O_FAULT) {
		if (sh->vec != ref->vec)
			return "fault vector differs";
		return NULL;
	}
	unsigned nregs = s->m64 ? 16 : 8;
	for (unsigned i = 0; i < nregs; i++)
		if (sh->gpr[i] != ref->gpr[i]) {
			snprintf(buf, n, "register %u differs: shade %#llx unicorn %#llx", i,
				 (unsigned long long)sh->gpr[i], (unsigned long long)ref->gpr[i]);
			return buf;
		}
	if (sh->rip != ref->rip)
		return "RIP differs";
	uint64_t fm = RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_OF | RFL_DF;
	if ((sh->rflags ^ ref->rflags) & fm)
		return "flags differ";
	static uint8_t shade_mem[MAPPED];
	copy_guest_memory(shade_mem);
	for (uint64_t a = 0; a < MAPPED; a += PAGE_SIZE) {
		if (memcmp(shade_mem + a, F.mem + a, PAGE_SIZE)) {
			snprintf(buf, n, "memory differs in page %#llx", (unsigned long long)a);
			return buf;
		}
	}
	return NULL;
}

/* Run one input; returns the verdict (NULL: fine), and fills `shade` for callers. */
static const char *one(const uint8_t *data, size_t size, struct result *sh, struct result *refout,
		       char *msg, size_t n)
{
	struct fin in = { data, size };
	struct start s;
	const uint8_t *extra;
	size_t nextra;
	struct result ref;
	struct xfault xf;

	once();
	read_start(&in, &s, &extra, &nextra);
	vm_begin(s.m64, s.cpl3);
	poke(DATA, extra, nextra);
	unsigned avail = s.rip + 15 <= MAPPED ? 15u : (unsigned)(MAPPED - s.rip);
	poke(s.rip, s.code, avail);
	copy_guest_memory(F.mem);

	/* What opcheck refuses must be #UD, and never reaches the reference. */
	struct opscan os;
	bool intended_ud = opcheck__scan(s.code, avail, s.m64, &os) == 0 &&
			   opcheck__fault(&os, s.m64, &xf);
	cs_insn *ci = NULL;
	if (cs_disasm(F.cs[s.m64], s.code, avail, s.rip, 1, &ci) != 1)
		ci = NULL;
	if (ci && !intended_ud)
		intended_ud = opcheck__feature(&F.vcpu, ci, &xf) == 1;

	run_shade(&s, sh);
	const char *verdict = NULL;
	memset(&ref, 0, sizeof(ref));
	ref.o = O_OTHER;
	if (!intended_ud && ci && !system_insn(ci))
		run_ref(&s, ci, &ref);
	verdict = judge(&s, sh, &ref, ci, intended_ud, msg, n);
	*refout = ref;
	if (verdict && getenv("FUZZ_EMULATE_VERBOSE")) {
		char a[340], b[340];
		describe(a, sizeof(a), sh);
		describe(b, sizeof(b), &ref);
		fprintf(stderr, "%s-bit cpl%d %s %s: shade %s; unicorn %s\n", s.m64 ? "64" : "32",
			s.cpl3 ? 3 : 0, ci ? ci->mnemonic : "(undecoded)", ci ? ci->op_str : "", a, b);
	}
	if (ci)
		cs_free(ci, 1);
	vm_end();
	return verdict;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result sh, ref;
	char msg[200];
	const char *v = one(data, size, &sh, &ref, msg, sizeof(msg));
	if (v) {
		char d[340];
		describe(d, sizeof(d), &sh);
		fprintf(stderr, "fuzz_emulate: %s (shade: %s), bytes:", v, d);
		for (size_t i = 2; i < 17 && i < size; i++)
			fprintf(stderr, " %02x", data[i]);
		fprintf(stderr, "\n");
		abort();
	}
	return 0;
}

#ifdef FUZZ_EMULATE_SCAN
/*
 * The systematic scan: every one-byte, 0F, 0F38 and 0F3A opcode, with ModRM reg 0-7 in
 * register and memory form, alone and after 66, F2, F3, F0 (and REX.W in 64-bit mode),
 * in 32-bit and 64-bit mode at CPL 0 and 3. Prints each encoding shade mishandles.
 */
int main(void)
{
	static const uint8_t pfx[] = { 0, 0x66, 0xf2, 0xf3, 0xf0, 0x48 };
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned bad = 0, total = 0;
	for (unsigned mode = 0; mode < 4; mode++) {
		bool m64 = mode & 1;
		for (unsigned space = 0; space < 4; space++)
			for (unsigned op = 0; op < 256; op++)
				for (unsigned p = 0; p < (m64 ? 6u : 5u); p++)
					for (unsigned mr = 0; mr < 16; mr++) {
						uint8_t in[17] = { (uint8_t)mode, 0 };
						unsigned k = 2;
						if (pfx[p])
							in[k++] = pfx[p];
						if (space == 0 && (op == 0x0f || (m64 && (op & 0xf0) == 0x40)))
							continue;
						if (space)
							in[k++] = 0x0f;
						if (space == 1 && (op == 0x38 || op == 0x3a))
							continue;
						if (space >= 2)
							in[k++] = space == 2 ? 0x38 : 0x3a;
						in[k++] = (uint8_t)op;
						in[k++] = (uint8_t)(mr < 8 ? 0xc0 | mr << 3 : (mr - 8) << 3);
						struct result sh, ref;
						char msg[200];
						total++;
						const char *v = one(in, sizeof(in), &sh, &ref, msg, sizeof(msg));
						if (!v)
							continue;
						bad++;
						char d[340], e[340];
						describe(d, sizeof(d), &sh);
						describe(e, sizeof(e), &ref);
						printf("%s-bit cpl%u:", m64 ? "64" : "32", (mode & 2) ? 3 : 0);
						for (unsigned i = 2; i < k; i++)
							printf(" %02x", in[i]);
						printf(": %s (shade: %s; unicorn: %s)\n", v, d, e);
					}
	}
	printf("scan: %u of %u encodings mishandled\n", bad, total);
	return bad != 0;
}
#endif
