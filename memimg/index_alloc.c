/* memimg/index_alloc.c: the slot index allocator: cold list, warm LRU list,
 * per-module affinity chains in a hash table, and a free-slot array for
 * uniform random choice.  All lists link slots by index; NIL ends a list. */
#include "memimg/index_alloc.h"

#include <errno.h>
#include <stdlib.h>

#define NIL UINT32_MAX

enum idx_state { IDX_COLD, IDX_WARM, IDX_IN_USE };

struct idx_slot {
    struct sbx_pool_idx_key key;
    uint8_t state;  /* enum idx_state */
    bool affine;    /* key is meaningful and the slot is on an affinity chain */
    bool purge;     /* in use; purge on release */
    uint32_t lprev; /* cold list or LRU list, by state */
    uint32_t lnext;
    uint32_t aprev; /* affinity chain of bucket hash(key.module) */
    uint32_t anext;
    uint32_t free_pos; /* index in free_ids while free */
};

struct idx_list {
    uint32_t head, tail;
};

struct sbx_pool_idx {
    uint32_t count;
    uint32_t warm_cap;
    bool random;
    uint64_t rng;
    uint32_t n_cold, n_warm;
    struct idx_list cold; /* head: next cold slot to hand out */
    struct idx_list lru;  /* head: least recently freed warm slot */
    uint32_t bucket_mask;
    uint32_t *buckets;  /* affinity chain heads; most recent first */
    uint32_t *free_ids; /* every free slot, unordered */
    uint32_t n_free;
    struct idx_slot slots[];
};

/* -- Lists -- */

static void list_remove(struct sbx_pool_idx *ia, struct idx_list *l, uint32_t s)
{
    struct idx_slot *e = &ia->slots[s];
    if (e->lprev != NIL)
        ia->slots[e->lprev].lnext = e->lnext;
    else
        l->head = e->lnext;
    if (e->lnext != NIL)
        ia->slots[e->lnext].lprev = e->lprev;
    else
        l->tail = e->lprev;
    e->lprev = e->lnext = NIL;
}

static void list_push_head(struct sbx_pool_idx *ia, struct idx_list *l, uint32_t s)
{
    struct idx_slot *e = &ia->slots[s];
    e->lprev = NIL;
    e->lnext = l->head;
    if (l->head != NIL)
        ia->slots[l->head].lprev = s;
    else
        l->tail = s;
    l->head = s;
}

static void list_push_tail(struct sbx_pool_idx *ia, struct idx_list *l, uint32_t s)
{
    struct idx_slot *e = &ia->slots[s];
    e->lnext = NIL;
    e->lprev = l->tail;
    if (l->tail != NIL)
        ia->slots[l->tail].lnext = s;
    else
        l->head = s;
    l->tail = s;
}

/* -- Affinity chains -- */

static uint32_t bucket_of(const struct sbx_pool_idx *ia, uint64_t module)
{
    /* Fibonacci hashing: the top 32 bits of module * 2^64/phi. */
    return (uint32_t)((module * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & ia->bucket_mask;
}

static void chain_remove(struct sbx_pool_idx *ia, uint32_t s)
{
    struct idx_slot *e = &ia->slots[s];
    if (e->aprev != NIL)
        ia->slots[e->aprev].anext = e->anext;
    else
        ia->buckets[bucket_of(ia, e->key.module)] = e->anext;
    if (e->anext != NIL) ia->slots[e->anext].aprev = e->aprev;
    e->aprev = e->anext = NIL;
}

static void chain_push_head(struct sbx_pool_idx *ia, uint32_t s)
{
    struct idx_slot *e = &ia->slots[s];
    uint32_t *head = &ia->buckets[bucket_of(ia, e->key.module)];
    e->aprev = NIL;
    e->anext = *head;
    if (*head != NIL) ia->slots[*head].aprev = s;
    *head = s;
}

/* -- Free-slot array -- */

static void free_add(struct sbx_pool_idx *ia, uint32_t s)
{
    ia->slots[s].free_pos = ia->n_free;
    ia->free_ids[ia->n_free++] = s;
}

static void free_remove(struct sbx_pool_idx *ia, uint32_t s)
{
    uint32_t pos = ia->slots[s].free_pos, last = ia->free_ids[--ia->n_free];
    ia->free_ids[pos] = last;
    ia->slots[last].free_pos = pos;
    ia->slots[s].free_pos = NIL;
}

/* -- Random numbers (splitmix64; uniform ranges by Lemire's method) -- */

static uint64_t next_random(struct sbx_pool_idx *ia)
{
    uint64_t z = (ia->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint32_t random_below(struct sbx_pool_idx *ia, uint32_t n)
{
    uint64_t m = (uint64_t)(uint32_t)next_random(ia) * n;
    if ((uint32_t)m < n) {
        const uint32_t threshold = (uint32_t)-n % n;
        while ((uint32_t)m < threshold)
            m = (uint64_t)(uint32_t)next_random(ia) * n;
    }
    return (uint32_t)(m >> 32);
}

/* -- Allocator -- */

int sbx_pool_idx_create(uint32_t count, uint32_t warm_cap, bool random, uint64_t seed,
                        struct sbx_pool_idx **out)
{
    if (count == 0 || count >= NIL) return -EINVAL;
    struct sbx_pool_idx *ia = calloc(1, sizeof *ia + (size_t)count * sizeof ia->slots[0]);
    if (!ia) return -ENOMEM;
    uint32_t nb = 1;
    while (nb < count && nb < (UINT32_C(1) << 30))
        nb <<= 1;
    ia->buckets = malloc((size_t)nb * sizeof *ia->buckets);
    ia->free_ids = malloc((size_t)count * sizeof *ia->free_ids);
    if (!ia->buckets || !ia->free_ids) {
        sbx_pool_idx_destroy(ia);
        return -ENOMEM;
    }
    for (uint32_t b = 0; b < nb; b++)
        ia->buckets[b] = NIL;
    ia->bucket_mask = nb - 1;
    ia->count = count;
    ia->warm_cap = warm_cap;
    ia->random = random;
    ia->rng = seed;
    ia->cold.head = ia->cold.tail = NIL;
    ia->lru.head = ia->lru.tail = NIL;
    for (uint32_t s = 0; s < count; s++) {
        ia->slots[s] = (struct idx_slot){.state = IDX_COLD, .aprev = NIL, .anext = NIL};
        list_push_tail(ia, &ia->cold, s); /* slot 0 is handed out first */
        free_add(ia, s);
    }
    ia->n_cold = count;
    *out = ia;
    return 0;
}

void sbx_pool_idx_destroy(struct sbx_pool_idx *ia)
{
    if (!ia) return;
    free(ia->buckets);
    free(ia->free_ids);
    free(ia);
}

/* Moves a free slot to in use, keeping its affinity. */
static void take(struct sbx_pool_idx *ia, uint32_t s)
{
    struct idx_slot *e = &ia->slots[s];
    if (e->state == IDX_COLD) {
        list_remove(ia, &ia->cold, s);
        ia->n_cold--;
    } else {
        list_remove(ia, &ia->lru, s);
        ia->n_warm--;
    }
    free_remove(ia, s);
    e->state = IDX_IN_USE;
    e->purge = false;
}

static uint32_t find_warm(const struct sbx_pool_idx *ia, const struct sbx_pool_idx_key *key)
{
    for (uint32_t s = ia->buckets[bucket_of(ia, key->module)]; s != NIL; s = ia->slots[s].anext) {
        const struct idx_slot *e = &ia->slots[s];
        if (e->state == IDX_WARM && e->key.module == key->module &&
            e->key.memory_index == key->memory_index)
            return s;
    }
    return NIL;
}

static uint32_t choose(struct sbx_pool_idx *ia, const struct sbx_pool_idx_key *key)
{
    if (ia->n_free == 0) return NIL;
    if (ia->random) return ia->free_ids[random_below(ia, ia->n_free)];
    uint32_t s = find_warm(ia, key);
    if (s != NIL) return s;
    if (ia->n_cold && (ia->n_warm < ia->warm_cap || ia->n_warm == 0)) return ia->cold.head;
    return ia->n_warm ? ia->lru.head : ia->cold.head;
}

int sbx_pool_idx_alloc(struct sbx_pool_idx *ia, const struct sbx_pool_idx_key *key, uint32_t *slot)
{
    uint32_t s = choose(ia, key);
    if (s == NIL) return -EAGAIN;
    take(ia, s);
    struct idx_slot *e = &ia->slots[s];
    if (e->affine) chain_remove(ia, s);
    e->key = *key;
    e->affine = true;
    chain_push_head(ia, s);
    *slot = s;
    return 0;
}

int sbx_pool_idx_claim_affine(struct sbx_pool_idx *ia, uint64_t module, uint32_t *slot)
{
    for (uint32_t s = ia->buckets[bucket_of(ia, module)]; s != NIL; s = ia->slots[s].anext) {
        if (ia->slots[s].state == IDX_WARM && ia->slots[s].key.module == module) {
            take(ia, s);
            *slot = s;
            return 0;
        }
    }
    return -ENOENT;
}

uint32_t sbx_pool_idx_mark_purge(struct sbx_pool_idx *ia, uint64_t module)
{
    uint32_t n = 0;
    for (uint32_t s = ia->buckets[bucket_of(ia, module)]; s != NIL; s = ia->slots[s].anext) {
        struct idx_slot *e = &ia->slots[s];
        if (e->state == IDX_IN_USE && e->key.module == module) {
            e->purge = true;
            n++;
        }
    }
    return n;
}

bool sbx_pool_idx_in_use(const struct sbx_pool_idx *ia, uint32_t slot)
{
    return ia->slots[slot].state == IDX_IN_USE;
}

bool sbx_pool_idx_purge_pending(const struct sbx_pool_idx *ia, uint32_t slot)
{
    return ia->slots[slot].purge;
}

void sbx_pool_idx_free(struct sbx_pool_idx *ia, uint32_t slot, bool keep_affinity)
{
    struct idx_slot *e = &ia->slots[slot];
    if (keep_affinity && e->affine && !e->purge) {
        chain_remove(ia, slot);
        chain_push_head(ia, slot); /* most recent first on its chain */
        e->state = IDX_WARM;
        list_push_tail(ia, &ia->lru, slot);
        ia->n_warm++;
    } else {
        if (e->affine) chain_remove(ia, slot);
        e->affine = false;
        e->purge = false;
        e->state = IDX_COLD;
        list_push_head(ia, &ia->cold, slot); /* reused before never-used slots */
        ia->n_cold++;
    }
    free_add(ia, slot);
}

bool sbx_pool_idx_affinity(const struct sbx_pool_idx *ia, uint32_t slot,
                           struct sbx_pool_idx_key *key)
{
    if (!ia->slots[slot].affine) return false;
    *key = ia->slots[slot].key;
    return true;
}

void sbx_pool_idx_counts(const struct sbx_pool_idx *ia, struct sbx_pool_idx_counts *out)
{
    out->cold = ia->n_cold;
    out->warm = ia->n_warm;
    out->in_use = ia->count - ia->n_cold - ia->n_warm;
}
