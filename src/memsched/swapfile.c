/*
 * swapfile.c: slots of the host swap file (see swapfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "swapfile.h"

#define SLOT_SIZE 4096ULL

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

int swapfile__init(struct swapfile *s, const char *dir, uint64_t bytes)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->nslots = bytes / SLOT_SIZE;
	if (!s->nslots)
		return -EINVAL;
	if ((size_t)snprintf(s->path, sizeof(s->path), "%s/shade-%d-XXXXXX.swap", dir,
			     (int)getpid()) >= sizeof(s->path))
		return -ENAMETOOLONG;
	s->fd = mkstemps(s->path, 5);
	if (s->fd < 0) {
		s->path[0] = 0;
		return -errno;
	}
	fcntl(s->fd, F_SETFD, FD_CLOEXEC);
	s->bitmap = calloc((s->nslots + 63) / 64, sizeof(uint64_t));
	s->sum = calloc(s->nslots, sizeof(uint64_t));
	if (!s->bitmap || !s->sum) {
		swapfile__exit(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

void swapfile__exit(struct swapfile *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->path[0])
		unlink(s->path);
	s->fd = -1;
	s->path[0] = 0;
	free(s->bitmap);
	free(s->sum);
	s->bitmap = s->sum = NULL;
}

uint64_t swapfile__alloc(struct swapfile *s)
{
	uint64_t slot = SWAP_SLOT_NONE, words = (s->nslots + 63) / 64;
	pthread_mutex_lock(&s->lock);
	for (uint64_t k = 0; k < words && slot == SWAP_SLOT_NONE; k++) {
		uint64_t w = (s->hint + k) % words;
		uint64_t freebits = ~s->bitmap[w];
		if (w == words - 1 && s->nslots % 64)
			freebits &= (1ULL << (s->nslots % 64)) - 1;
		if (freebits) {
			unsigned b = (unsigned)__builtin_ctzll(freebits);
			s->bitmap[w] |= 1ULL << b;
			slot = w * 64 + b;
			s->hint = w;
			s->used++;
		}
	}
	if (slot == SWAP_SLOT_NONE)
		s->full++;
	pthread_mutex_unlock(&s->lock);
	return slot;
}

void swapfile__free(struct swapfile *s, uint64_t slot)
{
	if (slot >= s->nslots)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->bitmap[slot / 64] & (1ULL << (slot % 64))) {
		s->bitmap[slot / 64] &= ~(1ULL << (slot % 64));
		s->used--;
	}
	pthread_mutex_unlock(&s->lock);
}

static int transfer(struct swapfile *s, uint64_t slot, void *page, bool write)
{
	if (slot >= s->nslots)
		return -EINVAL;
	uint64_t t0 = now_ns();
	ssize_t n = write ? pwrite(s->fd, page, SLOT_SIZE, (off_t)(slot * SLOT_SIZE))
			  : pread(s->fd, page, SLOT_SIZE, (off_t)(slot * SLOT_SIZE));
	int err = n < 0 ? -errno : n != (ssize_t)SLOT_SIZE ? -EIO : 0;
	uint64_t dt = now_ns() - t0, sum = err ? 0 : XXH3_64bits(page, SLOT_SIZE);
	pthread_mutex_lock(&s->lock);
	if (write) {
		s->writes++;
		s->write_ns += dt;
		s->write_errors += err != 0;
		if (!err)
			s->sum[slot] = sum;
	} else {
		s->reads++;
		s->read_ns += dt;
		if (!err && sum != s->sum[slot]) {
			err = -EBADMSG;
			s->bad_sums++;
		}
		s->read_errors += err != 0;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int swapfile__write(struct swapfile *s, uint64_t slot, const void *page)
{
	return transfer(s, slot, (void *)page, true);
}

int swapfile__read(struct swapfile *s, uint64_t slot, void *page)
{
	return transfer(s, slot, page, false);
}
