/*
 * pool.c: the machine-frame allocator over the host memfd.
 *
 * Frames are zero when handed out: a fresh memfd page reads as zero, and a freed frame's
 * hole is punched, so it reads as zero again without the pool touching it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

int pool__init(struct pool *p, uint64_t bytes)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (bytes == 0 || bytes % PAGE_SIZE)
		return -EINVAL;
	p->nframes = bytes / PAGE_SIZE;
	p->nfree = p->nframes;

	p->fd = memfd_create("shade-machine-memory", MFD_CLOEXEC);
	if (p->fd < 0)
		return -errno;
	if (ftruncate(p->fd, (off_t)bytes) < 0) {
		ret = -errno;
		goto out_close;
	}
	p->base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, p->fd, 0);
	if (p->base == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	p->bitmap = calloc((p->nframes + 63) / 64, sizeof(uint64_t));
	if (!p->bitmap) {
		ret = -ENOMEM;
		goto out_unmap;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	return 0;

out_unmap:
	munmap(p->base, bytes);
out_close:
	close(p->fd);
	p->fd = -1;
	return ret;
}

void pool__exit(struct pool *p)
{
	if (p->fd < 0)
		return;
	free(p->bitmap);
	munmap(p->base, p->nframes * PAGE_SIZE);
	close(p->fd);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	p->fd = -1;
}

mfn_t pool__alloc(struct pool *p)
{
	mfn_t f = MFN_INVALID;
	uint64_t words = (p->nframes + 63) / 64;

	pthread_mutex_lock(&p->lock);
	for (uint64_t n = 0; n < words && p->nfree; n++) {
		uint64_t w = (p->hint + n) % words;
		uint64_t inv = ~p->bitmap[w];
		if (!inv)
			continue;
		uint64_t bit = (uint64_t)__builtin_ctzll(inv);
		uint64_t frame = w * 64 + bit;
		if (frame >= p->nframes)
			continue;
		p->bitmap[w] |= BIT(bit);
		p->nfree--;
		p->allocs++;
		p->hint = w;
		f = MFN(frame);
		break;
	}
	pthread_mutex_unlock(&p->lock);
	return f;
}

void pool__free(struct pool *p, mfn_t f)
{
	if (f.v >= p->nframes)
		return;
	/* A frame freed twice may already belong to someone else: punching it would zero
	 * their page and the bitmap would hand it out a second time. Refuse, and say so. */
	pthread_mutex_lock(&p->lock);
	bool allocated = p->bitmap[f.v / 64] & BIT(f.v % 64);
	if (!allocated && p->bad_frees++ == 0)
		fprintf(stderr, "shade: internal error: machine frame %#llx freed twice\n",
			(unsigned long long)f.v);
	pthread_mutex_unlock(&p->lock);
	if (!allocated)
		return;
	/* Give the page back to the host before the frame can be handed out again. */
	if (fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)mfn_to_ma(f),
		      (off_t)PAGE_SIZE) < 0) {
		memset(pool__ptr(p, f), 0, PAGE_SIZE);
		p->punch_failures++;
	}
	pthread_mutex_lock(&p->lock);
	p->bitmap[f.v / 64] &= ~BIT(f.v % 64);
	p->nfree++;
	p->frees++;
	if (p->waiters)
		pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

int pool__wait_ms(struct pool *p, const atomic_bool *stop, unsigned ms)
{
	int ret = 0;
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	uint64_t end = (uint64_t)deadline.tv_sec * 1000 + (uint64_t)deadline.tv_nsec / 1000000 + ms;
	pthread_mutex_lock(&p->lock);
	p->waiters++;
	p->waits++;
	while (!p->nfree) {
		if (atomic_load(stop)) {
			ret = -EINTR;
			break;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ms && (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000 >= end) {
			ret = -ETIMEDOUT;
			break;
		}
		/* Bounded sleeps: a stop request does not signal the condition. */
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 20 * 1000 * 1000;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->freed, &p->lock, &t);
	}
	p->waiters--;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int pool__wait(struct pool *p, const atomic_bool *stop)
{
	return pool__wait_ms(p, stop, 0);
}

bool pool__allocated(const struct pool *p, mfn_t f)
{
	return f.v < p->nframes && (p->bitmap[f.v / 64] & BIT(f.v % 64));
}

uint64_t pool__used(const struct pool *p)
{
	return p->nframes - p->nfree;
}

int64_t pool__resident_bytes(const struct pool *p)
{
	struct stat st;
	if (fstat(p->fd, &st) < 0)
		return -errno;
	return (int64_t)st.st_blocks * 512;
}
