/*
 * exit.c: one switch on the exit reason, and the trap path.
 *
 * A trap is the monitor's OUT on MON_PORT from real CPL 0: the guest took an exception,
 * or the virtual-interrupt vector KVM injected for us. The guest's state is in the
 * monitor's frame; the handler emulates the instruction (#GP, #UD), fills a shadow entry
 * (#PF), or reflects the event through the guest's IDT, then, while it still holds the
 * frame, delivers a pending virtual interrupt if the guest has IF set, so one exit does
 * all of it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices.h"
#include "emulate.h"
#include "excp.h"
#include "gmem.h"
#include "lapic.h"
#include "mmio.h"
#include "exit.h"
#include "monitor_syms.h"
#include "paging.h"
#include "physmap.h"
#include "seg.h"
#include "vcpu.h"

static void stop_unsupported(struct vcpu *vcpu, int err, const char *what)
{
	if (atomic_load(&vcpu->vm->stop))
		return;
	uint8_t code[8] = { 0 };
	struct xfault xf;
	uint64_t lin = 0;
	if (!gmem__seg_linear(vcpu, S_CS, vcpu->g.rip, 1, ACC_FETCH, &lin, &xf))
		gmem__read_linear(vcpu, lin, code, sizeof(code), ACC_FETCH, &xf);
	vm__stop(vcpu->vm, 4,
		 "%s at %04x:%08llx (bytes %02x %02x %02x %02x %02x %02x): %s", what,
		 vcpu->g.seg[S_CS].selector, (unsigned long long)vcpu->g.rip, code[0], code[1],
		 code[2], code[3], code[4], code[5], strerror(-err));
}

/* Reflect an event to the guest; stop the VM if shade cannot. */
static void reflect(struct vcpu *vcpu, unsigned vec, enum event_kind kind, bool has_err,
		    uint32_t err)
{
	int r = excp__deliver(vcpu, vec, kind, has_err, err, 0);
	if (r < 0)
		stop_unsupported(vcpu, r, "cannot deliver an event to the guest");
}

/* A fault the emulator found is the guest's: deliver it, or stop if shade cannot. */
static void deliver_emulated_fault(struct vcpu *vcpu, const struct xfault *xf)
{
	if (excp__deliver_fault(vcpu, xf) < 0)
		stop_unsupported(vcpu, -EOPNOTSUPP, "cannot deliver a fault to the guest");
}

static void emulate_and_finish(struct vcpu *vcpu, enum emu_cause cause, unsigned vec,
			       uint32_t err)
{
	struct xfault xf;
	/* The guest's own TF (not shade's step over a traced write) at the instruction. */
	bool tf = (vcpu->g.rflags & RFL_TF) && !vcpu->step.active;
	uint64_t rip0 = vcpu->g.rip;
	uint16_t cs0 = vcpu->g.seg[S_CS].selector;
	int r = emulate__insn(vcpu, cause, &xf);
	if (vcpu->vm->cfg.trace && r)
		fprintf(stderr, "trace: emulation result %d (fault vector %u error %#x)\n", r,
			r == 1 ? xf.vector : 0, r == 1 ? xf.err : 0);
	if (r == 0) {
		if (tf && (r = emulate__single_step(vcpu, rip0, cs0)) < 0)
			stop_unsupported(vcpu, r, "cannot deliver the single-step #DB");
		return;
	}
	if (r == 1) {
		deliver_emulated_fault(vcpu, &xf);
		return;
	}
	if (r == -ENOSYS && cause != EMU_CAUSE_KVM) {
		/* Not ours to emulate: the guest's own fault. */
		reflect(vcpu, vec, EV_EXCEPTION, excp__has_error_code(vec), err);
		return;
	}
	stop_unsupported(vcpu, r, cause == EMU_CAUSE_KVM ? "unsupported instruction"
							 : "cannot emulate instruction");
}

static void handle_page_fault(struct vcpu *vcpu, uint64_t cr2, uint32_t err)
{
	struct vm *vm = vcpu->vm;
	if (vcpu->v.cr0 & CR0_PG) {
		paging__page_fault(vcpu, cr2, err);
		return;
	}
	/* A write to a traced descriptor-table page: in software, in this exit; else let
	 * the CPU do it under TF and re-mirror the page at the #DB that follows it. */
	gfn_t g = GFN((cr2 & 0xffffffffULL) >> PAGE_SHIFT);
	if ((err & 3) == 3 && pmap__in_ram(&vm->pmap, g) && (vm->pmap.e[g.v].flags & PPN_F_PT)) {
		vcpu->stats.traced_writes++;
		struct xfault xf;
		int r = emulate__traced_write(vcpu, &xf);
		if (r == 1)
			deliver_emulated_fault(vcpu, &xf);
		else if (r < 0 && !exit__step_traced_write(vcpu, g, cr2))
			vm__stop(vm, 4, "cannot emulate a write to a descriptor table at %#llx: %s",
				 (unsigned long long)cr2, strerror(-r));
		return;
	}
	/* Paging off: the fault is hidden unless the address is not guest RAM. */
	int r = physmap__fill(vm, GFN((cr2 & 0xffffffffULL) >> PAGE_SHIFT), err & PFERR_W);
	if (r == 0) {
		vcpu->stats.hidden_faults++;
		return;
	}
	if (r == -EFAULT) {
		/* A device's page (the APICs): run the instruction against the device. */
		struct xfault xf;
		r = emulate__mmio(vcpu, GPA(cr2 & 0xffffffffULL), &xf);
		if (r == 1)
			deliver_emulated_fault(vcpu, &xf);
		if (r != -EFAULT)
			return;
		vm__stop(vm, 4, "guest accessed guest-physical %#llx outside its RAM (error %#x) at %04x:%08llx",
			 (unsigned long long)cr2, err, vcpu->g.seg[S_CS].selector,
			 (unsigned long long)vcpu->g.rip);
	} else {
		vm__stop(vm, 4, "cannot back guest-physical %#llx: %s", (unsigned long long)cr2,
			 strerror(-r));
	}
}

/* A write to a traced descriptor-table page that cannot be executed in software (with
 * paging off or on): the page is opened (untraced) for this one instruction, which runs
 * natively with TF set. False if the page cannot be opened (it is also a page table). */
bool exit__step_traced_write(struct vcpu *vcpu, gfn_t g, uint64_t lin)
{
	if (!seg__open_page(vcpu, g))
		return false;
	vcpu->step.active = true;
	vcpu->step.gfn = g;
	vcpu->step.lin = lin;
	vcpu->step.guest_tf = vcpu->g.rflags & RFL_TF;
	vcpu->g.rflags |= RFL_TF;
	vcpu->g.gpr_dirty = true;
	return true;
}

/* The single-stepped write to a traced page is over (or faulted): trace the page again
 * (which write-protects it and flushes the writable translation) and bring the mirror
 * up to date. Returns true if the #DB that ended it was only shade's. */
static bool end_trace_step(struct vcpu *vcpu, unsigned vec)
{
	vcpu->step.active = false;
	seg__close_page(vcpu, vcpu->step.gfn, vcpu->step.lin);
	if (!vcpu->step.guest_tf)
		vcpu->g.rflags &= ~RFL_TF;
	vcpu->g.gpr_dirty = true;
	return vec == X86_DB && !vcpu->step.guest_tf;
}

/*
 * NMI blocking (SDM vol. 3 6.7.1) lasts from an NMI's delivery to the next IRET, which
 * the guest executes natively, unseen. It is judged by the stack instead: the handler
 * has returned once the guest's stack pointer is above the frame the delivery pushed,
 * or far from it (another stack: the interrupted context's, the delivery having
 * switched). An NMI raised meanwhile stays pending, one at most, as on the CPU.
 */
#define NMI_STACK_SPAN (64 * 1024)
/* How soon a vCPU leaves KVM_RUN to look again while an NMI waits for its handler's
 * return, and while an interrupt waits for IF (see vcpu.c's entry_deadline). */
#define NMI_POLL_NS 100000ULL
#define WINDOW_POLL_NS 1000000ULL

static void nmi_unblock_check(struct vcpu *vcpu, uint64_t sp)
{
	if (vcpu->nmi_blocked && (sp > vcpu->nmi_frame || sp + NMI_STACK_SPAN < vcpu->nmi_frame))
		vcpu->nmi_blocked = false;
}

static bool nmi_pending(struct vcpu *vcpu)
{
	struct lapic *a = devices__lapic(vcpu->vm);
	return a && a->nmi_pending;
}

/* Deliver a pending NMI if it can be taken (whatever IF says); true if it was. */
static bool deliver_nmi(struct vcpu *vcpu)
{
	nmi_unblock_check(vcpu, vcpu->g.gpr[R_SP]);
	if (vcpu->nmi_blocked || !nmi_pending(vcpu))
		return false;
	lapic__take_nmi(devices__lapic(vcpu->vm));
	vcpu->stats.nmis_injected++;
	reflect(vcpu, X86_NMI, EV_EXTINT, false, 0);
	vcpu->nmi_blocked = true;
	vcpu->nmi_frame = vcpu->g.gpr[R_SP];
	return true;
}

static void deliver_pending_irq(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	if (vcpu->step.active || vcpu->shutdown || atomic_load(&vm->stop) || deliver_nmi(vcpu) ||
	    !(vcpu->g.rflags & RFL_IF) || !devices__irq_pending(vm))
		return;
	int vec = devices__irq_ack(vm);
	if (vec < 0)
		return;
	vcpu->stats.irqs_injected++;
	reflect(vcpu, (unsigned)vec, EV_EXTINT, false, 0);
}

/* HLT: sleep, holding the trap frame, until an interrupt can be delivered. */
static void halt(struct vcpu *vcpu)
{
	vcpu__halt(vcpu, vcpu->g.rflags & RFL_IF);
	vcpu->halted = false;
}

/*
 * The guest's SYSCALL, in either form: the real SYSCALL entered mon_syscall at CPL 0
 * and HLTed (state in the sync registers), or a backend ran a CPL 3 SYSCALL to LSTAR
 * without changing privilege and the fetch of the monitor page faulted (state in the
 * trap frame, already loaded). RCX and R11 hold what SYSCALL put there. `compat`: it
 * came from compatibility mode (the real CSTAR, mon_syscall32).
 */
static void handle_syscall(struct vcpu *vcpu, bool from_frame, bool compat)
{
	struct xfault xf;
	if (!from_frame)
		vcpu__load_state(vcpu, false);
	vcpu->stats.syscalls++;
	if (emulate__syscall(vcpu, compat, &xf) == 1) {
		/* SYSCALL was #UD for the guest: it faults at the SYSCALL instruction. */
		vcpu->g.rip = vcpu->g.gpr[R_CX] - 2;
		deliver_emulated_fault(vcpu, &xf);
	}
	if (!from_frame) {
		deliver_pending_irq(vcpu);
		vcpu->guest_if = vcpu->g.rflags & RFL_IF;
		vcpu__store_state(vcpu);
	}
}

/*
 * The stub's OUT came with RSP outside the monitor's stacks: the event was taken at
 * real CPL 0 without a stack switch, so something ran at CPL 0 that is not the monitor's
 * stub path. Stop the VM, saying what the frame (read through the guest's own tables,
 * where it was pushed) shows about the interrupted code.
 */
static void report_lost_frame(struct vcpu *vcpu, unsigned vec)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	uint64_t f[MON_FRAME_SIZE / 8] = { 0 };
	struct xfault xf;
	bool readable = gmem__read_linear(vcpu, r->rsp, f, sizeof(f), ACC_READ | ACC_SUPERVISOR,
					  &xf) == 0;
	vcpu->stats.monitor_faults++;
	if (readable)
		vm__stop(vcpu->vm, 4, "monitor trap (vector %u) taken at real CPL 0 off the monitor's "
			 "stacks (rsp %#llx): interrupted %04llx:%#llx rflags %#llx error %#llx",
			 vec, (unsigned long long)r->rsp, (unsigned long long)f[MON_FRAME_CS / 8],
			 (unsigned long long)f[MON_FRAME_RIP / 8],
			 (unsigned long long)f[MON_FRAME_RFLAGS / 8],
			 (unsigned long long)f[MON_FRAME_ERR / 8]);
	else
		vm__stop(vcpu->vm, 4, "monitor trap (vector %u) with its frame outside the "
			 "monitor's stacks: rsp %#llx rip %#llx", vec, (unsigned long long)r->rsp,
			 (unsigned long long)r->rip);
}

static void handle_trap(struct vcpu *vcpu, unsigned vec)
{
	struct kvm_sregs *s = &vcpu->run->s.regs.sregs;
	uint64_t *frame;

	vcpu->stats.traps[vec]++;
	if (vcpu__load_state(vcpu, true)) {
		report_lost_frame(vcpu, vec);
		return;
	}
	frame = monitor__stack_ptr(&vcpu->vm->mon, vcpu->id, vcpu->g.frame_va, MON_FRAME_SIZE);
	uint32_t err = (uint32_t)frame[MON_FRAME_ERR / 8];
	if (vcpu->vm->cfg.trace)
		fprintf(stderr, "trace: trap vector %u error %#x at %04x:%08llx rflags %#llx cr2 %#llx real-cr0 %#llx\n", vec, err,
			vcpu->g.seg[S_CS].selector, (unsigned long long)vcpu->g.rip,
			(unsigned long long)vcpu->g.rflags, (unsigned long long)s->cr2,
			(unsigned long long)s->cr0);
	if ((vcpu->g.seg[S_CS].selector & 3) == 0 && vec == MON_VEC_VIRQ) {
		/* The virtual-interrupt vector landed on a monitor stub that had just begun to
		 * handle a guest exception (a backend may deliver a queued vector after the
		 * exception's interrupt gate cleared IF). Write nothing back: the stub's IRETQ
		 * returns to the interrupted stub, whose exception then arrives as its own
		 * trap, and the vector is queued again once the guest can take it. */
		vcpu->virq_in_flight = false;
		vcpu->stats.virq_in_monitor++;
		return;
	}
	if ((vcpu->g.seg[S_CS].selector & 3) == 0) {
		/* The monitor itself faulted (on the IST stack for NMI, #DF and #MC): a bug
		 * of shade's, never the guest's. Only this VM stops. */
		vcpu->stats.monitor_faults++;
		vm__stop(vcpu->vm, 4, "monitor fault: vector %u error %#x at %#llx rsp %#llx "
			 "(cr2 %#llx cr3 %#llx)", vec, err, (unsigned long long)vcpu->g.rip,
			 (unsigned long long)vcpu->g.gpr[R_SP], (unsigned long long)s->cr2,
			 (unsigned long long)s->cr3);
		return;
	}
	if (vcpu->step.active && end_trace_step(vcpu, vec))
		goto done;
	switch (vec) {
	case MON_VEC_VIRQ:
		vcpu->virq_in_flight = false;
		break;  /* delivered below, like any pending interrupt */
	case X86_GP:
		emulate_and_finish(vcpu, EMU_CAUSE_GP, vec, err);
		break;
	case X86_UD:
		emulate_and_finish(vcpu, EMU_CAUSE_UD, vec, 0);
		break;
	case X86_NP:
	case X86_SS:
		/* Segment loads of descriptors not yet accessed (mirrored not-present) are
		 * emulated; a genuinely absent segment faults the same way in emulation. */
		if (err & ~7u)
			emulate_and_finish(vcpu, EMU_CAUSE_GP, vec, err);
		else
			reflect(vcpu, vec, EV_EXCEPTION, true, err);
		break;
	case X86_PF:
		if ((vcpu->g.rip == SYM_MON_SYSCALL || vcpu->g.rip == SYM_MON_SYSCALL32) &&
		    s->cr2 == vcpu->g.rip && vcpu->g.cpl == 3)
			/* This backend runs a compatibility-mode SYSCALL to LSTAR too: the
			 * mode it came from is the frame's CS (the backend left it). */
			handle_syscall(vcpu, true, vcpu->g.rip == SYM_MON_SYSCALL32 ||
					      !vcpu->g.seg[S_CS].l);
		else
			handle_page_fault(vcpu, s->cr2, err);
		break;
	case X86_DB: {
		/* The guest's own #DB (TF or its breakpoints): DR6 as the CPU left it. */
		struct kvm_debugregs d;
		uint64_t status = 0;
		if (kvm__get_debugregs(vcpu->fd, &d) == 0)
			status = d.dr6 & 0x600f;
		if (!(status & 0xf) && (vcpu->g.rflags & RFL_TF))
			status |= BIT(14);   /* single step: BS */
		vcpu->v.dr[6] = 0xffff0ff0ULL | status;
		reflect(vcpu, vec, EV_EXCEPTION, false, 0);
		break;
	}
	case X86_NMI:
	case X86_DF:
	case X86_MC:
		vm__stop(vcpu->vm, 4, "machine-level exception %u while running the guest", vec);
		return;
	default:
		reflect(vcpu, vec, EV_EXCEPTION, excp__has_error_code(vec), err);
		break;
	}
done:
	/* Page sharing scans at trap exits, whose write-back carries its TLB flush (and
	 * while the guest idles in HLT, below). */
	if (!vcpu->step.active) {
		pageshare__tick(&vcpu->vm->share, vcpu);
		memsched__tick(&vcpu->vm->ms, vcpu);
	}
	if (vcpu->halted)
		halt(vcpu);
	deliver_pending_irq(vcpu);
	if (vcpu->shutdown)
		vm__stop(vcpu->vm, 4, "guest triple fault (shutdown)");
	vcpu->guest_if = vcpu->g.rflags & RFL_IF;
	vcpu__store_state(vcpu);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	vcpu->stats.io_exits++;
	if ((run->s.regs.sregs.cs.selector & 3) == 3) {
		/* Some backends exit on user-mode I/O without checking IOPL and the TSS
		 * bitmap. Check here; KVM has already committed to completing the access, so
		 * a denied one cannot become the guest's #GP: stop the guest instead. */
		struct xfault xf;
		vcpu__load_state(vcpu, false);
		if (emulate__io_permitted(vcpu, run->io.port, run->io.size, &xf)) {
			vm__stop(vcpu->vm, 4, "guest user-mode I/O to port %#x without permission "
				 "reached the VMM (the KVM backend did not enforce IOPL)", run->io.port);
			return;
		}
	}
	for (unsigned i = 0; i < run->io.count; i++) {
		int r = bus__access(&vcpu->vm->pio, run->io.port, data + i * run->io.size,
				    run->io.size, out);
		if (r < 0) {
			vm__stop(vcpu->vm, 4, "device error on port %#x: %s", run->io.port,
				 strerror(-r));
			return;
		}
	}
}

static void handle_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION) {
		vm__stop(vcpu->vm, 4, "KVM internal error, suberror %u", run->internal.suberror);
		return;
	}
	vcpu__load_state(vcpu, false);
	if ((vcpu->g.seg[S_CS].selector & 3) == 0) {
		vm__stop(vcpu->vm, 4, "KVM could not execute monitor code at %#llx",
			 (unsigned long long)vcpu->g.rip);
		return;
	}
	vcpu->stats.internal_errors_emulated++;
	emulate_and_finish(vcpu, EMU_CAUSE_KVM, X86_UD, 0);
	if (vcpu->halted) {
		/* HLT reached through KVM's emulator: wait here, then deliver directly. */
		halt(vcpu);
		deliver_pending_irq(vcpu);
	}
	if (vcpu->shutdown)
		vm__stop(vcpu->vm, 4, "guest triple fault (shutdown)");
	vcpu->guest_if = vcpu->g.rflags & RFL_IF;
	vcpu__store_state(vcpu);
}

void exit__handle(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	/* Outside a trap the sync registers hold the guest's own RFLAGS. */
	vcpu->guest_if = run->s.regs.regs.rflags & RFL_IF;
	if (vcpu->vm->cfg.trace && run->exit_reason != KVM_EXIT_IO)
		fprintf(stderr, "trace: exit %u at %#llx\n", run->exit_reason,
			(unsigned long long)run->s.regs.regs.rip);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.port == MON_PORT && (run->s.regs.sregs.cs.selector & 3) == 0 &&
		    run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 1) {
			handle_trap(vcpu, *((uint8_t *)run + run->io.data_offset));
		} else {
			handle_io(vcpu);
			/* A device's touch may have reclaimed pages (pmap__alloc_frame): no
			 * trap write-back follows to carry the queued flush. */
			if (vcpu->flush_pending) {
				vcpu->flush_pending = false;
				vcpu__flush_now(vcpu);
			}
		}
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		handle_internal_error(vcpu);
		break;
	case KVM_EXIT_HLT:
		/* Only the monitor can execute HLT: mon_syscall, the guest's SYSCALL. */
		if (run->s.regs.regs.rip - SYM_MON_SYSCALL <= 1)
			handle_syscall(vcpu, false, false);
		else if (run->s.regs.regs.rip - SYM_MON_SYSCALL32 <= 1)
			handle_syscall(vcpu, false, true);
		else
			vm__stop(vcpu->vm, 4, "unexpected HLT at %#llx",
				 (unsigned long long)run->s.regs.regs.rip);
		break;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		vcpu->stats.irq_windows++;
		break;
	case KVM_EXIT_INTR:
		break;
	case KVM_EXIT_SHUTDOWN:
		vm__stop(vcpu->vm, 4, "vCPU shutdown (real triple fault) at %#llx",
			 (unsigned long long)run->s.regs.regs.rip);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vm__stop(vcpu->vm, 4, "KVM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_MMIO:
		vm__stop(vcpu->vm, 4, "real access to unbacked machine address %#llx",
			 (unsigned long long)run->mmio.phys_addr);
		break;
	default:
		vm__stop(vcpu->vm, 4, "unexpected KVM exit reason %u", run->exit_reason);
		break;
	}
}

/*
 * Before entering: if the interrupt controller has something, no virtual-interrupt
 * vector is queued yet and the guest has IF set, queue MON_VEC_VIRQ; otherwise ask for
 * an interrupt window. The guest's IF is taken from its own state (the trap frame or
 * the sync registers), not from kvm_run's if_flag, and shade does not rely on KVM to
 * hold the vector while IF is clear: a nested backend was seen to stale the flag, to
 * deliver a queued vector with IF clear, and to skip the window exit after STI in
 * compatibility mode (the next exit, at the latest the next device-timer kick, then
 * delivers). The PIC is acknowledged only when the vector reaches the monitor.
 */
void exit__prepare_entry(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	run->request_interrupt_window = 0;
	/* A pending NMI is delivered at the next exit (exit__signal_exit at the latest): its
	 * handler's IRET, which unblocks it, is not seen, so look again soon. */
	vcpu->poll_ns = nmi_pending(vcpu) ? NMI_POLL_NS : 0;
	if (vcpu->virq_in_flight || vcpu->step.active || !devices__irq_pending(vm))
		return;
	if (vcpu->guest_if && kvm__interrupt(vcpu->fd, MON_VEC_VIRQ) == 0) {
		vcpu->virq_in_flight = true;
	} else {
		run->request_interrupt_window = 1;
		if (!vcpu->poll_ns)
			vcpu->poll_ns = WINDOW_POLL_NS;   /* no window exit after STI on some backends */
	}
}

void exit__signal_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	/* Not when the vCPU stopped inside the monitor: those are not the guest's. */
	if ((run->s.regs.sregs.cs.selector & 3) == 0 || vcpu->step.active || atomic_load(&vcpu->vm->stop))
		return;
	vcpu->guest_if = run->s.regs.regs.rflags & RFL_IF;
	nmi_unblock_check(vcpu, run->s.regs.regs.rsp);
	if (vcpu->nmi_blocked || !nmi_pending(vcpu))
		return;
	vcpu__load_state(vcpu, false);
	deliver_nmi(vcpu);
	if (vcpu->shutdown)
		vm__stop(vcpu->vm, 4, "guest triple fault (shutdown)");
	vcpu->guest_if = vcpu->g.rflags & RFL_IF;
	vcpu__store_state(vcpu);
}
