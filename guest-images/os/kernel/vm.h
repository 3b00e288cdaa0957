/*
 * vm.h: 4-level page tables (vm.c): the kernel's half shared by every address space,
 * and the user half of each process's address space.
 */
#ifndef OS_VM_H
#define OS_VM_H
#include <stdint.h>
#include <stdbool.h>

#define PTE_P 0x001UL
#define PTE_W 0x002UL
#define PTE_U 0x004UL
#define PTE_PS 0x080UL
#define PTE_NX (1UL << 63)
#define PTE_ADDR 0x000ffffffffff000UL

struct aspace {
	uint64_t pml4;		/* physical */
	uint64_t resident;	/* user pages mapped */
	uint64_t pt_pages;	/* page-table pages, PML4 included */
};

void vm__init_kernel(void);		/* builds the direct map, loads the kernel tables */
uint64_t vm__kernel_pml4(void);

int vm__create(struct aspace *as);	/* kernel half only; -E_NOMEM */
void vm__destroy(struct aspace *as);	/* must not be the loaded one */
/* The leaf entry for va, creating the tables on the way if create; NULL if absent. */
uint64_t *vm__pte(struct aspace *as, uint64_t va, bool create);
/* Installs a page (takes the caller's reference); -E_NOMEM without table memory. */
int vm__map(struct aspace *as, uint64_t va, uint64_t pa, uint64_t flags);
/* Removes [start, end): drops the pages' references; flushes if as is loaded. */
void vm__unmap(struct aspace *as, uint64_t start, uint64_t end);
/* Copy-on-write copy of src's user half into dst (fresh): every writable page becomes
 * read-only in both and gains a reference. */
int vm__fork(struct aspace *dst, struct aspace *src);
void vm__load(struct aspace *as);	/* NULL: the kernel's own tables */
void vm__flush_page(struct aspace *as, uint64_t va);	/* if as is loaded */

#endif
