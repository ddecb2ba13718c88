/* tests/memimg/test_config.c: configuration defaults and validation, and bad
 * requests: every mistake is a clear error, never a crash. */
#include <errno.h>

#include "tests/memimg/helpers.h"

Test(config, defaults_are_valid)
{
    struct sbx_pool_config cfg;
    sbx_pool_config_default(&cfg);
    const char *field = "x";
    cr_assert_eq(sbx_pool_config_validate(&cfg, &field), 0);
    cr_assert_null(field);
    struct sbx_pool_layout l;
    cr_assert_eq(sbx_pool_config_layout(&cfg, &l), 0);
    cr_assert_eq(l.slot_span, (UINT64_C(6) << 30), "4 GiB index space + 2 GiB guard");
    cr_assert_eq(l.stride, l.slot_span);
    cr_assert_eq(l.total, l.stride * SBX_POOL_DEFAULT_SLOTS);

    cfg.pre_guard_bytes = PAGE64K;
    cr_assert_eq(sbx_pool_config_layout(&cfg, &l), 0);
    cr_assert_eq(l.stride, (UINT64_C(6) << 30) + PAGE64K);
}

static void expect_bad(const struct sbx_pool_config *cfg, int err, const char *name)
{
    const char *field = NULL;
    cr_assert_eq(sbx_pool_config_validate(cfg, &field), err, "%s", name);
    cr_assert_str_eq(field, name);
    struct sbx_pool *pool = (struct sbx_pool *)0x1;
    cr_assert_eq(sbx_pool_create(cfg, &pool), err);
    cr_assert_eq(pool, (struct sbx_pool *)0x1, "no pool on error");
}

Test(config, bad_fields_are_named)
{
    struct sbx_pool_config d, c;
    sbx_pool_config_default(&d);

    c = d, c.slot_count = 0;
    expect_bad(&c, -EINVAL, "slot_count");
    c = d, c.slot_count = 1000000;
    expect_bad(&c, -E2BIG, "slot_count");
    c = d, c.max_memory_bytes = 0;
    expect_bad(&c, -EINVAL, "max_memory_bytes");
    c = d, c.max_memory_bytes = SBX_POOL_INDEX_SPACE + PAGE64K;
    expect_bad(&c, -EINVAL, "max_memory_bytes");
    c = d, c.max_memory_bytes = 100;
    expect_bad(&c, -EINVAL, "max_memory_bytes");
    c = d, c.guard_bytes = 1;
    expect_bad(&c, -EINVAL, "guard_bytes");
    c = d, c.guard_bytes = UINT64_MAX & ~UINT64_C(0xfff);
    expect_bad(&c, -EINVAL, "guard_bytes");
    c = d, c.pre_guard_bytes = 4095;
    expect_bad(&c, -EINVAL, "pre_guard_bytes");
    c = d, c.keep_resident_bytes = 100;
    expect_bad(&c, -EINVAL, "keep_resident_bytes");
    c = d, c.max_memory_bytes = PAGE64K, c.keep_resident_bytes = 2 * PAGE64K;
    expect_bad(&c, -EINVAL, "keep_resident_bytes");
    c = d, c.max_committed_bytes = 1000;
    expect_bad(&c, -EINVAL, "max_committed_bytes");
    c = d, c.strategy = (enum sbx_pool_strategy)17;
    expect_bad(&c, -EINVAL, "strategy");
    const char *field;
    cr_assert_eq(sbx_pool_config_validate(NULL, &field), -EINVAL);
    cr_assert_eq(sbx_pool_config_validate(NULL, NULL), -EINVAL);
}

Test(config, null_config_means_defaults)
{
    struct sbx_pool *pool;
    cr_assert_eq(sbx_pool_create(NULL, &pool), 0);
    struct sbx_pool_stats st;
    sbx_pool_stats(pool, &st);
    cr_assert_eq(st.slots, SBX_POOL_DEFAULT_SLOTS);
    cr_assert_eq(st.cold, SBX_POOL_DEFAULT_SLOTS);
    cr_assert_eq(st.guard_bytes, SBX_POOL_DEFAULT_GUARD);
    cr_assert_eq(st.slot_stride, UINT64_C(6) << 30);
    cr_assert_eq(sbx_pool_destroy(pool), 0);
    cr_assert_eq(sbx_pool_destroy(NULL), 0);
}

Test(config, bad_requests)
{
    struct sbx_pool *pool = make_pool(SBX_POOL_NEXT_AVAILABLE, 2, 8);
    int err = 0;
    struct sbx_pool_request r = {.module = 1, .initial_pages = 9, .max_pages = SBX_POOL_NO_MAX};
    cr_assert_null(sbx_pool_instantiate(pool, &r, &err));
    cr_assert_eq(err, -E2BIG, "initial size beyond the pool's max memory");
    r.initial_pages = 4, r.max_pages = 3;
    cr_assert_null(sbx_pool_instantiate(pool, &r, &err));
    cr_assert_eq(err, -EINVAL, "maximum below initial");
    cr_assert_null(sbx_pool_instantiate(pool, NULL, &err));
    cr_assert_eq(err, -EINVAL);
    cr_assert_null(sbx_pool_instantiate(NULL, &r, &err));
    cr_assert_eq(err, -EINVAL);

    /* An image built for more pages than requested. */
    uint8_t b[10] = {1};
    const struct sbx_memimg_segment seg = {.offset = 3 * PAGE64K, .bytes = b, .len = 10};
    const struct sbx_memimg_desc d = {.initial_pages = 4, .segments = &seg, .segment_count = 1};
    struct sbx_memimg *img = make_image(&d);
    r = (struct sbx_pool_request){
        .module = 1, .image = img, .initial_pages = 2, .max_pages = SBX_POOL_NO_MAX};
    cr_assert_null(sbx_pool_instantiate(pool, &r, &err));
    cr_assert_eq(err, -EINVAL);

    struct sbx_pool_stats st;
    sbx_pool_stats(pool, &st);
    cr_assert_eq(st.in_use, 0, "failed requests take no slot");
    cr_assert_eq(st.committed_bytes, 0);
    cr_assert_eq(sbx_pool_destroy(pool), 0);
    sbx_memimg_unref(img);
}

Test(config, double_release_is_an_error)
{
    struct sbx_pool *pool = make_pool(SBX_POOL_REUSE_AFFINITY, 2, 0);
    struct sbx_pool_slot *s = instantiate(pool, 1, NULL, 1, 1);
    cr_assert_eq(sbx_pool_release(pool, s), 0);
    cr_assert_eq(sbx_pool_release(pool, s), -EINVAL);
    struct sbx_pool_stats st;
    sbx_pool_stats(pool, &st);
    cr_assert_eq(st.warm + st.cold, 2);
    cr_assert_eq(sbx_pool_destroy(pool), 0);
}

Test(config, every_error_has_a_message)
{
    const int errs[] = {0,       -EINVAL, -E2BIG,  -EAGAIN, -EDQUOT, -EFBIG,
                        -ERANGE, -EBUSY,  -ENOMEM, -ENOSYS, -EPERM};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        const char *msg = sbx_pool_strerror(errs[i]);
        cr_assert_not_null(msg);
        cr_assert_gt(strlen(msg), 5);
    }
}
