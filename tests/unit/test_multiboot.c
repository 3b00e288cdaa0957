/*
 * test_multiboot.c: the multiboot loader against crafted images, on a real memfd pool
 * (no KVM needed): what it loads where, from files or from memory, the multiboot
 * information it builds, and the one-line reasons it gives for malformed images.
 */
#include <check.h>

#include "check_run.h"
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "multiboot.h"
#include "vm.h"

static struct host host;
static struct vm vm;
static char kpath[64], mpath[64];

static void setup(void)
{
	ck_assert_int_eq(pool__init(&host.pool, 16ULL << 20), 0);
	memset(&vm, 0, sizeof(vm));
	vm.host = &host;
	vm.cfg.mem_bytes = 8ULL << 20;
	ck_assert_int_eq(pmap__init(&vm.pmap, &host.pool, vm.cfg.mem_bytes), 0);
	strcpy(kpath, "/tmp/shade-mb-kXXXXXX");
	strcpy(mpath, "/tmp/shade-mb-mXXXXXX");
	close(mkstemp(kpath));
	close(mkstemp(mpath));
	vm.cfg.kernel = kpath;
}

static void teardown(void)
{
	pmap__exit(&vm.pmap);
	pool__exit(&host.pool);
	unlink(kpath);
	unlink(mpath);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* An ELF32 kernel: one segment of `filesz` bytes at `paddr` (memsz = filesz + bss),
 * a multiboot header at file offset 0x100, entry at paddr + 0x200. */
static size_t make_elf(uint8_t *buf, uint32_t paddr, uint32_t filesz, uint32_t bss, uint32_t flags)
{
	memset(buf, 0, filesz);
	Elf32_Ehdr *e = (Elf32_Ehdr *)buf;
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS32;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_type = ET_EXEC;
	e->e_machine = EM_386;
	e->e_entry = paddr + 0x200;
	e->e_phoff = sizeof(*e);
	e->e_phentsize = sizeof(Elf32_Phdr);
	e->e_phnum = 1;
	Elf32_Phdr *p = (Elf32_Phdr *)(buf + sizeof(*e));
	p->p_type = PT_LOAD;
	p->p_offset = 0;
	p->p_vaddr = p->p_paddr = paddr;
	p->p_filesz = filesz;
	p->p_memsz = filesz + bss;
	uint32_t h[3] = { MB_HEADER_MAGIC, flags, -(MB_HEADER_MAGIC + flags) };
	memcpy(buf + 0x100, h, sizeof(h));
	for (uint32_t i = 0x300; i < filesz; i++)
		buf[i] = (uint8_t)(i * 7);
	return filesz;
}

static uint32_t rd32(uint64_t gpa)
{
	uint32_t v = 0;
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(gpa), &v, 4), 0);
	return v;
}

START_TEST(loads_segments_and_builds_mbi)
{
	static uint8_t img[0x3000], mod[5000], got[0x3000];
	write_file(kpath, img, make_elf(img, 0x100000, sizeof(img), 0x2000, 0x3));
	for (unsigned i = 0; i < sizeof(mod); i++)
		mod[i] = (uint8_t)(i ^ 0x5a);
	write_file(mpath, mod, sizeof(mod));
	vm.cfg.cmdline = "console=ttyS0 quiet";
	vm.cfg.modules[0] = mpath;
	vm.cfg.nmodules = 1;
	/* Dirty the bss range first: the loader must zero it. */
	memset(got, 0xee, 0x2000);
	pmap__write(&vm.pmap, GPA(0x103000), got, 0x2000);

	ck_assert_int_eq(multiboot__load(&vm), 0);
	ck_assert_uint_eq(vm.entry, 0x100200);
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(0x100000), got, sizeof(img)), 0);
	ck_assert_mem_eq(got, img, sizeof(img));
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(0x103000), got, 0x2000), 0);
	for (unsigned i = 0; i < 0x2000; i++)
		ck_assert_uint_eq(got[i], 0);

	uint64_t mbi = vm.mbi;
	uint32_t flags = rd32(mbi);
	ck_assert(flags & (1u << 0));   /* mem_lower/upper */
	ck_assert(flags & (1u << 2));   /* cmdline */
	ck_assert(flags & (1u << 3));   /* mods */
	ck_assert(flags & (1u << 6));   /* mmap */
	ck_assert_uint_eq(rd32(mbi + 8), (8u << 10) - 1024);  /* mem_upper KiB */
	char cmd[128] = { 0 };
	pmap__read(&vm.pmap, GPA(rd32(mbi + 16)), cmd, sizeof(cmd) - 1);
	char want[128];
	snprintf(want, sizeof(want), "%s console=ttyS0 quiet", kpath);
	ck_assert_str_eq(cmd, want);

	ck_assert_uint_eq(rd32(mbi + 20), 1);
	uint32_t mods = rd32(mbi + 24), start = rd32(mods), end = rd32(mods + 4);
	ck_assert_uint_eq(start % 4096, 0);
	ck_assert_uint_ge(start, 0x100000 + sizeof(img) + 0x2000);
	ck_assert_uint_eq(end - start, sizeof(mod));
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(start), got, sizeof(mod)), 0);
	ck_assert_mem_eq(got, mod, sizeof(mod));

	/* The memory map covers RAM above 1 MiB up to the configured size. */
	uint32_t mmap_len = rd32(mbi + 44), mmap = rd32(mbi + 48);
	uint64_t top = 0;
	for (uint32_t off = 0; off < mmap_len; off += rd32(mmap + off) + 4) {
		uint64_t base, len;
		pmap__read(&vm.pmap, GPA(mmap + off + 4), &base, 8);
		pmap__read(&vm.pmap, GPA(mmap + off + 12), &len, 8);
		if (rd32(mmap + off + 20) == 1)
			top = MAX(top, base + len);
	}
	ck_assert_uint_eq(top, vm.cfg.mem_bytes);
}
END_TEST

START_TEST(refuses_segment_outside_ram)
{
	static uint8_t img[0x2000];
	write_file(kpath, img, make_elf(img, 0x7ff000, sizeof(img), 0, 0));
	ck_assert_int_eq(multiboot__load(&vm), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "outside guest RAM"));
}
END_TEST

START_TEST(refuses_segment_past_end_of_file)
{
	static uint8_t img[0x2000];
	make_elf(img, 0x100000, sizeof(img), 0, 0);
	((Elf32_Phdr *)(img + sizeof(Elf32_Ehdr)))->p_filesz = 0x100000;
	((Elf32_Phdr *)(img + sizeof(Elf32_Ehdr)))->p_memsz = 0x100000;
	write_file(kpath, img, sizeof(img));
	ck_assert_int_eq(multiboot__load(&vm), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "outside the file"));
}
END_TEST

START_TEST(refuses_bad_program_headers)
{
	static uint8_t img[0x2000];
	make_elf(img, 0x100000, sizeof(img), 0, 0);
	((Elf32_Ehdr *)img)->e_phoff = 0xfffffff0;
	write_file(kpath, img, sizeof(img));
	ck_assert_int_eq(multiboot__load(&vm), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "program headers"));
}
END_TEST

START_TEST(refuses_entry_outside_segments)
{
	static uint8_t img[0x2000];
	make_elf(img, 0x100000, sizeof(img), 0, 0);
	((Elf32_Ehdr *)img)->e_entry = 0x500000;
	write_file(kpath, img, sizeof(img));
	ck_assert_int_eq(multiboot__load(&vm), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "entry point"));
}
END_TEST

/* Higher-half kernels: segments linked at 0x80100000 and loaded at 0x100000. The entry
 * is taken as QEMU's loader takes it: a physical e_entry inside the segment's physical
 * range as is (xv6 and the like), a virtual one in the executable segment translated. */
START_TEST(higher_half_entry_physical_or_virtual)
{
	static uint8_t img[0x2000];
	make_elf(img, 0x100000, sizeof(img), 0x1000, 0);
	Elf32_Phdr *p = (Elf32_Phdr *)(img + sizeof(Elf32_Ehdr));
	p->p_vaddr = 0x80100000;
	p->p_flags = PF_R | PF_X;
	((Elf32_Ehdr *)img)->e_entry = 0x10000c;
	write_file(kpath, img, sizeof(img));
	ck_assert_int_eq(multiboot__load(&vm), 0);
	ck_assert_uint_eq(vm.entry, 0x10000c);
	ck_assert_uint_eq(rd32(0x100100), MB_HEADER_MAGIC);
	((Elf32_Ehdr *)img)->e_entry = 0x80100010;
	write_file(kpath, img, sizeof(img));
	ck_assert_int_eq(multiboot__load(&vm), 0);
	ck_assert_uint_eq(vm.entry, 0x100010);
	((Elf32_Ehdr *)img)->e_entry = 0x80102800;   /* in the bss: translated as before */
	write_file(kpath, img, sizeof(img));
	ck_assert_int_eq(multiboot__load(&vm), 0);
	ck_assert_uint_eq(vm.entry, 0x102800);
	((Elf32_Ehdr *)img)->e_entry = 0x104000;     /* past the segment either way */
	write_file(kpath, img, sizeof(img));
	ck_assert_int_eq(multiboot__load(&vm), -ENOEXEC);
}
END_TEST

START_TEST(refuses_overlap_with_loader_area)
{
	static uint8_t img[0x2000];
	write_file(kpath, img, make_elf(img, 0x9000, sizeof(img), 0, 0));
	ck_assert_int_eq(multiboot__load(&vm), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(vm.stop_reason, "loader's area"));
}
END_TEST

START_TEST(aout_kludge_loads_by_header_addresses)
{
	static uint8_t img[0x1000];
	uint32_t flags = 1u << 16;
	memset(img, 0xab, sizeof(img));
	/* header at offset 0x40; image loaded so that the header lands at 0x200040 */
	uint32_t h[8] = { MB_HEADER_MAGIC, flags, -(MB_HEADER_MAGIC + flags), 0x200040, 0x200000,
			  0x201000, 0x203000, 0x200080 };
	memcpy(img + 0x40, h, sizeof(h));
	write_file(kpath, img, sizeof(img));
	ck_assert_int_eq(multiboot__load(&vm), 0);
	ck_assert_uint_eq(vm.entry, 0x200080);
	ck_assert_uint_eq(rd32(0x200000), 0xabababab);
	ck_assert_uint_eq(rd32(0x200040), MB_HEADER_MAGIC);
}
END_TEST

/* The in-memory entry (what the CLI's file path and the fuzzer use): names come from
 * the images, and an image need not be aligned for the ELF structures. */
START_TEST(loads_images_from_memory_at_any_alignment)
{
	static uint8_t img[0x2000], buf[0x2000 + 1];
	static const uint8_t mod[100] = { 1, 2, 3 };
	make_elf(img, 0x100000, sizeof(img), 0, 0x3);
	memcpy(buf + 1, img, sizeof(img));
	const struct mb_image kernel = { buf + 1, sizeof(img), "mem-kernel" };
	const struct mb_image mods[1] = { { mod, sizeof(mod), "mem-module" } };
	vm.cfg.cmdline = "a=b";
	ck_assert_int_eq(multiboot__load_images(&vm, &kernel, mods, 1), 0);
	ck_assert_uint_eq(vm.entry, 0x100200);
	char str[32] = { 0 };
	pmap__read(&vm.pmap, GPA(rd32(vm.mbi + 16)), str, sizeof(str) - 1);
	ck_assert_str_eq(str, "mem-kernel a=b");
	uint32_t list = rd32(vm.mbi + 24);
	pmap__read(&vm.pmap, GPA(rd32(list + 8)), str, sizeof(str) - 1);
	ck_assert_str_eq(str, "mem-module");
	ck_assert_uint_eq(rd32(list + 4) - rd32(list), sizeof(mod));
}
END_TEST

/* A kernel below the information area: its modules go above 1 MiB, not right after it
 * where the information block (0x8000-0x10000) would be written over them. */
START_TEST(modules_of_a_low_kernel_miss_the_information_area)
{
	static uint8_t img[0x100], mod[0x3000];
	uint32_t flags = 1u << 16;
	uint32_t h[8] = { MB_HEADER_MAGIC, flags, -(MB_HEADER_MAGIC + flags), 0x7000, 0x7000,
			  0, 0, 0x7020 };
	memcpy(img, h, sizeof(h));
	memset(mod, 0x5a, sizeof(mod));
	const struct mb_image kernel = { img, sizeof(img), "low" };
	const struct mb_image mods[1] = { { mod, sizeof(mod), "m" } };
	ck_assert_int_eq(multiboot__load_images(&vm, &kernel, mods, 1), 0);
	uint32_t list = rd32(vm.mbi + 24), start = rd32(list);
	ck_assert_uint_ge(start, 0x100000);
	static uint8_t got[sizeof(mod)];
	ck_assert_int_eq(pmap__read(&vm.pmap, GPA(start), got, sizeof(got)), 0);
	ck_assert_mem_eq(got, mod, sizeof(mod));
}
END_TEST

START_TEST(header_search)
{
	uint8_t img[0x3000] = { 0 };
	const char *why = NULL;
	ck_assert_int_eq(multiboot__find_header(img, sizeof(img), &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "no multiboot header"));
	uint32_t h[3] = { MB_HEADER_MAGIC, 0, -MB_HEADER_MAGIC };
	memcpy(img + 0x2004, h, sizeof(h));      /* beyond 8 KiB: not found */
	ck_assert_int_eq(multiboot__find_header(img, sizeof(img), &why), -1);
	memcpy(img + 0x1ff0, h, sizeof(h));
	ck_assert_int_eq(multiboot__find_header(img, sizeof(img), &why), 0x1ff0);
	h[2]++;
	memcpy(img + 0x10, h, sizeof(h));
	ck_assert_int_eq(multiboot__find_header(img, sizeof(img), &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "checksum"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("multiboot");
	TCase *tc = tcase_create("loader");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, loads_segments_and_builds_mbi);
	tcase_add_test(tc, refuses_segment_outside_ram);
	tcase_add_test(tc, refuses_segment_past_end_of_file);
	tcase_add_test(tc, refuses_bad_program_headers);
	tcase_add_test(tc, refuses_entry_outside_segments);
	tcase_add_test(tc, higher_half_entry_physical_or_virtual);
	tcase_add_test(tc, refuses_overlap_with_loader_area);
	tcase_add_test(tc, aout_kludge_loads_by_header_addresses);
	tcase_add_test(tc, loads_images_from_memory_at_any_alignment);
	tcase_add_test(tc, modules_of_a_low_kernel_miss_the_information_area);
	tcase_add_test(tc, header_search);
	suite_add_tcase(s, tc);
	return check_run(s);
}
