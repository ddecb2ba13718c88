/* tests/memimg/test_alloc.c: the index allocator under each strategy:
 * allocation order, affinity reuse, the warm cap, randomness, purge claims,
 * and exhaustion; then the same through the pool with real images. */
#include <errno.h>

#include "memimg/index_alloc.h"
#include "tests/memimg/helpers.h"

static struct sbx_pool_idx *idx(uint32_t n, uint32_t cap, bool random)
{
    struct sbx_pool_idx *ia = NULL;
    cr_assert_eq(sbx_pool_idx_create(n, cap, random, 42, &ia), 0);
    return ia;
}

static uint32_t take(struct sbx_pool_idx *ia, uint64_t module, uint32_t memory)
{
    const struct sbx_pool_idx_key k = {module, memory};
    uint32_t s = 999;
    cr_assert_eq(sbx_pool_idx_alloc(ia, &k, &s), 0, "alloc module %llu",
                 (unsigned long long)module);
    struct sbx_pool_idx_key got;
    cr_assert(sbx_pool_idx_affinity(ia, s, &got), "every allocation records affinity");
    cr_assert_eq(got.module, module);
    cr_assert_eq(got.memory_index, memory);
    return s;
}

static void exhausted(struct sbx_pool_idx *ia)
{
    const struct sbx_pool_idx_key k = {1000, 0};
    uint32_t s;
    cr_assert_eq(sbx_pool_idx_alloc(ia, &k, &s), -EAGAIN);
}

Test(index_alloc, next_available_reuses_freed_slots_first)
{
    struct sbx_pool_idx *ia = idx(4, 0, false);
    cr_assert_eq(take(ia, 'A', 0), 0);
    cr_assert_eq(take(ia, 'B', 0), 1);
    cr_assert_eq(take(ia, 'C', 0), 2);
    sbx_pool_idx_free(ia, 1, true);
    sbx_pool_idx_free(ia, 0, true);
    sbx_pool_idx_free(ia, 2, true); /* LRU: 1 (B), 0 (A), 2 (C) */
    cr_assert_eq(take(ia, 'D', 0), 1, "cap 0: least recently used warm slot, not cold 3");
    cr_assert_eq(take(ia, 'A', 0), 0, "affinity first");
    cr_assert_eq(take(ia, 'E', 0), 2);
    cr_assert_eq(take(ia, 'F', 0), 3, "no warm slot left: cold");
    exhausted(ia);
    struct sbx_pool_idx_counts c;
    sbx_pool_idx_counts(ia, &c);
    cr_assert_eq(c.in_use, 4);
    sbx_pool_idx_destroy(ia);
}

Test(index_alloc, reuse_affinity_prefers_cold_over_eviction)
{
    struct sbx_pool_idx *ia = idx(3, SBX_POOL_IDX_NO_CAP, false);
    cr_assert_eq(take(ia, 'A', 0), 0);
    sbx_pool_idx_free(ia, 0, true);
    cr_assert_eq(take(ia, 'B', 0), 1, "cold before evicting A");
    sbx_pool_idx_free(ia, 1, true);
    cr_assert_eq(take(ia, 'A', 0), 0);
    cr_assert_eq(take(ia, 'C', 0), 2);
    sbx_pool_idx_free(ia, 0, true);
    sbx_pool_idx_free(ia, 2, true); /* LRU: 1 (B), 0 (A), 2 (C) */
    cr_assert_eq(take(ia, 'D', 0), 1, "no cold left: least recently used");
    cr_assert_eq(take(ia, 'C', 0), 2);
    cr_assert_eq(take(ia, 'A', 0), 0);
    exhausted(ia);
    sbx_pool_idx_destroy(ia);
}

Test(index_alloc, capped_evicts_at_the_cap)
{
    struct sbx_pool_idx *ia = idx(4, 2, false);
    cr_assert_eq(take(ia, 'A', 0), 0);
    sbx_pool_idx_free(ia, 0, true); /* 1 warm */
    cr_assert_eq(take(ia, 'B', 0), 1);
    sbx_pool_idx_free(ia, 1, true); /* 2 warm: at the cap */
    cr_assert_eq(take(ia, 'C', 0), 0, "at the cap: evict the LRU slot (A)");
    sbx_pool_idx_destroy(ia);
}

Test(index_alloc, affinity_takes_most_recent_and_respects_memory_index)
{
    struct sbx_pool_idx *ia = idx(4, SBX_POOL_IDX_NO_CAP, false);
    cr_assert_eq(take(ia, 'A', 0), 0);
    cr_assert_eq(take(ia, 'A', 0), 1);
    cr_assert_eq(take(ia, 'A', 1), 2);
    sbx_pool_idx_free(ia, 0, true);
    sbx_pool_idx_free(ia, 2, true);
    sbx_pool_idx_free(ia, 1, true);
    cr_assert_eq(take(ia, 'A', 0), 1, "most recently freed affine slot");
    cr_assert_eq(take(ia, 'A', 0), 0);
    cr_assert_eq(take(ia, 'A', 1), 2, "memory index is part of the key");
    sbx_pool_idx_destroy(ia);
}

Test(index_alloc, many_modules_share_buckets)
{
    struct sbx_pool_idx *ia = idx(64, SBX_POOL_IDX_NO_CAP, false);
    for (uint64_t m = 0; m < 64; m++)
        cr_assert_eq(take(ia, m * 64, 0), m);
    for (uint32_t s = 0; s < 64; s++)
        sbx_pool_idx_free(ia, s, true);
    for (uint64_t m = 64; m-- > 0;)
        cr_assert_eq(take(ia, m * 64, 0), m);
    exhausted(ia);
    sbx_pool_idx_destroy(ia);
}

Test(index_alloc, random_is_uniform_and_records_affinity)
{
    enum { N = 8, ROUNDS = 8000 };
    struct sbx_pool_idx *ia = idx(N, SBX_POOL_IDX_NO_CAP, true);
    unsigned hits[N] = {0};
    for (unsigned r = 0; r < ROUNDS; r++) {
        uint32_t s = take(ia, r % 3, 0);
        hits[s]++;
        sbx_pool_idx_free(ia, s, true);
    }
    for (unsigned s = 0; s < N; s++)
        cr_assert(hits[s] > ROUNDS / N * 8 / 10 && hits[s] < ROUNDS / N * 12 / 10,
                  "slot %u chosen %u times of %u", s, hits[s], ROUNDS);
    /* With some slots in use, only free ones are chosen. */
    for (unsigned s = 0; s < N; s++)
        take(ia, 100 + s, 0);
    exhausted(ia);
    sbx_pool_idx_free(ia, 5, false);
    cr_assert_eq(take(ia, 7, 0), 5);
    sbx_pool_idx_destroy(ia);
}

Test(index_alloc, claim_affine_and_purge_flags)
{
    struct sbx_pool_idx *ia = idx(4, SBX_POOL_IDX_NO_CAP, false);
    cr_assert_eq(take(ia, 'A', 0), 0);
    cr_assert_eq(take(ia, 'B', 0), 1);
    cr_assert_eq(take(ia, 'A', 1), 2);
    cr_assert_eq(take(ia, 'A', 0), 3);
    sbx_pool_idx_free(ia, 0, true);
    sbx_pool_idx_free(ia, 1, true);
    sbx_pool_idx_free(ia, 2, true);

    cr_assert_eq(sbx_pool_idx_mark_purge(ia, 'A'), 1, "slot 3 is in use");
    cr_assert(sbx_pool_idx_purge_pending(ia, 3));
    cr_assert_not(sbx_pool_idx_purge_pending(ia, 0));

    uint32_t got[2], s;
    cr_assert_eq(sbx_pool_idx_claim_affine(ia, 'A', &got[0]), 0);
    cr_assert_eq(sbx_pool_idx_claim_affine(ia, 'A', &got[1]), 0);
    cr_assert_eq(sbx_pool_idx_claim_affine(ia, 'A', &s), -ENOENT);
    cr_assert_eq(got[0] + got[1], 0 + 2);
    struct sbx_pool_idx_key k;
    cr_assert(sbx_pool_idx_affinity(ia, got[0], &k), "a claim keeps the affinity");
    cr_assert_eq(k.module, 'A');
    cr_assert(sbx_pool_idx_in_use(ia, got[0]));

    /* The claimed slots cannot be allocated meanwhile. */
    cr_assert_eq(take(ia, 'A', 0), 1, "only slot 1 (B) is free");
    sbx_pool_idx_free(ia, got[0], false);
    sbx_pool_idx_free(ia, got[1], false);
    cr_assert_not(sbx_pool_idx_affinity(ia, got[0], &k));
    /* A flagged slot never goes warm. */
    sbx_pool_idx_free(ia, 3, true);
    cr_assert_not(sbx_pool_idx_affinity(ia, 3, &k));
    struct sbx_pool_idx_counts c;
    sbx_pool_idx_counts(ia, &c);
    cr_assert_eq(c.cold, 3);
    cr_assert_eq(c.warm, 0);
    cr_assert_eq(c.in_use, 1);
    sbx_pool_idx_destroy(ia);
}

Test(index_alloc, bad_arguments)
{
    struct sbx_pool_idx *ia;
    cr_assert_eq(sbx_pool_idx_create(0, 0, false, 0, &ia), -EINVAL);
    cr_assert_eq(sbx_pool_idx_create(UINT32_MAX, 0, false, 0, &ia), -EINVAL);
    sbx_pool_idx_destroy(NULL);
}

/* -- Through the pool, with images -- */

Test(pool_strategy, order_affinity_exhaustion)
{
    enum { N = 4 };
    uint8_t *bytes = pattern(1000, 1);
    struct sbx_memimg *img[N];
    for (unsigned m = 0; m < N; m++) {
        const struct sbx_memimg_segment seg = {.offset = m * 100, .bytes = bytes, .len = 1000};
        const struct sbx_memimg_desc d = {.initial_pages = 1, .segments = &seg, .segment_count = 1};
        img[m] = make_image(&d);
    }
    for (size_t k = 0; k < N_STRATEGIES; k++) {
        const enum sbx_pool_strategy st = all_strategies[k];
        const char *name = strategy_name(st);
        struct sbx_pool *pool = make_pool(st, N, 0);
        struct sbx_pool_slot *s[N];
        uint32_t where[N];
        for (unsigned m = 0; m < N; m++) {
            s[m] = instantiate(pool, m, img[m], 1, SBX_POOL_NO_MAX);
            where[m] = sbx_pool_slot_index(s[m]);
            if (st != SBX_POOL_RANDOM)
                cr_assert_eq(where[m], m, "%s: lowest cold slot first", name);
        }
        const struct sbx_pool_request req = {.module = 9, .initial_pages = 1, .max_pages = 1};
        int err = 0;
        cr_assert_null(sbx_pool_instantiate(pool, &req, &err), "%s", name);
        cr_assert_eq(err, -EAGAIN);
        cr_assert_str_eq(sbx_pool_strerror(err), "no free slot in the pool");

        for (unsigned m = 0; m < N; m++)
            cr_assert_eq(sbx_pool_release(pool, s[m]), 0);
        for (unsigned m = 0; m < N; m++) {
            struct sbx_pool_slot_info info;
            cr_assert_eq(sbx_pool_slot_info(pool, where[m], &info), 0);
            cr_assert(info.has_affinity, "%s records affinity", name);
            cr_assert_eq(info.module, m);
            cr_assert_eq(info.state, SBX_SLOT_CLEAN);
            cr_assert_eq(info.image, img[m]);
        }
        /* Affinity reuse: every non-random strategy gives module 2 its slot. */
        struct sbx_pool_slot *again = instantiate(pool, 2, img[2], 1, SBX_POOL_NO_MAX);
        if (st != SBX_POOL_RANDOM)
            cr_assert_eq(sbx_pool_slot_index(again), where[2], "%s: affinity reuse", name);
        cr_assert_eq(memcmp(sbx_pool_slot_base(again) + 200, bytes, 1000), 0);
        cr_assert_eq(sbx_pool_destroy(pool), -EBUSY);
        sbx_pool_release(pool, again);

        struct sbx_pool_stats stats;
        sbx_pool_stats(pool, &stats);
        cr_assert_eq(stats.warm, N);
        cr_assert_eq(stats.in_use, 0);
        cr_assert_eq(sbx_pool_destroy(pool), 0);
    }
    for (unsigned m = 0; m < N; m++)
        sbx_memimg_unref(img[m]);
    free(bytes);
}

Test(pool_strategy, random_spreads_over_slots)
{
    struct sbx_pool *pool = make_pool(SBX_POOL_RANDOM, 8, 0);
    unsigned seen = 0;
    for (int i = 0; i < 200; i++) {
        struct sbx_pool_slot *s = instantiate(pool, (uint64_t)i % 5, NULL, 1, 1);
        seen |= 1u << sbx_pool_slot_index(s);
        sbx_pool_release(pool, s);
    }
    cr_assert_eq(seen, 0xffu);
    cr_assert_eq(sbx_pool_destroy(pool), 0);
}
