/*
 * stats.h: per-vCPU counters: every exit, trap and emulated instruction is counted, so a
 * user can see what a guest costs and why (printed by `shade run --stats`).
 */
#ifndef SHADE_STATS_H
#define SHADE_STATS_H

#include <stdint.h>
#include <stdio.h>

#define STAT_EXIT_REASONS 64

/* Emulated operations, by kind. Keep emu_kind_names[] in stats.c in step. */
enum emu_kind {
	EMU_MOV_CR, EMU_MOV_DR, EMU_LGDT, EMU_LIDT, EMU_LLDT, EMU_LTR, EMU_SGDT, EMU_SIDT,
	EMU_SLDT, EMU_STR, EMU_SMSW, EMU_LMSW, EMU_CLTS, EMU_HLT, EMU_INVD, EMU_WBINVD,
	EMU_INVLPG, EMU_RDMSR, EMU_WRMSR, EMU_RDTSC, EMU_RDTSCP, EMU_CPUID, EMU_SEG_LOAD,
	EMU_FAR_JMP, EMU_FAR_CALL, EMU_FAR_RET, EMU_IRET, EMU_INT, EMU_INT3, EMU_INTO,
	EMU_IO_USER, EMU_IO_STRING, EMU_CLI_STI, EMU_PUSHF_POPF, EMU_MEM_WRITE, EMU_OTHER,
	EMU_KIND_COUNT
};

struct vcpu_stats {
	uint64_t exits[STAT_EXIT_REASONS];
	uint64_t exits_eintr;
	uint64_t traps[256];               /* by real vector, as the monitor reported them */
	uint64_t emulated[EMU_KIND_COUNT];
	uint64_t reflected[256];           /* exceptions/interrupts delivered to the guest IDT */
	uint64_t irqs_injected, nmis_injected, irq_windows, halts, halt_wakeups;
	uint64_t hidden_faults, mmio_faults;
	uint64_t io_exits, io_user_checked;
	uint64_t internal_errors_emulated;
	uint64_t tlb_flushes, traced_writes, virq_in_monitor, syscalls, backend_resyncs;
	uint64_t monitor_faults;   /* traps taken by the monitor itself: always a VM stop */
};

/* Every exit of the vCPU (all reasons, and KVM_RUN interrupted by a signal). */
uint64_t stats__exits_total(const struct vcpu_stats *s);
void stats__print(FILE *f, const char *who, const struct vcpu_stats *s);
const char *stats__emu_name(enum emu_kind k);

#endif
