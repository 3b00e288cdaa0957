/*
 * pagecache.c: file contents in memory. Each file's pages are read from the initial
 * file system on first use and kept until a balloon asks for memory (shrink); exec
 * maps read-only program pages straight from here (so every process running a program
 * shares its text), read() copies from here. Index: per file, up to PC_INDEX pages of
 * page addresses.
 */
#include "kernel.h"
#include "fs.h"
#include "pmem.h"

#define PC_PER_INDEX (PAGE_SIZE / sizeof(uint64_t))
#define PC_INDEX 8		/* 8 x 512 pages: files up to 16 MiB */

static uint64_t *index_pages[MAX_FILES][PC_INDEX];
static uint64_t cached, reads;

uint64_t pagecache__page(int file, uint64_t off)
{
	uint64_t pg = off / PAGE_SIZE, size = initrd__size(file);
	ASSERT(off < size);
	if (pg / PC_PER_INDEX >= PC_INDEX)
		panic("file %s is too large for the page cache", initrd__name(file));
	uint64_t **idx = &index_pages[file][pg / PC_PER_INDEX];
	if (!*idx) {
		uint64_t pa = pmem__alloc();
		if (!pa)
			return 0;
		*idx = p2v(pa);
	}
	uint64_t *slot = &(*idx)[pg % PC_PER_INDEX];
	if (!*slot) {
		uint64_t pa = pmem__alloc();
		if (!pa)
			return 0;
		uint64_t start = pg * PAGE_SIZE, n = size - start;
		initrd__read(file, start, p2v(pa), n < PAGE_SIZE ? n : PAGE_SIZE);
		*slot = pa;
		cached++;
		reads++;
	}
	return *slot;
}

uint64_t pagecache__pages(void)
{
	return cached;
}

uint64_t pagecache__reads(void)
{
	return reads;
}

/* A page whose only reference is the cache's is mapped by no process: dropping it
 * loses nothing but a re-read from the archive. Index pages stay (one per 2 MiB). */
uint64_t pagecache__shrink(uint64_t n)
{
	uint64_t freed = 0;
	for (int f = 0; f < MAX_FILES && freed < n; f++) {
		for (int i = 0; i < PC_INDEX && freed < n; i++) {
			uint64_t *idx = index_pages[f][i];
			for (uint64_t j = 0; idx && j < PC_PER_INDEX && freed < n; j++) {
				if (!idx[j] || pmem__refcount(idx[j]) != 1)
					continue;
				pmem__unref(idx[j]);
				idx[j] = 0;
				cached--;
				freed++;
			}
		}
	}
	return freed;
}
