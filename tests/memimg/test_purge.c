/* tests/memimg/test_purge.c: purge on unload, for every strategy: after many
 * modules are loaded, instantiated, released and unloaded in random order,
 * /proc/self/maps and /proc/self/fd show no memfd of any unloaded module and
 * the process's memfd count is back to its baseline.  With the random and
 * reuse-affinity strategies, lingering images used to reach the number of
 * slots; this pins that bug.  Also deferred purges and concurrent use. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "tests/memimg/helpers.h"

enum { MODULES = 40, SLOTS = 8, PAGES = 4, STEPS = 800 };

enum mod_state { NOT_LOADED, LOADED, UNLOADED };

struct module {
    enum mod_state state;
    struct sbx_memimg *img;
    uint8_t *bytes;
    struct sbx_memimg_segment seg;
    struct sbx_memimg_desc desc;
    uint8_t *want;
    char name[32];
    unsigned live;
};

struct live {
    struct sbx_pool_slot *slot;
    unsigned module;
};

static unsigned rnd(unsigned *state, unsigned n)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 8) % n;
}

static void assert_gone(const struct module *m)
{
    char needle[64];
    snprintf(needle, sizeof needle, "sbx-img:%s ", m->name);
    cr_assert_eq(count_maps(needle), 0, "%s is still mapped", m->name);
    cr_assert_eq(count_fds(needle), 0, "%s still has an fd", m->name);
}

static void load(struct module *m, unsigned idx, unsigned *seed, const char *tag)
{
    const size_t len = 1 + rnd(seed, 150 * 1024);
    m->bytes = pattern(len, idx);
    m->seg = (struct sbx_memimg_segment){
        .offset = rnd(seed, (unsigned)(PAGES * PAGE64K - len)), .bytes = m->bytes, .len = len};
    snprintf(m->name, sizeof m->name, "purge-%s-%02u", tag, idx);
    m->desc = (struct sbx_memimg_desc){
        .initial_pages = PAGES, .segments = &m->seg, .segment_count = 1, .name = m->name};
    m->img = make_image(&m->desc);
    m->want = expected_memory(&m->desc);
    m->state = LOADED;
}

static void unload(struct sbx_pool *pool, struct module *m, unsigned idx)
{
    uint32_t purged, deferred;
    cr_assert_eq(sbx_pool_purge_module(pool, idx, &purged, &deferred), 0);
    cr_assert_eq(deferred, m->live);
    sbx_memimg_unref(m->img);
    m->img = NULL;
    m->state = UNLOADED;
    if (!m->live) assert_gone(m);
}

static void purge_scenario(enum sbx_pool_strategy strategy, unsigned seed)
{
    const char *tag = strategy_name(strategy);
    const unsigned base_fds = count_fds("memfd:"), base_maps = count_maps("memfd:");
    struct sbx_pool *pool = make_pool(strategy, SLOTS, 0);
    struct module mods[MODULES] = {0};
    struct live live[SLOTS];
    unsigned n_live = 0, max_lingering = 0;

    for (unsigned step = 0; step < STEPS; step++) {
        const unsigned action = rnd(&seed, 10), i = rnd(&seed, MODULES);
        struct module *m = &mods[i];
        if (action < 2) { /* load */
            if (m->state == NOT_LOADED) load(m, i, &seed, tag);
        } else if (action < 6) { /* instantiate */
            if (m->state != LOADED || n_live == SLOTS) continue;
            struct sbx_pool_slot *s = instantiate(pool, i, m->img, PAGES, SBX_POOL_NO_MAX);
            cr_assert_eq(memcmp(sbx_pool_slot_base(s), m->want, PAGES * PAGE64K), 0,
                         "%s: module %u sees its image", tag, i);
            sbx_pool_slot_base(s)[m->seg.offset] ^= 0xff; /* dirty a page */
            live[n_live++] = (struct live){s, i};
            m->live++;
        } else if (action < 9) { /* release */
            if (!n_live) continue;
            const unsigned k = rnd(&seed, n_live);
            struct module *owner = &mods[live[k].module];
            cr_assert_eq(sbx_pool_release(pool, live[k].slot), 0);
            live[k] = live[--n_live];
            if (--owner->live == 0 && owner->state == UNLOADED) assert_gone(owner);
        } else { /* unload */
            if (m->state == LOADED) unload(pool, m, i);
        }
        const unsigned lingering = count_maps("sbx-img:");
        if (lingering > max_lingering) max_lingering = lingering;
    }

    while (n_live) {
        struct module *owner = &mods[live[--n_live].module];
        cr_assert_eq(sbx_pool_release(pool, live[n_live].slot), 0);
        if (--owner->live == 0 && owner->state == UNLOADED) assert_gone(owner);
    }
    unsigned loaded = 0, unloaded = 0;
    for (unsigned i = 0; i < MODULES; i++) {
        if (mods[i].state == LOADED) {
            unload(pool, &mods[i], i);
            loaded++;
        }
        unloaded += mods[i].state == UNLOADED;
    }
    cr_assert_gt(unloaded, MODULES / 2, "the scenario exercised unloads");
    cr_assert_gt(max_lingering, 0);
    for (unsigned i = 0; i < MODULES; i++) {
        if (mods[i].state == UNLOADED) assert_gone(&mods[i]);
        free(mods[i].bytes);
        free(mods[i].want);
    }
    cr_assert_eq(count_maps("memfd:"), base_maps, "%s: memfd mappings back to baseline", tag);
    cr_assert_eq(count_fds("memfd:"), base_fds, "%s: memfd fds back to baseline", tag);

    struct sbx_pool_stats st;
    sbx_pool_stats(pool, &st);
    cr_assert_eq(st.warm, 0, "%s: no slot keeps affinity to an unloaded module", tag);
    cr_assert_eq(st.cold, SLOTS);
    cr_assert_eq(sbx_pool_destroy(pool), 0);
    (void)loaded;
}

Test(purge, next_available)
{
    purge_scenario(SBX_POOL_NEXT_AVAILABLE, 1);
}

Test(purge, reuse_affinity)
{
    purge_scenario(SBX_POOL_REUSE_AFFINITY, 2);
}

Test(purge, random)
{
    purge_scenario(SBX_POOL_RANDOM, 3);
}

Test(purge, capped)
{
    purge_scenario(SBX_POOL_CAPPED, 4);
}

Test(purge, deferred_until_release)
{
    uint8_t *bytes = pattern(5000, 1);
    const struct sbx_memimg_segment seg = {.offset = 0, .bytes = bytes, .len = 5000};
    const struct sbx_memimg_desc d = {
        .initial_pages = 1, .segments = &seg, .segment_count = 1, .name = "deferred"};
    struct sbx_memimg *img = make_image(&d);
    struct sbx_pool *pool = make_pool(SBX_POOL_REUSE_AFFINITY, 4, 0);

    struct sbx_pool_slot *a = instantiate(pool, 77, img, 1, 1);
    struct sbx_pool_slot *b = instantiate(pool, 77, img, 1, 1);
    struct sbx_pool_slot *c = instantiate(pool, 77, img, 1, 1);
    sbx_pool_release(pool, c); /* warm */

    uint32_t purged, deferred;
    cr_assert_eq(sbx_pool_purge_module(pool, 77, &purged, &deferred), 0);
    cr_assert_eq(purged, 1);
    cr_assert_eq(deferred, 2);
    sbx_memimg_unref(img); /* the module is gone; two instances live on */
    cr_assert_eq(count_maps("sbx-img:deferred "), 2);
    cr_assert_eq(memcmp(sbx_pool_slot_base(a), bytes, 5000), 0, "live instances unaffected");

    sbx_pool_release(pool, a);
    cr_assert_eq(count_maps("sbx-img:deferred "), 1);
    cr_assert_eq(count_fds("sbx-img:deferred "), 1, "the last mapping holds the memfd");
    sbx_pool_release(pool, b);
    cr_assert_eq(count_maps("sbx-img:deferred "), 0);
    cr_assert_eq(count_fds("sbx-img:deferred "), 0);

    struct sbx_pool_slot_info info;
    for (uint32_t i = 0; i < 4; i++) {
        cr_assert_eq(sbx_pool_slot_info(pool, i, &info), 0);
        cr_assert_eq(info.state, SBX_SLOT_UNMAPPED);
        cr_assert_not(info.has_affinity);
    }
    /* Purging an unknown module is a no-op. */
    cr_assert_eq(sbx_pool_purge_module(pool, 12345, &purged, &deferred), 0);
    cr_assert_eq(purged + deferred, 0);
    cr_assert_eq(sbx_pool_destroy(pool), 0);
    free(bytes);
}

/* -- Concurrency: instances on several threads while another thread purges -- */

enum { THREADS = 3, ITERS = 300, TMODS = 5 };

struct shared {
    struct sbx_pool *pool;
    struct sbx_memimg *img[TMODS];
    uint8_t *bytes;
    unsigned seed[THREADS];
};

struct worker_arg {
    struct shared *sh;
    unsigned id;
};

static void *worker(void *p)
{
    struct worker_arg *w = p;
    for (unsigned it = 0; it < ITERS; it++) {
        const unsigned m = rnd(&w->sh->seed[w->id], TMODS);
        const struct sbx_pool_request req = {
            .module = m, .image = w->sh->img[m], .initial_pages = 2, .max_pages = 2};
        int err;
        struct sbx_pool_slot *s;
        while (!(s = sbx_pool_instantiate(w->sh->pool, &req, &err))) {
            if (err != -EAGAIN) return (void *)"instantiate failed";
            sched_yield();
        }
        uint8_t *base = sbx_pool_slot_base(s);
        if (memcmp(base + m * 1000, w->sh->bytes, 1000) || base[m * 1000 + 1000 + 10])
            return (void *)"wrong contents";
        base[m * 1000] ^= 0xff;
        if (sbx_pool_release(w->sh->pool, s)) return (void *)"release failed";
    }
    return NULL;
}

Test(purge, concurrent_instances_and_purges)
{
    const unsigned base_fds = count_fds("memfd:"), base_maps = count_maps("memfd:");
    struct shared sh = {.pool = make_pool(SBX_POOL_REUSE_AFFINITY, 4, 0)};
    sh.bytes = pattern(1000, 3);
    for (unsigned m = 0; m < TMODS; m++) {
        const struct sbx_memimg_segment seg = {.offset = m * 1000, .bytes = sh.bytes, .len = 1000};
        const struct sbx_memimg_desc d = {
            .initial_pages = 2, .segments = &seg, .segment_count = 1, .name = "threads"};
        sh.img[m] = make_image(&d);
    }
    pthread_t th[THREADS];
    struct worker_arg args[THREADS];
    for (unsigned t = 0; t < THREADS; t++) {
        sh.seed[t] = t + 1;
        args[t] = (struct worker_arg){&sh, t};
        cr_assert_eq(pthread_create(&th[t], NULL, worker, &args[t]), 0);
    }
    unsigned seed = 99;
    for (unsigned i = 0; i < 200; i++) {
        cr_assert_eq(sbx_pool_purge_module(sh.pool, rnd(&seed, TMODS), NULL, NULL), 0);
        sched_yield();
    }
    for (unsigned t = 0; t < THREADS; t++) {
        void *ret;
        pthread_join(th[t], &ret);
        cr_assert_null(ret, "thread %u: %s", t, (const char *)ret);
    }
    for (unsigned m = 0; m < TMODS; m++) {
        cr_assert_eq(sbx_pool_purge_module(sh.pool, m, NULL, NULL), 0);
        sbx_memimg_unref(sh.img[m]);
    }
    cr_assert_eq(count_maps("memfd:"), base_maps);
    cr_assert_eq(count_fds("memfd:"), base_fds);
    cr_assert_eq(sbx_pool_destroy(sh.pool), 0);
    free(sh.bytes);
}
