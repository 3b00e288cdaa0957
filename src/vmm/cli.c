/*
 * cli.c: what the commands share (see cli.h): the one number parser behind every
 * size, count and duration on the command line, getopt's errors as one line, the
 * status of a failed setup, and per-VM stats.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "devices.h"
#include "vcpu.h"

/* Digits, and nothing before them: decimal, or hex after "0x" when hex is allowed.
 * *end is the first byte after them. -EINVAL for no digits, -ERANGE past 2^64 - 1. */
static int parse_digits(const char *s, bool hex, uint64_t *v, const char **end)
{
	unsigned base = 10;
	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	const char *p = s;
	uint64_t x = 0;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && (*p | 32) >= 'a' && (*p | 32) <= 'f')
			d = (unsigned)((*p | 32) - 'a' + 10);
		else
			break;
		if (x > (UINT64_MAX - d) / base)
			return -ERANGE;
		x = x * base + d;
	}
	if (p == s)
		return -EINVAL;
	*v = x;
	*end = p;
	return 0;
}

int cli__parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	uint64_t x;
	const char *end;
	if (parse_digits(s, false, &x, &end) || *end || x < lo || x > hi)
		return -1;
	*v = (unsigned long)x;
	return 0;
}

int cli__parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mul = 1;
	const char *end;
	int r = parse_digits(s, true, &v, &end);
	if (r)
		return r;
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (mul > 1 && (*end == 'i' || *end == 'B'))
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int cli__parse_seconds(const char *s, uint64_t *ms)
{
	uint64_t whole, frac = 0;
	const char *end, *f;
	if (parse_digits(s, false, &whole, &end) || whole > UINT64_MAX / 1000)
		return -1;
	if (*end == '.') {
		f = end + 1;
		if (parse_digits(f, false, &frac, &end) || end - f > 3)
			return -1;
		for (long k = end - f; k < 3; k++)
			frac *= 10;
	}
	if (*end || whole * 1000 > UINT64_MAX - frac)
		return -1;
	*ms = whole * 1000 + frac;
	return 0;
}

uint64_t cli__machine_max(void)
{
	unsigned r[4], bits = 36;           /* what a CPU without the leaf has */
	/* (the project's own cpuid.h hides the compiler's <cpuid.h>) */
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(0x80000000u), "c"(0));
	if (r[0] >= 0x80000008u) {
		__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
				 : "a"(0x80000008u), "c"(0));
		if ((r[0] & 0xff) >= 32 && (r[0] & 0xff) <= 52)
			bits = r[0] & 0xff;
	}
	return 1ULL << bits;
}

int cli__fail(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, CLI_ERR_MAX, fmt, ap);
	va_end(ap);
	/* The message quotes what the user typed: a newline or a terminal escape in it
	 * must not make it two lines or drive the terminal. */
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

int cli__parse_machine_mem(const char *s, uint64_t *out, char *err)
{
	uint64_t max = cli__machine_max();
	if (cli__parse_size(s, out) || *out % PAGE_SIZE || !*out || *out > max)
		return cli__fail(err, "bad --machine-mem size '%s' (a multiple of 4K, at most %llu "
				 "GiB on this machine)", s, (unsigned long long)(max >> 30));
	return 0;
}

int cli__bad_option(char *err, const char *cmd, char **argv, const char *shorts,
		     const struct option *opts)
{
	/* getopt_long leaves in optopt the option's value when it knew the option (0 for
	 * an unknown long one, the letter for a short one) and a long option's word just
	 * before optind. A short option's letter can also be a long option's value, so the
	 * word tells which was meant. */
	const char *word = optind > 0 ? argv[optind - 1] : "";
	int n = (int)strcspn(word, "=");
	bool is_long = !strncmp(word, "--", 2);
	const struct option *o = NULL;
	for (unsigned i = 0; optopt && opts[i].name; i++)
		if (opts[i].val == optopt && (!is_long || !strncmp(opts[i].name, word + 2,
								    (size_t)(n - 2))))
			o = &opts[i];
	if (is_long && o && o->has_arg == no_argument)
		return cli__fail(err, "option '--%s' takes no argument", o->name);
	if (is_long && o)
		return cli__fail(err, "option '--%s' needs an argument (see 'shade %s --help')",
				 o->name, cmd);
	if (!is_long && optopt > 0 && optopt < 256 && optopt != ':' && strchr(shorts, optopt))
		return cli__fail(err, "option '-%c' needs an argument (see 'shade %s --help')",
				 optopt, cmd);
	if (!is_long && optopt > 32 && optopt < 127)
		return cli__fail(err, "unknown option '-%c' (see 'shade %s --help')", optopt, cmd);
	return cli__fail(err, "unknown or ambiguous option '%.*s' (see 'shade %s --help')",
			 n > 100 ? 100 : n, word, cmd);
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
	/* What the user named cannot be used: no such file, not a kernel, too large, a
	 * path that is too long or goes through a non-directory or a symlink loop. */
	bool bad_input = err == -ENOEXEC || err == -EFBIG || err == -ENOENT || err == -EINVAL ||
			 err == -EISDIR || err == -EACCES || err == -ENOSPC || err == -ENAMETOOLONG ||
			 err == -ENOTDIR || err == -ELOOP || err == -ENXIO || err == -E2BIG;
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
