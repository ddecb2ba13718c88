/* tests/memimg/test_image.c: memory images: contents match the segments
 * (applied in order), the memfd is sealed, empty images own no memfd, the
 * reference count closes the memfd, and the bounds check / copy fallback. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "tests/memimg/helpers.h"

/* Reads the whole linear memory an image stands for: zeroes outside it. */
static uint8_t *image_memory(const struct sbx_memimg *img, uint32_t pages)
{
    uint8_t *m = calloc(1, pages * PAGE64K);
    cr_assert_not_null(m);
    if (sbx_memimg_len(img)) {
        ssize_t n = pread(sbx_memimg_fd(img), m + sbx_memimg_offset(img), sbx_memimg_len(img), 0);
        cr_assert_eq((uint64_t)n, sbx_memimg_len(img));
    }
    return m;
}

Test(image, contents_match_segments_in_order)
{
    uint8_t *a = pattern(10000, 1), *b = pattern(300, 2), *c = pattern(70000, 3);
    const struct sbx_memimg_segment segs[] = {
        {.offset = 5000, .bytes = a, .len = 10000},
        {.offset = 9000, .bytes = b, .len = 300}, /* overwrites part of a */
        {.offset = 3 * 65536 - 100, .bytes = c, .len = 70000},
        {.offset = 14000, .bytes = b, .len = 0}, /* empty: no effect */
    };
    const struct sbx_memimg_desc d = {.initial_pages = 5, .segments = segs, .segment_count = 4};
    struct sbx_memimg *img = make_image(&d);
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    cr_assert_eq(sbx_memimg_offset(img), 5000 & ~(page - 1));
    cr_assert_eq(sbx_memimg_offset(img) % page, 0);
    cr_assert_eq(sbx_memimg_len(img) % page, 0);
    cr_assert_geq(sbx_memimg_offset(img) + sbx_memimg_len(img), 3 * 65536 - 100 + 70000);
    cr_assert_eq(sbx_memimg_initial_pages(img), 5);

    uint8_t *want = expected_memory(&d), *got = image_memory(img, 5);
    cr_assert_eq(want[9000], b[0]);
    cr_assert_eq(memcmp(want, got, 5 * PAGE64K), 0);
    sbx_memimg_unref(img);
    free(want), free(got), free(a), free(b), free(c);
}

Test(image, sealed_against_write_grow_shrink)
{
    uint8_t *a = pattern(4096, 4);
    const struct sbx_memimg_segment seg = {.offset = 0, .bytes = a, .len = 4096};
    const struct sbx_memimg_desc d = {.initial_pages = 1, .segments = &seg, .segment_count = 1};
    struct sbx_memimg *img = make_image(&d);
    int fd = sbx_memimg_fd(img);

    const int want = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
    cr_assert_eq(fcntl(fd, F_GET_SEALS) & want, want);
    cr_assert_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

    /* A new writable shared mapping is refused... */
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cr_assert_eq(p, MAP_FAILED);
    cr_assert_eq(errno, EPERM);
    /* ...as are write(), growing, shrinking and removing seals. */
    cr_assert_eq(pwrite(fd, "x", 1, 0), -1);
    cr_assert_eq(errno, EPERM);
    cr_assert_eq(ftruncate(fd, 8192), -1);
    cr_assert_eq(ftruncate(fd, 0), -1);
    cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
    /* A private mapping still works and sees the bytes. */
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    cr_assert_neq(p, MAP_FAILED);
    cr_assert_eq(memcmp(p, a, 4096), 0);
    ((uint8_t *)p)[0] ^= 0xff; /* private: the file is untouched */
    uint8_t first;
    cr_assert_eq(pread(fd, &first, 1, 0), 1);
    cr_assert_eq(first, a[0]);
    munmap(p, 4096);
    sbx_memimg_unref(img);
    free(a);
}

Test(image, memfd_is_named_after_the_module)
{
    uint8_t *a = pattern(10, 5);
    const struct sbx_memimg_segment seg = {.offset = 0, .bytes = a, .len = 10};
    const struct sbx_memimg_desc d = {
        .initial_pages = 1, .segments = &seg, .segment_count = 1, .name = "named-mod"};
    struct sbx_memimg *img = make_image(&d);
    cr_assert_eq(count_fds("memfd:sbx-img:named-mod"), 1);
    sbx_memimg_unref(img);
    cr_assert_eq(count_fds("memfd:sbx-img:named-mod"), 0);
    free(a);
}

Test(image, empty_image_owns_no_memfd)
{
    const unsigned before = count_fds("memfd:");
    const struct sbx_memimg_segment seg = {.offset = 100, .bytes = (const uint8_t *)"", .len = 0};
    const struct sbx_memimg_desc d1 = {.initial_pages = 1, .segments = &seg, .segment_count = 1};
    const struct sbx_memimg_desc d2 = {.initial_pages = 0};
    struct sbx_memimg *i1 = make_image(&d1), *i2 = make_image(&d2);
    cr_assert_eq(sbx_memimg_fd(i1), -1);
    cr_assert_eq(sbx_memimg_len(i1), 0);
    cr_assert_eq(sbx_memimg_fd(i2), -1);
    cr_assert_eq(count_fds("memfd:"), before);
    sbx_memimg_unref(i1);
    sbx_memimg_unref(i2);
}

Test(image, last_reference_closes_the_memfd)
{
    uint8_t *a = pattern(100, 6);
    const struct sbx_memimg_segment seg = {.offset = 0, .bytes = a, .len = 100};
    const struct sbx_memimg_desc d = {
        .initial_pages = 1, .segments = &seg, .segment_count = 1, .name = "refcount"};
    struct sbx_memimg *img = make_image(&d);
    cr_assert_eq(sbx_memimg_ref(img), img);
    sbx_memimg_unref(img);
    cr_assert_eq(count_fds("sbx-img:refcount"), 1);
    sbx_memimg_unref(img);
    cr_assert_eq(count_fds("sbx-img:refcount"), 0);
    sbx_memimg_unref(NULL);
    free(a);
}

Test(image, bounds_check)
{
    const uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t bad = 99;
    const struct sbx_memimg_segment fits[] = {
        {.offset = 0, .bytes = b, .len = 8},
        {.offset = 65536 - 8, .bytes = b, .len = 8}, /* ends exactly at the end */
        {.offset = 65536, .bytes = b, .len = 0},     /* empty at the end: fits */
    };
    cr_assert_eq(sbx_memimg_segments_fit(1, fits, 3, &bad), 0);

    const struct sbx_memimg_segment oob[] = {
        {.offset = 0, .bytes = b, .len = 8},
        {.offset = 65536 - 7, .bytes = b, .len = 8},
    };
    cr_assert_eq(sbx_memimg_segments_fit(1, oob, 2, &bad), -ERANGE);
    cr_assert_eq(bad, 1);

    const struct sbx_memimg_segment wrap = {.offset = UINT64_MAX - 2, .bytes = b, .len = 8};
    cr_assert_eq(sbx_memimg_segments_fit(65536, &wrap, 1, &bad), -ERANGE);
    cr_assert_eq(bad, 0);
    const struct sbx_memimg_segment past = {.offset = 65537, .bytes = b, .len = 0};
    cr_assert_eq(sbx_memimg_segments_fit(1, &past, 1, &bad), -ERANGE);
    cr_assert_eq(sbx_memimg_segments_fit(0, fits, 1, &bad), -ERANGE);
    cr_assert_eq(sbx_memimg_segments_fit(65537, fits, 1, &bad), -EINVAL);
    const struct sbx_memimg_segment null_bytes = {.offset = 0, .bytes = NULL, .len = 1};
    cr_assert_eq(sbx_memimg_segments_fit(1, &null_bytes, 1, &bad), -EINVAL);

    /* An image cannot be built from out-of-bounds segments: copy fallback. */
    const struct sbx_memimg_desc d = {.initial_pages = 1, .segments = oob, .segment_count = 2};
    int err = 0;
    cr_assert_null(sbx_memimg_create(&d, &err));
    cr_assert_eq(err, -ERANGE);
    cr_assert_null(sbx_memimg_create(NULL, &err));
    cr_assert_eq(err, -EINVAL);
}

Test(image, copy_fallback_stops_at_first_oob_segment)
{
    uint8_t mem[65536] = {0};
    const uint8_t b[4] = {9, 9, 9, 9};
    const struct sbx_memimg_segment segs[] = {
        {.offset = 10, .bytes = b, .len = 4},
        {.offset = 65534, .bytes = b, .len = 4}, /* out of bounds */
        {.offset = 20, .bytes = b, .len = 4},    /* never applied */
    };
    size_t bad = 99;
    cr_assert_eq(sbx_memimg_copy_segments(mem, sizeof mem, segs, 3, &bad), -ERANGE);
    cr_assert_eq(bad, 1);
    cr_assert_eq(mem[10], 9);
    cr_assert_eq(mem[20], 0);
    cr_assert_eq(mem[65534], 0);
}
