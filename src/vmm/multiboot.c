/*
 * multiboot.c: the multiboot v1 loader (Multiboot Specification 0.6.96).
 *
 * Guest memory layout it produces:
 *   0x0000_8000  multiboot information, memory map, module list, strings (below 64 KiB)
 *   kernel       wherever its ELF program headers (or a.out-kludge fields) put it
 *   modules      page-aligned, after the highest byte of the kernel and at or above 1 MiB
 * Every address and size from the image is checked against the file and guest RAM
 * before use; a malformed image gets a one-line reason, never a crash.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "multiboot.h"
#include "vm.h"

#define MBI_BASE 0x8000u
#define MBI_LIMIT 0x10000u
#define MODULES_MIN 0x100000u

struct image { uint8_t *data; size_t len; };

static int fail(struct vm *vm, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct vm *vm, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
	va_end(ap);
	return err;
}

static int read_file(struct vm *vm, const char *path, const char *what, struct image *im)
{
	struct stat st;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fail(vm, -errno, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(vm, -EINVAL, "%s %s: not a regular file", what, path);
	}
	if ((uint64_t)st.st_size > MB_MAX_IMAGE) {
		close(fd);
		return fail(vm, -EFBIG, "%s %s: %lld bytes is larger than the %u MiB limit", what,
			    path, (long long)st.st_size, MB_MAX_IMAGE >> 20);
	}
	im->len = (size_t)st.st_size;
	im->data = malloc(im->len ? im->len : 1);
	if (!im->data) {
		close(fd);
		return fail(vm, -ENOMEM, "%s %s: out of memory", what, path);
	}
	size_t got = 0;
	while (got < im->len) {
		ssize_t n = read(fd, im->data + got, im->len - got);
		if (n <= 0) {
			close(fd);
			free(im->data);
			return fail(vm, -EIO, "%s %s: read error", what, path);
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

long multiboot__find_header(const uint8_t *img, size_t len, const char **why)
{
	size_t lim = MIN(len, (size_t)MB_SEARCH);
	for (size_t off = 0; off + 12 <= lim; off += 4) {
		uint32_t h[3];
		memcpy(h, img + off, 12);
		if (h[0] != MB_HEADER_MAGIC)
			continue;
		if ((uint32_t)(h[0] + h[1] + h[2]) != 0) {
			*why = "multiboot header checksum is wrong";
			return -1;
		}
		return (long)off;
	}
	*why = "no multiboot header in the first 8 KiB";
	return -1;
}

static bool in_ram(struct vm *vm, uint64_t addr, uint64_t len)
{
	return addr + len >= addr && addr + len <= vm->cfg.mem_bytes;
}

/* One program header, of either class. */
struct phdr {
	uint64_t type, flags, off, vaddr, paddr, filesz, memsz;
};

static void read_phdr(const uint8_t *p, bool is64, struct phdr *out)
{
	if (is64) {
		Elf64_Phdr ph;
		memcpy(&ph, p, sizeof(ph));
		*out = (struct phdr){ ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_paddr,
				      ph.p_filesz, ph.p_memsz };
	} else {
		Elf32_Phdr ph;
		memcpy(&ph, p, sizeof(ph));
		*out = (struct phdr){ ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_paddr,
				      ph.p_filesz, ph.p_memsz };
	}
}

/*
 * The physical entry point, as QEMU's loader (include/hw/elf_ops.h) finds it: e_entry
 * translated from virtual to physical when it lies in the file bytes of an executable
 * segment whose addresses differ, else e_entry itself, a physical address (higher-half
 * kernels with a physical entry point: xv6 and the like). Beyond QEMU, an entry must be
 * inside a loaded segment's physical range; one inside a segment's virtual range only
 * (its bss, a non-executable segment) is translated, as shade always did.
 */
static bool elf_entry(const uint8_t *phdrs, unsigned phnum, unsigned phentsize, bool is64,
		      uint64_t e_entry, uint64_t *entry)
{
	uint64_t qemu = e_entry, virt = ~0ULL;
	bool phys_ok = false, qemu_ok = false;
	struct phdr ph;
	for (unsigned i = 0; i < phnum; i++) {
		read_phdr(phdrs + (uint64_t)i * phentsize, is64, &ph);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.vaddr != ph.paddr && e_entry >= ph.vaddr && e_entry - ph.vaddr < ph.filesz &&
		    (ph.flags & PF_X)) {
			qemu = e_entry - ph.vaddr + ph.paddr;
			qemu_ok = true;
		}
		if (e_entry >= ph.paddr && e_entry - ph.paddr < ph.memsz)
			phys_ok = true;
		if (virt == ~0ULL && e_entry >= ph.vaddr && e_entry - ph.vaddr < ph.memsz)
			virt = e_entry - ph.vaddr + ph.paddr;
	}
	*entry = qemu_ok ? qemu : phys_ok ? e_entry : virt;
	return (qemu_ok || phys_ok || virt != ~0ULL) && *entry < 0x100000000ULL;
}

static int load_elf(struct vm *vm, const struct mb_image *im, uint32_t *entry, uint64_t *end)
{
	const uint8_t *d = im->data;
	bool is64 = d[EI_CLASS] == ELFCLASS64;
	if (d[EI_CLASS] != ELFCLASS32 && !is64)
		return fail(vm, -ENOEXEC, "kernel: unknown ELF class %u", d[EI_CLASS]);
	if (d[EI_DATA] != ELFDATA2LSB)
		return fail(vm, -ENOEXEC, "kernel: not a little-endian ELF");
	if (im->len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return fail(vm, -ENOEXEC, "kernel: truncated ELF header");

	uint64_t phoff, e_entry;
	unsigned phnum, phentsize, machine;
	/* Headers are copied out: an image in memory need not be aligned for them. */
	if (is64) {
		Elf64_Ehdr e;
		memcpy(&e, d, sizeof(e));
		phoff = e.e_phoff; phnum = e.e_phnum; phentsize = e.e_phentsize;
		e_entry = e.e_entry; machine = e.e_machine;
	} else {
		Elf32_Ehdr e;
		memcpy(&e, d, sizeof(e));
		phoff = e.e_phoff; phnum = e.e_phnum; phentsize = e.e_phentsize;
		e_entry = e.e_entry; machine = e.e_machine;
	}
	if (machine != (is64 ? EM_X86_64 : EM_386))
		return fail(vm, -ENOEXEC, "kernel: ELF machine %u is not x86", machine);
	if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum == 0 ||
	    phoff > im->len || (uint64_t)phnum * phentsize > im->len - phoff)
		return fail(vm, -ENOEXEC, "kernel: bad ELF program headers");

	uint64_t hi = 0;
	struct phdr ph;
	for (unsigned i = 0; i < phnum; i++) {
		read_phdr(d + phoff + (uint64_t)i * phentsize, is64, &ph);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.filesz > ph.memsz || ph.off > im->len || ph.filesz > im->len - ph.off)
			return fail(vm, -ENOEXEC, "kernel: segment %u lies outside the file", i);
		if (!in_ram(vm, ph.paddr, ph.memsz) || ph.paddr + ph.memsz > 0x100000000ULL)
			return fail(vm, -ENOEXEC,
				    "kernel: segment %u at %#llx-%#llx is outside guest RAM (%llu MiB)", i,
				    (unsigned long long)ph.paddr, (unsigned long long)(ph.paddr + ph.memsz),
				    (unsigned long long)(vm->cfg.mem_bytes >> 20));
		if (ph.paddr < MBI_LIMIT && ph.paddr + ph.memsz > MBI_BASE)
			return fail(vm, -ENOEXEC, "kernel: segment %u overlaps the loader's area %#x-%#x",
				    i, MBI_BASE, MBI_LIMIT);
		int r = pmap__write(&vm->pmap, GPA(ph.paddr), d + ph.off, ph.filesz);
		for (uint64_t z = ph.filesz; !r && z < ph.memsz; z += PAGE_SIZE) {
			static const uint8_t zero[PAGE_SIZE];
			r = pmap__write(&vm->pmap, GPA(ph.paddr + z), zero, MIN(PAGE_SIZE, ph.memsz - z));
		}
		if (r)
			return fail(vm, r, "kernel: cannot write segment %u: %s", i, strerror(-r));
		hi = MAX(hi, ph.paddr + ph.memsz);
	}
	uint64_t entry_phys;
	if (!elf_entry(d + phoff, phnum, phentsize, is64, e_entry, &entry_phys))
		return fail(vm, -ENOEXEC, "kernel: entry point %#llx is not in a loaded segment",
			    (unsigned long long)e_entry);
	*entry = (uint32_t)entry_phys;
	*end = hi;
	return 0;
}

/* The a.out kludge: the header's address fields say where the image goes. */
static int load_kludge(struct vm *vm, const struct mb_image *im, long hoff, uint32_t *entry,
		       uint64_t *end)
{
	uint32_t f[8];
	if ((size_t)hoff + 32 > im->len)
		return fail(vm, -ENOEXEC, "kernel: truncated multiboot header");
	memcpy(f, im->data + hoff, 32);
	uint32_t header_addr = f[3], load_addr = f[4], load_end = f[5], bss_end = f[6];
	if (load_addr > header_addr || header_addr - load_addr > (uint64_t)hoff)
		return fail(vm, -ENOEXEC, "kernel: inconsistent multiboot load addresses");
	uint64_t file_off = (uint64_t)hoff - (header_addr - load_addr);
	uint64_t len = load_end ? (uint64_t)load_end - load_addr : im->len - file_off;
	if (load_end && load_end < load_addr)
		return fail(vm, -ENOEXEC, "kernel: load_end_addr below load_addr");
	if (file_off + len > im->len)
		return fail(vm, -ENOEXEC, "kernel: load range extends past the end of the file");
	uint64_t memend = bss_end ? bss_end : load_addr + len;
	if (memend < load_addr + len || !in_ram(vm, load_addr, memend - load_addr))
		return fail(vm, -ENOEXEC, "kernel: image at %#x-%#llx is outside guest RAM", load_addr,
			    (unsigned long long)memend);
	if (load_addr < MBI_LIMIT && memend > MBI_BASE)
		return fail(vm, -ENOEXEC, "kernel: image overlaps the loader's area");
	int r = pmap__write(&vm->pmap, GPA(load_addr), im->data + file_off, len);
	if (r)
		return fail(vm, r, "kernel: cannot write image");
	*entry = f[7];
	*end = memend;
	return 0;
}

struct mbi_builder { struct vm *vm; uint32_t next; };

static uint32_t mbi_alloc(struct mbi_builder *b, uint32_t len)
{
	uint32_t a = (b->next + 7) & ~7u;
	if (a + len > MBI_LIMIT)
		return 0;
	b->next = a + len;
	return a;
}

static uint32_t mbi_string(struct mbi_builder *b, const char *s)
{
	uint32_t len = (uint32_t)strlen(s) + 1, a = mbi_alloc(b, len);
	if (a && pmap__write(&b->vm->pmap, GPA(a), s, len))
		return 0;
	return a;
}

int multiboot__load_images(struct vm *vm, const struct mb_image *kernel,
			   const struct mb_image *mods, unsigned nmods)
{
	const char *why;
	uint32_t entry = 0;
	uint64_t end = 0;
	int r;

	if (vm->cfg.mem_bytes > 0xe0000000ULL || vm->cfg.mem_bytes < (2u << 20))
		return fail(vm, -EINVAL, "guest memory must be between 2 MiB and 3584 MiB");
	long hoff = multiboot__find_header(kernel->data, kernel->len, &why);
	if (hoff < 0)
		return fail(vm, -ENOEXEC, "kernel %s: %s", kernel->name, why);
	uint32_t flags;
	memcpy(&flags, kernel->data + hoff + 4, 4);
	if (flags & 0xfff8u)
		return fail(vm, -ENOEXEC, "kernel %s: requires unsupported multiboot features (flags %#x)",
			    kernel->name, flags);
	bool is_elf = kernel->len >= 4 && !memcmp(kernel->data, ELFMAG, SELFMAG);
	if (flags & BIT(16))
		r = load_kludge(vm, kernel, hoff, &entry, &end);
	else if (is_elf)
		r = load_elf(vm, kernel, &entry, &end);
	else
		r = fail(vm, -ENOEXEC, "kernel %s: not an ELF file and no multiboot address fields",
			 kernel->name);
	if (r)
		return r;

	/* Modules, page-aligned after the kernel and never below 1 MiB: a kernel loaded low
	 * would otherwise have them on the information area and the legacy holes. */
	struct mbi_builder b = { vm, MBI_BASE };
	uint32_t mbi = mbi_alloc(&b, 120);
	uint32_t mods_at = mbi_alloc(&b, 16 * (nmods ? nmods : 1));
	uint64_t at = (MAX(end, MODULES_MIN) + PAGE_SIZE - 1) & PAGE_MASK;
	for (unsigned i = 0; i < nmods; i++) {
		const struct mb_image *m = &mods[i];
		if (!in_ram(vm, at, m->len) || at + m->len > 0xe0000000ULL)
			return fail(vm, -EFBIG, "module %s (%zu bytes) does not fit in guest RAM",
				    m->name, m->len);
		r = pmap__write(&vm->pmap, GPA(at), m->data, m->len);
		uint32_t str = mbi_string(&b, m->name);
		if (r || !str)
			return fail(vm, r ? r : -ENOSPC, "module %s: cannot place it", m->name);
		uint32_t ent[4] = { (uint32_t)at, (uint32_t)(at + m->len), str, 0 };
		pmap__write(&vm->pmap, GPA(mods_at + 16 * i), ent, sizeof(ent));
		at = (at + m->len + PAGE_SIZE - 1) & PAGE_MASK;
	}

	/* The command line as QEMU gives it: the kernel's path, then the arguments. */
	char *cmd = NULL;
	if (asprintf(&cmd, "%s%s%s", kernel->name, vm->cfg.cmdline ? " " : "",
		     vm->cfg.cmdline ? vm->cfg.cmdline : "") < 0)
		return fail(vm, -ENOMEM, "out of memory");
	uint32_t cmdline = mbi_string(&b, cmd);
	free(cmd);
	uint32_t name = mbi_string(&b, "shade");

	/* Memory map: conventional memory, the legacy hole, and RAM above 1 MiB. */
	struct __attribute__((packed)) { uint32_t size; uint64_t base, len; uint32_t type; } mm[] = {
		{ 20, 0, 0x9fc00, 1 },
		{ 20, 0x9fc00, 0x400, 2 },
		{ 20, 0xf0000, 0x10000, 2 },
		{ 20, 0x100000, vm->cfg.mem_bytes - 0x100000, 1 },
	};
	uint32_t mmap = mbi_alloc(&b, sizeof(mm));
	if (!mbi || !mods_at || !cmdline || !name || !mmap)
		return fail(vm, -ENOSPC, "command line too long for the multiboot information area");
	pmap__write(&vm->pmap, GPA(mmap), mm, sizeof(mm));

	uint32_t info[30] = { 0 };
	info[0] = BIT(0) | BIT(2) | BIT(3) | BIT(6) | BIT(9);
	info[1] = 639;                                              /* mem_lower, KiB */
	info[2] = (uint32_t)((vm->cfg.mem_bytes - 0x100000) >> 10); /* mem_upper, KiB */
	info[4] = cmdline;
	info[5] = nmods;
	info[6] = mods_at;
	info[11] = sizeof(mm);
	info[12] = mmap;
	info[16] = name;
	if ((r = pmap__write(&vm->pmap, GPA(mbi), info, sizeof(info))))
		return fail(vm, r, "cannot write the multiboot information");
	vm->entry = entry;
	vm->mbi = mbi;
	return 0;
}

/* The CLI's path: read the kernel and every module, then load them from memory. */
int multiboot__load(struct vm *vm)
{
	struct image im = { 0 }, m[VM_MAX_MODULES] = { { 0 } };
	struct mb_image kernel, mods[VM_MAX_MODULES];
	unsigned n = 0;
	int r;

	if (vm->cfg.nmodules > VM_MAX_MODULES)
		return fail(vm, -E2BIG, "more than %d modules", VM_MAX_MODULES);
	if ((r = read_file(vm, vm->cfg.kernel, "kernel", &im)))
		return r;
	for (; n < vm->cfg.nmodules; n++) {
		if ((r = read_file(vm, vm->cfg.modules[n], "module", &m[n])))
			goto out_free;
		mods[n] = (struct mb_image){ m[n].data, m[n].len, vm->cfg.modules[n] };
	}
	kernel = (struct mb_image){ im.data, im.len, vm->cfg.kernel };
	r = multiboot__load_images(vm, &kernel, mods, n);
out_free:
	while (n--)
		free(m[n].data);
	free(im.data);
	return r;
}
