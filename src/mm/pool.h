/*
 * pool.h: machine memory. One memfd per host process, mapped once into the host and into
 * every VM's KVM memslot at guest-physical 0, so an MPN (mfn_t) is simultaneously a frame
 * of the memfd, an offset in the host mapping, and a KVM guest-physical frame.
 *
 * The pool hands out frames and takes them back; a freed frame's backing is really
 * released to the host (fallocate PUNCH_HOLE), so host RSS and the memfd's allocated
 * blocks follow what the VMs hold. Who holds a frame (pmap, shadow tables, monitor) is
 * the caller's business; the pool only counts.
 */
#ifndef SHADE_POOL_H
#define SHADE_POOL_H

#include <pthread.h>
#include <stdatomic.h>

#include "types.h"

struct pool {
	int fd;                   /* the memfd */
	uint8_t *base;            /* host mapping of the whole pool */
	uint64_t nframes;
	uint64_t *bitmap;         /* 1 = allocated */
	uint64_t nfree;
	uint64_t hint;            /* where the next search starts */
	pthread_mutex_t lock;
	pthread_cond_t freed;     /* signalled when a frame comes back and someone waits */
	unsigned waiters;
	/* stats */
	uint64_t allocs, frees, punch_failures, waits;
	uint64_t bad_frees;          /* frees of a frame not allocated: a bug, said on stderr */
};

int pool__init(struct pool *p, uint64_t bytes);
void pool__exit(struct pool *p);

/* A zero-filled frame, or MFN_INVALID when the pool is exhausted. */
mfn_t pool__alloc(struct pool *p);
void pool__free(struct pool *p, mfn_t f);
/* Block until a frame is freed (0) or *stop becomes true (-EINTR). Never overcommits:
 * a VM that needs a frame the pool does not have waits here. */
int pool__wait(struct pool *p, const atomic_bool *stop);
/* The same for at most `ms` milliseconds (0: no limit): -ETIMEDOUT when they pass. */
int pool__wait_ms(struct pool *p, const atomic_bool *stop, unsigned ms);

static inline void *pool__ptr(const struct pool *p, mfn_t f)
{
	return p->base + mfn_to_ma(f);
}

bool pool__allocated(const struct pool *p, mfn_t f);
uint64_t pool__used(const struct pool *p);
/* Bytes the kernel really backs for the memfd (st_blocks), for tests and stats. */
int64_t pool__resident_bytes(const struct pool *p);

#endif
