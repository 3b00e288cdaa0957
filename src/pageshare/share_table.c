/*
 * share_table.c: the hash table of shared frames and hints (see share_table.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "share_table.h"

int share_table__init(struct share_table *t, uint64_t pool_frames, uint64_t nbuckets)
{
	memset(t, 0, sizeof(*t));
	uint64_t n = 1;
	while (n < nbuckets)
		n <<= 1;
	t->nbuckets = n;
	t->pool_frames = pool_frames;
	t->zero_mfn = MFN_INVALID;
	t->buckets = calloc(n, sizeof(*t->buckets));
	t->by_mfn = calloc(pool_frames, sizeof(*t->by_mfn));
	if (!t->buckets || !t->by_mfn) {
		free(t->buckets);
		free(t->by_mfn);
		t->buckets = NULL;
		t->by_mfn = NULL;
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void share_table__exit(struct share_table *t)
{
	if (!t->buckets)
		return;
	for (uint64_t b = 0; b < t->nbuckets; b++) {
		struct share_entry *e = t->buckets[b];
		while (e) {
			struct share_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	while (t->overflow) {
		struct share_overflow *o = t->overflow;
		t->overflow = o->next;
		free(o);
	}
	free(t->buckets);
	free(t->by_mfn);
	t->buckets = NULL;
	t->by_mfn = NULL;
	pthread_mutex_destroy(&t->lock);
}

void share_table__set_zero(struct share_table *t, mfn_t zero, uint64_t zero_hash)
{
	t->zero_mfn = zero;
	t->zero_hash = zero_hash;
}

static struct share_entry **bucket(struct share_table *t, uint64_t hash)
{
	/* The hash is already uniform: its low bits pick the chain. */
	return &t->buckets[hash & (t->nbuckets - 1)];
}

struct share_entry *share_table__find(struct share_table *t, uint64_t hash,
				      enum share_kind kind)
{
	for (struct share_entry *e = *bucket(t, hash); e; e = e->next)
		if (e->hash == hash && e->kind == kind)
			return e;
	return NULL;
}

struct share_entry *share_table__frame_of(struct share_table *t, mfn_t mfn)
{
	return mfn.v < t->pool_frames ? t->by_mfn[mfn.v] : NULL;
}

static struct share_entry *add(struct share_table *t, uint64_t hash, enum share_kind kind)
{
	struct share_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->hash = hash;
	e->kind = (uint8_t)kind;
	struct share_entry **b = bucket(t, hash);
	e->next = *b;
	*b = e;
	return e;
}

struct share_entry *share_table__add_hint(struct share_table *t, uint64_t hash, void *owner,
					  gfn_t gfn)
{
	struct share_entry *e = add(t, hash, SHARE_HINT);
	if (!e)
		return NULL;
	e->owner = owner;
	e->gfn = gfn.v;
	t->st.hints++;
	return e;
}

static struct share_overflow *overflow_of(const struct share_table *t, uint64_t mfn)
{
	for (struct share_overflow *o = t->overflow; o; o = o->next)
		if (o->mfn == mfn)
			return o;
	return NULL;
}

static void overflow_del(struct share_table *t, uint64_t mfn)
{
	for (struct share_overflow **p = &t->overflow; *p; p = &(*p)->next) {
		if ((*p)->mfn == mfn) {
			struct share_overflow *o = *p;
			*p = o->next;
			free(o);
			t->st.overflows--;
			return;
		}
	}
}

uint64_t share_table__refs(const struct share_table *t, const struct share_entry *f)
{
	if (f->refs < SHARE_REF_MAX)
		return f->refs;
	const struct share_overflow *o = overflow_of(t, f->mfn);
	return o ? o->refs : SHARE_REF_MAX;
}

/* Set a frame's count, moving it into or out of the overflow table. */
static int set_refs(struct share_table *t, struct share_entry *f, uint64_t refs)
{
	struct share_overflow *o = f->refs == SHARE_REF_MAX ? overflow_of(t, f->mfn) : NULL;
	if (refs < SHARE_REF_MAX) {
		if (o)
			overflow_del(t, f->mfn);
		f->refs = (uint16_t)refs;
		return 0;
	}
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o)
			return -ENOMEM;
		o->mfn = f->mfn;
		o->next = t->overflow;
		t->overflow = o;
		t->st.overflows++;
	}
	o->refs = refs;
	f->refs = SHARE_REF_MAX;
	return 0;
}

struct share_entry *share_table__add_frame(struct share_table *t, uint64_t hash, mfn_t mfn,
					   uint64_t refs)
{
	if (mfn.v >= t->pool_frames || t->by_mfn[mfn.v])
		return NULL;
	struct share_entry *e = add(t, hash, SHARE_FRAME);
	if (!e)
		return NULL;
	e->mfn = mfn.v;
	if (set_refs(t, e, refs)) {
		share_table__remove(t, e);
		return NULL;
	}
	t->by_mfn[mfn.v] = e;
	t->st.frames++;
	t->st.refs += refs;
	return e;
}

void share_table__remove(struct share_table *t, struct share_entry *e)
{
	for (struct share_entry **p = bucket(t, e->hash); *p; p = &(*p)->next) {
		if (*p != e)
			continue;
		*p = e->next;
		if (e->kind == SHARE_HINT) {
			t->st.hints--;
		} else if (t->by_mfn[e->mfn] == e) {
			t->st.refs -= share_table__refs(t, e);
			if (e->refs == SHARE_REF_MAX)
				overflow_del(t, e->mfn);
			t->by_mfn[e->mfn] = NULL;
			t->st.frames--;
		}
		free(e);
		return;
	}
}

unsigned share_table__drop_owner(struct share_table *t, void *owner)
{
	unsigned n = 0;
	for (uint64_t b = 0; b < t->nbuckets; b++) {
		struct share_entry **p = &t->buckets[b];
		while (*p) {
			struct share_entry *e = *p;
			if (e->kind == SHARE_HINT && e->owner == owner) {
				*p = e->next;
				free(e);
				t->st.hints--;
				n++;
			} else {
				p = &e->next;
			}
		}
	}
	return n;
}

int share_table__ref(struct share_table *t, struct share_entry *f)
{
	int r = set_refs(t, f, share_table__refs(t, f) + 1);
	if (!r)
		t->st.refs++;
	return r;
}

uint64_t share_table__unref(struct share_table *t, struct share_entry *f)
{
	uint64_t left = share_table__refs(t, f) - 1;
	if (left == 0) {
		share_table__remove(t, f);
		return 0;
	}
	set_refs(t, f, left);     /* shrinking never allocates */
	t->st.refs--;
	return left;
}
