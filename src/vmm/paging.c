/*
 * paging.c: the vCPU side of shadow paging (see paging.h).
 *
 * With guest paging off the real CR3 is the VM's identity shadow (physmap); with it on,
 * the real CR3 is the shadow root of the guest's CR3. Every change of what the guest's
 * translations mean goes through paging__update(); every #PF from a guest with paging
 * on through paging__page_fault(), which walks the guest's tables and either fills the
 * shadow (a hidden fault), executes a write to a shadowed guest table in software, or
 * reflects the guest's own fault with its exact error code and CR2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "emulate.h"
#include "excp.h"
#include "exit.h"
#include "mmio.h"
#include "paging.h"
#include "seg.h"
#include "vcpu.h"

static enum paging_mode mode_of(const struct vcpu_virt *v)
{
	if (!(v->cr0 & CR0_PG))
		return PG_OFF;
	if (v->efer & EFER_LMA)
		return PG_LM4;
	return (v->cr4 & CR4_PAE) ? PG_PAE : PG_32;
}

void paging__env(struct vcpu *vcpu, struct walk_env *env)
{
	const struct vcpu_virt *v = &vcpu->v;
	uint32_t ext[4], x8[4];
	cpuid__lookup(&vcpu->vm->cpuid, 0x80000001, 0, ext);
	cpuid__lookup(&vcpu->vm->cpuid, 0x80000008, 0, x8);

	env->mode = mode_of(v);
	env->cr3 = v->cr3;
	env->wp = v->cr0 & CR0_WP;
	env->pse = v->cr4 & CR4_PSE;
	env->pge = v->cr4 & CR4_PGE;
	env->nxe = (v->efer & EFER_NXE) && env->mode != PG_32;
	env->gbpages = ext[3] & (1u << 26);
	env->maxphyaddr = (x8[0] & 0xff) ? (x8[0] & 0xff) : 36;
	memcpy(env->pdpte, vcpu->pdpte, sizeof(env->pdpte));
}

static int wm_read(void *ctx, gpa_t gpa, void *buf, unsigned len)
{
	struct vm *vm = ctx;
	if (!pmap__in_ram(&vm->pmap, gpa_to_gfn(gpa)))
		return -EFAULT;
	return pmap__read(&vm->pmap, gpa, buf, len);
}

static int wm_cmpxchg(void *ctx, gpa_t gpa, uint64_t old, uint64_t new, unsigned len)
{
	struct vm *vm = ctx;
	int err = 0;
	void *p = pmap__host_ptr(&vm->pmap, gpa, len, true, &err);
	if (!p)
		return -EFAULT;
	bool ok = len == 4 ? __atomic_compare_exchange_n((uint32_t *)p, &(uint32_t){ (uint32_t)old },
							 (uint32_t)new, false, __ATOMIC_SEQ_CST,
							 __ATOMIC_SEQ_CST)
			   : __atomic_compare_exchange_n((uint64_t *)p, &old, new, false,
							 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return ok ? 0 : 1;
}

struct walk_mem paging__walk_mem(struct vcpu *vcpu)
{
	return (struct walk_mem){ wm_read, wm_cmpxchg, vcpu->vm };
}

/* --audit: after every shadow operation, the invariants must hold: fully after every
 * MMU_AUDIT_FULL_EVERY-th operation and at CR3 loads, for the operation's address in
 * between (a full check after each of a guest's millions of faults would be O(n^2)). */
static void audit(struct vcpu *vcpu, const char *after, bool full, uint64_t va)
{
	struct vm *vm = vcpu->vm;
	if (!vm->cfg.audit || !(vcpu->v.cr0 & CR0_PG))
		return;
	struct walk_env env;
	struct walk_mem wm = paging__walk_mem(vcpu);
	paging__env(vcpu, &env);
	full = full || ++vm->audit_ops % MMU_AUDIT_FULL_EVERY == 0 || va == (uint64_t)-1;
	unsigned bad = full ? mmu__audit(&vm->mmu, &env, &wm)
			    : mmu__audit_va(&vm->mmu, &env, &wm, va);
	/* The real CPU runs on the current root and nothing else. */
	uint64_t real_cr3 = vcpu->run->s.regs.sregs.cr3;
	if (!vm->mmu.roots[0] || real_cr3 != mfn_to_ma(vm->mmu.roots[0]->mfn)) {
		fprintf(stderr, "audit: the real CR3 %#llx is not the current shadow root\n",
			(unsigned long long)real_cr3);
		bad++;
	}
	if (bad)
		vm__stop(vm, 4, "shadow MMU audit: %u violation(s) after %s", bad, after);
}

void paging__sync_flush(struct vcpu *vcpu)
{
	paging__sync_flush_va(vcpu, (uint64_t)-1);
}

void paging__flush_unmapped(struct vcpu *vcpu)
{
	if (vcpu->v.cr0 & CR0_PG)
		paging__sync_flush(vcpu);
	vcpu__queue_flush(vcpu, (uint64_t)-1);
}

void paging__sync_flush_va(struct vcpu *vcpu, uint64_t va)
{
	audit(vcpu, "a shadow operation", false, va);
	if (vcpu->vm->mmu.flush_needed) {
		vcpu->vm->mmu.flush_needed = false;
		vcpu__queue_flush(vcpu, (uint64_t)-1);
	}
}

static void set_real_cr3(struct vcpu *vcpu, mfn_t root)
{
	struct kvm_sregs *s = &vcpu->run->s.regs.sregs;
	if (s->cr3 != mfn_to_ma(root)) {
		s->cr3 = mfn_to_ma(root);
		vcpu->g.seg_dirty = true;   /* a real CR3 load: the CPU drops old translations */
	}
}

int paging__update(struct vcpu *vcpu, bool cr3_only, struct xfault *xf)
{
	struct vm *vm = vcpu->vm;
	struct walk_env env;
	struct walk_mem wm = paging__walk_mem(vcpu);
	mfn_t root;
	int r;

	paging__env(vcpu, &env);
	if (env.mode == PG_OFF) {
		mmu__reset(&vm->mmu);
		set_real_cr3(vcpu, vm->physmap.root);
		seg__retrace(vcpu);
		return 0;
	}
	if (env.mode == PG_PAE) {
		/* MOV CR3 and enabling paging load the PDPTEs (a bad one is #GP(0)). */
		r = walker__load_pdptes(&env, &wm);
		if (r == 1 && vm->cfg.trace)
			fprintf(stderr, "trace: PAE CR3 %#llx: a PDPTE has reserved bits (%#llx %#llx %#llx %#llx)\n",
				(unsigned long long)env.cr3, (unsigned long long)env.pdpte[0],
				(unsigned long long)env.pdpte[1], (unsigned long long)env.pdpte[2],
				(unsigned long long)env.pdpte[3]);
		if (r == 1)
			return xfault_set(xf, X86_GP, true, 0);
		if (r)
			return r;
		memcpy(vcpu->pdpte, env.pdpte, sizeof(vcpu->pdpte));
	}
	if (!cr3_only || (int)env.mode != vcpu->paging_mode) {
		mmu__reset(&vm->mmu);
		vcpu->paging_mode = env.mode;
	}
	r = mmu__load_root(&vm->mmu, &env, &root);
	if (r)
		return r;
	set_real_cr3(vcpu, root);
	seg__retrace(vcpu);   /* the descriptor tables' frames, as translated now */
	paging__sync_flush(vcpu);
	return 0;
}

int paging__translate(struct vcpu *vcpu, uint64_t lin, unsigned acc, gpa_t *gpa,
		      struct xfault *xf)
{
	struct walk_env env;
	struct walk w;
	struct walk_mem wm = paging__walk_mem(vcpu);
	uint32_t access = 0;

	paging__env(vcpu, &env);
	if (env.mode == PG_OFF) {
		*gpa = GPA(lin & 0xffffffffULL);
		return 0;
	}
	if ((acc & 3) == ACC_WRITE)
		access |= PFERR_W;
	if ((acc & 3) == ACC_FETCH)
		access |= PFERR_F;
	if (vcpu->g.cpl == 3 && !(acc & ACC_SUPERVISOR))
		access |= PFERR_U;
	int r = walker__walk(&env, &wm, lin, access, &w);
	if (r == 1) {
		xfault_set(xf, X86_PF, true, w.error);
		xf->cr2 = lin;
		return 1;
	}
	if (r)
		return r;
	*gpa = w.gpa;
	return 0;
}

void paging__page_fault(struct vcpu *vcpu, uint64_t cr2, uint32_t err)
{
	struct vm *vm = vcpu->vm;
	struct walk_env env;
	struct walk w;
	struct walk_mem wm = paging__walk_mem(vcpu);
	uint32_t access = err & (PFERR_W | PFERR_F);

	if (vcpu->g.cpl == 3)
		access |= PFERR_U;
	paging__env(vcpu, &env);
	if (env.mode != PG_LM4)
		cr2 &= 0xffffffffULL;
	int r = walker__walk(&env, &wm, cr2, access, &w);
	if (vm->cfg.trace)
		fprintf(stderr, "trace: #PF %#llx access %#x: %s (error %#x, gpa %#llx)\n",
			(unsigned long long)cr2, access, r == 1 ? "guest fault" : r ? "error" : "hidden",
			r == 1 ? w.error : 0, (unsigned long long)w.gpa.v);
	if (r == 1) {
		/* The guest's own fault: its error code, its CR2. */
		vm->mmu.stats.true_faults++;
		struct xfault xf = { .vector = X86_PF, .has_err = true, .err = w.error, .cr2 = cr2 };
		if (excp__deliver_fault(vcpu, &xf) < 0)
			vm__stop(vm, 4, "cannot deliver a page fault to the guest");
		return;
	}
	if (r) {
		vm__stop(vm, 4, "guest page tables for %#llx lie outside guest RAM",
			 (unsigned long long)cr2);
		return;
	}
	gfn_t g = gpa_to_gfn(w.gpa);
	if (!pmap__in_ram(&vm->pmap, g)) {
		/* A device's page (the APICs), at whatever address the guest mapped it. */
		struct xfault xf;
		r = emulate__mmio(vcpu, w.gpa, &xf);
		if (r == 1 && excp__deliver_fault(vcpu, &xf) < 0)
			vm__stop(vm, 4, "cannot deliver a fault to the guest");
		else if (r == -EFAULT)
			vm__stop(vm, 4, "guest mapped %#llx to guest-physical %#llx outside its RAM",
				 (unsigned long long)cr2, (unsigned long long)w.gpa.v);
		return;
	}
	if ((access & PFERR_W) && mmu__tracked(&vm->mmu, g)) {
		/* A write to a page table (or descriptor table) the guest may write: do it in
		 * software and bring the shadows and mirrors up to date. */
		struct xfault xf;
		vcpu->stats.traced_writes++;
		if (vm->cfg.trace)
			fprintf(stderr, "trace: write to tracked gfn %#llx: executed in software\n",
				(unsigned long long)g.v);
		r = emulate__traced_write(vcpu, &xf);
		if (r == 1 && excp__deliver_fault(vcpu, &xf) < 0)
			vm__stop(vm, 4, "cannot deliver a fault to the guest");
		else if (r < 0 && !exit__step_traced_write(vcpu, g, cr2))
			vm__stop(vm, 4, "cannot emulate a write to a guest page table at %#llx: %s",
				 (unsigned long long)cr2, strerror(-r));
		else if (r < 0 && (r = mmu__fill(&vm->mmu, &env, cr2, &w, access)))
			/* the page is open for the step: its leaf writable for the retry */
			vm__stop(vm, 4, "shadow fill for %#llx failed: %s", (unsigned long long)cr2,
				 strerror(-r));
		paging__sync_flush_va(vcpu, cr2);
		return;
	}
	r = mmu__fill(&vm->mmu, &env, cr2, &w, access);
	if (r == -EADDRINUSE)
		vm__stop(vm, 4, "guest mapped %#llx in the PML4 slot reserved for shade's monitor",
			 (unsigned long long)cr2);
	else if (r)
		vm__stop(vm, 4, "shadow fill for %#llx failed: %s", (unsigned long long)cr2,
			 strerror(-r));
	vcpu->stats.hidden_faults++;
	paging__sync_flush_va(vcpu, cr2);
}
