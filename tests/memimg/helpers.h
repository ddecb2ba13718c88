/* tests/memimg/helpers.h: fixtures shared by the memimg tests: patterned
 * segments, a reference memory built by copying, pools per strategy, and
 * counters of memfd mappings and fds read from /proc/self. */
#ifndef SBX_TESTS_MEMIMG_HELPERS_H
#define SBX_TESTS_MEMIMG_HELPERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memimg/pool.h"

#define PAGE64K ((uint64_t)SBX_WASM_PAGE_SIZE)

static const enum sbx_pool_strategy all_strategies[] = {
    SBX_POOL_NEXT_AVAILABLE,
    SBX_POOL_REUSE_AFFINITY,
    SBX_POOL_RANDOM,
    SBX_POOL_CAPPED,
};
#define N_STRATEGIES (sizeof all_strategies / sizeof all_strategies[0])

static inline const char *strategy_name(enum sbx_pool_strategy s)
{
    switch (s) {
    case SBX_POOL_NEXT_AVAILABLE: return "next-available";
    case SBX_POOL_REUSE_AFFINITY: return "reuse-affinity";
    case SBX_POOL_RANDOM: return "random";
    case SBX_POOL_CAPPED: return "capped";
    }
    return "?";
}

/* A buffer of len bytes of a pattern that depends on seed, never all zero. */
static inline uint8_t *pattern(size_t len, unsigned seed)
{
    uint8_t *p = malloc(len ? len : 1);
    cr_assert_not_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 31u + seed * 7u + 1u) | 1u;
    return p;
}

static inline struct sbx_pool *make_pool(enum sbx_pool_strategy strategy, uint32_t slots,
                                         uint32_t max_pages)
{
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = slots;
    cfg.strategy = strategy;
    cfg.max_warm_slots = 2;
    cfg.random_seed = 12345;
    if (max_pages) cfg.max_memory_bytes = (uint64_t)max_pages * PAGE64K;
    struct sbx_pool *pool = NULL;
    int rc = sbx_pool_create(&cfg, &pool);
    cr_assert_eq(rc, 0, "sbx_pool_create: %s", sbx_pool_strerror(rc));
    return pool;
}

static inline struct sbx_memimg *make_image(const struct sbx_memimg_desc *d)
{
    int err = 1;
    struct sbx_memimg *img = sbx_memimg_create(d, &err);
    cr_assert_not_null(img, "sbx_memimg_create: %s", sbx_pool_strerror(err));
    cr_assert_eq(err, 0);
    return img;
}

/* The memory the segments must produce: zeroes, then each segment copied. */
static inline uint8_t *expected_memory(const struct sbx_memimg_desc *d)
{
    const uint64_t size = d->initial_pages * PAGE64K;
    uint8_t *m = calloc(1, size ? size : 1);
    cr_assert_not_null(m);
    cr_assert_eq(sbx_memimg_copy_segments(m, size, d->segments, d->segment_count, NULL), 0);
    return m;
}

static inline struct sbx_pool_slot *instantiate(struct sbx_pool *pool, uint64_t module,
                                                struct sbx_memimg *img, uint32_t initial_pages,
                                                uint32_t max_pages)
{
    struct sbx_pool_request req = {
        .module = module,
        .memory_index = 0,
        .image = img,
        .initial_pages = initial_pages,
        .max_pages = max_pages,
    };
    int err = 1;
    struct sbx_pool_slot *s = sbx_pool_instantiate(pool, &req, &err);
    cr_assert_not_null(s, "instantiate module %llu: %s", (unsigned long long)module,
                       sbx_pool_strerror(err));
    return s;
}

/* Counts lines of /proc/self/maps mentioning needle ("memfd:" for all). */
static inline unsigned count_maps(const char *needle)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[4096];
    unsigned n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) n++;
    fclose(f);
    return n;
}

/* Counts fds of this process whose link mentions needle. */
static inline unsigned count_fds(const char *needle)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], target[4096];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len < 0) continue;
        target[len] = 0;
        if (strstr(target, needle)) n++;
    }
    closedir(d);
    return n;
}

#endif
