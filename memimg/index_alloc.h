/* memimg/index_alloc.h: the slot index allocator.  Pure bookkeeping (no
 * system calls, no locking: the pool holds its mutex around every call): which
 * slots are free, which module each slot has affinity to, and which slot an
 * allocation gets under each strategy.
 *
 * A free slot is cold (never used, or purged: nothing mapped) or warm (reset,
 * still holding a module's image, on the LRU list and on its module's
 * affinity chain).  alloc(key) returns, in order of preference:
 *   1. the most recently freed warm slot affine to key;
 *   2. a cold slot, if fewer than warm_cap slots are warm (or none is);
 *   3. the least recently used warm slot;
 * or -EAGAIN when no slot is free.  With `random` set it returns a uniformly
 * random free slot instead.  Every allocation records affinity to its key. */
#ifndef SBX_MEMIMG_INDEX_ALLOC_H
#define SBX_MEMIMG_INDEX_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#define SBX_POOL_IDX_NO_CAP UINT32_MAX

struct sbx_pool_idx_key {
    uint64_t module;       /* the caller's opaque module key */
    uint32_t memory_index; /* which memory of the module */
};

struct sbx_pool_idx;

/* Creates an allocator for count slots, all cold.  Returns 0, -EINVAL or -ENOMEM. */
int sbx_pool_idx_create(uint32_t count, uint32_t warm_cap, bool random, uint64_t seed,
                        struct sbx_pool_idx **out);
void sbx_pool_idx_destroy(struct sbx_pool_idx *ia);

/* Takes a free slot for key (see above) and records affinity to key.
 * Returns 0 with *slot set, or -EAGAIN. */
int sbx_pool_idx_alloc(struct sbx_pool_idx *ia, const struct sbx_pool_idx_key *key, uint32_t *slot);

/* Takes a free slot affine to module (any memory index) without changing its
 * affinity, for purging it.  Returns 0 with *slot set, or -ENOENT if none. */
int sbx_pool_idx_claim_affine(struct sbx_pool_idx *ia, uint64_t module, uint32_t *slot);

/* Flags every in-use slot affine to module to be purged on release; returns
 * how many were flagged. */
uint32_t sbx_pool_idx_mark_purge(struct sbx_pool_idx *ia, uint64_t module);

/* Whether a slot is in use (allocated or claimed). */
bool sbx_pool_idx_in_use(const struct sbx_pool_idx *ia, uint32_t slot);

/* Whether an in-use slot is flagged to be purged on release. */
bool sbx_pool_idx_purge_pending(const struct sbx_pool_idx *ia, uint32_t slot);

/* Returns an in-use slot.  keep_affinity: the slot still holds its module's
 * image and becomes warm (most recently used).  Otherwise it holds nothing
 * and becomes cold, its affinity and purge flag cleared. */
void sbx_pool_idx_free(struct sbx_pool_idx *ia, uint32_t slot, bool keep_affinity);

/* Affinity of a slot: false if it has none, else true with *key set. */
bool sbx_pool_idx_affinity(const struct sbx_pool_idx *ia, uint32_t slot,
                           struct sbx_pool_idx_key *key);

struct sbx_pool_idx_counts {
    uint32_t cold, warm, in_use;
};
void sbx_pool_idx_counts(const struct sbx_pool_idx *ia, struct sbx_pool_idx_counts *out);

#endif
