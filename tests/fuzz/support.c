/*
 * support.c: the input reader and the fabricated VM of fuzz.h, shared by every harness.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "fuzz.h"

const uint8_t *fin__bytes(struct fin *in, size_t len, size_t *got)
{
	const uint8_t *p = in->p;
	*got = len < in->n ? len : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/* Little-endian, zero-filled past the end. */
static uint64_t fin_le(struct fin *in, unsigned bytes)
{
	size_t got;
	const uint8_t *p = fin__bytes(in, bytes, &got);
	uint64_t v = 0;
	for (size_t i = 0; i < got; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t fin__u8(struct fin *in) { return (uint8_t)fin_le(in, 1); }
uint16_t fin__u16(struct fin *in) { return (uint16_t)fin_le(in, 2); }
uint32_t fin__u32(struct fin *in) { return (uint32_t)fin_le(in, 4); }
uint64_t fin__u64(struct fin *in) { return fin_le(in, 8); }

void fuzz__fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	abort();
}

void fuzz_vm__begin(struct fuzz_vm *f, uint64_t pool_bytes, uint64_t mem_bytes)
{
	if (!f->host_ready) {
		if (pool__init(&f->host.pool, pool_bytes)) {
			fprintf(stderr, "fuzz: cannot make a %llu-byte pool\n",
				(unsigned long long)pool_bytes);
			abort();
		}
		f->host_ready = true;
	}
	struct vm *vm = &f->vm;
	memset(vm, 0, sizeof(*vm));
	vm->host = &f->host;
	vm->fd = -1;
	vm->physmap.root = MFN_INVALID;
	vm->cfg.name = "fuzz";
	vm->cfg.mem_bytes = mem_bytes;
	vm->cfg.console_in = vm->cfg.console_out = vm->cfg.console_log = -1;
	fake_clock__init(&f->clock, 1000000000ULL, 1700000000LL * 1000000000LL);
	vm->clock = f->clock.vc;
	bus__init(&vm->pio, "pio");
	bus__init(&vm->mmio, "mmio");
	if (pmap__init(&vm->pmap, &f->host.pool, mem_bytes)) {
		fprintf(stderr, "fuzz: cannot map %llu bytes of guest memory\n",
			(unsigned long long)mem_bytes);
		abort();
	}
}

void fuzz_vm__end(struct fuzz_vm *f)
{
	devices__exit(&f->vm);
	pmap__exit(&f->vm.pmap);
	/* Every machine frame the input's VM held is back, none freed twice. */
	FUZZ_CHECK(pool__used(&f->host.pool) == 0);
	FUZZ_CHECK(f->host.pool.bad_frees == 0);
}
