/* tests/memimg/test_slot.c: slots: an instance sees exactly its image and its
 * size, its writes stay private, reset restores the image exactly (with and
 * without keep-resident), guards fault, memory.grow stops at its maximum, and
 * the regression for a module without an image landing on another's image. */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>

#include "tests/memimg/helpers.h"

#if defined(__SANITIZE_ADDRESS__)
/* The guard tests expect a plain SIGSEGV, not ASan's report. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0";
}
#endif

/* A 4-page memory with segments in pages 0, 1 and 3 (page 2 stays zero). */
struct fixture {
    uint8_t *a, *b, *c;
    struct sbx_memimg_segment segs[3];
    struct sbx_memimg_desc desc;
    uint8_t *want;
};

static void fixture_init(struct fixture *f, unsigned seed, const char *name)
{
    f->a = pattern(20000, seed);
    f->b = pattern(5000, seed + 1);
    f->c = pattern(PAGE64K - 4, seed + 2);
    f->segs[0] = (struct sbx_memimg_segment){.offset = 100, .bytes = f->a, .len = 20000};
    f->segs[1] = (struct sbx_memimg_segment){.offset = 65000, .bytes = f->b, .len = 5000};
    f->segs[2] =
        (struct sbx_memimg_segment){.offset = 3 * PAGE64K, .bytes = f->c, .len = PAGE64K - 4};
    f->desc = (struct sbx_memimg_desc){
        .initial_pages = 4, .segments = f->segs, .segment_count = 3, .name = name};
    f->want = expected_memory(&f->desc);
}

static void fixture_fini(struct fixture *f)
{
    free(f->a), free(f->b), free(f->c), free(f->want);
}

static void scribble(uint8_t *mem, uint64_t len, uint8_t v)
{
    for (uint64_t i = 0; i < len; i += 1000)
        mem[i] = v;
    mem[len - 1] = v;
}

static bool all_zero(const uint8_t *p, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        if (p[i]) return false;
    return true;
}

Test(slot, instance_sees_image_and_exact_size)
{
    struct fixture f;
    fixture_init(&f, 1, "exact");
    struct sbx_memimg *img = make_image(&f.desc);
    struct sbx_pool *pool = make_pool(SBX_POOL_REUSE_AFFINITY, 4, 0);
    struct sbx_pool_slot *s = instantiate(pool, 1, img, 4, SBX_POOL_NO_MAX);
    cr_assert_eq(sbx_pool_slot_pages(s), 4);
    cr_assert_eq(memcmp(sbx_pool_slot_base(s), f.want, 4 * PAGE64K), 0);
    cr_assert_eq(sbx_pool_slot_max_pages(s), SBX_WASM_MAX_PAGES);

    struct sbx_pool_slot_info info;
    cr_assert_eq(sbx_pool_slot_info(pool, sbx_pool_slot_index(s), &info), 0);
    cr_assert_eq(info.state, SBX_SLOT_IN_USE);
    cr_assert(info.has_affinity);
    cr_assert_eq(info.module, 1);

    cr_assert_eq(sbx_pool_release(pool, s), 0);
    cr_assert_eq(sbx_pool_slot_info(pool, 0, &info), 0);
    cr_assert_eq(info.state, SBX_SLOT_CLEAN);
    cr_assert_eq(info.image, img);
    cr_assert_eq(info.accessible_bytes, 4 * PAGE64K);
    cr_assert_eq(sbx_pool_slot_info(pool, 1, &info), 0);
    cr_assert_eq(info.state, SBX_SLOT_UNMAPPED);
    cr_assert_not(info.has_affinity);
    cr_assert_eq(sbx_pool_slot_info(pool, 4, &info), -EINVAL);

    cr_assert_eq(sbx_pool_destroy(pool), 0);
    sbx_memimg_unref(img);
    fixture_fini(&f);
}

Test(slot, writes_stay_private)
{
    struct fixture f;
    fixture_init(&f, 2, "private");
    struct sbx_memimg *img = make_image(&f.desc);
    struct sbx_pool *pool = make_pool(SBX_POOL_REUSE_AFFINITY, 4, 0);
    struct sbx_pool_slot *s1 = instantiate(pool, 1, img, 4, SBX_POOL_NO_MAX);
    struct sbx_pool_slot *s2 = instantiate(pool, 1, img, 4, SBX_POOL_NO_MAX);
    cr_assert_neq(sbx_pool_slot_base(s1), sbx_pool_slot_base(s2));

    scribble(sbx_pool_slot_base(s1), 4 * PAGE64K, 0xEE);
    /* The other instance of the same image sees the image... */
    cr_assert_eq(memcmp(sbx_pool_slot_base(s2), f.want, 4 * PAGE64K), 0);
    /* ...and so does the memfd itself. */
    uint8_t *file = malloc(sbx_memimg_len(img));
    cr_assert_eq((uint64_t)pread(sbx_memimg_fd(img), file, sbx_memimg_len(img), 0),
                 sbx_memimg_len(img));
    cr_assert_eq(memcmp(file, f.want + sbx_memimg_offset(img), sbx_memimg_len(img)), 0);
    /* A third instance, mapped after the writes, too. */
    struct sbx_pool_slot *s3 = instantiate(pool, 1, img, 4, SBX_POOL_NO_MAX);
    cr_assert_eq(memcmp(sbx_pool_slot_base(s3), f.want, 4 * PAGE64K), 0);

    sbx_pool_release(pool, s1);
    sbx_pool_release(pool, s2);
    sbx_pool_release(pool, s3);
    cr_assert_eq(sbx_pool_destroy(pool), 0);
    sbx_memimg_unref(img);
    free(file);
    fixture_fini(&f);
}

/* Instantiate, dirty everything (including grown pages), release, and check
 * the next instance (same slot, by affinity) sees the pristine image. */
static void check_reset(uint64_t keep_resident)
{
    struct fixture f;
    fixture_init(&f, 3, "reset");
    struct sbx_memimg *img = make_image(&f.desc);
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = 2;
    cfg.keep_resident_bytes = keep_resident;
    struct sbx_pool *pool;
    cr_assert_eq(sbx_pool_create(&cfg, &pool), 0);

    for (int round = 0; round < 3; round++) {
        struct sbx_pool_slot *s = instantiate(pool, 7, img, 4, 8);
        cr_assert_eq(sbx_pool_slot_index(s), 0, "affinity keeps the same slot");
        cr_assert_eq(memcmp(sbx_pool_slot_base(s), f.want, 4 * PAGE64K), 0, "round %d", round);
        uint32_t old;
        cr_assert_eq(sbx_pool_slot_grow(s, 2, &old), 0);
        cr_assert_eq(old, 4);
        uint8_t *m = sbx_pool_slot_base(s);
        cr_assert(all_zero(m + 4 * PAGE64K, 2 * PAGE64K), "grown pages are zero");
        scribble(m, 6 * PAGE64K, (uint8_t)(0xA0 + round));
        cr_assert_eq(sbx_pool_release(pool, s), 0);
    }
    /* The same holds for an image-less memory: it comes back all zero. */
    for (int round = 0; round < 2; round++) {
        struct sbx_pool_slot *s = instantiate(pool, 8, NULL, 3, SBX_POOL_NO_MAX);
        cr_assert(all_zero(sbx_pool_slot_base(s), 3 * PAGE64K));
        scribble(sbx_pool_slot_base(s), 3 * PAGE64K, 0x55);
        sbx_pool_release(pool, s);
    }
    cr_assert_eq(sbx_pool_destroy(pool), 0);
    sbx_memimg_unref(img);
    fixture_fini(&f);
}

Test(slot, reset_restores_image)
{
    check_reset(0);
}

Test(slot, reset_restores_image_keep_resident)
{
    /* 96 KiB: cuts through segment b (65000..70000) in page 1. */
    check_reset(96 * 1024);
}

Test(slot, reset_restores_image_keep_resident_whole)
{
    check_reset(4 * PAGE64K);
}

Test(slot, copy_fallback_matches_image)
{
    struct fixture f;
    fixture_init(&f, 4, "copy");
    struct sbx_memimg *img = make_image(&f.desc);
    struct sbx_pool *pool = make_pool(SBX_POOL_REUSE_AFFINITY, 4, 0);
    struct sbx_pool_slot *s1 = instantiate(pool, 1, img, 4, SBX_POOL_NO_MAX);
    const struct sbx_pool_request req = {
        .module = 2, .initial_pages = 4, .max_pages = SBX_POOL_NO_MAX};
    int err;
    size_t bad = 99;
    struct sbx_pool_slot *s2 = sbx_pool_instantiate_copy(pool, &req, f.segs, 3, &bad, &err);
    cr_assert_not_null(s2, "%s", sbx_pool_strerror(err));
    cr_assert_eq(memcmp(sbx_pool_slot_base(s1), sbx_pool_slot_base(s2), 4 * PAGE64K), 0);
    sbx_pool_release(pool, s1);
    sbx_pool_release(pool, s2);

    /* An out-of-bounds segment: the slot goes back, the caller traps. */
    const struct sbx_pool_request small = {
        .module = 3, .initial_pages = 3, .max_pages = SBX_POOL_NO_MAX};
    struct sbx_pool_stats st;
    cr_assert_null(sbx_pool_instantiate_copy(pool, &small, f.segs, 3, &bad, &err));
    cr_assert_eq(err, -ERANGE);
    cr_assert_eq(bad, 2);
    sbx_pool_stats(pool, &st);
    cr_assert_eq(st.in_use, 0);
    cr_assert_eq(st.committed_bytes, 0);
    /* instantiate_copy takes no image. */
    const struct sbx_pool_request with_img = {
        .module = 1, .image = img, .initial_pages = 4, .max_pages = SBX_POOL_NO_MAX};
    cr_assert_null(sbx_pool_instantiate_copy(pool, &with_img, f.segs, 3, &bad, &err));
    cr_assert_eq(err, -EINVAL);

    cr_assert_eq(sbx_pool_destroy(pool), 0);
    sbx_memimg_unref(img);
    fixture_fini(&f);
}

/* Regression: a module without an image (or with a smaller one) that lands in
 * a slot still holding another module's image must never see those bytes.
 * This was CVE-2022-39393 in Wasmtime's pooling allocator. */
Test(slot, no_image_module_never_sees_previous_image)
{
    for (size_t k = 0; k < N_STRATEGIES; k++) {
        struct fixture f;
        fixture_init(&f, 5, "secret");
        struct sbx_memimg *secret = make_image(&f.desc);
        /* One slot: whatever the strategy, module 2 lands where module 1 was. */
        struct sbx_pool *pool = make_pool(all_strategies[k], 1, 0);

        struct sbx_pool_slot *s = instantiate(pool, 1, secret, 4, SBX_POOL_NO_MAX);
        sbx_pool_release(pool, s);
        struct sbx_pool_slot_info info;
        sbx_pool_slot_info(pool, 0, &info);
        cr_assert_eq(info.image, secret, "%s: the slot keeps the image",
                     strategy_name(all_strategies[k]));

        /* No image, larger memory: all zero. */
        s = instantiate(pool, 2, NULL, 5, SBX_POOL_NO_MAX);
        cr_assert(all_zero(sbx_pool_slot_base(s), 5 * PAGE64K), "%s",
                  strategy_name(all_strategies[k]));
        sbx_pool_release(pool, s);

        /* Re-warm with the secret, then an empty image: all zero. */
        s = instantiate(pool, 1, secret, 4, SBX_POOL_NO_MAX);
        sbx_pool_release(pool, s);
        const struct sbx_memimg_desc empty_desc = {.initial_pages = 4};
        struct sbx_memimg *empty = make_image(&empty_desc);
        s = instantiate(pool, 3, empty, 4, SBX_POOL_NO_MAX);
        cr_assert(all_zero(sbx_pool_slot_base(s), 4 * PAGE64K));
        sbx_pool_release(pool, s);

        /* Re-warm, then an image covering only page 2: the rest is zero. */
        s = instantiate(pool, 1, secret, 4, SBX_POOL_NO_MAX);
        sbx_pool_release(pool, s);
        uint8_t *small_bytes = pattern(100, 9);
        const struct sbx_memimg_segment small_seg = {
            .offset = 2 * PAGE64K + 10, .bytes = small_bytes, .len = 100};
        const struct sbx_memimg_desc small_desc = {
            .initial_pages = 4, .segments = &small_seg, .segment_count = 1};
        struct sbx_memimg *small = make_image(&small_desc);
        uint8_t *want = expected_memory(&small_desc);
        s = instantiate(pool, 4, small, 4, SBX_POOL_NO_MAX);
        cr_assert_eq(memcmp(sbx_pool_slot_base(s), want, 4 * PAGE64K), 0);
        sbx_pool_release(pool, s);

        /* And the copy fallback of a module without an image. */
        s = instantiate(pool, 1, secret, 4, SBX_POOL_NO_MAX);
        sbx_pool_release(pool, s);
        const struct sbx_pool_request req = {
            .module = 5, .initial_pages = 4, .max_pages = SBX_POOL_NO_MAX};
        int err;
        s = sbx_pool_instantiate_copy(pool, &req, &small_seg, 1, NULL, &err);
        cr_assert_not_null(s);
        cr_assert_eq(memcmp(sbx_pool_slot_base(s), want, 4 * PAGE64K), 0);
        sbx_pool_release(pool, s);

        cr_assert_eq(sbx_pool_destroy(pool), 0);
        sbx_memimg_unref(secret);
        sbx_memimg_unref(empty);
        sbx_memimg_unref(small);
        free(small_bytes), free(want);
        fixture_fini(&f);
    }
}

Test(slot, grow_boundaries)
{
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = 2;
    cfg.max_memory_bytes = 16 * PAGE64K;
    cfg.max_committed_bytes = 20 * PAGE64K;
    struct sbx_pool *pool;
    cr_assert_eq(sbx_pool_create(&cfg, &pool), 0);

    /* Declared maximum 3. */
    struct sbx_pool_slot *s = instantiate(pool, 1, NULL, 1, 3);
    uint32_t old = 99;
    cr_assert_eq(sbx_pool_slot_grow(s, 0, &old), 0);
    cr_assert_eq(old, 1);
    cr_assert_eq(sbx_pool_slot_grow(s, 3, &old), -EFBIG);
    cr_assert_eq(sbx_pool_slot_pages(s), 1, "a failed grow changes nothing");
    cr_assert_eq(sbx_pool_slot_grow(s, 2, &old), 0);
    cr_assert_eq(old, 1);
    cr_assert_eq(sbx_pool_slot_pages(s), 3);
    sbx_pool_slot_base(s)[3 * PAGE64K - 1] = 1; /* last byte writable */
    cr_assert_eq(sbx_pool_slot_grow(s, 1, &old), -EFBIG);
    cr_assert_eq(sbx_pool_slot_grow(s, UINT32_MAX, &old), -EFBIG);
    cr_assert_eq(sbx_pool_slot_pages(s), 3);

    /* No declared maximum: the pool's 16 pages cap it. */
    struct sbx_pool_slot *t = instantiate(pool, 2, NULL, 1, SBX_POOL_NO_MAX);
    cr_assert_eq(sbx_pool_slot_max_pages(t), 16);
    cr_assert_eq(sbx_pool_slot_grow(t, 16, &old), -EFBIG);
    cr_assert_eq(sbx_pool_slot_grow(t, 15, &old), 0);
    sbx_pool_slot_base(t)[16 * PAGE64K - 1] = 1;

    /* Committed: 3 + 16 = 19 of 20 pages. */
    struct sbx_pool_stats st;
    sbx_pool_stats(pool, &st);
    cr_assert_eq(st.committed_bytes, 19 * PAGE64K);
    sbx_pool_release(pool, s);            /* 16 */
    s = instantiate(pool, 1, NULL, 3, 5); /* 19 */
    cr_assert_eq(sbx_pool_slot_grow(s, 2, NULL), -EDQUOT);
    cr_assert_eq(sbx_pool_slot_pages(s), 3);
    cr_assert_eq(sbx_pool_slot_grow(s, 1, NULL), 0); /* 20: exactly the limit */
    const struct sbx_pool_request one = {.module = 3, .initial_pages = 1, .max_pages = 1};
    int err;
    cr_assert_null(sbx_pool_instantiate(pool, &one, &err));
    cr_assert_eq(err, -EDQUOT);
    sbx_pool_release(pool, s);
    sbx_pool_release(pool, t);
    sbx_pool_stats(pool, &st);
    cr_assert_eq(st.committed_bytes, 0);
    cr_assert_eq(sbx_pool_destroy(pool), 0);
}

/* -- Guard faults: each test dies by SIGSEGV or fails. -- */

static volatile uint8_t sink;

static uint8_t *guard_slot(uint64_t pre_guard, uint32_t pages)
{
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    cfg.slot_count = 2;
    cfg.pre_guard_bytes = pre_guard;
    struct sbx_pool *pool;
    cr_assert_eq(sbx_pool_create(&cfg, &pool), 0);
    struct sbx_pool_slot *s = instantiate(pool, 1, NULL, pages, SBX_POOL_NO_MAX);
    sbx_pool_slot_base(s)[pages * PAGE64K - 1] = 1; /* the last byte is fine */
    return sbx_pool_slot_base(s);
}

Test(guard, first_byte_past_memory_faults, .signal = SIGSEGV)
{
    uint8_t *m = guard_slot(0, 2);
    sink = m[2 * PAGE64K];
}

Test(guard, end_of_index_space_faults, .signal = SIGSEGV)
{
    uint8_t *m = guard_slot(0, 2);
    sink = m[SBX_POOL_INDEX_SPACE - 1];
}

Test(guard, largest_unchecked_offset_faults, .signal = SIGSEGV)
{
    /* idx32 = 2^32 - 1 plus a static offset reaching the last guard byte. */
    uint8_t *m = guard_slot(0, 2);
    sink = m[SBX_POOL_INDEX_SPACE - 1 + SBX_POOL_DEFAULT_GUARD];
}

Test(guard, pre_guard_faults, .signal = SIGSEGV)
{
    uint8_t *m = guard_slot(PAGE64K, 1);
    sink = m[-1];
}

Test(guard, grown_pages_revoked_on_release, .signal = SIGSEGV)
{
    struct sbx_pool *pool = make_pool(SBX_POOL_REUSE_AFFINITY, 1, 0);
    struct sbx_pool_slot *s = instantiate(pool, 1, NULL, 1, SBX_POOL_NO_MAX);
    cr_assert_eq(sbx_pool_slot_grow(s, 1, NULL), 0);
    sbx_pool_slot_base(s)[2 * PAGE64K - 1] = 1;
    sbx_pool_release(pool, s);
    s = instantiate(pool, 1, NULL, 1, SBX_POOL_NO_MAX);
    cr_assert_eq(sbx_pool_slot_pages(s), 1);
    sink = sbx_pool_slot_base(s)[PAGE64K]; /* was grown, must fault now */
}

Test(guard, failed_grow_leaves_guard, .signal = SIGSEGV)
{
    struct sbx_pool *pool = make_pool(SBX_POOL_REUSE_AFFINITY, 1, 0);
    struct sbx_pool_slot *s = instantiate(pool, 1, NULL, 1, 2);
    cr_assert_eq(sbx_pool_slot_grow(s, 2, NULL), -EFBIG);
    sink = sbx_pool_slot_base(s)[PAGE64K];
}

Test(guard, smaller_reuse_shrinks_accessible, .signal = SIGSEGV)
{
    /* The same (image-less) slot reused by a smaller memory. */
    struct sbx_pool *pool = make_pool(SBX_POOL_REUSE_AFFINITY, 1, 0);
    struct sbx_pool_slot *s = instantiate(pool, 1, NULL, 3, SBX_POOL_NO_MAX);
    sbx_pool_release(pool, s);
    s = instantiate(pool, 2, NULL, 1, SBX_POOL_NO_MAX);
    sink = sbx_pool_slot_base(s)[PAGE64K];
}
