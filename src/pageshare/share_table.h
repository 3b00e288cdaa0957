/*
 * share_table.h: the host-wide table of content-based page sharing (ESX, OSDI 2002,
 * section 4.2). It holds two kinds of entries, both keyed by a 64-bit hash of a page's
 * contents:
 *   shared frame  (hash, MPN, reference count): a machine frame mapped copy-on-write
 *                 by every guest page that has the same contents;
 *   hint          (hash, VM, PPN): a page seen once, not write-protected, so its
 *                 contents may have changed since; a later match must re-check it.
 * Reference counts are 16 bits in the frame entry with an overflow table for frames
 * shared more than 65535 times, as in ESX; the zero frame is a shared frame that is
 * counted in 64 bits and never removed.
 *
 * This file is pure bookkeeping: it never reads or maps pages, and the caller holds
 * `lock` around every call (pageshare.c owns the policy, the hashing and the compares).
 */
#ifndef SHADE_SHARE_TABLE_H
#define SHADE_SHARE_TABLE_H

#include <pthread.h>

#include "types.h"

#define SHARE_REF_MAX 0xffffu     /* beyond: the overflow table counts */

enum share_kind { SHARE_FRAME, SHARE_HINT };

struct share_entry {
	uint64_t hash;
	struct share_entry *next;       /* hash chain */
	uint8_t kind;                   /* enum share_kind */
	uint16_t refs;                  /* frames: SHARE_REF_MAX means "see overflow" */
	uint64_t mfn;                   /* frames */
	void *owner;                    /* hints: the VM's sharing state */
	uint64_t gfn;                   /* hints */
};

struct share_overflow {
	uint64_t mfn, refs;
	struct share_overflow *next;
};

struct share_stats {
	uint64_t frames, hints, refs, overflows;
};

struct share_table {
	pthread_mutex_t lock;
	struct share_entry **buckets;
	uint64_t nbuckets;              /* a power of two */
	struct share_entry **by_mfn;    /* per pool frame: its shared-frame entry */
	uint64_t pool_frames;
	struct share_overflow *overflow;
	mfn_t zero_mfn;                 /* the zero frame, or MFN_INVALID */
	uint64_t zero_hash;
	uint64_t zero_refs;
	struct share_stats st;
};

int share_table__init(struct share_table *t, uint64_t pool_frames, uint64_t nbuckets);
void share_table__exit(struct share_table *t);
/* Declare the zero frame: pages that hash to zero_hash and are all zero map to it. */
void share_table__set_zero(struct share_table *t, mfn_t zero, uint64_t zero_hash);

/* The shared frame or the hint with this hash (the first of that kind in the chain). */
struct share_entry *share_table__find(struct share_table *t, uint64_t hash,
				      enum share_kind kind);
/* The shared-frame entry of a machine frame, or NULL (not shared, or the zero frame). */
struct share_entry *share_table__frame_of(struct share_table *t, mfn_t mfn);

/* A new hint or shared frame; NULL when out of memory. */
struct share_entry *share_table__add_hint(struct share_table *t, uint64_t hash, void *owner,
					  gfn_t gfn);
struct share_entry *share_table__add_frame(struct share_table *t, uint64_t hash, mfn_t mfn,
					   uint64_t refs);
/* Remove an entry (a hint, or a frame whatever its count) and free it. */
void share_table__remove(struct share_table *t, struct share_entry *e);
/* Every hint of one owner (a VM going away). Returns how many. */
unsigned share_table__drop_owner(struct share_table *t, void *owner);

/* One more reference to a shared frame (the overflow table past 65535); -ENOMEM. */
int share_table__ref(struct share_table *t, struct share_entry *f);
/* One reference fewer; returns the references left. At 0 the entry is removed (the
 * caller frees the machine frame). */
uint64_t share_table__unref(struct share_table *t, struct share_entry *f);
uint64_t share_table__refs(const struct share_table *t, const struct share_entry *f);

#endif
