/* memimg/purge.c: unloading a module: every slot with affinity to it loses
 * its image mapping, so no mapping of the module's memfd outlives it.  The
 * pool's lock is held to claim and to return slots, never while unmapping. */
#include <errno.h>

#include "memimg/pool_internal.h"

int sbx_pool_return_purged(struct sbx_pool *pool, struct sbx_pool_slot *s)
{
    int rc = sbx_slot_repave(s);
    pthread_mutex_lock(&pool->lock);
    /* A failed repave may leave the image mapped: keep the affinity so the
     * next purge of this module (or the slot's next user) repaves it. */
    sbx_pool_idx_free(pool->idx, s->index, rc != 0);
    pthread_mutex_unlock(&pool->lock);
    return rc;
}

int sbx_pool_purge_module(struct sbx_pool *pool, uint64_t module, uint32_t *purged,
                          uint32_t *deferred)
{
    uint32_t n_purged = 0, n_deferred;
    int rc = 0;

    pthread_mutex_lock(&pool->lock);
    /* In-use slots are purged by sbx_pool_release when their instance ends. */
    n_deferred = sbx_pool_idx_mark_purge(pool->idx, module);
    for (;;) {
        uint32_t index;
        /* Claims a free slot affine to module without giving it new affinity,
         * so no allocation can hand it out while it is being unmapped. */
        if (sbx_pool_idx_claim_affine(pool->idx, module, &index)) break;
        pthread_mutex_unlock(&pool->lock);

        rc = sbx_pool_return_purged(pool, &pool->slots[index]);

        pthread_mutex_lock(&pool->lock);
        if (rc) break; /* it is warm again: retrying now would loop */
        n_purged++;
    }
    pthread_mutex_unlock(&pool->lock);

    if (purged) *purged = n_purged;
    if (deferred) *deferred = n_deferred;
    return rc;
}
