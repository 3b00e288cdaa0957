/*
 * cli.c: helpers of the command-line layer (see cli.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "cli.h"
#include "devices.h"
#include "vcpu.h"

int cli__parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return *end || errno || *v < lo || *v > hi ? -1 : 0;
}

int cli__parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	uint64_t mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int cli__die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "shade: error: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return status;
}

int cli__init_status(int err)
{
	bool bad_input = err == -ENOEXEC || err == -EFBIG || err == -ENOENT || err == -EINVAL ||
			 err == -EISDIR || err == -EACCES || err == -ENOSPC;
	return bad_input ? 2 : 4;
}

void cli__print_vm_stats(struct vm *vm, FILE *f)
{
	const char *name = vm->cfg.name;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		char who[64];
		snprintf(who, sizeof(who), "%s.vcpu%u", name, i);
		stats__print(f, who, &vm->vcpu[i]->stats);
	}
	devices__print_stats(vm, f);
	if (!vm->cfg.baseline)
		mmu__print_stats(&vm->mmu, name, f);
	fprintf(f, "%s.mem.guest_frames %llu\n", name, (unsigned long long)vm->pmap.nframes);
	fprintf(f, "%s.mem.private_frames %llu\n", name,
		(unsigned long long)vm->pmap.private_frames);
	fprintf(f, "%s.mem.alloc_waits %llu\n", name, (unsigned long long)vm->pmap.alloc_waits);
	pageshare__print_vm_stats(&vm->share, name, f);
	memsched__print_vm_stats(&vm->ms, name, f);
}
