/*
 * types.h: the three address spaces of shade, as distinct C types.
 *
 *   gva_t          guest-virtual address (what guest instructions use)
 *   gpa_t / gfn_t  guest-physical address / frame (what the guest thinks is RAM; PPN)
 *   mfn_t          machine frame (MPN): a frame of the host's memfd pool, which is
 *                  also a KVM guest-physical frame of every VM's memslot
 *
 * Each is a one-member struct so that passing one where another is expected does not
 * compile. Conversions are explicit helpers below; nothing else should peek at .v
 * except code that owns the arithmetic (walkers, the pool, the loader).
 */
#ifndef SHADE_TYPES_H
#define SHADE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096ULL
#define PAGE_MASK  (~(PAGE_SIZE - 1))

typedef struct { uint64_t v; } gva_t;
typedef struct { uint64_t v; } gpa_t;
typedef struct { uint64_t v; } gfn_t;
typedef struct { uint64_t v; } mfn_t;

#define GVA(x) ((gva_t){ .v = (uint64_t)(x) })
#define GPA(x) ((gpa_t){ .v = (uint64_t)(x) })
#define GFN(x) ((gfn_t){ .v = (uint64_t)(x) })
#define MFN(x) ((mfn_t){ .v = (uint64_t)(x) })

#define MFN_INVALID MFN(UINT64_MAX)

static inline gfn_t gpa_to_gfn(gpa_t a) { return GFN(a.v >> PAGE_SHIFT); }
static inline gpa_t gfn_to_gpa(gfn_t f) { return GPA(f.v << PAGE_SHIFT); }
static inline uint64_t mfn_to_ma(mfn_t f) { return f.v << PAGE_SHIFT; }
static inline bool mfn_valid(mfn_t f) { return f.v != UINT64_MAX; }

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define BIT(n) (1ULL << (n))

#endif
