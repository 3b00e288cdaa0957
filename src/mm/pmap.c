/*
 * pmap.c: PPN -> MPN map with back-on-first-touch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmap.h"

int pmap__init(struct pmap *pm, struct pool *pool, uint64_t guest_bytes)
{
	memset(pm, 0, sizeof(*pm));
	if (guest_bytes == 0 || guest_bytes % PAGE_SIZE)
		return -EINVAL;
	pm->pool = pool;
	pm->nframes = guest_bytes / PAGE_SIZE;
	pm->e = calloc(pm->nframes, sizeof(pm->e[0]));
	for (unsigned i = 0; i < PMAP_RECENT; i++)
		pm->recent[i] = UINT64_MAX;
	return pm->e ? 0 : -ENOMEM;
}

int pmap__init_identity(struct pmap *pm)
{
	for (uint64_t i = 0; i < pm->nframes; i++) {
		mfn_t f = pool__alloc(pm->pool);
		if (f.v != i)
			return -EBUSY;
		pm->e[i] = (struct pmap_entry){ .mfn = i, .state = PPN_PRIVATE };
		pm->private_frames++;
	}
	return 0;
}

void pmap__exit(struct pmap *pm)
{
	if (!pm->e)
		return;
	for (uint64_t i = 0; i < pm->nframes; i++)
		pmap__drop(pm, GFN(i), PPN_UNBACKED);
	free(pm->e);
	pm->e = NULL;
}

void pmap__drop(struct pmap *pm, gfn_t g, enum ppn_state state)
{
	struct pmap_entry *e = &pm->e[g.v];
	switch (e->state) {
	case PPN_PRIVATE:
		pool__free(pm->pool, MFN(e->mfn));     /* back to the host: a punched hole */
		pm->private_frames--;
		break;
	case PPN_SHARED:
		if (pm->share)
			pm->share->release(pm->share_ctx, MFN(e->mfn));
		break;
	case PPN_SWAPPED:
		if (pm->swap)
			pm->swap->release(pm->swap_ctx, e->mfn);
		pm->swapped_frames--;
		break;
	default:
		break;
	}
	e->state = (uint8_t)state;
}

bool pmap__recent(const struct pmap *pm, gfn_t g)
{
	for (unsigned i = 0; i < PMAP_RECENT; i++)
		if (pm->recent[i] == g.v)
			return true;
	return false;
}

bool pmap__pin(struct pmap *pm, gfn_t g)
{
	if (pm->npins == PMAP_PINS)
		return false;
	pm->pins[pm->npins++] = g.v;
	return true;
}

bool pmap__pinned(const struct pmap *pm, gfn_t g)
{
	for (unsigned i = 0; i < pm->npins; i++)
		if (pm->pins[i] == g.v)
			return true;
	return false;
}

/* A forced reclaim comes after about a second (10 wait rounds) of waiting. */
mfn_t pmap__alloc_frame(struct pmap *pm, int *err)
{
	mfn_t f;
	unsigned waited = 0;
	while (!mfn_valid(f = pool__alloc(pm->pool))) {
		if (pm->swap && pm->swap->reclaim(pm->swap_ctx, waited >= 10))
			continue;
		if (!pm->stop) {
			*err = -ENOMEM;
			return MFN_INVALID;
		}
		if (!waited && !pm->alloc_waits++)    /* touches that waited, not wait rounds */
			fprintf(stderr, "shade: %s: machine memory is exhausted; waiting for frames "
				"to be freed\n", pm->owner ? pm->owner : "vm");
		/* With a swap layer, wake now and then to let it reclaim again. */
		int r = pool__wait_ms(pm->pool, pm->stop, pm->swap ? 100 : 0);
		waited++;
		if (r == -ETIMEDOUT)
			continue;
		if (r) {
			*err = -ENOMEM;
			return MFN_INVALID;
		}
	}
	return f;
}

mfn_t pmap__lookup(const struct pmap *pm, gfn_t g)
{
	if (!pmap__in_ram(pm, g))
		return MFN_INVALID;
	const struct pmap_entry *e = &pm->e[g.v];
	if (e->state == PPN_PRIVATE || e->state == PPN_SHARED)
		return MFN(e->mfn);
	return MFN_INVALID;
}

mfn_t pmap__touch(struct pmap *pm, gfn_t g, int *err)
{
	if (!pmap__in_ram(pm, g)) {
		*err = -EFAULT;
		return MFN_INVALID;
	}
	struct pmap_entry *e = &pm->e[g.v];
	if (e->flags & PPN_F_SAMPLED)
		e->flags &= (uint8_t)~PPN_F_SAMPLED;   /* the working-set sample sees a touch */
	pm->recent[pm->recent_next++ % PMAP_RECENT] = g.v;
	if (e->state == PPN_PRIVATE || e->state == PPN_SHARED)
		return MFN(e->mfn);
	mfn_t f = pmap__alloc_frame(pm, err);
	if (!mfn_valid(f))
		return MFN_INVALID;
	if (e->state == PPN_SWAPPED) {
		/* Allocating may have reclaimed, but only private pages are victims: the
		 * entry is still SWAPPED, with its slot. */
		int r = pm->swap ? pm->swap->swap_in(pm->swap_ctx, g, f, e->mfn) : -EIO;
		if (r) {
			pool__free(pm->pool, f);
			*err = r;
			return MFN_INVALID;
		}
		pm->swapped_frames--;
	}
	e->mfn = f.v;
	e->state = PPN_PRIVATE;
	pm->private_frames++;
	return f;
}

mfn_t pmap__touch_write(struct pmap *pm, gfn_t g, int *err)
{
	if (pmap__in_ram(pm, g) && pm->e[g.v].state == PPN_SHARED) {
		int r = pm->share ? pm->share->cow(pm->share_ctx, g) : -EINVAL;
		if (r) {
			*err = r;
			return MFN_INVALID;
		}
	}
	return pmap__touch(pm, g, err);
}

void *pmap__host_ptr(struct pmap *pm, gpa_t gpa, size_t len, bool write, int *err)
{
	if ((gpa.v & (PAGE_SIZE - 1)) + len > PAGE_SIZE) {
		*err = -EINVAL;
		return NULL;
	}
	mfn_t f = write ? pmap__touch_write(pm, gpa_to_gfn(gpa), err)
			: pmap__touch(pm, gpa_to_gfn(gpa), err);
	if (!mfn_valid(f))
		return NULL;
	return (uint8_t *)pool__ptr(pm->pool, f) + (gpa.v & (PAGE_SIZE - 1));
}

static int pmap_copy(struct pmap *pm, gpa_t gpa, void *buf, size_t len, bool to_guest)
{
	uint8_t *b = buf;
	int err = 0;

	while (len) {
		size_t chunk = MIN(len, PAGE_SIZE - (gpa.v & (PAGE_SIZE - 1)));
		uint8_t *h = pmap__host_ptr(pm, gpa, chunk, to_guest, &err);
		if (!h)
			return err;
		if (to_guest)
			memcpy(h, b, chunk);
		else
			memcpy(b, h, chunk);
		b += chunk;
		gpa.v += chunk;
		len -= chunk;
	}
	return 0;
}

int pmap__write(struct pmap *pm, gpa_t gpa, const void *src, size_t len)
{
	return pmap_copy(pm, gpa, (void *)src, len, true);
}

int pmap__read(struct pmap *pm, gpa_t gpa, void *dst, size_t len)
{
	return pmap_copy(pm, gpa, dst, len, false);
}
