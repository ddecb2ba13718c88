/* memimg/pool.c: the pool's life (one reservation for all slots), and an
 * instance's: instantiate (take a slot, map the image), grow, release (reset
 * the slot, or purge it if its module was unloaded meanwhile). */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "memimg/pool_internal.h"

static uint32_t warm_cap_of(const struct sbx_pool_config *cfg)
{
    switch (cfg->strategy) {
    case SBX_POOL_NEXT_AVAILABLE: return 0;
    case SBX_POOL_CAPPED: return cfg->max_warm_slots;
    default: return SBX_POOL_IDX_NO_CAP;
    }
}

int sbx_pool_create(const struct sbx_pool_config *cfg_in, struct sbx_pool **out)
{
    struct sbx_pool_config cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        sbx_pool_config_default(&cfg);

    struct sbx_pool_layout layout;
    int rc = sbx_pool_config_layout(&cfg, &layout);
    if (rc) return rc;

    uint64_t seed = cfg.random_seed;
    if (cfg.strategy == SBX_POOL_RANDOM && !seed &&
        getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        return -errno;

    struct sbx_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return -ENOMEM;
    pool->cfg = cfg;
    pool->layout = layout;
    pool->slots = calloc(cfg.slot_count, sizeof *pool->slots);
    rc = pool->slots ? sbx_pool_idx_create(cfg.slot_count, warm_cap_of(&cfg),
                                           cfg.strategy == SBX_POOL_RANDOM, seed, &pool->idx)
                     : -ENOMEM;
    if (rc) goto fail;

    /* PROT_NONE + MAP_NORESERVE: address space only, no commit charge. */
    void *p =
        mmap(NULL, layout.total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        rc = -errno;
        goto fail;
    }
    pool->reservation = p;
    pthread_mutex_init(&pool->lock, NULL);
    atomic_init(&pool->committed, 0);
    for (uint32_t i = 0; i < cfg.slot_count; i++) {
        pool->slots[i] = (struct sbx_pool_slot){
            .pool = pool,
            .base = pool->reservation + (uint64_t)i * layout.stride + layout.pre_guard,
            .index = i,
            .state = SBX_SLOT_UNMAPPED,
        };
    }
    *out = pool;
    return 0;
fail:
    sbx_pool_idx_destroy(pool->idx);
    free(pool->slots);
    free(pool);
    return rc;
}

int sbx_pool_destroy(struct sbx_pool *pool)
{
    if (!pool) return 0;
    struct sbx_pool_idx_counts c;
    pthread_mutex_lock(&pool->lock);
    sbx_pool_idx_counts(pool->idx, &c);
    pthread_mutex_unlock(&pool->lock);
    if (c.in_use) return -EBUSY;

    munmap(pool->reservation, pool->layout.total);
    for (uint32_t i = 0; i < pool->cfg.slot_count; i++)
        sbx_memimg_unref(pool->slots[i].image);
    sbx_pool_idx_destroy(pool->idx);
    pthread_mutex_destroy(&pool->lock);
    free(pool->slots);
    free(pool);
    return 0;
}

/* Adds bytes to the committed total unless that passes the limit (0: none). */
static bool commit(struct sbx_pool *pool, uint64_t bytes)
{
    const uint64_t limit = pool->cfg.max_committed_bytes;
    uint64_t cur = atomic_load(&pool->committed);
    do {
        if (limit && (cur > limit || bytes > limit - cur)) return false;
    } while (!atomic_compare_exchange_weak(&pool->committed, &cur, cur + bytes));
    return true;
}

static void uncommit(struct sbx_pool *pool, uint64_t bytes)
{
    atomic_fetch_sub(&pool->committed, bytes);
}

static struct sbx_pool_slot *fail_null(int *err, int rc)
{
    *err = rc;
    return NULL;
}

struct sbx_pool_slot *sbx_pool_instantiate(struct sbx_pool *pool,
                                           const struct sbx_pool_request *req, int *err)
{
    if (!pool || !req) return fail_null(err, -EINVAL);
    const uint64_t initial = (uint64_t)req->initial_pages * SBX_WASM_PAGE_SIZE;
    const uint32_t pool_max = (uint32_t)(pool->cfg.max_memory_bytes / SBX_WASM_PAGE_SIZE);
    if (req->max_pages != SBX_POOL_NO_MAX && req->max_pages < req->initial_pages)
        return fail_null(err, -EINVAL);
    if (req->initial_pages > pool_max) return fail_null(err, -E2BIG);

    /* An empty image is no image: the slot must be all zeroes. */
    struct sbx_memimg *image = req->image;
    if (image && sbx_memimg_len(image) == 0) image = NULL;
    if (image && sbx_memimg_offset(image) + sbx_memimg_len(image) > initial)
        return fail_null(err, -EINVAL);

    if (!commit(pool, initial)) return fail_null(err, -EDQUOT);

    const struct sbx_pool_idx_key key = {req->module, req->memory_index};
    uint32_t index;
    pthread_mutex_lock(&pool->lock);
    int rc = sbx_pool_idx_alloc(pool->idx, &key, &index);
    pthread_mutex_unlock(&pool->lock);
    if (rc) {
        uncommit(pool, initial);
        return fail_null(err, rc);
    }

    struct sbx_pool_slot *s = &pool->slots[index];
    rc = sbx_slot_setup(s, image, initial);
    if (rc) {
        uncommit(pool, initial);
        sbx_pool_return_purged(pool, s);
        return fail_null(err, rc);
    }
    s->max_pages = req->max_pages < pool_max ? req->max_pages : pool_max;
    *err = 0;
    return s;
}

struct sbx_pool_slot *sbx_pool_instantiate_copy(struct sbx_pool *pool,
                                                const struct sbx_pool_request *req,
                                                const struct sbx_memimg_segment *segs, size_t count,
                                                size_t *bad_index, int *err)
{
    if (!req || req->image) return fail_null(err, -EINVAL);
    struct sbx_pool_slot *s = sbx_pool_instantiate(pool, req, err);
    if (!s) return NULL;
    int rc = sbx_memimg_copy_segments(s->base, s->accessible, segs, count, bad_index);
    if (rc) {
        sbx_pool_release(pool, s);
        return fail_null(err, rc);
    }
    return s;
}

int sbx_pool_release(struct sbx_pool *pool, struct sbx_pool_slot *s)
{
    /* A free slot is UNMAPPED or CLEAN (or UNKNOWN): catch a double release. */
    if (s->state == SBX_SLOT_UNMAPPED || s->state == SBX_SLOT_CLEAN) return -EINVAL;
    const uint64_t accessible = s->accessible;
    int rc = sbx_slot_reset(s, pool->cfg.keep_resident_bytes);
    uncommit(pool, accessible);

    pthread_mutex_lock(&pool->lock);
    /* Decided under the lock: a concurrent purge either flagged the slot
     * already or will find it warm and claim it. */
    const bool purge = rc || sbx_pool_idx_purge_pending(pool->idx, s->index);
    if (!purge) sbx_pool_idx_free(pool->idx, s->index, true);
    pthread_mutex_unlock(&pool->lock);
    if (!purge) return 0;

    int rc2 = sbx_pool_return_purged(pool, s);
    return rc ? rc : rc2;
}

int sbx_pool_slot_grow(struct sbx_pool_slot *s, uint32_t delta_pages, uint32_t *old_pages)
{
    const uint32_t pages = (uint32_t)(s->accessible / SBX_WASM_PAGE_SIZE);
    if ((uint64_t)pages + delta_pages > s->max_pages) return -EFBIG;
    const uint64_t bytes = (uint64_t)delta_pages * SBX_WASM_PAGE_SIZE;
    if (!commit(s->pool, bytes)) return -EDQUOT;
    if (bytes) {
        int rc = sbx_slot_extend(s, bytes);
        if (rc) {
            uncommit(s->pool, bytes);
            return rc;
        }
    }
    if (old_pages) *old_pages = pages;
    return 0;
}

uint8_t *sbx_pool_slot_base(const struct sbx_pool_slot *s)
{
    return s->base;
}

uint32_t sbx_pool_slot_pages(const struct sbx_pool_slot *s)
{
    return (uint32_t)(s->accessible / SBX_WASM_PAGE_SIZE);
}

uint32_t sbx_pool_slot_max_pages(const struct sbx_pool_slot *s)
{
    return s->max_pages;
}

uint32_t sbx_pool_slot_index(const struct sbx_pool_slot *s)
{
    return s->index;
}

int sbx_pool_slot_info(struct sbx_pool *pool, uint32_t index, struct sbx_pool_slot_info *info)
{
    if (!pool || index >= pool->cfg.slot_count) return -EINVAL;
    const struct sbx_pool_slot *s = &pool->slots[index];
    struct sbx_pool_idx_key key;
    *info = (struct sbx_pool_slot_info){0};
    pthread_mutex_lock(&pool->lock);
    info->has_affinity = sbx_pool_idx_affinity(pool->idx, index, &key);
    if (sbx_pool_idx_in_use(pool->idx, index)) {
        /* Its owner changes the mapping fields without the lock. */
        info->state = SBX_SLOT_IN_USE;
    } else {
        info->state = s->state;
        info->image = s->image;
        info->accessible_bytes = s->accessible;
    }
    pthread_mutex_unlock(&pool->lock);
    if (info->has_affinity) {
        info->module = key.module;
        info->memory_index = key.memory_index;
    }
    return 0;
}

void sbx_pool_stats(struct sbx_pool *pool, struct sbx_pool_stats *out)
{
    struct sbx_pool_idx_counts c;
    pthread_mutex_lock(&pool->lock);
    sbx_pool_idx_counts(pool->idx, &c);
    pthread_mutex_unlock(&pool->lock);
    *out = (struct sbx_pool_stats){
        .slots = pool->cfg.slot_count,
        .cold = c.cold,
        .warm = c.warm,
        .in_use = c.in_use,
        .committed_bytes = atomic_load(&pool->committed),
        .slot_stride = pool->layout.stride,
        .guard_bytes = pool->layout.slot_span - SBX_POOL_INDEX_SPACE,
        .pre_guard_bytes = pool->layout.pre_guard,
    };
}
