/*
 * stats.c: printing the per-vCPU counters in a stable, greppable "name value" form.
 */
#include <linux/kvm.h>

#include "stats.h"
#include "types.h"

static const char *const emu_kind_names[EMU_KIND_COUNT] = {
	"mov_cr", "mov_dr", "lgdt", "lidt", "lldt", "ltr", "sgdt", "sidt", "sldt", "str",
	"smsw", "lmsw", "clts", "hlt", "invd", "wbinvd", "invlpg", "rdmsr", "wrmsr", "rdtsc",
	"rdtscp", "cpuid", "seg_load", "far_jmp", "far_call", "far_ret", "iret", "int",
	"int3", "into", "io_user", "io_string", "cli_sti", "pushf_popf", "mem_write", "other",
};

static const char *exit_name(unsigned r)
{
	switch (r) {
	case KVM_EXIT_IO: return "io";
	case KVM_EXIT_MMIO: return "mmio";
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_SHUTDOWN: return "shutdown";
	case KVM_EXIT_FAIL_ENTRY: return "fail_entry";
	case KVM_EXIT_INTERNAL_ERROR: return "internal_error";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq_window_open";
	case KVM_EXIT_INTR: return "intr";
	default: return NULL;
	}
}

const char *stats__emu_name(enum emu_kind k)
{
	return k < EMU_KIND_COUNT ? emu_kind_names[k] : "?";
}

uint64_t stats__exits_total(const struct vcpu_stats *s)
{
	uint64_t total = s->exits_eintr;
	for (unsigned i = 0; i < STAT_EXIT_REASONS; i++)
		total += s->exits[i];
	return total;
}

void stats__print(FILE *f, const char *who, const struct vcpu_stats *s)
{
	uint64_t total = s->exits_eintr;
	for (unsigned i = 0; i < STAT_EXIT_REASONS; i++)
		total += s->exits[i];
	fprintf(f, "%s.exits.total %llu\n", who, (unsigned long long)total);
	for (unsigned i = 0; i < STAT_EXIT_REASONS; i++) {
		if (!s->exits[i])
			continue;
		const char *n = exit_name(i);
		if (n)
			fprintf(f, "%s.exits.%s %llu\n", who, n, (unsigned long long)s->exits[i]);
		else
			fprintf(f, "%s.exits.reason%u %llu\n", who, i, (unsigned long long)s->exits[i]);
	}
	if (s->exits_eintr)
		fprintf(f, "%s.exits.signal %llu\n", who, (unsigned long long)s->exits_eintr);
	for (unsigned v = 0; v < 256; v++)
		if (s->traps[v])
			fprintf(f, "%s.traps.vector%u %llu\n", who, v, (unsigned long long)s->traps[v]);
	for (unsigned k = 0; k < EMU_KIND_COUNT; k++)
		if (s->emulated[k])
			fprintf(f, "%s.emulated.%s %llu\n", who, emu_kind_names[k],
				(unsigned long long)s->emulated[k]);
	for (unsigned v = 0; v < 256; v++)
		if (s->reflected[v])
			fprintf(f, "%s.reflected.vector%u %llu\n", who, v,
				(unsigned long long)s->reflected[v]);
#define P(x) if (s->x) fprintf(f, "%s.%s %llu\n", who, #x, (unsigned long long)s->x)
	P(irqs_injected); P(nmis_injected); P(irq_windows); P(halts); P(halt_wakeups); P(hidden_faults);
	P(mmio_faults); P(io_exits); P(io_user_checked); P(internal_errors_emulated);
	P(tlb_flushes); P(traced_writes); P(virq_in_monitor); P(syscalls); P(backend_resyncs);
	P(monitor_faults);
#undef P
}
