/*
 * test_exit.c: the exit handler and emulator driven with fabricated exits, no /dev/kvm:
 * a real machine-memory pool, pmap, monitor and devices, a guest GDT/IDT/TSS written
 * into guest memory, and a struct kvm_run filled as KVM would leave it after the
 * monitor's OUT (a trap) or after an emulation failure. Each test checks the state the
 * handler leaves for the next entry (sync registers, guest memory, virtual CPU).
 */
#include <check.h>

#include "check_run.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "lapic.h"
#include "monitor_syms.h"
#include "emulate.h"
#include "exit.h"
#include "physmap.h"
#include "seg.h"
#include "vcpu.h"

#define GDT 0x1000
#define IDT 0x2000
#define TSS 0x2800
#define CODE 0x3000
#define GP_HANDLER 0x4000
#define INT81_HANDLER 0x4100
#define UD_HANDLER 0x4200
#define TS_HANDLER 0x4300
#define KSTACK 0x9000
#define USTACK 0x8000

static struct host host;
static struct vm vm;
static struct vcpu vcpu;
static struct kvm_run *run;

static uint64_t desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

static uint64_t gate(uint32_t off, uint16_t sel, unsigned dpl)
{
	return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)(0x8e | dpl << 5) << 40) |
	       ((uint64_t)(off >> 16) << 48);
}

static void poke(uint64_t gpa, const void *p, size_t n)
{
	ck_assert_int_eq(pmap__write(&vm.pmap, GPA(gpa), p, n), 0);
}

static uint32_t peek32(uint64_t gpa)
{
	uint32_t v;
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(gpa), &v, 4), 0);
	return v;
}

static void setup(void)
{
	ck_assert_int_eq(pool__init(&host.pool, 64ULL << 20), 0);
	memset(&vm, 0, sizeof(vm));
	vm.host = &host;
	vm.fd = -1;
	vm.clock = vclock_host;
	vm.cfg.name = "t";
	vm.cfg.mem_bytes = 16ULL << 20;
	vm.cfg.console_in = -1;
	vm.cfg.console_out = open("/dev/null", O_WRONLY);
	vm.cfg.console_log = -1;
	ck_assert_int_eq(pmap__init(&vm.pmap, &host.pool, vm.cfg.mem_bytes), 0);
	ck_assert_int_eq(monitor__init(&vm.mon, &host.pool, 1), 0);
	ck_assert_int_eq(physmap__init(&vm), 0);
	bus__init(&vm.pio, "pio");
	bus__init(&vm.mmio, "mmio");
	ck_assert_int_eq(devices__init(&vm), 0);

	memset(&vcpu, 0, sizeof(vcpu));
	vcpu.vm = &vm;
	vcpu.fd = -1;
	run = calloc(1, 8192);
	vcpu.run = run;
	ck_assert_int_eq(emulate__init(&vcpu), 0);
	vm.vcpu[0] = &vcpu;
	vm.nvcpus = 1;

	/* The guest's tables: flat ring-0 and ring-3 code/data, a 32-bit TSS. */
	uint64_t gdt[6] = {
		0,
		desc(0, 0xfffff, 0x9b, 0xc), desc(0, 0xfffff, 0x93, 0xc),
		desc(0, 0xfffff, 0xfb, 0xc), desc(0, 0xfffff, 0xf3, 0xc),
		desc(TSS, 0x67, 0x89, 0),
	};
	poke(GDT, gdt, sizeof(gdt));
	uint32_t tss[26] = { 0 };
	tss[1] = KSTACK;         /* ESP0 */
	tss[2] = 0x10;           /* SS0 */
	poke(TSS, tss, sizeof(tss));
	uint64_t idt[256] = { 0 };
	idt[13] = gate(GP_HANDLER, 0x08, 0);
	idt[0x81] = gate(INT81_HANDLER, 0x08, 0);
	idt[6] = gate(UD_HANDLER, 0x08, 0);
	idt[10] = gate(TS_HANDLER, 0x08, 0);
	poke(IDT, idt, sizeof(idt));

	vcpu.v.cr0 = CR0_PE | CR0_ET;
	vcpu.v.gdtr = (struct dtr){ GDT, sizeof(gdt) - 1 };
	vcpu.v.idtr = (struct dtr){ IDT, sizeof(idt) - 1 };
	vcpu.v.ldtr.unusable = 1;
	seg__decode(gdt[5] | (2ULL << 40), 0x28, &vcpu.v.tr);
	ck_assert_int_eq(physmap__fill(&vm, GFN(GDT >> PAGE_SHIFT), false), 0);  /* the guest touched it */
	ck_assert_int_eq(seg__mirror_gdt(&vcpu), 0);
}

static void teardown(void)
{
	emulate__exit(&vcpu);
	free(run);
	devices__exit(&vm);
	physmap__exit(&vm);
	monitor__exit(&vm.mon);
	pmap__exit(&vm.pmap);
	close(vm.cfg.console_out);
	pool__exit(&host.pool);
}

static struct kvm_segment real_seg(uint16_t sel)
{
	struct kvm_segment s;
	seg__decode(*monitor__gdt_entry(&vm.mon, 0, sel >> 3), sel, &s);
	s.present = 1;
	return s;
}

/* The guest at CS:EIP took `vec` (error `err`): what KVM shows after the stub's OUT. */
static void trap(unsigned vec, uint32_t err, uint64_t eip, unsigned cpl, uint32_t eflags,
		 uint32_t esp)
{
	uint16_t cs = cpl ? 0x1b : 0x09, ss = cpl ? 0x23 : 0x11;
	uint64_t frame = MON_CPU(0) + MON_CPU_STACK_TOP - MON_FRAME_SIZE;
	uint64_t *f = monitor__stack_ptr(&vm.mon, 0, frame, MON_FRAME_SIZE);
	f[MON_FRAME_RAX / 8] = run->s.regs.regs.rax;
	f[MON_FRAME_VEC / 8] = vec;
	f[MON_FRAME_ERR / 8] = err;
	f[MON_FRAME_RIP / 8] = eip;
	f[MON_FRAME_CS / 8] = cs;
	f[MON_FRAME_RFLAGS / 8] = eflags;
	f[MON_FRAME_RSP / 8] = esp;
	f[MON_FRAME_SS / 8] = ss;
	vcpu.last_cs = real_seg(cs);
	vcpu.last_ss = real_seg(ss);
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = KVM_EXIT_IO_OUT;
	run->io.size = 1;
	run->io.port = MON_PORT;
	run->io.count = 1;
	run->io.data_offset = 4096;
	((uint8_t *)run)[4096] = (uint8_t)vec;
	run->s.regs.regs.rsp = frame;
	run->s.regs.sregs.cs = (struct kvm_segment){ .selector = MON_SEL_CS, .present = 1, .l = 1 };
	struct kvm_segment ds = real_seg(cpl ? 0x23 : 0x10);
	run->s.regs.sregs.ds = run->s.regs.sregs.es = ds;
	run->s.regs.sregs.fs = run->s.regs.sregs.gs = ds;
	run->kvm_dirty_regs = 0;
}

START_TEST(mov_cr0_is_emulated_at_guest_ring0)
{
	static const uint8_t insn[] = { 0x0f, 0x22, 0xc0 };  /* mov %eax, %cr0 */
	poke(CODE, insn, sizeof(insn));
	run->s.regs.regs.rax = CR0_PE | CR0_ET | CR0_TS;
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(vcpu.v.cr0, CR0_PE | CR0_ET | CR0_TS);
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + 3);
	ck_assert(run->s.regs.sregs.cr0 & CR0_TS);     /* the real CR0 follows TS */
	ck_assert(run->s.regs.sregs.cr0 & CR0_PG);     /* and stays in long mode */
	ck_assert(run->kvm_dirty_regs & KVM_SYNC_X86_REGS);
	ck_assert_uint_eq(vcpu.stats.emulated[EMU_MOV_CR], 1);
}
END_TEST

START_TEST(mov_cr0_from_ring3_is_the_guests_gp)
{
	static const uint8_t insn[] = { 0x0f, 0x22, 0xc0 };
	poke(CODE, insn, sizeof(insn));
	trap(X86_GP, 0, CODE, 3, RFL_FIXED | RFL_IF, USTACK);
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(vcpu.v.cr0, CR0_PE | CR0_ET);
	/* Delivered through IDT[13] on the TSS's ring-0 stack, frame as hardware builds it. */
	ck_assert_uint_eq(run->s.regs.regs.rip, GP_HANDLER);
	ck_assert_uint_eq(run->s.regs.sregs.cs.selector, 0x09);
	ck_assert_uint_eq(run->s.regs.sregs.ss.selector, 0x11);
	uint32_t sp = (uint32_t)run->s.regs.regs.rsp;
	ck_assert_uint_eq(sp, KSTACK - 24);
	ck_assert_uint_eq(peek32(sp), 0);                   /* error code */
	ck_assert_uint_eq(peek32(sp + 4), CODE);            /* faulting EIP */
	ck_assert_uint_eq(peek32(sp + 8), 0x1b);            /* user CS */
	ck_assert_uint_eq(peek32(sp + 12) & (RFL_IF | RFL_IOPL), RFL_IF);  /* its own IOPL 0 */
	ck_assert_uint_eq(peek32(sp + 16), USTACK);
	ck_assert_uint_eq(peek32(sp + 20), 0x23);
	ck_assert_uint_eq(run->s.regs.regs.rflags & RFL_IF, 0);  /* interrupt gate */
	ck_assert_uint_eq((run->s.regs.regs.rflags & RFL_IOPL) >> 12, 1); /* kernel: real IOPL 1 */
}
END_TEST

START_TEST(int_n_checks_the_gate_dpl)
{
	static const uint8_t insn[] = { 0xcd, 0x81 };  /* int $0x81, DPL 0 gate */
	poke(CODE, insn, sizeof(insn));
	/* From ring 0 the gate is taken, returning after the INT. */
	trap(X86_GP, 0x81 * 8 + 2, CODE, 0, RFL_FIXED | RFL_IF | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert_uint_eq(run->s.regs.regs.rip, INT81_HANDLER);
	ck_assert_uint_eq(peek32((uint32_t)run->s.regs.regs.rsp), CODE + 2);
	ck_assert_uint_eq(peek32((uint32_t)run->s.regs.regs.rsp + 4), 0x08);  /* virtual CS */
	/* From ring 3 it is #GP(vector * 8 + 2), delivered to IDT[13]. */
	trap(X86_UD, 0, CODE, 3, RFL_FIXED | RFL_IF, USTACK);
	exit__handle(&vcpu);
	ck_assert_uint_eq(run->s.regs.regs.rip, GP_HANDLER);
	ck_assert_uint_eq(peek32((uint32_t)run->s.regs.regs.rsp), 0x81 * 8 + 2);
	ck_assert_uint_eq(peek32((uint32_t)run->s.regs.regs.rsp + 4), CODE);
}
END_TEST

START_TEST(iret_to_ring3_restores_the_outer_frame)
{
	static const uint8_t insn[] = { 0xcf };  /* iret */
	poke(CODE, insn, sizeof(insn));
	uint32_t frame[5] = { 0x5000, 0x1b, RFL_FIXED | RFL_IF | RFL_CF, USTACK, 0x23 };
	poke(KSTACK - 20, frame, sizeof(frame));
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK - 20);
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rip, 0x5000);
	ck_assert_uint_eq(run->s.regs.sregs.cs.selector, 0x1b);
	ck_assert_uint_eq(run->s.regs.sregs.cs.dpl, 3);
	ck_assert_uint_eq(run->s.regs.sregs.ss.selector, 0x23);
	ck_assert_uint_eq(run->s.regs.regs.rsp, USTACK);
	ck_assert_uint_eq(run->s.regs.regs.rflags & (RFL_IF | RFL_CF), RFL_IF | RFL_CF);
	ck_assert_uint_eq(run->s.regs.regs.rflags & RFL_IOPL, 0);  /* user: real IOPL 0 */
}
END_TEST

/* A guest kernel builds an IRET frame from what MOV r, CS showed it: RPL 1 under ring
 * compression. That is its ring 0 (it has no ring 1): a same-level return, not a stop. */
START_TEST(iret_frame_with_the_kernel_cs_as_the_guest_reads_it)
{
	static const uint8_t insn[] = { 0xcf };  /* iret */
	poke(CODE, insn, sizeof(insn));
	uint32_t frame[3] = { 0x5000, 0x09, RFL_FIXED | RFL_CF };
	poke(KSTACK - 12, frame, sizeof(frame));
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK - 12);
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rip, 0x5000);
	ck_assert_uint_eq(run->s.regs.sregs.cs.selector & 3, 1);   /* real CPL 1 */
	ck_assert_uint_eq(run->s.regs.regs.rsp, KSTACK);
	ck_assert_uint_eq(run->s.regs.regs.rflags & RFL_CF, RFL_CF);
}
END_TEST

START_TEST(unreachable_handler_is_a_triple_fault)
{
	static const uint8_t insn[] = { 0x0f, 0x0b };  /* ud2 */
	poke(CODE, insn, sizeof(insn));
	vcpu.v.idtr.limit = 0;                           /* every delivery faults */
	trap(X86_UD, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert(atomic_load(&vm.stop));
	ck_assert_int_eq(vm.exit_status, 4);
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "triple fault"));
	ck_assert_uint_eq(vcpu.stats.reflected[X86_DF], 1);   /* #UD -> #GP -> #DF -> shutdown */
}
END_TEST

START_TEST(first_touch_is_a_hidden_fault)
{
	trap(X86_PF, 0x2, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.sregs.cr2 = 0x7123;
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(vcpu.stats.hidden_faults, 1);
	uint64_t *pte = ptab__pte(&vm.physmap, 0x7000, false);
	ck_assert_ptr_nonnull(pte);
	ck_assert(*pte & PTE_P);
	ck_assert_uint_eq(pte_mfn(*pte).v, pmap__lookup(&vm.pmap, GFN(7)).v);
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE);   /* the access is retried */
	/* Outside guest RAM the guest is stopped with a report, never given memory. */
	trap(X86_PF, 0x2, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.sregs.cr2 = 0x2000000;
	exit__handle(&vcpu);
	ck_assert(atomic_load(&vm.stop));
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "outside its RAM"));
}
END_TEST

START_TEST(apic_mmio_runs_against_the_device)
{
	/* mov 0xfee00030, %eax: the local APIC's version register, paging off */
	static const uint8_t rd[] = { 0xa1, 0x30, 0x00, 0xe0, 0xfe };
	poke(CODE, rd, sizeof(rd));
	trap(X86_PF, 0x0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.sregs.cr2 = 0xfee00030;
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rax & 0xffffffff, 0x50014);
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + sizeof(rd));
	ck_assert_uint_eq(vcpu.stats.mmio_faults, 1);
	/* movl $0x40, 0xfee00080: TPR, which CR8 shows */
	static const uint8_t wr[] = { 0xc7, 0x05, 0x80, 0x00, 0xe0, 0xfe, 0x40, 0, 0, 0 };
	poke(CODE, wr, sizeof(wr));
	trap(X86_PF, 0x2, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.sregs.cr2 = 0xfee00080;
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(lapic__cr8(devices__lapic(&vm)), 4);
	/* movups 0xfee00030, %xmm0: refused with a report, never run with a wrong result */
	static const uint8_t sse[] = { 0x0f, 0x10, 0x05, 0x30, 0x00, 0xe0, 0xfe };
	poke(CODE, sse, sizeof(sse));
	trap(X86_PF, 0x0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.sregs.cr2 = 0xfee00030;
	exit__handle(&vcpu);
	ck_assert(atomic_load(&vm.stop));
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "against the device"));
}
END_TEST

START_TEST(writes_to_the_gdt_reach_the_mirror)
{
	/* movl $lo, GDT+48 ; movl $hi, GDT+52: a new descriptor, written in two stores. */
	uint64_t d = desc(0x100000, 0xff, 0x93, 0x4);
	uint8_t insn[20] = { 0xc7, 0x05 };
	uint32_t a = GDT + 48, lo = (uint32_t)d, hi = (uint32_t)(d >> 32);
	memcpy(insn + 2, &a, 4);
	memcpy(insn + 6, &lo, 4);
	insn[10] = 0xc7;
	insn[11] = 0x05;
	a += 4;
	memcpy(insn + 12, &a, 4);
	memcpy(insn + 16, &hi, 4);
	poke(CODE, insn, sizeof(insn));
	vcpu.v.gdtr.limit = 7 * 8 - 1;
	ck_assert_int_eq(seg__mirror_gdt(&vcpu), 0);

	/* Each write fault is executed in software in its own exit: no single step. */
	for (unsigned i = 0; i < 2; i++) {
		trap(X86_PF, 0x3, CODE + 10 * i, 0, RFL_FIXED | (1 << 12), KSTACK);
		run->s.regs.sregs.cr2 = GDT + 48 + 4 * i;
		exit__handle(&vcpu);
		ck_assert(!vcpu.step.active);
		ck_assert_uint_eq(run->s.regs.regs.rip, CODE + 10 * (i + 1));
	}
	ck_assert_uint_eq(peek32(GDT + 48), lo);
	ck_assert_uint_eq(peek32(GDT + 52), hi);
	ck_assert_uint_eq(*monitor__gdt_entry(&vm.mon, 0, 6), seg__compress(d, false));
	ck_assert_uint_eq(vcpu.stats.emulated[EMU_MEM_WRITE], 2);
	/* The page stays mapped, and write-protected for the CPU. */
	ck_assert_uint_eq(*ptab__pte(&vm.physmap, GDT, false) & (PTE_P | PTE_RW), PTE_P);
}
END_TEST

START_TEST(writes_unicorn_cannot_take_are_single_stepped)
{
	/* With a segment base shade does not hand to unicorn (ES, DS, SS), the CPU does
	 * the write with TF set and the #DB after it re-mirrors the page. */
	static const uint8_t insn[] = { 0x26, 0xa3, 0x30, 0x00, 0x00, 0x00 }; /* mov %eax,%es:0x30 */
	poke(CODE, insn, sizeof(insn));
	vcpu.v.gdtr.limit = 7 * 8 - 1;
	ck_assert_int_eq(seg__mirror_gdt(&vcpu), 0);
	trap(X86_PF, 0x3, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.sregs.es.base = GDT;
	run->s.regs.sregs.cr2 = GDT + 0x30;
	exit__handle(&vcpu);
	ck_assert(vcpu.step.active);
	ck_assert(run->s.regs.regs.rflags & RFL_TF);
	ck_assert(*ptab__pte(&vm.physmap, GDT, false) & PTE_RW);  /* open for this one write */
	uint64_t d = desc(0x200000, 0xff, 0x93, 0x4);
	poke(GDT + 0x30, &d, 8);                                  /* what the CPU wrote */
	trap(X86_DB, 0, CODE + sizeof(insn), 0, RFL_FIXED | RFL_TF | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert(!vcpu.step.active);
	ck_assert_uint_eq(run->s.regs.regs.rflags & RFL_TF, 0);
	ck_assert_uint_eq(vcpu.stats.reflected[X86_DB], 0);      /* shade's own #DB */
	ck_assert_uint_eq(*ptab__pte(&vm.physmap, GDT, false) & (PTE_P | PTE_RW), PTE_P);
	ck_assert_uint_eq(*monitor__gdt_entry(&vm.mon, 0, 6), seg__compress(d, false));
}
END_TEST

/* A 32-bit kernel's per-CPU segment: a write through FS (or GS) with a base is stepped
 * in unicorn with that base, in the same exit, and reaches the mirror. */
START_TEST(writes_through_a_based_fs_run_in_unicorn)
{
	static const uint8_t insn[] = { 0x64, 0xa3, 0x30, 0x00, 0x00, 0x00 }; /* mov %eax,%fs:0x30 */
	uint64_t d = desc(0x200000, 0xff, 0x93, 0x4);
	poke(CODE, insn, sizeof(insn));
	poke(GDT + 0x30, &d, 8);
	vcpu.v.gdtr.limit = 7 * 8 - 1;
	ck_assert_int_eq(seg__mirror_gdt(&vcpu), 0);
	d = desc(0x123456, 0xfe, 0x93, 0x4);
	run->s.regs.regs.rax = (uint32_t)d;
	trap(X86_PF, 0x3, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.sregs.fs.base = GDT;
	run->s.regs.sregs.cr2 = GDT + 0x30;
	exit__handle(&vcpu);
	ck_assert_msg(!atomic_load(&vm.stop), "VM stopped: %s", vm.stop_reason);
	ck_assert(!vcpu.step.active);
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + sizeof(insn));
	ck_assert_uint_eq(peek32(GDT + 0x30), (uint32_t)d);   /* the low half: limit, base 15:0 */
	uint64_t now = peek32(GDT + 0x30) | (uint64_t)peek32(GDT + 0x34) << 32;
	ck_assert_uint_eq(*monitor__gdt_entry(&vm.mon, 0, 6), seg__compress(now, false));
}
END_TEST

/* KVM could not run the guest's instruction (emulation failure): state in sync regs. */
static void emulation_failure(uint32_t eip, unsigned cpl, uint32_t eflags, uint32_t esp)
{
	struct kvm_sregs *sr = &run->s.regs.sregs;
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->s.regs.regs.rip = eip;
	run->s.regs.regs.rflags = eflags;
	run->s.regs.regs.rsp = esp;
	sr->cs = real_seg(cpl ? 0x1b : 0x09);
	sr->ss = real_seg(cpl ? 0x23 : 0x11);
	sr->ds = sr->es = sr->fs = sr->gs = real_seg(cpl ? 0x23 : 0x10);
	run->kvm_dirty_regs = 0;
}

/* CLFLUSH, advertised, reaches shade as an emulation failure at CPL 1: it completes
 * (it was the guest's #UD), with a read's segment checks (#GP past DS's limit). */
START_TEST(clflush_completes_with_a_reads_checks)
{
	static const uint8_t insn[] = { 0x0f, 0xae, 0x38 };  /* clflush (%eax) */
	poke(CODE, insn, sizeof(insn));
	vm.cpuid.n = 2;
	vm.cpuid.e[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 1 };
	vm.cpuid.e[1] = (struct kvm_cpuid_entry2){ .function = 1, .edx = 1u << 19 };
	emulation_failure(CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.regs.rax = 0x3000;
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + sizeof(insn));
	emulation_failure(CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.sregs.ds.limit = 0xfff;
	run->s.regs.regs.rax = 0x3000;
	exit__handle(&vcpu);
	ck_assert_uint_eq(run->s.regs.regs.rip, GP_HANDLER);
}
END_TEST

/* SYSCALL from compatibility mode enters the real CSTAR (mon_syscall32) and goes to
 * the guest's CSTAR on an AMD model, not to its LSTAR (kvm-unit-tests' syscall test);
 * an Intel model raises #UD there. */
START_TEST(syscall_from_compatibility_mode_goes_to_cstar)
{
	vcpu.v.efer = EFER_LME | EFER_LMA | EFER_SCE;
	vcpu.v.msr.lstar = 0x7000;
	vcpu.v.msr.cstar = 0x6000;
	vcpu.v.msr.star = 0x0008ULL << 32;
	vm.cpuid.n = 1;
	vm.cpuid.e[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 1 };
	memcpy(&vm.cpuid.e[0].ebx, "Auth", 4);
	memcpy(&vm.cpuid.e[0].edx, "enti", 4);
	memcpy(&vm.cpuid.e[0].ecx, "cAMD", 4);
	run->exit_reason = KVM_EXIT_HLT;
	run->s.regs.regs.rip = SYM_MON_SYSCALL32 + 1;
	run->s.regs.regs.rcx = 0x5002;
	run->s.regs.regs.r11 = RFL_FIXED | RFL_IF;
	run->s.regs.sregs.cs = real_seg(0x09);
	run->s.regs.sregs.ss = real_seg(0x11);
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rip, 0x6000);
	run->s.regs.regs.rip = SYM_MON_SYSCALL + 1;
	exit__handle(&vcpu);
	ck_assert_uint_eq(run->s.regs.regs.rip, 0x7000);
}
END_TEST

START_TEST(sysenter_and_sysexit_follow_the_msrs)
{
	static const uint8_t insn[] = { 0x0f, 0x34, 0x0f, 0x35 };  /* sysenter; sysexit */
	poke(CODE, insn, sizeof(insn));
	vcpu.v.msr.sysenter_cs = 0x08;
	vcpu.v.msr.sysenter_esp = KSTACK;
	vcpu.v.msr.sysenter_eip = CODE + 2;
	emulation_failure(CODE, 3, RFL_FIXED | RFL_IF, USTACK);
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + 2);
	ck_assert_uint_eq(run->s.regs.regs.rsp, KSTACK);
	ck_assert_uint_eq(run->s.regs.sregs.cs.selector, 0x09);   /* ring 0, compressed */
	ck_assert_uint_eq(run->s.regs.sregs.ss.selector, 0x11);
	ck_assert_uint_eq(run->s.regs.regs.rflags & RFL_IF, 0);
	/* SYSEXIT back to ring 3 at EDX with ESP = ECX. */
	run->s.regs.regs.rdx = 0x5000;
	run->s.regs.regs.rcx = USTACK;
	emulation_failure(CODE + 2, 0, RFL_FIXED | (1 << 12), KSTACK);
	run->s.regs.regs.rdx = 0x5000;
	run->s.regs.regs.rcx = USTACK;
	exit__handle(&vcpu);
	ck_assert_uint_eq(run->s.regs.regs.rip, 0x5000);
	ck_assert_uint_eq(run->s.regs.regs.rsp, USTACK);
	ck_assert_uint_eq(run->s.regs.sregs.cs.selector, 0x1b);
	ck_assert_uint_eq(run->s.regs.sregs.ss.selector, 0x23);
	/* With SYSENTER_CS null it is #GP(0) for the guest. */
	vcpu.v.msr.sysenter_cs = 0;
	emulation_failure(CODE, 3, RFL_FIXED | RFL_IF, USTACK);
	exit__handle(&vcpu);
	ck_assert_uint_eq(run->s.regs.regs.rip, GP_HANDLER);
}
END_TEST

/* A guest kernel whose SS is null (64-bit code after an event from user mode) traps
 * while the cache holds another SS: the SS shade writes back keeps DPL = RPL 1. The null
 * descriptor's DPL 0 put the guest kernel at real CPL 0 (KVM takes the CPL from SS). */
START_TEST(null_ss_of_a_kernel_trap_stays_at_real_cpl1)
{
	static const uint8_t insn[] = { 0x0f, 0x22, 0xc0 };  /* mov %eax, %cr0 */
	poke(CODE, insn, sizeof(insn));
	run->s.regs.regs.rax = CR0_PE | CR0_ET;
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	uint64_t *f = monitor__stack_ptr(&vm.mon, 0, run->s.regs.regs.rsp, MON_FRAME_SIZE);
	f[MON_FRAME_SS / 8] = 0x0001;                   /* null, RPL 1 */
	vcpu.last_ss = real_seg(0x23);                  /* the user SS of an earlier trap */
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert(run->kvm_dirty_regs & KVM_SYNC_X86_SREGS);
	ck_assert_uint_eq(run->s.regs.sregs.ss.selector, 0x0001);
	ck_assert_uint_eq(run->s.regs.sregs.ss.dpl, 1);
	ck_assert_uint_eq(run->s.regs.sregs.cs.dpl, 1);
}
END_TEST

/* The cache of CS is the segment loaded under that selector only while the real GDT
 * entry is unchanged: a guest that reloads its GDT and jumps to the same selector number
 * runs the new descriptor (here a 64-bit code segment replacing a 32-bit one). */
START_TEST(cs_cache_follows_a_changed_descriptor)
{
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	struct kvm_segment old = real_seg(0x09);
	*monitor__gdt_entry(&vm.mon, 0, 1) = desc(0, 0xfffff, 0xbb, 0xa);  /* DPL 1, L */
	vcpu.last_cs = old;
	ck_assert_int_eq(vcpu__load_state(&vcpu, true), 0);
	ck_assert_uint_eq(vcpu.g.seg[S_CS].l, 1);
	ck_assert_uint_eq(vcpu.g.seg[S_CS].db, 0);
}
END_TEST

/* Hardware keeps the descriptor it loaded until the register is reloaded: a guest that
 * rewrote (or reloaded) its GDT under the CS it runs on goes on in the old segment
 * through every trap, and its next load of that selector gets the new descriptor. While
 * the two differ the real entry is not present, so that load cannot happen natively
 * unseen (it traps and is emulated); once CS holds the new descriptor it is present. */
START_TEST(cs_keeps_the_loaded_descriptor_until_reloaded)
{
	uint64_t *e = monitor__gdt_entry(&vm.mon, 0, 1);
	uint64_t code32 = *e, code64 = desc(0, 0xfffff, 0xbb, 0xa);   /* DPL 1, L */
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	ck_assert_int_eq(vcpu__load_state(&vcpu, true), 0);
	ck_assert_uint_eq(vcpu.g.seg[S_CS].db, 1);
	*e = code64;                            /* the guest's LGDT of a new table */
	vcpu__store_state(&vcpu);
	ck_assert_uint_eq(*e, code64 & ~BIT(47));
	for (int i = 0; i < 2; i++) {           /* two more traps on the old CS */
		struct kvm_segment cs = vcpu.last_cs, ss = vcpu.last_ss;
		trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
		vcpu.last_cs = cs;              /* (trap() fakes them from the table) */
		vcpu.last_ss = ss;
		ck_assert_int_eq(vcpu__load_state(&vcpu, true), 0);
		ck_assert_uint_eq(vcpu.g.seg[S_CS].l, 0);
		ck_assert_uint_eq(vcpu.g.seg[S_CS].db, 1);
		ck_assert_uint_eq(seg__encode(&vcpu.g.seg[S_CS]), code32);
		vcpu__store_state(&vcpu);
		ck_assert_uint_eq(*e, code64 & ~BIT(47));
	}
	/* The guest's far jump to 0x08 (emulated): CS is the new descriptor, the entry
	 * shows it again, and a trap there decodes it. */
	seg__decode(code64, 0x09, &vcpu.g.seg[S_CS]);
	vcpu.g.seg_dirty = true;
	vcpu__store_state(&vcpu);
	ck_assert_uint_eq(*e, code64);
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	ck_assert_int_eq(vcpu__load_state(&vcpu, true), 0);
	ck_assert_uint_eq(vcpu.g.seg[S_CS].l, 1);
}
END_TEST

/* A user-mode trap whose SS entry the guest rewrote (here to a ring-0 data segment)
 * after loading SS: the CPU keeps the DPL it loaded, which is the CPL (the frame's CS
 * RPL 3), so shade resumes at real CPL 3 instead of refusing a state with SS.DPL 1. */
START_TEST(ss_of_a_user_trap_keeps_dpl_of_the_cpl)
{
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	uint64_t *f = monitor__stack_ptr(&vm.mon, 0, run->s.regs.regs.rsp, MON_FRAME_SIZE);
	f[MON_FRAME_CS / 8] = 0x001b;
	f[MON_FRAME_SS / 8] = 0x0023;
	*monitor__gdt_entry(&vm.mon, 0, 3) = desc(0, 0xfffff, 0xfa, 0xc);  /* user code */
	*monitor__gdt_entry(&vm.mon, 0, 4) = desc(0, 0xfffff, 0xb2, 0xc);  /* data, DPL 1 */
	ck_assert_int_eq(vcpu__load_state(&vcpu, true), 0);
	ck_assert_uint_eq(vcpu.g.cpl, 3);
	ck_assert_uint_eq(vcpu.g.seg[S_SS].dpl, 3);
}
END_TEST

/* The monitor itself took #DF (NMI and #MC alike) on its IST stack: the VM stops with a
 * report, and shade reads nothing outside the monitor's pages. */
START_TEST(machine_exception_in_the_monitor_stops_the_vm)
{
	uint64_t frame = MON_CPU(0) + MON_CPU_IST_TOP - MON_FRAME_SIZE;
	trap(X86_DF, 0, CODE, 0, RFL_FIXED, KSTACK);
	uint64_t *f = monitor__stack_ptr(&vm.mon, 0, frame, MON_FRAME_SIZE);
	ck_assert_ptr_nonnull(f);
	f[MON_FRAME_VEC / 8] = X86_DF;
	f[MON_FRAME_RIP / 8] = MON_TEXT + 14 * MON_STUB_SIZE;   /* inside a stub */
	f[MON_FRAME_CS / 8] = MON_SEL_CS;
	f[MON_FRAME_SS / 8] = 0;
	run->s.regs.regs.rsp = frame;
	exit__handle(&vcpu);
	ck_assert(atomic_load(&vm.stop));
	ck_assert_int_eq(vm.exit_status, 4);
	ck_assert_uint_eq(vcpu.stats.monitor_faults, 1);
	ck_assert_uint_eq(vcpu.stats.traps[X86_DF], 1);
}
END_TEST

/* A trap whose RSP is on no monitor stack (the guard pages, another vCPU's block, or
 * garbage) is a stop, not a read through a null or foreign pointer. */
START_TEST(trap_frame_outside_the_monitor_stacks_stops_the_vm)
{
	static const uint64_t bad[] = {
		MON_CPU(0) + MON_CPU_STACK_LO - MON_FRAME_SIZE,    /* guard page below RSP0 */
		MON_CPU(0) + MON_CPU_IST_LO - 8,                   /* straddles the IST guard */
		MON_CPU(1) + MON_CPU_STACK_TOP - MON_FRAME_SIZE,   /* a vCPU that does not exist */
		0x1000, ~0ULL - 16,
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		trap(X86_GP, 0, CODE, 0, RFL_FIXED, KSTACK);
		run->s.regs.regs.rsp = bad[i];
		atomic_store(&vm.stop, false);
		exit__handle(&vcpu);
		ck_assert_msg(atomic_load(&vm.stop), "rsp %#llx", (unsigned long long)bad[i]);
		ck_assert_int_eq(vm.exit_status, 4);
	}
	ck_assert_uint_eq(vcpu.stats.monitor_faults, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

/* The guest's handler for `vec` ran with the faulting instruction's EIP (and the error
 * code, if any) on its stack, and the VM goes on. */
static void assert_fault_delivered(uint64_t handler, uint32_t eip, bool has_err, uint32_t err)
{
	ck_assert_msg(!atomic_load(&vm.stop), "VM stopped: %s", vm.stop_reason);
	ck_assert_uint_eq(run->s.regs.regs.rip, handler);
	uint32_t sp = (uint32_t)run->s.regs.regs.rsp;
	if (has_err) {
		ck_assert_uint_eq(peek32(sp), err);
		sp += 4;
	}
	ck_assert_uint_eq(peek32(sp), eip);
}

START_TEST(bytes_no_cpu_runs_are_the_guests_ud)
{
	/* Each reached shade as an emulation failure and stopped the VM as unsupported;
	 * LOCK CMP also made unicorn abort the process. Hardware gives #UD for all. */
	static const struct { uint8_t b[6]; unsigned n; const char *what; } ud[] = {
		{ { 0x8d, 0xc3 }, 2, "LEA with a register operand" },
		{ { 0x0f, 0x00, 0xf0 }, 3, "0F 00 /6" },
		{ { 0x0f, 0x01, 0xc4 }, 3, "VMXOFF (no VMX)" },
		{ { 0xf0, 0x38, 0x00 }, 3, "LOCK CMP" },
		{ { 0xf0, 0x02, 0x00 }, 3, "LOCK ADD to a register" },
		{ { 0xf0, 0x90 }, 2, "LOCK NOP" },
		{ { 0xc5, 0xf8, 0x77 }, 3, "VZEROUPPER (no AVX)" },
		{ { 0x0f, 0x01, 0xd0 }, 3, "XGETBV (CR4.OSXSAVE cannot be set)" },
		{ { 0x8f, 0xc8 }, 2, "POP r/m with reg 1 (XOP)" },
		{ { 0x0f, 0x0b }, 2, "UD2" },
		{ { 0x0f, 0xff }, 2, "UD0" },
	};
	for (unsigned i = 0; i < sizeof(ud) / sizeof(ud[0]); i++) {
		for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
			poke(CODE, ud[i].b, ud[i].n);
			emulation_failure(CODE, cpl, RFL_FIXED | (cpl ? 0 : 1 << 12),
					  cpl ? USTACK : KSTACK);
			exit__handle(&vcpu);
			ck_assert_msg(!atomic_load(&vm.stop), "%s at CPL %u: %s", ud[i].what, cpl,
				      vm.stop_reason);
			ck_assert_msg(run->s.regs.regs.rip == UD_HANDLER, "%s at CPL %u: rip %#llx",
				      ud[i].what, cpl, (unsigned long long)run->s.regs.regs.rip);
			assert_fault_delivered(UD_HANDLER, CODE, false, 0);
		}
	}
}
END_TEST

START_TEST(encodings_the_cpu_runs_but_capstone_refuses)
{
	/* SALC, a PREFETCH form, a hint NOP: executed, not #UD. */
	static const uint8_t insn[] = { 0xd6, 0x0f, 0x0d, 0x00, 0x0f, 0x19, 0x84, 0x80, 1, 2, 3, 4 };
	poke(CODE, insn, sizeof(insn));
	emulation_failure(CODE, 0, RFL_FIXED | RFL_CF | (1 << 12), KSTACK);
	run->s.regs.regs.rax = 0x1234;
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rax, 0x12ff);
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + 1);
	emulation_failure(CODE + 1, 0, RFL_FIXED | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + 4);
	emulation_failure(CODE + 4, 0, RFL_FIXED | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + sizeof(insn));
}
END_TEST

START_TEST(unemulated_privileged_instruction_is_gp_outside_ring0)
{
	/* rdpmc of a counter the model does not have: #GP(0) at any CPL (and at CPL 3
	 * with CR4.PCE clear whatever the counter) */
	static const uint8_t insn[] = { 0x0f, 0x33 };
	poke(CODE, insn, sizeof(insn));
	for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
		emulation_failure(CODE, cpl, RFL_FIXED, cpl ? USTACK : KSTACK);
		run->s.regs.regs.rcx = 4;
		exit__handle(&vcpu);
		assert_fault_delivered(GP_HANDLER, CODE, true, 0);
	}
}
END_TEST

START_TEST(unicorn_steps_keep_the_arithmetic_flags)
{
	/* add %al, %al with AL = 0x80 in a 32-bit engine: CF, OF, ZF, PF set. Unicorn's
	 * 32-bit engine ignores RFLAGS, so shade used to return every flag cleared. */
	static const uint8_t insn[] = { 0x00, 0xc0 };
	poke(CODE, insn, sizeof(insn));
	emulation_failure(CODE, 0, RFL_FIXED | RFL_SF | (1 << 12), KSTACK);
	run->s.regs.regs.rax = 0x80;
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rax, 0);
	ck_assert_uint_eq(run->s.regs.regs.rflags & (RFL_CF | RFL_OF | RFL_ZF | RFL_PF | RFL_SF),
			  RFL_CF | RFL_OF | RFL_ZF | RFL_PF);
}
END_TEST

START_TEST(a_rep_prefix_on_a_jump_steps_one_instruction)
{
	/* rep ret (F3 C3), common in AMD-tuned code: one instruction. Unicorn was told to
	 * run to the end of it, as for a REP string instruction, and went on past the
	 * return (here through 0x100 INC EAX). */
	static const uint8_t insn[] = { 0xf3, 0xc3 };
	uint8_t incs[0x100];
	memset(incs, 0x40, sizeof(incs));
	poke(CODE + 0x100, incs, sizeof(incs));
	poke(CODE, insn, sizeof(insn));
	uint32_t ret = CODE + 0x100;
	poke(KSTACK - 4, &ret, 4);
	emulation_failure(CODE, 0, RFL_FIXED | (1 << 12), KSTACK - 4);
	run->s.regs.regs.rax = 0;
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + 0x100);
	ck_assert_uint_eq(run->s.regs.regs.rax, 0);
	ck_assert_uint_eq(run->s.regs.regs.rsp, KSTACK);
}
END_TEST

START_TEST(a_rep_string_step_stops_at_its_end)
{
	/* repz scasl with ECX = 0, then INC EAX: the step ends after the SCAS, also when
	 * unicorn translated other code at this address before (it ran on past it). */
	static const uint8_t add[] = { 0x00, 0xc0, 0x40, 0x40, 0x40, 0x40 };
	static const uint8_t insn[] = { 0xf3, 0xaf, 0x40, 0x40, 0x40, 0x40 };
	poke(CODE, add, sizeof(add));
	emulation_failure(CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	poke(CODE, insn, sizeof(insn));
	for (unsigned i = 0; i < 2; i++) {
		emulation_failure(CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
		run->s.regs.regs.rax = 0;
		run->s.regs.regs.rcx = 0;
		run->s.regs.regs.rdi = 0x7000;
		exit__handle(&vcpu);
		ck_assert_uint_eq(run->s.regs.regs.rip, CODE + 2);
		ck_assert_uint_eq(run->s.regs.regs.rax, 0);
	}
}
END_TEST

START_TEST(a_step_reading_where_no_ram_is_gets_zeros)
{
	/* mov 0x5d3f1149, %al; mov %al, 0x5d3f1149: nothing there (16 MiB of RAM): the
	 * load gives 0, the store vanishes. Unicorn's step refused it and stopped the VM. */
	static const uint8_t insn[] = { 0xa0, 0x49, 0x11, 0x3f, 0x5d, 0xa2, 0x49, 0x11, 0x3f, 0x5d };
	poke(CODE, insn, sizeof(insn));
	for (unsigned i = 0; i < 2; i++) {
		emulation_failure(CODE + 5 * i, 0, RFL_FIXED | (1 << 12), KSTACK);
		run->s.regs.regs.rax = 0x1234;
		exit__handle(&vcpu);
		ck_assert_msg(!atomic_load(&vm.stop), "%s", vm.stop_reason);
		ck_assert_uint_eq(run->s.regs.regs.rax, i == 0 ? 0x1200 : 0x1234);
		ck_assert_uint_eq(run->s.regs.regs.rip, CODE + 5 * (i + 1));
	}
}
END_TEST

START_TEST(a_step_runs_the_code_the_guest_has_now)
{
	/* add %al, %al, then the guest writes or $1, %al at the same address: unicorn's
	 * translation cache still held the ADD. */
	static const uint8_t add[] = { 0x00, 0xc0 }, or1[] = { 0x0c, 0x01 };
	const uint8_t *code[2] = { add, or1 };
	for (unsigned i = 0; i < 2; i++) {
		poke(CODE, code[i], 2);
		emulation_failure(CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
		run->s.regs.regs.rax = 1;
		exit__handle(&vcpu);
		ck_assert_uint_eq(run->s.regs.regs.rax, i == 0 ? 2 : 1);
	}
}
END_TEST

START_TEST(lgdt_of_memory_outside_ram_reads_zeros)
{
	/* lgdt 0x2000000: 32 MiB is past the guest's 16 MiB, nothing there: zeros, as QEMU
	 * TCG reads unassigned memory. It stopped the VM (all ones: a 0xffff limit). */
	static const uint8_t insn[] = { 0x0f, 0x01, 0x15, 0x00, 0x00, 0x00, 0x02 };
	poke(CODE, insn, sizeof(insn));
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert_msg(!atomic_load(&vm.stop), "%s", vm.stop_reason);
	ck_assert_uint_eq(vcpu.v.gdtr.base, 0);
	ck_assert_uint_eq(vcpu.v.gdtr.limit, 0);
	ck_assert_uint_eq(run->s.regs.regs.rip, CODE + sizeof(insn));
}
END_TEST

START_TEST(a_gdt_reaching_the_monitors_entries_is_loaded)
{
	/* lgdt (GDT-6): a 0xffff limit is legal (it stopped the VM); only a selector in the
	 * monitor's entries stops it, with a report. */
	static const uint8_t insn[] = { 0x0f, 0x01, 0x15, 0xfa, 0x0f, 0x00, 0x00,  /* lgdt 0xffa */
					0x8e, 0xd8 };                           /* mov %eax, %ds */
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d = { 0xffff, GDT };
	poke(GDT - 6, &d, sizeof(d));
	poke(CODE, insn, sizeof(insn));
	trap(X86_GP, 0, CODE, 0, RFL_FIXED | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert_msg(!atomic_load(&vm.stop), "%s", vm.stop_reason);
	ck_assert_uint_eq(vcpu.v.gdtr.limit, 0xffff);
	run->s.regs.regs.rax = 0xfff0;
	trap(X86_GP, 0xfff0, CODE + 7, 0, RFL_FIXED | (1 << 12), KSTACK);
	exit__handle(&vcpu);
	ck_assert(atomic_load(&vm.stop));
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "GDT entry 8190"));
}
END_TEST

START_TEST(iret_with_nt_checks_the_back_link)
{
	static const uint8_t insn[] = { 0xcf };
	poke(CODE, insn, sizeof(insn));
	uint32_t frame[3] = { CODE, 0x08, RFL_FIXED };
	poke(KSTACK - 12, frame, sizeof(frame));
	/* A null back link, one in the LDT, one past the GDT limit, one naming a data
	 * segment, an available (not busy) TSS: #TS(back link) for each. */
	static const uint16_t bad[] = { 0, 0x2c, 0x1f8, 0x10, 0x30 };
	uint64_t avail_tss = desc(TSS, 0x67, 0x89, 0);
	poke(GDT + 0x30, &avail_tss, 8);
	vcpu.v.gdtr.limit = 7 * 8 - 1;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		poke(TSS, &bad[i], 2);
		emulation_failure(CODE, 0, RFL_FIXED | RFL_NT | (1 << 12), KSTACK - 12);
		exit__handle(&vcpu);
		assert_fault_delivered(TS_HANDLER, CODE, true, bad[i] & 0xfffc);
	}
	/* A busy TSS whose limit is too small for a 32-bit TSS. */
	uint64_t small = desc(TSS, 0x40, 0x8b, 0);
	poke(GDT + 0x30, &small, 8);
	uint16_t link = 0x30;
	poke(TSS, &link, 2);
	emulation_failure(CODE, 0, RFL_FIXED | RFL_NT | (1 << 12), KSTACK - 12);
	exit__handle(&vcpu);
	assert_fault_delivered(TS_HANDLER, CODE, true, 0x30);
	/* A valid back link: a task switch, which shade reports instead of running. */
	uint64_t busy = desc(TSS, 0x67, 0x8b, 0);
	poke(GDT + 0x30, &busy, 8);
	emulation_failure(CODE, 0, RFL_FIXED | RFL_NT | (1 << 12), KSTACK - 12);
	exit__handle(&vcpu);
	ck_assert(atomic_load(&vm.stop));
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "hardware task switch"));
}
END_TEST

START_TEST(virtual_interrupt_on_a_monitor_stub_resumes_the_stub)
{
	/* The injected vector arrived while a stub ran (CS RPL 0): nothing is written back,
	 * so the monitor's IRETQ finishes that stub; the vector is queued again later. */
	trap(MON_VEC_VIRQ, 0, MON_TEXT + 14 * MON_STUB_SIZE + 2, 0, RFL_FIXED, KSTACK);
	uint64_t *f = monitor__stack_ptr(&vm.mon, 0, run->s.regs.regs.rsp, MON_FRAME_SIZE);
	f[MON_FRAME_CS / 8] = MON_SEL_CS;
	vcpu.last_cs.selector = 0;
	vcpu.virq_in_flight = true;
	exit__handle(&vcpu);
	ck_assert(!atomic_load(&vm.stop));
	ck_assert(!vcpu.virq_in_flight);
	ck_assert_uint_eq(run->kvm_dirty_regs, 0);
	ck_assert_uint_eq(vcpu.stats.virq_in_monitor, 1);
	/* Any other event in monitor code is a VMM bug: stop with a report. */
	trap(X86_GP, 0, MON_TEXT, 0, RFL_FIXED, KSTACK);
	f = monitor__stack_ptr(&vm.mon, 0, run->s.regs.regs.rsp, MON_FRAME_SIZE);
	f[MON_FRAME_CS / 8] = MON_SEL_CS;
	vcpu.last_cs.selector = 0;
	exit__handle(&vcpu);
	ck_assert(atomic_load(&vm.stop));
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "monitor fault"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exit");
	TCase *tc = tcase_create("trap-path");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mov_cr0_is_emulated_at_guest_ring0);
	tcase_add_test(tc, mov_cr0_from_ring3_is_the_guests_gp);
	tcase_add_test(tc, int_n_checks_the_gate_dpl);
	tcase_add_test(tc, iret_to_ring3_restores_the_outer_frame);
	tcase_add_test(tc, iret_frame_with_the_kernel_cs_as_the_guest_reads_it);
	tcase_add_test(tc, unreachable_handler_is_a_triple_fault);
	tcase_add_test(tc, first_touch_is_a_hidden_fault);
	tcase_add_test(tc, apic_mmio_runs_against_the_device);
	tcase_add_test(tc, writes_to_the_gdt_reach_the_mirror);
	tcase_add_test(tc, writes_unicorn_cannot_take_are_single_stepped);
	tcase_add_test(tc, writes_through_a_based_fs_run_in_unicorn);
	tcase_add_test(tc, virtual_interrupt_on_a_monitor_stub_resumes_the_stub);
	tcase_add_test(tc, sysenter_and_sysexit_follow_the_msrs);
	tcase_add_test(tc, syscall_from_compatibility_mode_goes_to_cstar);
	tcase_add_test(tc, clflush_completes_with_a_reads_checks);
	tcase_add_test(tc, bytes_no_cpu_runs_are_the_guests_ud);
	tcase_add_test(tc, encodings_the_cpu_runs_but_capstone_refuses);
	tcase_add_test(tc, unemulated_privileged_instruction_is_gp_outside_ring0);
	tcase_add_test(tc, unicorn_steps_keep_the_arithmetic_flags);
	tcase_add_test(tc, lgdt_of_memory_outside_ram_reads_zeros);
	tcase_add_test(tc, a_rep_prefix_on_a_jump_steps_one_instruction);
	tcase_add_test(tc, a_step_runs_the_code_the_guest_has_now);
	tcase_add_test(tc, a_step_reading_where_no_ram_is_gets_zeros);
	tcase_add_test(tc, a_rep_string_step_stops_at_its_end);
	tcase_add_test(tc, iret_with_nt_checks_the_back_link);
	tcase_add_test(tc, a_gdt_reaching_the_monitors_entries_is_loaded);
	tcase_add_test(tc, null_ss_of_a_kernel_trap_stays_at_real_cpl1);
	tcase_add_test(tc, ss_of_a_user_trap_keeps_dpl_of_the_cpl);
	tcase_add_test(tc, cs_cache_follows_a_changed_descriptor);
	tcase_add_test(tc, cs_keeps_the_loaded_descriptor_until_reloaded);
	tcase_add_test(tc, machine_exception_in_the_monitor_stops_the_vm);
	tcase_add_test(tc, trap_frame_outside_the_monitor_stacks_stops_the_vm);
	suite_add_tcase(s, tc);
	return check_run(s);
}
