/*
 * swapfile.h: the host's swap file, one per shade process, shared by all its VMs: a
 * file of 4 KiB slots with a bitmap of those in use. It is created (mkstemp) in a
 * directory the user chooses and removed when the host exits. A slot is written with
 * one pwrite and read back with one pread; a short or failed write is reported to the
 * caller, who keeps the page resident (no data is ever dropped on the floor). Each slot
 * keeps an xxHash (XXH3) of what was written, checked on the read: a file changed
 * behind shade's back (truncated, overwritten, a bad disk) is an error, not a page of
 * someone else's or of zeros handed to the guest.
 */
#ifndef SHADE_SWAPFILE_H
#define SHADE_SWAPFILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SWAP_SLOT_NONE UINT64_MAX

struct swapfile {
	int fd;
	char path[4096];
	uint64_t nslots;           /* capacity: the file never grows past nslots pages */
	uint64_t *bitmap;          /* 1 = slot in use */
	uint64_t *sum;             /* per slot: XXH3 of the page written there */
	uint64_t used, hint;
	pthread_mutex_t lock;
	/* stats (under lock) */
	uint64_t writes, reads, write_errors, read_errors, bad_sums, full;
	uint64_t write_ns, read_ns;   /* wall time inside pwrite / pread */
};

/* A swap file of up to `bytes` in `dir`. 0 or a negative errno. */
int swapfile__init(struct swapfile *s, const char *dir, uint64_t bytes);
/* Remove the file (the slots' contents are gone). */
void swapfile__exit(struct swapfile *s);

/* A free slot, or SWAP_SLOT_NONE when the file is full. */
uint64_t swapfile__alloc(struct swapfile *s);
void swapfile__free(struct swapfile *s, uint64_t slot);
/* One page into / out of a slot: 0, or a negative errno (-EIO for a short transfer;
 * for a read, -EBADMSG when the page read is not the page written). */
int swapfile__write(struct swapfile *s, uint64_t slot, const void *page);
int swapfile__read(struct swapfile *s, uint64_t slot, void *page);

#endif
