/*
 * fuzz.h: what the fuzzing harnesses share (support.c): a reader that takes fields off
 * the fuzzer's input, and a VM fabricated without /dev/kvm (a memfd pool, a guest memory
 * map, the buses and a clock the harness moves by hand) for the code under test to run
 * against. Each harness (fuzz_<name>.c) owns its input format, written down at its top.
 */
#ifndef SHADE_FUZZ_H
#define SHADE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "fakes.h"
#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input, consumed front to back. Past its end every field reads as zero, so every
 * byte string is a valid input and a truncated one just means "zeros from here". */
struct fin {
	const uint8_t *p;
	size_t n;
};

uint8_t fin__u8(struct fin *in);
uint16_t fin__u16(struct fin *in);
uint32_t fin__u32(struct fin *in);
uint64_t fin__u64(struct fin *in);
/* Up to `len` bytes in place (fewer at the end); *got says how many. */
const uint8_t *fin__bytes(struct fin *in, size_t len, size_t *got);

/* An oracle the harness checks (kept when NDEBUG drops assert): abort with a message,
 * which libFuzzer and the replay driver both report as a crash with its input. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz__fail(#cond, __FILE__, __LINE__))
void fuzz__fail(const char *what, const char *file, int line) __attribute__((noreturn));

/* One process-wide host (pool) and one VM rebuilt for every input. */
struct fuzz_vm {
	struct host host;
	struct vm vm;
	struct fake_clock clock;
	bool host_ready;
};

/* A VM of mem_bytes of guest RAM on a pool of pool_bytes (made on the first call and
 * kept): guest memory map, empty buses, the fake clock at 1 s, console to nowhere, no
 * shadow MMU and no vCPU. Aborts if the host cannot be built (the harness is useless). */
void fuzz_vm__begin(struct fuzz_vm *f, uint64_t pool_bytes, uint64_t mem_bytes);
/* Tear down what the input built (devices, the memory map) and check the pool got every
 * frame back and saw no double free. */
void fuzz_vm__end(struct fuzz_vm *f);

#endif
