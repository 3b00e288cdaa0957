/*
 * fs.h: the initial file system (initrd.c: the ustar archive the loader put in memory
 * as a module) and the page cache that holds file contents (pagecache.c).
 */
#ifndef OS_FS_H
#define OS_FS_H
#include <stdint.h>

#define MAX_FILES 64

void initrd__init(uint64_t start, uint64_t end);
int initrd__lookup(const char *path);		/* file index or -E_NOENT */
uint64_t initrd__size(int file);
const char *initrd__name(int file);
int initrd__count(void);
/* Copies file bytes [off, off + n) from the archive (the backing store) to dst. */
void initrd__read(int file, uint64_t off, void *dst, uint64_t n);

/* The page holding file bytes [off & ~4095, +4096), the rest zero; 0 without memory.
 * The cache keeps its own reference; pages are only dropped by pagecache__shrink. */
uint64_t pagecache__page(int file, uint64_t off);
uint64_t pagecache__pages(void);
uint64_t pagecache__reads(void);	/* pages read from the archive: major faults */
/* Drops up to n cached pages nobody else maps (re-read on next use); returns how many
 * were freed. For the balloon, when the free list runs short. */
uint64_t pagecache__shrink(uint64_t n);

#endif
