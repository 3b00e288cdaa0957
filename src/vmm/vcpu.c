/*
 * vcpu.c: one vCPU: creation, the real state a multiboot guest starts in, loading and
 * storing the guest registers of an exit, and the thread that runs it.
 *
 * Register state of an exit lives in one of two places. A trap (an exception or injected
 * interrupt that went through the monitor) leaves the guest's RIP/CS/RFLAGS/RSP/SS and
 * RAX in the monitor's stack frame and the rest in KVM's sync registers; any other exit
 * leaves everything in the sync registers. vcpu__load_state() hides which, and
 * vcpu__store_state() writes back only what the handler changed, so a trap costs no
 * register ioctls at all.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "baseline.h"
#include "devices.h"
#include "emulate.h"
#include "exit.h"
#include "seg.h"
#include "vcpu.h"
#include "monitor_syms.h"

#define KICK_SIGNAL SIGUSR1

int vcpu__init(struct vcpu *vcpu, struct vm *vm, unsigned id)
{
	struct kvm_sys *k = &vm->host->kvm;
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = kvm__create_vcpu(k, vm->fd, id, &vcpu->run);
	if (vcpu->fd < 0)
		return vcpu->fd;
	ret = emulate__init(vcpu);
	if (ret)
		goto out_vcpu;
	vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	vcpu->armed_deadline = VTIMER_NEVER;
	return 0;

out_vcpu:
	kvm__destroy_vcpu(k, vcpu->fd, vcpu->run);
	vcpu->fd = -1;
	return ret;
}

void vcpu__exit(struct vcpu *vcpu)
{
	emulate__exit(vcpu);
	kvm__destroy_vcpu(&vcpu->vm->host->kvm, vcpu->fd, vcpu->run);
	vcpu->fd = -1;
	vcpu->run = NULL;
}

/* The real CR0/CR4/EFER for the virtual ones: always long mode with paging on, the
 * guest's FPU and alignment controls passed through. */
static uint64_t real_cr0(const struct vcpu_virt *v)
{
	return CR0_PE | CR0_PG | CR0_WP | CR0_NE | CR0_ET | (v->cr0 & (CR0_MP | CR0_EM | CR0_TS | CR0_AM));
}

/* CR4.PCE stays clear on the real CPU: RDPMC always traps and reads the model's
 * counters (msr.c), never the host's. */
static uint64_t real_cr4(const struct vcpu_virt *v)
{
	return CR4_PAE | CR4_PGE | CR4_UMIP |
	       (v->cr4 & (CR4_TSD | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE));
}

void vcpu__sync_control_regs(struct vcpu *vcpu)
{
	struct kvm_sregs *s = &vcpu->run->s.regs.sregs;
	uint64_t cr0 = real_cr0(&vcpu->v), cr4 = real_cr4(&vcpu->v);
	uint64_t efer = EFER_LME | EFER_LMA | EFER_NXE | (vcpu->v.efer & EFER_SCE);
	if (s->cr0 != cr0 || s->cr4 != cr4 || s->efer != efer) {
		s->cr0 = cr0;
		s->cr4 = cr4;
		s->efer = efer;
		vcpu->g.seg_dirty = true;
	}
}

static uint64_t mirror_desc(struct vcpu *vcpu, uint16_t sel)
{
	unsigned idx = sel >> 3;
	return (sel & 4) ? *monitor__ldt_entry(&vcpu->vm->mon, vcpu->id, idx)
			 : *monitor__gdt_entry(&vcpu->vm->mon, vcpu->id, idx);
}

/*
 * The segment a trap frame's selector names: what the CPU held, which is what was
 * loaded, not what the table says now. A selector the guest loaded natively was read
 * from the real tables (the mirrors); one shade loaded itself (SYSCALL's flat segments,
 * an emulated far transfer) is known only from the cache of the last CS/SS resumed. At
 * every resume, an entry whose selector CS or SS holds with another descriptor is made
 * not present (seg__hide_stale): so a selector equal to the cache's with its entry not
 * present, or showing the cached descriptor, was not reloaded since and the cache is
 * the truth (a guest that rewrote its GDT keeps running the segment it loaded); any
 * other selector was loaded natively from its entry, which is unchanged since (every
 * table write and LGDT is an exit, and every exit ends in a resume). A null SS (64-bit
 * code at real CPL 1 after an event from user mode) has no descriptor: its DPL is its
 * RPL. Decoding the null descriptor instead gave DPL 0, and KVM takes the CPL from
 * SS.DPL: the guest kernel then ran at real CPL 0, executed MOV CR3 natively and
 * triple-faulted, or took its next exception without a stack switch onto its own stack.
 */
static struct kvm_segment desc_to_seg(struct vcpu *vcpu, uint16_t sel, const struct kvm_segment *last)
{
	struct kvm_segment s;
	if ((sel & ~3u) == 0) {
		unsigned rpl = sel & 3;
		return (struct kvm_segment){ .selector = sel, .type = 3, .s = 1,
					     .dpl = (uint8_t)rpl, .present = 1,
					     .limit = 0xffffffff, .g = 1, .db = 1 };
	}
	uint64_t d = mirror_desc(vcpu, sel);
	if (last->selector == sel && !last->unusable && (!(d & BIT(47)) || d == seg__encode(last)))
		return *last;
	seg__decode(d, sel, &s);
	s.present = 1;       /* it was loaded natively, so it was present then */
	s.unusable = 0;
	return s;
}

/* Fill the CS/SS caches from what the vCPU holds now. */
static void remember_segments(struct vcpu *vcpu)
{
	vcpu->last_cs = vcpu->g.seg[S_CS];
	vcpu->last_ss = vcpu->g.seg[S_SS];
}

int vcpu__load_state(struct vcpu *vcpu, bool from_frame)
{
	struct gstate *g = &vcpu->g;
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	struct kvm_sregs *s = &vcpu->run->s.regs.sregs;
	uint64_t *gp = g->gpr;

	gp[R_AX] = r->rax; gp[R_CX] = r->rcx; gp[R_DX] = r->rdx; gp[R_BX] = r->rbx;
	gp[R_SP] = r->rsp; gp[R_BP] = r->rbp; gp[R_SI] = r->rsi; gp[R_DI] = r->rdi;
	gp[R_8] = r->r8; gp[R_9] = r->r9; gp[R_10] = r->r10; gp[R_11] = r->r11;
	gp[R_12] = r->r12; gp[R_13] = r->r13; gp[R_14] = r->r14; gp[R_15] = r->r15;
	g->rip = r->rip;
	g->rflags = r->rflags;
	g->seg[S_ES] = s->es; g->seg[S_CS] = s->cs; g->seg[S_SS] = s->ss;
	g->seg[S_DS] = s->ds; g->seg[S_FS] = s->fs; g->seg[S_GS] = s->gs;
	g->seg[S_LDTR] = s->ldt; g->seg[S_TR] = s->tr;
	g->in_frame = from_frame;
	g->gpr_dirty = g->seg_dirty = false;
	if (from_frame) {
		uint64_t *f = monitor__stack_ptr(&vcpu->vm->mon, vcpu->id, r->rsp, MON_FRAME_SIZE);
		if (!f) {
			/* Not a frame the monitor's stubs build: the caller stops the VM. */
			g->in_frame = false;
			g->cpl = 0;
			return -EFAULT;
		}
		g->frame_va = r->rsp;
		gp[R_AX] = f[MON_FRAME_RAX / 8];
		g->rip = f[MON_FRAME_RIP / 8];
		g->rflags = f[MON_FRAME_RFLAGS / 8];
		gp[R_SP] = f[MON_FRAME_RSP / 8];
		g->seg[S_CS] = desc_to_seg(vcpu, (uint16_t)f[MON_FRAME_CS / 8], &vcpu->last_cs);
		g->seg[S_SS] = desc_to_seg(vcpu, (uint16_t)f[MON_FRAME_SS / 8], &vcpu->last_ss);
		/* A loaded SS always has DPL = CPL, and the frame's CS RPL is the real CPL.
		 * The descriptor decoded above may have changed since the load (a guest that
		 * rewrote its GDT while running on that SS): hardware keeps the loaded DPL. */
		g->seg[S_SS].dpl = (uint8_t)(g->seg[S_CS].selector & 3);
	}
	remember_segments(vcpu);
	g->cpl = (g->seg[S_CS].selector & 3) == 3 ? 3 : 0;
	return 0;
}

void vcpu__flush_now(struct vcpu *vcpu)
{
	/* Outside a trap's write-back (a device's I/O exit): hand KVM the unchanged sregs,
	 * a CR3 load, right away. */
	vcpu->stats.tlb_flushes++;
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
	if (vcpu->vm->host->kvm.shadows_our_tables)
		vcpu->vm->backend_stale = true;
}

void vcpu__queue_flush(struct vcpu *vcpu, uint64_t va)
{
	if (vcpu->flush_pending && vcpu->flush_va != va)
		va = (uint64_t)-1;  /* two different pages: flush everything */
	vcpu->flush_pending = true;
	vcpu->flush_va = va;
}

/* The real CPL of a guest state: CS's RPL, which SS's DPL must equal (KVM takes the
 * CPL from SS.DPL). Guest code only ever runs at real CPL 1 or 3. */
static bool deprivileged(const struct kvm_segment *cs, const struct kvm_segment *ss)
{
	unsigned cpl = cs->selector & 3;
	return (cpl == 1 || cpl == 3) && cs->dpl != 0 && ss->dpl == cpl;
}

/*
 * Write the guest state back. After a trap the vCPU sits in the monitor after its OUT
 * (real CPL 0): by default the guest is resumed directly from the sync registers (the
 * monitor's frame is abandoned; RSP0 is reset on every entry), or, with --resume iret,
 * through the monitor's IRETQ to the edited frame.
 *
 * A queued TLB flush is done by handing KVM the (unchanged) CR3 with the sregs, which
 * KVM treats as a CR3 load. Whether that drops the guest-TLB entries of a vCPU depends
 * on the KVM backend; the nested backend shade is developed on honours a downgraded
 * entry without any flush, so this cannot be checked there.
 */
void vcpu__store_state(struct vcpu *vcpu)
{
	struct gstate *g = &vcpu->g;
	struct kvm_run *run = vcpu->run;
	struct kvm_regs *r = &run->s.regs.regs;
	struct kvm_sregs *s = &run->s.regs.sregs;
	uint64_t *gp = g->gpr;
	bool iret = vcpu->vm->cfg.resume_iret;

	/* The monitor's IRETQ would load CS and SS from the real table: only if that gives
	 * the segments the guest holds. */
	seg__unhide(vcpu);
	if (iret && g->in_frame && !(seg__mirror_shows(vcpu, &g->seg[S_CS]) &&
				     seg__mirror_shows(vcpu, &g->seg[S_SS])))
		iret = false;
	if (g->in_frame && !iret)
		g->gpr_dirty = g->seg_dirty = true;   /* the whole guest state goes to KVM */
	if (vcpu->flush_pending) {
		vcpu->flush_pending = false;
		vcpu->stats.tlb_flushes++;
		g->seg_dirty = true;                  /* CR3 is part of the sregs */
		if (vcpu->vm->host->kvm.shadows_our_tables)
			vcpu->vm->backend_stale = true;
	}

	if (g->in_frame && iret) {
		uint64_t *f = monitor__stack_ptr(&vcpu->vm->mon, vcpu->id, g->frame_va, MON_FRAME_SIZE);
		f[MON_FRAME_RAX / 8] = gp[R_AX];
		f[MON_FRAME_RIP / 8] = g->rip;
		f[MON_FRAME_CS / 8] = g->seg[S_CS].selector;
		f[MON_FRAME_RFLAGS / 8] = g->rflags;
		f[MON_FRAME_RSP / 8] = gp[R_SP];
		f[MON_FRAME_SS / 8] = g->seg[S_SS].selector;
		/* every other register is live in the vCPU */
		r->rcx = gp[R_CX]; r->rdx = gp[R_DX]; r->rbx = gp[R_BX]; r->rbp = gp[R_BP];
		r->rsi = gp[R_SI]; r->rdi = gp[R_DI]; r->r8 = gp[R_8]; r->r9 = gp[R_9];
		r->r10 = gp[R_10]; r->r11 = gp[R_11]; r->r12 = gp[R_12]; r->r13 = gp[R_13];
		r->r14 = gp[R_14]; r->r15 = gp[R_15];
		run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	} else if (g->gpr_dirty || g->seg_dirty) {
		r->rax = gp[R_AX]; r->rcx = gp[R_CX]; r->rdx = gp[R_DX]; r->rbx = gp[R_BX];
		r->rsp = gp[R_SP]; r->rbp = gp[R_BP]; r->rsi = gp[R_SI]; r->rdi = gp[R_DI];
		r->r8 = gp[R_8]; r->r9 = gp[R_9]; r->r10 = gp[R_10]; r->r11 = gp[R_11];
		r->r12 = gp[R_12]; r->r13 = gp[R_13]; r->r14 = gp[R_14]; r->r15 = gp[R_15];
		r->rip = g->rip;
		r->rflags = g->rflags;
		run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	}
	if (g->seg_dirty) {
		struct kvm_segment *ss = &g->seg[S_SS];
		if ((ss->selector & ~3u) == 0 && (g->seg[S_CS].selector & 3) == 1) {
			/* A null SS of guest ring 0 (64-bit MOV SS/LSS/IRETQ with selector 0):
			 * at real CPL 1 its RPL and DPL are 1, as ring compression shows it. */
			ss->selector = 1;
			ss->dpl = 1;
		}
		if (!deprivileged(&g->seg[S_CS], ss)) {
			/* Never hand the real CPU a guest state at CPL 0, or one whose SS.DPL
			 * (which KVM takes as the CPL) is not CS's RPL. */
			vm__stop(vcpu->vm, 4, "internal error: guest state not at real CPL 1 or 3 "
				 "(cs %#x dpl %u, ss %#x dpl %u, rip %#llx): not resumed",
				 g->seg[S_CS].selector, g->seg[S_CS].dpl, g->seg[S_SS].selector,
				 g->seg[S_SS].dpl, (unsigned long long)g->rip);
			g->gpr_dirty = g->seg_dirty = false;
			return;
		}
		s->es = g->seg[S_ES]; s->ds = g->seg[S_DS]; s->fs = g->seg[S_FS];
		s->gs = g->seg[S_GS]; s->ldt = g->seg[S_LDTR];
		if (!g->in_frame || !iret) {
			s->cs = g->seg[S_CS];
			s->ss = g->seg[S_SS];
		}
		memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
		run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
	}
	remember_segments(vcpu);
	seg__hide_stale(vcpu, &g->seg[S_CS], &g->seg[S_SS]);
	g->gpr_dirty = g->seg_dirty = false;
}

static struct kvm_segment flat(uint16_t sel, bool code)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = code ? 0xb : 0x3,
		.present = 1, .dpl = 1, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

int vcpu__reset_multiboot(struct vcpu *vcpu, uint32_t entry, uint32_t mbi)
{
	struct vm *vm = vcpu->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	/* Virtual: what a multiboot loader leaves: 32-bit protected mode, paging off, flat
	 * CS 0x08 / DS 0x10 from a GDT the guest must not rely on. */
	memset(&vcpu->v, 0, sizeof(vcpu->v));
	vcpu->v.cr0 = CR0_PE | CR0_ET;
	vcpu->v.ldtr.unusable = 1;
	vcpu->v.tr.unusable = 1;
	vcpu->v.msr.pat = 0x0007040600070406ULL;
	vcpu->v.msr.misc_enable = 1;
	vcpu->v.msr.apic_base = 0xfee00900ULL;
	vcpu->v.dr[6] = 0xffff0ff0;
	vcpu->v.dr[7] = 0x400;
	vcpu->iopl = 0;

	struct kvm_segment cs = flat(0x08 | 1, true), ds = flat(0x10 | 1, false);
	*monitor__gdt_entry(&vm->mon, vcpu->id, 1) = seg__encode(&cs);
	*monitor__gdt_entry(&vm->mon, vcpu->id, 2) = seg__encode(&ds);

	sregs.cs = cs;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
	vcpu->last_cs = cs;
	vcpu->last_ss = ds;
	vcpu->hidden[0].entry = vcpu->hidden[1].entry = NULL;

	sregs.ldt = (struct kvm_segment){ .unusable = 1 };
	sregs.tr = (struct kvm_segment){
		.base = MON_CPU(vcpu->id) + MON_CPU_TSS, .limit = 103, .selector = MON_SEL_TSS,
		.type = 11, .present = 1,
	};
	sregs.gdt.base = MON_CPU(vcpu->id) + MON_CPU_GDT;
	sregs.gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs.idt.base = MON_IDT;
	sregs.idt.limit = 256 * 16 - 1;
	sregs.cr0 = real_cr0(&vcpu->v);
	sregs.cr4 = real_cr4(&vcpu->v);
	sregs.efer = EFER_LME | EFER_LMA | EFER_NXE;
	sregs.cr3 = mfn_to_ma(vm->physmap.root);
	memset(sregs.interrupt_bitmap, 0, sizeof(sregs.interrupt_bitmap));
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	/* A guest SYSCALL enters the monitor, which hands it to shade (mon_syscall). */
	if (kvm__set_msr(vcpu->fd, 0xc0000082, SYM_MON_SYSCALL) ||
	    kvm__set_msr(vcpu->fd, 0xc0000083, SYM_MON_SYSCALL32) ||
	    kvm__set_msr(vcpu->fd, 0xc0000084, RFL_IF | RFL_TF | RFL_DF | RFL_AC | RFL_NT))
		return -EIO;

	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rax = 0x2badb002;
	regs.rbx = mbi;
	regs.rflags = RFL_FIXED | (1ULL << RFL_IOPL_SHIFT);
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	/* Refresh the sync copy so the first exit's write-back starts from truth. */
	vcpu->run->s.regs.sregs = sregs;
	vcpu->run->s.regs.regs = regs;
	return 0;
}

/* ---- the run loop ---- */

static void kick_handler(int sig) { (void)sig; }

static void eat_kicks(void)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

void vcpu__signals_init(void)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigaction(KICK_SIGNAL, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
}

/* On the vCPU thread: the kick signal is blocked (vcpu__signals_init ran before the
 * thread was created) except inside KVM_RUN and the HLT sleep. */
static int setup_signals(struct vcpu *vcpu)
{
	sigset_t run_mask;
	struct sigevent sev;

	pthread_sigmask(SIG_BLOCK, NULL, &run_mask);
	sigdelset(&run_mask, KICK_SIGNAL);

	/* KVM_RUN runs with the kick signal unblocked, so a kick ends it with EINTR. */
	struct { struct kvm_signal_mask m; uint8_t bits[8]; } km;
	km.m.len = 8;
	memcpy(km.bits, &run_mask, 8);
	if (ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &km) < 0)
		return -errno;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = KICK_SIGNAL;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &vcpu->deadline_timer) < 0)
		return -errno;
	return 0;
}

void vcpu__kick(struct vcpu *vcpu)
{
	if (vcpu->thread)
		pthread_kill(vcpu->thread, KICK_SIGNAL);
}

static void arm_deadline(struct vcpu *vcpu, uint64_t deadline)
{
	if (deadline == vcpu->armed_deadline)
		return;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	if (deadline != VTIMER_NEVER) {
		its.it_value.tv_sec = (time_t)(deadline / NSEC_PER_SEC);
		its.it_value.tv_nsec = (long)(deadline % NSEC_PER_SEC);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timer_settime(vcpu->deadline_timer, TIMER_ABSTIME, &its, NULL);
	vcpu->armed_deadline = deadline;
}

/*
 * Block until an interrupt may be deliverable, a device deadline passes, console input
 * arrives (the input thread kicks), or the VM is stopped. The kick signal is unblocked only inside ppoll, so a
 * kick between the check and the sleep is not lost.
 */
void vcpu__wait(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	uint64_t now = vclock__mono(&vm->clock), next = timers__next(&vm->timers);
	struct timespec ts, *tp = NULL;
	sigset_t mask;

	uint64_t slice = MIN(pageshare__idle_slice(&vm->share), memsched__idle_slice(&vm->ms));
	if (next != VTIMER_NEVER || slice != UINT64_MAX) {
		uint64_t d = next == VTIMER_NEVER ? slice : next > now ? next - now : 0;
		d = MIN(d, slice);   /* an idle VM's page-sharing scan goes on */
		ts.tv_sec = (time_t)(d / NSEC_PER_SEC);
		ts.tv_nsec = (long)(d % NSEC_PER_SEC);
		tp = &ts;
	}
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	sigdelset(&mask, KICK_SIGNAL);
	ppoll(NULL, 0, tp, &mask);
}

void vcpu__halt(struct vcpu *vcpu, bool guest_if)
{
	struct vm *vm = vcpu->vm;
	vcpu->stats.halts++;
	if (!guest_if) {
		/* No NMI source exists: interrupts off and halted is halted for good. */
		vm__stop(vm, 0, "guest halted with interrupts disabled");
		return;
	}
	while (!atomic_load(&vm->stop)) {
		devices__poll(vm);
		if (devices__irq_pending(vm))
			break;
		pageshare__tick(&vm->share, vcpu);
		memsched__tick(&vm->ms, vcpu);
		vcpu__wait(vcpu);
	}
	vcpu->stats.halt_wakeups++;
}

/*
 * A KVM backend that itself shadows shade's real page tables (kvm_pvm) never sees shade
 * rewrite them through the memfd, and no CR3 load makes it look again. It interprets all
 * code except 64-bit CPL 3 code, re-reading the tables on every access, so only IA-32e
 * guests can run on its stale shadows; and since the guest kernel enters user mode
 * without an exit (a native IRETQ or SYSRET), the shadows must go at the flush itself:
 * re-registering the memslot drops them all (a few ms on kvm_pvm, at most once per exit).
 */
static void backend_resync(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	if (!vm->backend_stale)
		return;
	if (!(vcpu->v.efer & EFER_LMA)) {
		vm->backend_stale = false;
		return;
	}
	struct pool *p = &vm->host->pool;
	if (kvm__set_memslot(vm->fd, 0, 0, 0, p->base, false) ||
	    kvm__set_memslot(vm->fd, 0, 0, p->nframes * PAGE_SIZE, p->base, false)) {
		vm__stop(vm, 4, "cannot re-register guest memory with KVM");
		return;
	}
	vm->backend_stale = false;
	vcpu->stats.backend_resyncs++;
}

/*
 * The host timer for the next KVM_RUN: the earliest device deadline, and, while an
 * event waits on the guest (an interrupt for IF, an NMI for its handler's return), a
 * poll `poll_ns` ahead (exit__prepare_entry): a backend that gives no interrupt-window
 * exit after STI (kvm_pvm in compatibility mode) would otherwise hold the interrupt
 * until some unrelated exit, forever in a guest that spins with interrupts on.
 */
static uint64_t entry_deadline(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	uint64_t next = timers__next(&vm->timers);
	if (vcpu->poll_ns)
		next = MIN(next, vclock__mono(&vm->clock) + vcpu->poll_ns);
	return next;
}

void *vcpu__thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	int ret;

	ret = setup_signals(vcpu);
	if (ret) {
		vm__stop(vm, 4, "vcpu%u: signal setup failed: %s", vcpu->id, strerror(-ret));
		return NULL;
	}
	while (!atomic_load(&vm->stop)) {
		devices__poll(vm);
		if (vm->cfg.baseline)
			baseline__prepare_entry(vcpu);
		else
			exit__prepare_entry(vcpu);
		if (atomic_load(&vm->stop))
			break;
		arm_deadline(vcpu, entry_deadline(vcpu));
		backend_resync(vcpu);
		ret = ioctl(vcpu->fd, KVM_RUN, 0);
		run->kvm_dirty_regs = 0;
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->stats.exits_eintr++;
				eat_kicks();
				if (!vm->cfg.baseline)
					exit__signal_exit(vcpu);
				continue;
			}
			vm__stop(vm, 4, "vcpu%u: KVM_RUN failed: %s", vcpu->id, strerror(errno));
			break;
		}
		if (run->exit_reason < STAT_EXIT_REASONS)
			vcpu->stats.exits[run->exit_reason]++;
		if (vm->cfg.baseline)
			baseline__handle_exit(vcpu);
		else
			exit__handle(vcpu);
	}
	timer_delete(vcpu->deadline_timer);
	return NULL;
}
