/*
 * fault.c: a process's memory areas and its page faults. Nothing in user space is
 * mapped ahead of use: a first touch of an anonymous page maps a fresh zero page
 * (demand-zero), of a read-only program page maps the page-cache page itself, of a
 * writable program page maps a private copy; a write to a page shared copy-on-write
 * after fork copies it (or takes it back writable when it is the last sharer). The
 * kernel reaches user memory only through copy_to_user/copy_from_user, which resolve
 * pages the same way in software, so a kernel-mode page fault is always a bug.
 */
#include "kernel.h"
#include "proc.h"
#include "pmem.h"
#include "fs.h"
#include "../common/abi.h"

struct vma *vma__find(struct proc *p, uint64_t va)
{
	for (int i = 0; i < NVMA; i++) {
		struct vma *v = &p->vma[i];
		if ((v->flags & VMA_USED) && va >= v->start && va < v->end)
			return v;
	}
	return NULL;
}

int vma__add(struct proc *p, uint64_t start, uint64_t end, uint32_t flags, int file,
	     uint64_t foff, uint64_t fsize)
{
	for (int i = 0; i < NVMA; i++) {
		struct vma *v = &p->vma[i];
		if (v->flags & VMA_USED)
			continue;
		*v = (struct vma){ start, end, flags | VMA_USED, file, foff, fsize };
		return 0;
	}
	return -E_NOMEM;
}

/* Unmaps [start, end) and trims, drops or splits the areas it covers. */
int vma__remove(struct proc *p, uint64_t start, uint64_t end)
{
	for (int i = 0; i < NVMA; i++) {
		struct vma *v = &p->vma[i];
		if (!(v->flags & VMA_USED) || v->end <= start || v->start >= end)
			continue;
		if (v->start < start && v->end > end) {
			/* A hole in the middle: the tail becomes a new area. */
			uint64_t cut = end - v->start;
			int r = vma__add(p, end, v->end, v->flags & ~VMA_USED, v->file, v->foff + cut,
					 v->fsize > cut ? v->fsize - cut : 0);
			if (r)
				return r;
			v->end = start;
		} else if (v->start < start) {
			v->end = start;
		} else if (v->end > end) {
			uint64_t cut = end - v->start;
			v->foff += cut;
			v->fsize = v->fsize > cut ? v->fsize - cut : 0;
			v->start = end;
		} else {
			v->flags = 0;
		}
	}
	vm__unmap(&p->as, start, end);
	return 0;
}

void vma__clear(struct proc *p)
{
	for (int i = 0; i < NVMA; i++)
		p->vma[i].flags = 0;
}

static uint64_t pte_flags(const struct vma *v, bool writable)
{
	return PTE_U | (writable ? PTE_W : 0) | ((v->flags & VMA_X) ? 0 : PTE_NX);
}

/* A private page for a not-present address of area v: zero, or file bytes. */
static int fill_page(struct proc *p, struct vma *v, uint64_t page)
{
	uint64_t off = page - v->start, pa;

	if ((v->flags & VMA_FILE) && off < v->fsize) {
		uint64_t src = pagecache__page(v->file, v->foff + off);
		if (!src)
			return -E_NOMEM;
		if (!(v->flags & VMA_W) && off + PAGE_SIZE <= v->fsize) {
			/* Read-only program page: share the cached page itself. */
			pmem__ref(src);
			return vm__map(&p->as, page, src, pte_flags(v, false));
		}
		if (!(pa = pmem__alloc()))
			return -E_NOMEM;
		uint64_t n = v->fsize - off < PAGE_SIZE ? v->fsize - off : PAGE_SIZE;
		/* foff need not be page-aligned relative to the cache: copy in two parts. */
		uint64_t foff = v->foff + off, in_page = foff % PAGE_SIZE;
		uint64_t first = PAGE_SIZE - in_page < n ? PAGE_SIZE - in_page : n;
		memcpy(p2v(pa), (char *)p2v(src) + in_page, first);
		if (first < n) {
			uint64_t src2 = pagecache__page(v->file, foff + first);
			if (!src2) {
				pmem__unref(pa);
				return -E_NOMEM;
			}
			memcpy((char *)p2v(pa) + first, p2v(src2), n - first);
		}
	} else if (!(pa = pmem__alloc())) {
		return -E_NOMEM;
	}
	int r = vm__map(&p->as, page, pa, pte_flags(v, (v->flags & VMA_W) != 0));
	if (r)
		pmem__unref(pa);
	return r;
}

static uint64_t nfaults;

uint64_t fault__count(void)
{
	return nfaults;
}

/* hw: the fault was raised by the CPU, which already dropped the stale translation. */
int fault__handle(struct proc *p, uint64_t va, bool write, bool hw)
{
	struct vma *v = vma__find(p, va);
	uint64_t page = PAGE_ROUND_DOWN(va);

	if (!v || (write && !(v->flags & VMA_W)))
		return -E_FAULT;
	nfaults++;
	uint64_t *pte = vm__pte(&p->as, page, true);
	if (!pte)
		return -E_NOMEM;
	if (!(*pte & PTE_P))
		return fill_page(p, v, page);
	if (!write || (*pte & PTE_W))
		return 0;

	/* Copy-on-write: the page is shared since a fork. */
	uint64_t old = *pte & PTE_ADDR;
	if (pmem__refcount(old) == 1) {
		*pte |= PTE_W;
	} else {
		uint64_t pa = pmem__alloc();
		if (!pa)
			return -E_NOMEM;
		memcpy(p2v(pa), p2v(old), PAGE_SIZE);
		*pte = pa | PTE_P | pte_flags(v, true);
		pmem__unref(old);
	}
	if (!hw)
		vm__flush_page(&p->as, page);
	return 0;
}

/* The kernel address of user byte uva, resolving the page as a fault would. */
static char *user_ptr(struct proc *p, uint64_t uva, bool write)
{
	uint64_t *pte = vm__pte(&p->as, uva, false);
	if (!pte || !(*pte & PTE_P) || (write && !(*pte & PTE_W))) {
		if (fault__handle(p, uva, write, false))
			return NULL;
		pte = vm__pte(&p->as, uva, false);
	}
	return (char *)p2v(*pte & PTE_ADDR) + (uva & (PAGE_SIZE - 1));
}

static int copy_user(struct proc *p, uint64_t uva, void *kbuf, uint64_t n, bool to_user)
{
	char *k = kbuf;
	if (uva + n < uva || uva + n > USER_TOP)
		return -E_FAULT;
	while (n) {
		uint64_t chunk = PAGE_SIZE - (uva & (PAGE_SIZE - 1));
		if (chunk > n)
			chunk = n;
		char *u = user_ptr(p, uva, to_user);
		if (!u)
			return -E_FAULT;
		if (to_user)
			memcpy(u, k, chunk);
		else
			memcpy(k, u, chunk);
		uva += chunk, k += chunk, n -= chunk;
	}
	return 0;
}

int copy_to_user(struct proc *p, uint64_t uva, const void *src, uint64_t n)
{
	return copy_user(p, uva, (void *)src, n, true);
}

int copy_from_user(struct proc *p, void *dst, uint64_t uva, uint64_t n)
{
	return copy_user(p, uva, dst, n, false);
}

int copy_str_from_user(struct proc *p, char *dst, uint64_t uva, uint64_t max)
{
	for (uint64_t i = 0; i < max; i++) {
		if (copy_user(p, uva + i, dst + i, 1, false))
			return -E_FAULT;
		if (!dst[i])
			return (int)i;
	}
	return -E_INVAL;
}
