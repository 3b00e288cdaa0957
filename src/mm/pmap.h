/*
 * pmap.h: one VM's map from guest-physical frames (PPN) to machine frames (MPN), with the
 * per-PPN state that the memory-management layers build on.
 *
 * A PPN starts UNBACKED and costs nothing until first touched; then it is PRIVATE with
 * its own MPN, or SHARED: it maps a machine frame that other pages (of this or other
 * VMs) map too, read-only, and a write first gets a private copy through the sharing
 * layer's ops. BALLOONED: the guest's balloon holds it (no frame). SWAPPED: its contents
 * are in a slot of the host swap file (the entry's mfn field holds the slot) and the
 * next touch reads them back through the swap layer's ops (src/memsched/). Being a
 * traced page table, or in the working-set sample, are flags.
 */
#ifndef SHADE_PMAP_H
#define SHADE_PMAP_H

#include "pool.h"

enum ppn_state {
	PPN_UNBACKED = 0,
	PPN_PRIVATE,
	PPN_SHARED,
	PPN_BALLOONED,
	PPN_SWAPPED,
};

#define PPN_F_PT      0x1   /* a guest page-table (or descriptor-table) page, write-traced */
#define PPN_F_SAMPLED 0x2   /* in the working-set sample: cleared by the next touch */

/* The last pages touched, which swapping leaves alone (they are in use: taking one
 * would only fault it back in). See pmap__recent. */
#define PMAP_RECENT 16
/* Pages a caller holds host pointers into across further touches (unicorn maps the
 * pages of one emulated step by pointer): swapping leaves them alone too. */
#define PMAP_PINS 8

struct pmap_entry {
	uint64_t mfn;        /* PRIVATE, SHARED: the MPN; SWAPPED: the swap slot */
	uint8_t state;       /* enum ppn_state */
	uint8_t flags;       /* PPN_F_* */
	uint16_t trace_refs; /* how many traced structures live in this page */
};

/* The page-sharing layer's side of a PPN that maps a shared frame (src/pageshare/). */
struct pmap_share_ops {
	/* Give the VM a private copy of shared page g (or the frame itself, for the last
	 * reference), revoking every mapping of the old frame; 0 or a negative errno. */
	int (*cow)(void *ctx, gfn_t g);
	/* The VM drops its reference to shared frame f (teardown). */
	void (*release)(void *ctx, mfn_t f);
};

/* The host swapping layer's side of a SWAPPED PPN (src/memsched/). */
struct pmap_swap_ops {
	/* Read the contents of `slot` into the fresh frame f for PPN g and free the slot;
	 * 0 or a negative errno (the VM is then stopped: its data cannot be produced). */
	int (*swap_in)(void *ctx, gfn_t g, mfn_t f, uint64_t slot);
	/* The page no longer needs its slot (balloon, teardown). */
	void (*release)(void *ctx, uint64_t slot);
	/* The pool is empty while this VM's touch needs a frame: give back some of the
	 * VM's own pages if policy allows (`force`: the wait has gone on too long), never
	 * a recent or pinned one, and queue the TLB flush the revoked mappings need.
	 * Frames freed. */
	uint64_t (*reclaim)(void *ctx, bool force);
};

struct pmap {
	struct pool *pool;
	uint64_t nframes;            /* guest RAM size in frames */
	struct pmap_entry *e;
	uint64_t private_frames;     /* MPNs this VM holds alone */
	/* When set, a touch that finds the pool empty waits for a free frame (until *stop)
	 * instead of failing; `owner` names the VM in the one message that says so. */
	const atomic_bool *stop;
	const char *owner;
	uint64_t alloc_waits;
	uint64_t shared_frames;      /* PPNs mapping a shared (copy-on-write) MPN */
	const struct pmap_share_ops *share;
	void *share_ctx;
	uint64_t swapped_frames;     /* PPNs whose contents are in the swap file */
	const struct pmap_swap_ops *swap;
	void *swap_ctx;
	uint64_t recent[PMAP_RECENT];
	unsigned recent_next;
	uint64_t pins[PMAP_PINS];
	unsigned npins;
};

int pmap__init(struct pmap *pm, struct pool *pool, uint64_t guest_bytes);
void pmap__exit(struct pmap *pm);
/* Back every PPN n with MPN n, for --baseline where KVM's guest-physical is the guest's
 * physical (the pool must be exactly the guest's size and unused). */
int pmap__init_identity(struct pmap *pm);

static inline bool pmap__in_ram(const struct pmap *pm, gfn_t g) { return g.v < pm->nframes; }
/* Whether guest writes to this frame must be seen (a guest page or descriptor table). */
static inline bool pmap__traced(const struct pmap *pm, gfn_t g)
{
	return g.v < pm->nframes && (pm->e[g.v].flags & PPN_F_PT);
}

/* The MPN behind a PPN, backing it on first touch. MFN_INVALID if outside guest RAM or
 * the pool is exhausted (*err says which: -EFAULT or -ENOMEM). */
mfn_t pmap__touch(struct pmap *pm, gfn_t g, int *err);
/* The same for a write: a shared frame is first made private (copy-on-write). */
mfn_t pmap__touch_write(struct pmap *pm, gfn_t g, int *err);
/*
 * A free machine frame for this VM: from the pool, else by swapping out some of the
 * VM's own pages (the swap layer's reclaim op: only when the VM is above its target,
 * or after about a second of waiting), else by waiting for another VM to free one.
 * Only on the VM's own vCPU thread (or before it runs): a reclaim edits the VM's
 * mappings. Callers that hold host pointers into guest pages across it pin them
 * (pmap__pin); the revoked mappings' TLB flush is queued on the vCPU, and every way
 * back into the guest carries a queued flush (a trap's write-back, or an I/O exit's
 * exit__handle). MFN_INVALID with *err = -ENOMEM if the VM is stopping, or if it has
 * no stop flag to wait on.
 */
mfn_t pmap__alloc_frame(struct pmap *pm, int *err);
/* The MPN if already backed, else MFN_INVALID; never allocates. */
mfn_t pmap__lookup(const struct pmap *pm, gfn_t g);

/* Release whatever backs PPN g (its frame, shared reference or swap slot) and leave it
 * in `state` (UNBACKED or BALLOONED). The caller has removed its mappings. */
void pmap__drop(struct pmap *pm, gfn_t g, enum ppn_state state);
/* Whether g is among the last PMAP_RECENT pages touched. */
bool pmap__recent(const struct pmap *pm, gfn_t g);
/* Keep g resident until pmap__unpin_all (false: PMAP_PINS pages already pinned). */
bool pmap__pin(struct pmap *pm, gfn_t g);
static inline void pmap__unpin_all(struct pmap *pm) { pm->npins = 0; }
bool pmap__pinned(const struct pmap *pm, gfn_t g);

/* Host pointer to guest-physical bytes [gpa, gpa+len) within one page, backing it (and
 * breaking sharing first when the caller will write). */
void *pmap__host_ptr(struct pmap *pm, gpa_t gpa, size_t len, bool write, int *err);
/* Copy to/from guest-physical memory across pages; -EFAULT outside RAM. */
int pmap__write(struct pmap *pm, gpa_t gpa, const void *src, size_t len);
int pmap__read(struct pmap *pm, gpa_t gpa, void *dst, size_t len);

#endif
