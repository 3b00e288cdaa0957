/*
 * baseline.c: running a multiboot guest directly under KVM (see baseline.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "baseline.h"
#include "devices.h"
#include "vcpu.h"

int baseline__reset(struct vcpu *vcpu, uint32_t entry, uint32_t mbi)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	struct kvm_segment cs = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 0xb, .present = 1,
		.dpl = 0, .db = 1, .s = 1, .g = 1,
	};
	struct kvm_segment ds = cs;
	ds.selector = 0x10;
	ds.type = 0x3;
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.cr0 = CR0_PE | CR0_ET;
	s.cr4 = 0;
	s.efer = 0;
	s.gdt.base = s.idt.base = 0;
	s.gdt.limit = s.idt.limit = 0;
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rax = 0x2badb002;
	r.rbx = mbi;
	r.rflags = RFL_FIXED;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

void baseline__handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		vcpu->stats.io_exits++;
		for (unsigned i = 0; i < run->io.count; i++) {
			int r = bus__access(&vm->pio, run->io.port, data + i * run->io.size,
					    run->io.size, run->io.direction == KVM_EXIT_IO_OUT);
			if (r < 0) {
				vm__stop(vm, 4, "device error on port %#x", run->io.port);
				return;
			}
		}
		break;
	}
	case KVM_EXIT_MMIO:
		vcpu->stats.mmio_faults++;
		if (bus__access(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
				run->mmio.is_write) < 0)
			vm__stop(vm, 4, "device error at %#llx", (unsigned long long)run->mmio.phys_addr);
		break;
	case KVM_EXIT_HLT:
		vcpu__halt(vcpu, run->s.regs.regs.rflags & RFL_IF);
		break;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		vcpu->stats.irq_windows++;
		break;
	case KVM_EXIT_INTR:
		break;
	case KVM_EXIT_SHUTDOWN:
		vm__stop(vm, 4, "guest triple fault (shutdown)");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vm__stop(vm, 4, "KVM could not run the guest at %#llx (internal error, suberror %u)",
			 (unsigned long long)run->s.regs.regs.rip, run->internal.suberror);
		break;
	default:
		vm__stop(vm, 4, "unexpected KVM exit reason %u", run->exit_reason);
		break;
	}
}

void baseline__prepare_entry(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	run->request_interrupt_window = 0;
	if (!devices__irq_pending(vm))
		return;
	if (run->ready_for_interrupt_injection && run->if_flag) {
		int vec = devices__irq_ack(vm);
		if (vec >= 0 && kvm__interrupt(vcpu->fd, (unsigned)vec) == 0)
			vcpu->stats.irqs_injected++;
	} else {
		run->request_interrupt_window = 1;
	}
}
