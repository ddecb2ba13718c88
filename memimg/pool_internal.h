/* memimg/pool_internal.h (internal): the pool object, shared by pool.c (create,
 * instantiate, release, grow) and purge.c (unload).  The mutex guards the
 * index allocator only; a slot's mapping fields belong to whoever holds the
 * slot (see slot.h), so no mapping syscall runs under the lock. */
#ifndef SBX_MEMIMG_POOL_INTERNAL_H
#define SBX_MEMIMG_POOL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "memimg/config.h"
#include "memimg/index_alloc.h"
#include "memimg/pool.h"
#include "memimg/slot.h"

struct sbx_pool {
    struct sbx_pool_config cfg;
    struct sbx_pool_layout layout;
    uint8_t *reservation; /* layout.total bytes */
    pthread_mutex_t lock;
    struct sbx_pool_idx *idx;    /* under lock */
    _Atomic uint64_t committed;  /* accessible bytes of in-use slots */
    struct sbx_pool_slot *slots; /* cfg.slot_count */
};

/* Returns a slot the caller holds to the index allocator as cold, after
 * repaving it; if repaving fails the slot keeps its affinity (warm, UNKNOWN)
 * so a later purge or allocation repaves it.  Returns 0 or the repave error. */
int sbx_pool_return_purged(struct sbx_pool *pool, struct sbx_pool_slot *s);

#endif
