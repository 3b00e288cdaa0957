/*
 * exec.c: loading a static ELF64 program from the initial file system into a fresh
 * address space. Nothing is copied up front: each PT_LOAD segment becomes a file-backed
 * memory area that fault.c fills page by page from the page cache; the stack and the
 * heap are demand-zero areas. The old address space is dropped only once the new
 * image is complete, so a failed exec returns to the caller intact.
 */
#include "kernel.h"
#include "proc.h"
#include "fs.h"
#include "x86.h"
#include "../common/abi.h"

#define ELF_MAX_PHDR 16
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2

struct elf64_ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static int read_file(int file, uint64_t off, void *dst, uint64_t n)
{
	if (off + n > initrd__size(file) || off + n < off)
		return -E_NOEXEC;
	initrd__read(file, off, dst, n);
	return 0;
}

static int load_segments(struct proc *p, int file, const struct elf64_ehdr *eh)
{
	struct elf64_phdr ph[ELF_MAX_PHDR];
	uint64_t top = 0;
	int r;

	if (eh->phnum > ELF_MAX_PHDR || eh->phentsize != sizeof(ph[0]))
		return -E_NOEXEC;
	if ((r = read_file(file, eh->phoff, ph, eh->phnum * sizeof(ph[0]))))
		return r;
	for (int i = 0; i < eh->phnum; i++) {
		if (ph[i].type != PT_LOAD || !ph[i].memsz)
			continue;
		uint64_t skew = ph[i].vaddr & (PAGE_SIZE - 1);
		uint64_t start = ph[i].vaddr - skew, end = PAGE_ROUND_UP(ph[i].vaddr + ph[i].memsz);
		if (ph[i].filesz > ph[i].memsz || end > USER_MMAP_BASE || end < start ||
		    ph[i].offset < skew || ph[i].offset + ph[i].filesz > initrd__size(file))
			return -E_NOEXEC;
		uint32_t flags = VMA_R | VMA_FILE | ((ph[i].flags & PF_W) ? VMA_W : 0) |
				 ((ph[i].flags & PF_X) ? VMA_X : 0);
		if ((r = vma__add(p, start, end, flags, file, ph[i].offset - skew, ph[i].filesz + skew)))
			return r;
		if (end > top)
			top = end;
	}
	if (!top)
		return -E_NOEXEC;
	p->brk_start = p->brk = top;
	/* The heap area starts empty; brk moves its end. */
	if ((r = vma__add(p, top, top, VMA_R | VMA_W, -1, 0, 0)))
		return r;
	p->mmap_next = USER_MMAP_BASE;
	return vma__add(p, USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE, USER_STACK_TOP,
			VMA_R | VMA_W, -1, 0, 0);
}

/* argc, argv[], NULL, envp NULL, then the strings, at the top of the new stack. */
static int push_args(struct proc *p, char *const argv[], int argc, uint64_t *rsp_out)
{
	uint64_t sp = USER_STACK_TOP, uargv[ARG_MAX + 1];
	int r;
	if (argc > ARG_MAX)
		return -E_INVAL;
	for (int i = argc - 1; i >= 0; i--) {
		uint64_t n = strlen(argv[i]) + 1;
		sp -= n;
		if ((r = copy_to_user(p, sp, argv[i], n)))
			return r;
		uargv[i] = sp;
	}
	uargv[argc] = 0;
	sp &= ~15UL;
	uint64_t words = (uint64_t)argc + 3;	/* argc, argv..., NULL, envp NULL */
	sp -= words * 8;
	sp &= ~15UL;
	uint64_t a = (uint64_t)argc, zero = 0;
	if ((r = copy_to_user(p, sp, &a, 8)) ||
	    (r = copy_to_user(p, sp + 8, uargv, (uint64_t)(argc + 1) * 8)) ||
	    (r = copy_to_user(p, sp + 8 + (uint64_t)(argc + 1) * 8, &zero, 8)))
		return r;
	*rsp_out = sp;
	return 0;
}

int exec__load(struct proc *p, const char *path, char *const argv[], int argc)
{
	struct elf64_ehdr eh;
	struct proc saved;
	uint64_t rsp;
	int file = initrd__lookup(path), r;

	if (file < 0)
		return file;
	if ((r = read_file(file, 0, &eh, sizeof(eh))))
		return r;
	if (memcmp(eh.ident, "\177ELF", 4) || eh.ident[4] != 2 || eh.machine != 62 || eh.type != 2)
		return -E_NOEXEC;

	/* Build the new image in p, keeping the old one aside until it is complete. */
	memcpy(saved.vma, p->vma, sizeof(saved.vma));
	saved.as = p->as;
	saved.brk_start = p->brk_start, saved.brk = p->brk, saved.mmap_next = p->mmap_next;
	vma__clear(p);
	if ((r = vm__create(&p->as)) == 0 && (r = load_segments(p, file, &eh)) == 0)
		r = push_args(p, argv, argc, &rsp);
	if (r) {
		if (p->as.pml4 != saved.as.pml4 && p->as.pml4)
			vm__destroy(&p->as);
		p->as = saved.as;
		memcpy(p->vma, saved.vma, sizeof(p->vma));
		p->brk_start = saved.brk_start, p->brk = saved.brk, p->mmap_next = saved.mmap_next;
		return r;
	}
	if (p == proc__current())
		vm__load(&p->as);
	if (saved.as.pml4)
		vm__destroy(&saved.as);

	const char *base = path;
	for (const char *s = path; *s; s++)
		if (*s == '/')
			base = s + 1;
	strncpy0(p->name, base, sizeof(p->name));
	struct trapframe *tf = p->tf;
	memset(tf, 0, sizeof(*tf));
	tf->rip = eh.entry;
	tf->rsp = rsp;
	tf->cs = SEL_UCODE;
	tf->ss = SEL_UDATA;
	tf->rflags = RFLAGS_IF | 0x2;
	return 0;
}
