/* memimg/pool.h: the pooling allocator for linear memories.  A pool reserves
 * all its slots up front as one PROT_NONE, MAP_NORESERVE mapping; a slot is a
 * 4 GiB index space followed by a guard (see config.h for the arithmetic),
 * whose accessible prefix is exactly the memory's current size.  Instantiation
 * maps the module's image copy-on-write at the slot base (or reuses a slot
 * that still holds it); release resets the slot; unloading a module purges
 * every slot that maps its image.  All functions are thread-safe. */
#ifndef SBX_MEMIMG_POOL_H
#define SBX_MEMIMG_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memimg/config.h"
#include "memimg/image.h"

/* No declared maximum: the memory may grow to the pool's max_memory_bytes. */
#define SBX_POOL_NO_MAX UINT32_MAX

struct sbx_pool;
struct sbx_pool_slot;

/* Creates a pool from cfg (NULL: defaults).  Returns 0 with *out set, or the
 * validation error of sbx_pool_config_validate, -ENOMEM, or the -errno of
 * the reservation mmap. */
int sbx_pool_create(const struct sbx_pool_config *cfg, struct sbx_pool **out);

/* Unmaps every slot and drops every image reference.  Returns -EBUSY (and
 * destroys nothing) while a slot is in use, else 0.  NULL is ignored. */
int sbx_pool_destroy(struct sbx_pool *pool);

struct sbx_pool_request {
    uint64_t module;          /* caller's opaque module key (affinity, purge) */
    uint32_t memory_index;    /* which memory of the module */
    struct sbx_memimg *image; /* NULL or empty: memory starts zeroed */
    uint32_t initial_pages;   /* 64 KiB pages; must cover the image */
    uint32_t max_pages;       /* declared maximum, or SBX_POOL_NO_MAX */
};

/* Takes a slot for req and makes exactly initial_pages accessible, holding the
 * image's bytes (mapped MAP_PRIVATE, so writes stay private) and zeroes
 * elsewhere.  The slot never shows bytes of any other module.  Returns the
 * slot, or NULL with *err: -EAGAIN (no free slot), -E2BIG (initial_pages
 * beyond max_memory_bytes), -EDQUOT (committed limit), -EINVAL (the image
 * does not fit initial_pages), or the -errno of a failed mmap/mprotect (the
 * slot is then quarantined and repaved before its next use). */
struct sbx_pool_slot *sbx_pool_instantiate(struct sbx_pool *pool,
                                           const struct sbx_pool_request *req, int *err);

/* The copy fallback for a module without an image: instantiate req (whose
 * image must be NULL) and copy the segments in.  An out-of-bounds segment
 * releases the slot and returns NULL with *err = -ERANGE and *bad_index set
 * (the caller traps).  Other errors as sbx_pool_instantiate. */
struct sbx_pool_slot *sbx_pool_instantiate_copy(struct sbx_pool *pool,
                                                const struct sbx_pool_request *req,
                                                const struct sbx_memimg_segment *segs, size_t count,
                                                size_t *bad_index, int *err);

/* Resets the slot and returns it to the pool: private pages are dropped
 * (madvise(MADV_DONTNEED): image pages revert to the image, others to zero),
 * the first keep_resident_bytes are restored by memset/pread instead, and
 * pages beyond the initial size become PROT_NONE again.  If the module was
 * unloaded meanwhile, the slot is purged instead.  The slot is returned in
 * every case; the result is 0, or the -errno of a failed reset (the slot is
 * then quarantined and repaved before reuse).  Releasing a slot twice gives
 * -EINVAL (as long as no one has taken it again meanwhile). */
int sbx_pool_release(struct sbx_pool *pool, struct sbx_pool_slot *slot);

/* memory.grow: makes delta_pages more pages accessible (zeroed).  Returns 0
 * with *old_pages (if non-NULL) set to the previous size, -EFBIG past the
 * memory's maximum, -EDQUOT past the pool's committed limit, or the -errno of
 * mprotect.  On failure the memory is unchanged. */
int sbx_pool_slot_grow(struct sbx_pool_slot *slot, uint32_t delta_pages, uint32_t *old_pages);

uint8_t *sbx_pool_slot_base(const struct sbx_pool_slot *slot);
uint32_t sbx_pool_slot_pages(const struct sbx_pool_slot *slot);     /* current size */
uint32_t sbx_pool_slot_max_pages(const struct sbx_pool_slot *slot); /* effective maximum */
uint32_t sbx_pool_slot_index(const struct sbx_pool_slot *slot);

/* Unloading a module: purges every free slot with affinity to module (all its
 * memory indexes): claims each without setting new affinity, replaces its
 * range with a fresh PROT_NONE reservation (outside the pool's lock), drops
 * its image reference and returns it cold.  Slots in use by live instances
 * are flagged and purged when released.  Once they are, and the caller has
 * dropped its own image references, no mapping or fd of the module's memfd
 * remains.  Returns 0 or the -errno of the first failed mmap (that slot is
 * quarantined: repaved before reuse).  *purged / *deferred (if non-NULL)
 * count the slots purged now / flagged for later. */
int sbx_pool_purge_module(struct sbx_pool *pool, uint64_t module, uint32_t *purged,
                          uint32_t *deferred);

/* -- Introspection (tests, metrics) -- */

enum sbx_pool_slot_state {
    SBX_SLOT_UNMAPPED, /* a plain PROT_NONE reservation */
    SBX_SLOT_CLEAN,    /* reset: initial size accessible, holding image X (or zeroes) */
    SBX_SLOT_IN_USE,   /* owned by an instance */
    SBX_SLOT_UNKNOWN,  /* a syscall failed midway: repave before reuse */
};

struct sbx_pool_slot_info {
    enum sbx_pool_slot_state state;
    bool has_affinity;
    uint64_t module; /* affinity, if has_affinity */
    uint32_t memory_index;
    const struct sbx_memimg *image; /* image mapped in the slot, or NULL */
    uint64_t accessible_bytes;
};

/* Returns 0 with *info filled, or -EINVAL for a bad index.  The snapshot of a
 * slot another thread is changing may be stale. */
int sbx_pool_slot_info(struct sbx_pool *pool, uint32_t index, struct sbx_pool_slot_info *info);

struct sbx_pool_stats {
    uint32_t slots, cold, warm, in_use;
    uint64_t committed_bytes; /* accessible bytes of in-use slots */
    uint64_t slot_stride;     /* address-space bytes per slot */
    uint64_t guard_bytes, pre_guard_bytes;
};
void sbx_pool_stats(struct sbx_pool *pool, struct sbx_pool_stats *out);

#endif
