/*
 * ucstep.c: single-stepping one guest instruction in unicorn, for instructions that are
 * not privileged but that the KVM backend could not execute (KVM_EXIT_INTERNAL_ERROR,
 * emulation failure) and that shade does not emulate itself (BOUND, and whatever else a
 * backend's interpreter lacks). The guest's general registers and flags go in, guest
 * memory is mapped page by page on first touch (straight from the machine-memory pool,
 * so writes land in guest memory), and an exception unicorn raises becomes the guest's.
 *
 * Pages are mapped by translating through the guest's own tables (with paging on), with
 * the access type unicorn reports; a guest page fault there becomes the guest's #PF. A
 * page behind which a device claims guest-physical addresses (the local and I/O APIC)
 * is mapped as unicorn MMIO whose callbacks are the VMM's MMIO bus, so an instruction
 * that faulted on a device page runs here against the device (mmio.c).
 * Two engines per vCPU, one for 32-bit code and one for 64-bit code (a 64-bit guest
 * kernel's page-table writes come here). Limits (checked, never guessed): 32-bit code
 * with CS, DS, ES and SS based at 0 (FS and GS may have any base), 64-bit code with any
 * FS/GS base; segment limits are not checked.
 * Known gap: the guest's x87/SSE state stays in KVM; an FPU or SSE instruction stepped
 * here computes with unicorn's own registers (KVM_GET_FPU into the engine is not built).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "emu_internal.h"
#include "paging.h"

#define UC_MAX_PAGES 8
_Static_assert(UC_MAX_PAGES <= PMAP_PINS, "every page of a step is pinned");
#define UC_SEEN 256             /* code addresses remembered by code_changed() */
#define UC_REP_MAX 512          /* REP iterations per step: at most 4 KiB of stores */

struct ucctx {
	uc_engine *uc;
	bool is64;
	struct vcpu *vcpu;
	uint64_t mapped[UC_MAX_PAGES];      /* linear pages mapped in unicorn */
	uint64_t mapped_gpa[UC_MAX_PAGES];  /* and the guest-physical page behind each */
	unsigned nmapped;
	int vector;             /* exception raised, or -1 */
	struct xfault pf;       /* a guest #PF met while mapping */
	bool have_pf;
	bool bad_access;
	/* bytes written, per linear page (the write hook may run before the page is
	 * mapped, so this is matched with `mapped` afterwards) */
	uint64_t wpage[UC_MAX_PAGES], wlo[UC_MAX_PAGES], whi[UC_MAX_PAGES];
	unsigned nwpages;
	bool wlost;             /* more written pages than wpage holds */
	uint8_t *nothing;       /* the page mapped where the guest has neither RAM nor device */
	struct ucmmio {         /* a device page: where its offsets go on the MMIO bus */
		struct ucctx *c;
		uint64_t gpa;
	} mmio[UC_MAX_PAGES];
	int mmio_err;           /* a device's error during the step */
	uint64_t seen_addr[UC_SEEN], seen_sum[UC_SEEN];   /* code_changed() */
};

#define NO_RAM (~0ULL)     /* mapped_gpa of a page with nothing behind it */

static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	struct ucmmio *m = user;
	uint64_t v = 0;
	(void)uc;
	int r = bus__access(&m->c->vcpu->vm->mmio, m->gpa + off, &v, size, false);
	if (r < 0)
		m->c->mmio_err = r;
	return v;
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *user)
{
	struct ucmmio *m = user;
	(void)uc;
	int r = bus__access(&m->c->vcpu->vm->mmio, m->gpa + off, &value, size, true);
	if (r < 0)
		m->c->mmio_err = r;
}

static bool map_page(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		     void *user)
{
	struct ucctx *c = user;
	struct vm *vm = c->vcpu->vm;
	uint64_t page = addr & PAGE_MASK & (c->is64 ? ~0ULL : 0xffffffffULL);
	unsigned acc = type == UC_MEM_WRITE_UNMAPPED ? ACC_WRITE :
		       type == UC_MEM_FETCH_UNMAPPED ? ACC_FETCH : ACC_READ;
	gpa_t gpa;
	int err = 0;
	(void)size; (void)value;

	if (c->nmapped == UC_MAX_PAGES) {
		c->bad_access = true;
		return false;
	}
	int r = paging__translate(c->vcpu, page | (addr & (PAGE_SIZE - 1)), acc, &gpa, &c->pf);
	if (r == 1) {
		c->have_pf = true;
		return false;
	}
	if (r) {
		c->bad_access = true;
		return false;
	}
	if (!pmap__in_ram(&vm->pmap, gpa_to_gfn(gpa))) {
		/* A device's page: its accesses go to the MMIO bus. */
		if (bus__claims(&vm->mmio, gpa.v & PAGE_MASK, PAGE_SIZE)) {
			struct ucmmio *m = &c->mmio[c->nmapped];
			m->c = c;
			m->gpa = gpa.v & PAGE_MASK;
			if (uc_mmio_map(uc, page, PAGE_SIZE, mmio_read, m, mmio_write, m) != UC_ERR_OK) {
				c->bad_access = true;
				return false;
			}
			c->mapped[c->nmapped] = page;
			c->mapped_gpa[c->nmapped++] = NO_RAM;
			return true;
		}
		/* No RAM and no device there: reads give zeros and writes vanish, as in
		 * gmem.c. */
		if (uc_mem_map_ptr(uc, page, PAGE_SIZE, UC_PROT_ALL, c->nothing) != UC_ERR_OK) {
			c->bad_access = true;
			return false;
		}
		c->mapped[c->nmapped] = page;
		c->mapped_gpa[c->nmapped++] = NO_RAM;
		return true;
	}
	/* Writable in unicorn only if the guest may write it (a read may come first). */
	gpa_t wgpa;
	struct xfault ignore;
	uint32_t perms = UC_PROT_READ | UC_PROT_EXEC;
	if (acc == ACC_WRITE || !paging__translate(c->vcpu, page, ACC_WRITE, &wgpa, &ignore))
		perms |= UC_PROT_WRITE;
	/* Writable in unicorn means writable machine memory: a shared frame is copied
	 * first (one step cannot remap a page it is using). */
	mfn_t f = (perms & UC_PROT_WRITE) ? pmap__touch_write(&vm->pmap, gpa_to_gfn(gpa), &err)
					  : pmap__touch(&vm->pmap, gpa_to_gfn(gpa), &err);
	if (!mfn_valid(f) || uc_mem_map_ptr(uc, page, PAGE_SIZE, perms,
					    pool__ptr(vm->pmap.pool, f)) != UC_ERR_OK) {
		c->bad_access = true;
		return false;
	}
	/* Unicorn now holds a pointer into the frame: a later page's touch in this step
	 * may reclaim, but not this page (UC_MAX_PAGES <= PMAP_PINS). */
	pmap__pin(&vm->pmap, gpa_to_gfn(gpa));
	c->mapped[c->nmapped] = page;
	c->mapped_gpa[c->nmapped++] = gpa.v & PAGE_MASK;
	return true;
}

static void on_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct ucctx *c = user;
	c->vector = (int)intno;
	uc_emu_stop(uc);
}

static void on_write(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		     void *user)
{
	struct ucctx *c = user;
	(void)uc; (void)type; (void)value;
	uint64_t lin = addr & (c->is64 ? ~0ULL : 0xffffffffULL);
	uint64_t lo = lin & (PAGE_SIZE - 1), hi = MIN(lo + (uint64_t)size, PAGE_SIZE);
	unsigned k;
	for (k = 0; k < c->nwpages && c->wpage[k] != (lin & PAGE_MASK); k++)
		;
	if (k == c->nwpages) {
		if (k == UC_MAX_PAGES) {
			c->wlost = true;
			return;
		}
		c->wpage[k] = lin & PAGE_MASK;
		c->wlo[k] = lo;
		c->whi[k] = hi;
		c->nwpages++;
	}
	c->wlo[k] = MIN(c->wlo[k], lo);
	c->whi[k] = MAX(c->whi[k], hi);
	if (lo + (uint64_t)size > PAGE_SIZE)      /* crosses into the next page */
		on_write(uc, type, (addr | (PAGE_SIZE - 1)) + 1, (int)(lo + (uint64_t)size - PAGE_SIZE),
			 value, user);
}

static const int uc_gprs[8] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
				UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI };

/* The length of the instruction at `lin` if it is a REP-prefixed string instruction
 * (so it may run many iterations in one step), else 0 (one instruction). */
static unsigned insn_length(struct vcpu *vcpu, uint64_t lin)
{
	uint8_t code[15];
	struct xfault xf;
	unsigned n = (unsigned)MIN(15ULL, PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
	if (gmem__read_linear(vcpu, lin, code, n, ACC_FETCH, &xf))
		return 0;
	csh h = gs_64bit(&vcpu->g) ? vcpu->cs64 : vcpu->cs32;
	cs_insn *ci;
	cs_option(h, CS_OPT_MODE, gs_64bit(&vcpu->g) ? CS_MODE_64 : CS_MODE_32);
	if (cs_disasm(h, code, n, lin, 1, &ci) != 1)
		return 0;
	/* Only string instructions repeat: F2/F3 on anything else (BND JMP, a mandatory
	 * prefix) is one instruction, and running to the end address would go on past it. */
	bool rep = false;
	for (unsigned i = 0; i < 4; i++)
		rep |= ci->detail->x86.prefix[i] == 0xf3 || ci->detail->x86.prefix[i] == 0xf2;
	static const x86_insn strings[] = {
		X86_INS_MOVSB, X86_INS_MOVSW, X86_INS_MOVSD, X86_INS_MOVSQ, X86_INS_STOSB,
		X86_INS_STOSW, X86_INS_STOSD, X86_INS_STOSQ, X86_INS_LODSB, X86_INS_LODSW,
		X86_INS_LODSD, X86_INS_LODSQ, X86_INS_CMPSB, X86_INS_CMPSW, X86_INS_CMPSD,
		X86_INS_CMPSQ, X86_INS_SCASB, X86_INS_SCASW, X86_INS_SCASD, X86_INS_SCASQ,
	};
	bool string = false;
	for (unsigned i = 0; i < ARRAY_SIZE(strings); i++)
		string |= ci->id == strings[i];
	unsigned len = rep && string ? ci->size : 0;
	cs_free(ci, 1);
	return len;
}

/* Whether the 16 bytes at `start` differ from those last stepped there (a small table
 * of recent addresses and a checksum of their bytes). */
static bool code_changed(struct ucctx *c, struct vcpu *vcpu, uint64_t start)
{
	uint8_t code[16] = { 0 };
	struct xfault xf;
	unsigned n = (unsigned)MIN(16ULL, PAGE_SIZE - (start & (PAGE_SIZE - 1)));
	if (gmem__read_linear(vcpu, start, code, n, ACC_FETCH, &xf))
		return true;
	uint64_t sum = 0xcbf29ce484222325ULL;
	for (unsigned i = 0; i < sizeof(code); i++)
		sum = (sum ^ code[i]) * 0x100000001b3ULL;
	unsigned k = (unsigned)((start ^ (start >> 12)) % UC_SEEN);
	bool changed = c->seen_addr[k] == start && c->seen_sum[k] != sum;
	c->seen_addr[k] = start;
	c->seen_sum[k] = sum;
	return changed;
}

/* Engines per vCPU, made on first use: opening one costs far more than a step. */
static struct ucctx *engine(struct vcpu *vcpu, bool is64)
{
	struct ucctx **slot = is64 ? &vcpu->uc64 : &vcpu->uc;
	struct ucctx *c = *slot;
	uc_hook h;

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->nothing = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!c->nothing || uc_open(UC_ARCH_X86, is64 ? UC_MODE_64 : UC_MODE_32, &c->uc) != UC_ERR_OK) {
		free(c->nothing);
		free(c);
		return NULL;
	}
	memset(c->nothing, 0, PAGE_SIZE);
	uc_hook_add(c->uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)map_page, c, 1, 0);
	uc_hook_add(c->uc, &h, UC_HOOK_INTR, (void *)on_intr, c, 1, 0);
	uc_hook_add(c->uc, &h, UC_HOOK_MEM_WRITE, (void *)on_write, c, 1, 0);
	c->vcpu = vcpu;
	c->is64 = is64;
	*slot = c;
	return c;
}

static void engine_close(struct ucctx **slot)
{
	if (!*slot)
		return;
	uc_close((*slot)->uc);
	free((*slot)->nothing);
	free(*slot);
	*slot = NULL;
}

void emu_unicorn_exit(struct vcpu *vcpu)
{
	engine_close(&vcpu->uc);
	engine_close(&vcpu->uc64);
}

static const int uc_gprs64[16] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP,
	UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8, UC_X86_REG_R9,
	UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
	UC_X86_REG_R15,
};

/* The guest's registers into the engine; FS and GS keep their bases (32-bit code: set
 * through the base MSRs, which unicorn's 32-bit mode honours for FS:/GS: operands, while
 * it has no register for them; a kernel's per-CPU segment is an FS or GS with a base). */
static void regs_in(struct ucctx *c, const struct gstate *g)
{
	if (c->is64) {
		for (unsigned i = 0; i < 16; i++)
			uc_reg_write(c->uc, uc_gprs64[i], &g->gpr[i]);
		uc_reg_write(c->uc, UC_X86_REG_FS_BASE, &g->seg[S_FS].base);
		uc_reg_write(c->uc, UC_X86_REG_GS_BASE, &g->seg[S_GS].base);
		return;
	}
	for (unsigned i = 0; i < 8; i++) {
		uint32_t v = (uint32_t)g->gpr[i];
		uc_reg_write(c->uc, uc_gprs[i], &v);
	}
	uc_x86_msr fs = { 0xc0000100, g->seg[S_FS].unusable ? 0 : (uint32_t)g->seg[S_FS].base };
	uc_x86_msr gs = { 0xc0000101, g->seg[S_GS].unusable ? 0 : (uint32_t)g->seg[S_GS].base };
	uc_reg_write(c->uc, UC_X86_REG_MSR, &fs);
	uc_reg_write(c->uc, UC_X86_REG_MSR, &gs);
}

static void regs_out(struct ucctx *c, struct gstate *g)
{
	if (c->is64) {
		for (unsigned i = 0; i < 16; i++)
			uc_reg_read(c->uc, uc_gprs64[i], &g->gpr[i]);
		uc_reg_read(c->uc, UC_X86_REG_RIP, &g->rip);
		return;
	}
	for (unsigned i = 0; i < 8; i++) {
		uint32_t v;
		uc_reg_read(c->uc, uc_gprs[i], &v);
		g->gpr[i] = v;
	}
	uint32_t eip;
	uc_reg_read(c->uc, UC_X86_REG_EIP, &eip);
	g->rip = eip;
}

int emu_unicorn_step(struct vcpu *vcpu, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	bool is64 = gs_64bit(g);
	struct ucctx *c;
	int ret = 0;

	if (!is64 && !gs_32bit(g))
		return -ENOSYS;
	for (unsigned s = S_ES; !is64 && s <= S_DS; s++)
		if (!g->seg[s].unusable && g->seg[s].base != 0)
			return -ENOSYS;
	if (!(c = engine(vcpu, is64)))
		return -ENOMEM;
	uc_engine *uc = c->uc;
	c->nmapped = c->nwpages = 0;
	c->wlost = false;
	c->vector = -1;
	c->bad_access = false;
	c->have_pf = false;
	c->mmio_err = 0;

	regs_in(c, g);
	/* In a 32-bit engine unicorn ignores RFLAGS (reads give 0): EFLAGS there. */
	int flags_reg = is64 ? UC_X86_REG_RFLAGS : UC_X86_REG_EFLAGS;
	uint64_t flags = g->rflags & 0x3f7fd7;
	uc_reg_write(uc, flags_reg, &flags);
	/* A REP string instruction runs up to UC_REP_MAX iterations in this one step (a
	 * guest zeroing a former page table with REP STOS must not cost an exit per
	 * store); stopping early is architectural: RCX/RSI/RDI say how far it got and
	 * the guest resumes the same instruction. */
	uint64_t start = is64 ? g->rip : (uint32_t)g->rip;
	unsigned len = insn_length(vcpu, start);
	/* Unicorn keeps translated code across steps (unmapping a page does not drop it),
	 * and retranslating every step costs time and never gives the code buffer's space
	 * back (1 GiB per engine). So a translation is dropped only when it may be wrong:
	 * the guest changed the code at this address since it was last stepped here, or a
	 * REP step, whose end address unicorn compiles into the code that follows (a REP
	 * string with ECX = 0 ran on for 511 more instructions; fuzz_emulate's scan). */
	if (len)
		uc_ctl_flush_tlb(uc);   /* UC_CTL_TB_FLUSH: dropping single ones was not enough */
	else if (code_changed(c, vcpu, start))
		uc_ctl_remove_cache(uc, start, start + 16);
	uc_err e = len ? uc_emu_start(uc, start, start + len, 0, UC_REP_MAX)
		       : uc_emu_start(uc, start, is64 ? ~0ULL : 0xffffffffULL, 0, 1);
	if (c->have_pf) {
		*xf = c->pf;            /* the guest's page fault, at the instruction */
		ret = 1;
		goto out;
	}
	if (c->vector >= 0) {
		/* A fault: the guest sees it at the instruction, registers untouched. */
		vcpu->stats.emulated[EMU_OTHER]++;
		ret = xfault_set(xf, (unsigned)c->vector, excp__has_error_code((unsigned)c->vector), 0);
		goto out;
	}
	if (e == UC_ERR_INSN_INVALID && !c->bad_access) {
		/* Unicorn reports its #UD this way, not through the interrupt hook. */
		vcpu->stats.emulated[EMU_OTHER]++;
		ret = xfault_set(xf, X86_UD, false, 0);
		goto out;
	}
	if (e != UC_ERR_OK || c->bad_access) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (c->mmio_err) {
		ret = c->mmio_err;
		goto out;
	}
	regs_out(c, g);
	flags = 0;
	uc_reg_read(uc, flags_reg, &flags);
	/* Arithmetic flags, DF, AC and TF come from unicorn; IF and IOPL stay the guest's. */
	uint64_t keep = RFL_IF | RFL_IOPL | RFL_VM | RFL_NT | RFL_RF;
	g->rflags = (g->rflags & keep) | (flags & ~keep & 0xffffffffULL) | RFL_FIXED;
	g->gpr_dirty = true;
	vcpu->stats.emulated[EMU_OTHER]++;
	if (c->wlost)
		vm__stop(vcpu->vm, 4, "unicorn step wrote more than %d pages", UC_MAX_PAGES);
	for (unsigned w = 0; w < c->nwpages; w++) {
		unsigned k;
		for (k = 0; k < c->nmapped && c->mapped[k] != c->wpage[w]; k++)
			;
		if (k == c->nmapped || c->mapped_gpa[k] == NO_RAM)
			continue;     /* a write that did not happen (the access faulted), or vanished */
		gpa_t gpa = GPA(c->mapped_gpa[k] | c->wlo[w]);
		unsigned n = (unsigned)(c->whi[w] - c->wlo[w]);
		if (vcpu->vm->cfg.trace)
			fprintf(stderr, "trace: unicorn wrote %u bytes at gpa %#llx%s\n", n,
				(unsigned long long)gpa.v,
				pmap__traced(&vcpu->vm->pmap, gpa_to_gfn(gpa)) ? " (traced)" : "");
		if (pmap__traced(&vcpu->vm->pmap, gpa_to_gfn(gpa))) {
			seg__guest_wrote(vcpu, c->mapped[k] | c->wlo[w], n);
			if (vcpu->v.cr0 & CR0_PG)
				mmu__guest_wrote(&vcpu->vm->mmu, gpa, n);
		}
	}
out:
	/* Guest frames can move (sharing, ballooning): map afresh each step. */
	for (unsigned i = 0; i < c->nmapped; i++)
		uc_mem_unmap(uc, c->mapped[i], PAGE_SIZE);
	memset(c->nothing, 0, PAGE_SIZE);
	pmap__unpin_all(&vcpu->vm->pmap);
	return ret;
}
