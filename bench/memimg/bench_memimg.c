/* bench/memimg/bench_memimg.c: instantiate+release latency of pooled linear
 * memories: copy-on-write images vs copying the data segments, across image
 * sizes up to 64 MiB; reuse-affinity vs next-available; purge cost per slot.
 * Run by hand (scripts/bench.sh); prints one table per question. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memimg/pool.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)

/* Each measurement runs for about this long (after one warm-up cycle). */
static double budget_s = 0.4;
enum { MIN_ITERS = 15, MAX_ITERS = 20000 };

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_memimg: %s: %s\n", what, sbx_pool_strerror(err));
    exit(1);
}

static struct sbx_pool *new_pool(enum sbx_pool_strategy st, uint32_t slots)
{
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = slots;
    cfg.strategy = st;
    struct sbx_pool *pool;
    int rc = sbx_pool_create(&cfg, &pool);
    if (rc) die("sbx_pool_create", rc);
    return pool;
}

/* A module whose memory is `size` bytes, all of them initialised. */
struct module {
    uint8_t *bytes;
    struct sbx_memimg_segment seg;
    struct sbx_memimg *img;
    uint32_t pages;
};

static void module_init(struct module *m, uint64_t size, unsigned seed)
{
    m->bytes = malloc(size);
    if (!m->bytes) die("malloc", -ENOMEM);
    for (uint64_t i = 0; i < size; i++)
        m->bytes[i] = (uint8_t)(i * 131 + seed) | 1;
    m->seg = (struct sbx_memimg_segment){.offset = 0, .bytes = m->bytes, .len = size};
    m->pages = (uint32_t)(size / SBX_WASM_PAGE_SIZE);
    const struct sbx_memimg_desc d = {
        .initial_pages = m->pages, .segments = &m->seg, .segment_count = 1, .name = "bench"};
    int err;
    m->img = sbx_memimg_create(&d, &err);
    if (!m->img) die("sbx_memimg_create", err);
}

static void module_fini(struct module *m)
{
    sbx_memimg_unref(m->img);
    free(m->bytes);
}

/* What an instance does between instantiate and release: reads and writes
 * the first 16 KiB (4 host pages), as a short-lived instance would. */
static void run_instance(struct sbx_pool_slot *s)
{
    volatile uint8_t *p = sbx_pool_slot_base(s);
    for (unsigned i = 0; i < 16 * KiB; i += 4096)
        p[i] = (uint8_t)(p[i] + 1);
}

enum mode { COW, COPY };

/* One instantiate + run + release cycle of module m. */
static void cycle(struct sbx_pool *pool, uint64_t key, const struct module *m, enum mode mode)
{
    const struct sbx_pool_request req = {
        .module = key,
        .image = mode == COW ? m->img : NULL,
        .initial_pages = m->pages,
        .max_pages = SBX_POOL_NO_MAX,
    };
    int err;
    struct sbx_pool_slot *s = mode == COW
                                  ? sbx_pool_instantiate(pool, &req, &err)
                                  : sbx_pool_instantiate_copy(pool, &req, &m->seg, 1, NULL, &err);
    if (!s) die("instantiate", err);
    run_instance(s);
    int rc = sbx_pool_release(pool, s);
    if (rc) die("release", rc);
}

struct result {
    double median_us, mean_us;
    unsigned iters;
};

/* Times cycles over modules[0..n) in round robin on pool. */
static struct result measure(struct sbx_pool *pool, const struct module *mods, unsigned n,
                             enum mode mode)
{
    static double samples[MAX_ITERS];
    for (unsigned k = 0; k < n; k++)
        cycle(pool, k, &mods[k], mode); /* warm-up */
    const double start = now_us();
    unsigned it = 0;
    while (it < MAX_ITERS && (it < MIN_ITERS || now_us() - start < budget_s * 1e6)) {
        const double t0 = now_us();
        cycle(pool, it % n, &mods[it % n], mode);
        samples[it++] = now_us() - t0;
    }
    double sum = 0;
    for (unsigned i = 0; i < it; i++)
        sum += samples[i];
    qsort(samples, it, sizeof samples[0], cmp_double);
    return (struct result){samples[it / 2], sum / it, it};
}

/* -- 1. CoW image vs copying, across sizes -- */

static void bench_sizes(void)
{
    static const uint64_t sizes[] = {64 * KiB, 1 * MiB, 4 * MiB, 16 * MiB, 64 * MiB};
    enum { N = sizeof sizes / sizeof sizes[0] };
    struct result reuse[N], remap[N], copy[N];

    for (unsigned i = 0; i < N; i++) {
        struct module m[2];
        module_init(&m[0], sizes[i], 1);
        module_init(&m[1], sizes[i], 2);

        /* CoW, slot reuse: the slot still maps the image; release is madvise. */
        struct sbx_pool *pool = new_pool(SBX_POOL_REUSE_AFFINITY, 2);
        reuse[i] = measure(pool, m, 1, COW);
        sbx_pool_destroy(pool);
        /* CoW, remap: one slot, two modules in turn: every cycle repaves the
         * slot and maps the other image. */
        pool = new_pool(SBX_POOL_NEXT_AVAILABLE, 1);
        remap[i] = measure(pool, m, 2, COW);
        sbx_pool_destroy(pool);
        /* Copy: no image; instantiation copies the segment in. */
        pool = new_pool(SBX_POOL_REUSE_AFFINITY, 2);
        copy[i] = measure(pool, m, 1, COPY);
        sbx_pool_destroy(pool);

        module_fini(&m[0]);
        module_fini(&m[1]);
    }

    printf("\n1. instantiate + touch 16 KiB + release, median us per cycle (iterations)\n");
    printf("%10s | %16s | %16s | %18s | %10s | %10s\n", "image", "CoW slot reuse", "CoW remap",
           "copy segments", "copy/reuse", "copy/remap");
    for (unsigned i = 0; i < N; i++)
        printf("%6llu KiB | %9.1f (%5u) | %9.1f (%5u) | %11.1f (%5u) | %9.0fx | %9.0fx\n",
               (unsigned long long)(sizes[i] / KiB), reuse[i].median_us, reuse[i].iters,
               remap[i].median_us, remap[i].iters, copy[i].median_us, copy[i].iters,
               copy[i].median_us / reuse[i].median_us, copy[i].median_us / remap[i].median_us);

    printf("\n   size independence: latency relative to the 64 KiB image\n");
    printf("%10s | %14s | %14s | %14s\n", "image", "CoW reuse", "CoW remap", "copy");
    for (unsigned i = 0; i < N; i++)
        printf("%6llu KiB | %13.2fx | %13.2fx | %13.1fx\n", (unsigned long long)(sizes[i] / KiB),
               reuse[i].median_us / reuse[0].median_us, remap[i].median_us / remap[0].median_us,
               copy[i].median_us / copy[0].median_us);
}

/* -- 2. reuse-affinity vs next-available -- */

static void bench_strategies(void)
{
    enum { MODS = 4, SLOTS = 8 };
    static const uint64_t sizes[] = {1 * MiB, 64 * MiB};
    printf("\n2. %d modules in round robin on a %d-slot pool, median us per cycle\n", MODS, SLOTS);
    printf("%10s | %16s | %16s | %16s | %10s\n", "image", "reuse-affinity", "next-available",
           "random", "next/reuse");
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct module m[MODS];
        for (unsigned k = 0; k < MODS; k++)
            module_init(&m[k], sizes[i], k);
        struct sbx_pool *pool = new_pool(SBX_POOL_REUSE_AFFINITY, SLOTS);
        struct result ra = measure(pool, m, MODS, COW);
        sbx_pool_destroy(pool);
        pool = new_pool(SBX_POOL_NEXT_AVAILABLE, SLOTS);
        struct result na = measure(pool, m, MODS, COW);
        sbx_pool_destroy(pool);
        pool = new_pool(SBX_POOL_RANDOM, SLOTS);
        struct result rnd = measure(pool, m, MODS, COW);
        sbx_pool_destroy(pool);
        printf("%6llu KiB | %9.1f (%5u) | %9.1f (%5u) | %9.1f (%5u) | %9.2fx\n",
               (unsigned long long)(sizes[i] / KiB), ra.median_us, ra.iters, na.median_us, na.iters,
               rnd.median_us, rnd.iters, na.median_us / ra.median_us);
        for (unsigned k = 0; k < MODS; k++)
            module_fini(&m[k]);
    }
}

/* -- 3. purge -- */

static void bench_purge(void)
{
    enum { SLOTS = 64, ROUNDS = 15 };
    static const uint64_t sizes[] = {64 * KiB, 64 * MiB};
    printf("\n3. purge of a module warm in %d slots (each touched 16 KiB), median of %d\n", SLOTS,
           ROUNDS);
    printf("%10s | %14s | %14s\n", "image", "purge total", "per slot");
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct module m;
        module_init(&m, sizes[i], 7);
        struct sbx_pool *pool = new_pool(SBX_POOL_REUSE_AFFINITY, SLOTS);
        double t[ROUNDS];
        for (unsigned r = 0; r < ROUNDS; r++) {
            struct sbx_pool_slot *s[SLOTS];
            const struct sbx_pool_request req = {
                .module = 1, .image = m.img, .initial_pages = m.pages, .max_pages = m.pages};
            int err;
            for (unsigned k = 0; k < SLOTS; k++) {
                if (!(s[k] = sbx_pool_instantiate(pool, &req, &err))) die("instantiate", err);
                run_instance(s[k]);
            }
            for (unsigned k = 0; k < SLOTS; k++)
                sbx_pool_release(pool, s[k]);
            uint32_t purged;
            const double t0 = now_us();
            int rc = sbx_pool_purge_module(pool, 1, &purged, NULL);
            t[r] = now_us() - t0;
            if (rc || purged != SLOTS) die("purge", rc ? rc : -EIO);
        }
        qsort(t, ROUNDS, sizeof t[0], cmp_double);
        printf("%6llu KiB | %11.1f us | %11.2f us\n", (unsigned long long)(sizes[i] / KiB),
               t[ROUNDS / 2], t[ROUNDS / 2] / SLOTS);
        sbx_pool_destroy(pool);
        module_fini(&m);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1) budget_s = atof(argv[1]);
    if (budget_s <= 0) budget_s = 0.4;
    printf("bench_memimg: pooled linear memories (budget %.2f s per cell)\n", budget_s);
    bench_sizes();
    bench_strategies();
    bench_purge();
    return 0;
}
