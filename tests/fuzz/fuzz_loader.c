/*
 * fuzz_loader.c: the multiboot v1 loader (src/vmm/multiboot.c: header search, ELF32,
 * ELF64, the a.out kludge, modules, the command line, the multiboot information) fed
 * images from memory, into a fabricated VM's guest memory. (The Linux boot protocol
 * loader gets its own harness when it lands.)
 *
 * Input:
 *   u8   guest RAM: 1 + (b % 32) MiB (1 MiB: below the loader's minimum, refused)
 *   u8   bits 0-1: number of modules (0-3); bit 2: a command line is given
 *   u8   command-line length L, then L bytes (a NUL ends it early, as in argv)
 *   per module: u16 length N, then N bytes
 *   the rest: the kernel image
 * Beyond the sanitizers it checks what a successful load promises: the multiboot
 * information lies in the loader's area below 64 KiB, its module list and command line
 * are where it says, each module lies in guest RAM above 1 MiB and holds exactly the
 * bytes given, the kernel's segments (or a.out-kludge range) hold its bytes then zeros,
 * and an entry point taken from ELF is in RAM.
 */
#include <stdlib.h>
#include <elf.h>
#include <string.h>

#include "fuzz.h"
#include "multiboot.h"

#define POOL_BYTES (40ULL << 20)
#define MAX_MODS 3

/* Mutations the ctest replay runs (a few seconds; replay.c). */
const unsigned fuzz_replay_runs = 20000;

static struct fuzz_vm F;

static uint32_t rd32(uint64_t gpa)
{
	uint32_t v = 0;
	FUZZ_CHECK(pmap__read(&F.vm.pmap, GPA(gpa), &v, 4) == 0);
	return v;
}

/* [gpa, gpa + filesz) holds `want` and [filesz, memsz) zeros (each checked up to 64 KiB). */
static void check_region(uint64_t gpa, const uint8_t *want, uint64_t filesz, uint64_t memsz)
{
	static uint8_t got[65536];
	uint64_t n = MIN(filesz, sizeof(got));
	FUZZ_CHECK(pmap__read(&F.vm.pmap, GPA(gpa), got, n) == 0);
	FUZZ_CHECK(!memcmp(got, want, n));
	n = MIN(memsz - filesz, sizeof(got));
	FUZZ_CHECK(pmap__read(&F.vm.pmap, GPA(gpa + filesz), got, n) == 0);
	for (uint64_t i = 0; i < n; i++)
		FUZZ_CHECK(got[i] == 0);
}

struct seg { uint64_t off, paddr, filesz, memsz; };

/* The kernel's bytes are where its headers say: every ELF PT_LOAD segment that overlaps no
 * other (the first 16), or the a.out kludge's load range and bss. */
static void check_kernel(const struct mb_image *k, long h)
{
	uint32_t f[8];
	memcpy(f, k->data + h, sizeof(uint32_t) * 3);
	if (f[1] & (1u << 16)) {
		memcpy(f, k->data + h, sizeof(f));
		uint64_t file_off = (uint64_t)h - (f[3] - f[4]);
		uint64_t len = f[5] ? (uint64_t)f[5] - f[4] : k->len - file_off;
		check_region(f[4], k->data + file_off, len, f[6] ? (uint64_t)f[6] - f[4] : len);
		return;
	}
	struct seg seg[16];
	unsigned n = 0;
	bool is64 = k->data[EI_CLASS] == ELFCLASS64;
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	memcpy(&e64, k->data, MIN(sizeof(e64), k->len));
	memcpy(&e32, k->data, sizeof(e32));
	uint64_t phoff = is64 ? e64.e_phoff : e32.e_phoff;
	unsigned phnum = is64 ? e64.e_phnum : e32.e_phnum;
	for (unsigned i = 0; i < phnum && n < 16; i++) {
		if (is64) {
			Elf64_Phdr p;
			memcpy(&p, k->data + phoff + i * sizeof(p), sizeof(p));
			if (p.p_type == PT_LOAD && p.p_memsz)
				seg[n++] = (struct seg){ p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
		} else {
			Elf32_Phdr p;
			memcpy(&p, k->data + phoff + i * sizeof(p), sizeof(p));
			if (p.p_type == PT_LOAD && p.p_memsz)
				seg[n++] = (struct seg){ p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
		}
	}
	for (unsigned i = 0; i < n; i++) {
		bool alone = true;
		for (unsigned j = 0; j < n; j++)
			alone &= i == j || seg[j].paddr >= seg[i].paddr + seg[i].memsz ||
				 seg[i].paddr >= seg[j].paddr + seg[j].memsz;
		if (alone)
			check_region(seg[i].paddr, k->data + seg[i].off, seg[i].filesz, seg[i].memsz);
	}
}

/* What the guest is promised after a load that returned 0. */
static void check_mbi(const struct mb_image *kernel, const struct mb_image *mods, unsigned n)
{
	struct vm *vm = &F.vm;
	uint64_t ram = vm->cfg.mem_bytes;
	FUZZ_CHECK(vm->mbi >= 0x8000 && vm->mbi + 120 <= 0x10000);
	uint32_t flags = rd32(vm->mbi);
	FUZZ_CHECK(flags & (1u << 3));
	FUZZ_CHECK(rd32(vm->mbi + 20) == n);
	uint32_t list = rd32(vm->mbi + 24);
	FUZZ_CHECK(list >= 0x8000 && list + 16ULL * n <= 0x10000);
	for (unsigned i = 0; i < n; i++) {
		uint32_t start = rd32(list + 16 * i), end = rd32(list + 16 * i + 4);
		FUZZ_CHECK(start % 4096 == 0 && end - start == mods[i].len && end <= ram);
		/* Above 1 MiB (clear of the information block and the legacy holes), and
		 * the guest finds it as given: nothing the loader wrote later landed on it. */
		FUZZ_CHECK(start >= 0x100000);
		static uint8_t got[65536];
		FUZZ_CHECK(pmap__read(&vm->pmap, GPA(start), got, mods[i].len) == 0);
		FUZZ_CHECK(!memcmp(got, mods[i].data, mods[i].len));
		if (i)      /* modules do not overlap each other */
			FUZZ_CHECK(start >= rd32(list + 16 * (i - 1) + 4));
	}
	uint32_t cmd = rd32(vm->mbi + 16);
	FUZZ_CHECK(cmd >= 0x8000 && cmd < 0x10000);
	char got[64] = { 0 };
	size_t want = strlen(kernel->name);
	pmap__read(&vm->pmap, GPA(cmd), got, want < sizeof(got) ? want : sizeof(got));
	FUZZ_CHECK(!memcmp(got, kernel->name, want < sizeof(got) ? want : sizeof(got)));
	/* An ELF entry must lie in a loaded segment (the a.out kludge's is the kernel's word). */
	const char *why;
	long h = multiboot__find_header(kernel->data, kernel->len, &why);
	FUZZ_CHECK(h >= 0);
	if (!(kernel->data[h + 6] & 1))
		FUZZ_CHECK(vm->entry < ram);
	check_kernel(kernel, h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mod_names[MAX_MODS] = { "mod0", "mod1", "mod2" };
	struct fin in = { data, size };
	struct mb_image kernel, mods[MAX_MODS];
	char cmdline[256];
	size_t got;

	uint64_t ram = (1 + fin__u8(&in) % 32ULL) << 20;
	uint8_t what = fin__u8(&in);
	unsigned nmods = what & 3;
	uint8_t cmdlen = fin__u8(&in);
	const uint8_t *cmd = fin__bytes(&in, cmdlen, &got);
	memcpy(cmdline, cmd, got);
	cmdline[got] = 0;
	for (unsigned i = 0; i < nmods; i++) {
		uint16_t len = fin__u16(&in);
		mods[i].data = fin__bytes(&in, len, &mods[i].len);
		mods[i].name = mod_names[i];
	}
	kernel.data = fin__bytes(&in, in.n, &kernel.len);
	kernel.name = "/boot/kernel";

	fuzz_vm__begin(&F, POOL_BYTES, ram);
	F.vm.cfg.cmdline = (what & 4) ? cmdline : NULL;
	if (multiboot__load_images(&F.vm, &kernel, mods, nmods) == 0)
		check_mbi(&kernel, mods, nmods);
	else
		FUZZ_CHECK(F.vm.stop_reason[0]);    /* a refusal always says why */
	fuzz_vm__end(&F);
	return 0;
}
