/* memimg/image.c: building sealed memfd images from data segments, their
 * reference counts, and the copy fallback that writes segments directly. */
#include "memimg/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memimg/config.h"

struct sbx_memimg {
    atomic_uint refs;
    int fd;          /* -1 when empty */
    uint64_t offset; /* linear-memory offset of the first imaged byte */
    uint64_t len;    /* bytes in the memfd, page multiple */
    uint32_t initial_pages;
};

/* A segment fits when offset + len <= size, computed without overflow. */
static bool segment_fits(const struct sbx_memimg_segment *s, uint64_t size)
{
    return s->offset <= size && s->len <= size - s->offset;
}

int sbx_memimg_segments_fit(uint32_t initial_pages, const struct sbx_memimg_segment *segs,
                            size_t count, size_t *bad_index)
{
    if (initial_pages > SBX_WASM_MAX_PAGES || (count && !segs)) return -EINVAL;
    const uint64_t size = (uint64_t)initial_pages * SBX_WASM_PAGE_SIZE;
    for (size_t i = 0; i < count; i++) {
        if (segs[i].len && !segs[i].bytes) return -EINVAL;
        if (!segment_fits(&segs[i], size)) {
            if (bad_index) *bad_index = i;
            return -ERANGE;
        }
    }
    return 0;
}

/* pwrite all of buf, retrying on EINTR and short writes. */
static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, buf, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int fill_memfd(const struct sbx_memimg_desc *desc, struct sbx_memimg *img)
{
    char name[64];
    snprintf(name, sizeof name, "sbx-img:%s", desc->name ? desc->name : "");
    img->fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (img->fd < 0) return -errno;
    if (ftruncate(img->fd, (off_t)img->len) < 0) return -errno;
    for (size_t i = 0; i < desc->segment_count; i++) {
        const struct sbx_memimg_segment *s = &desc->segments[i];
        if (!s->len) continue;
        int rc = pwrite_all(img->fd, s->bytes, s->len, s->offset - img->offset);
        if (rc) return rc;
    }
    /* No writable mapping of the memfd ever existed, so F_SEAL_WRITE applies. */
    const int seals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
    if (fcntl(img->fd, F_ADD_SEALS, seals) < 0) return -errno;
    return 0;
}

struct sbx_memimg *sbx_memimg_create(const struct sbx_memimg_desc *desc, int *err)
{
    int rc = desc ? sbx_memimg_segments_fit(desc->initial_pages, desc->segments,
                                            desc->segment_count, NULL)
                  : -EINVAL;
    if (rc) {
        *err = rc;
        return NULL;
    }
    struct sbx_memimg *img = calloc(1, sizeof *img);
    if (!img) {
        *err = -ENOMEM;
        return NULL;
    }
    atomic_init(&img->refs, 1);
    img->fd = -1;
    img->initial_pages = desc->initial_pages;

    /* The image covers [lowest byte, highest byte] rounded out to host pages;
     * both bounds stay within the initial size, a 64 KiB multiple. */
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < desc->segment_count; i++) {
        const struct sbx_memimg_segment *s = &desc->segments[i];
        if (!s->len) continue;
        if (s->offset < lo) lo = s->offset;
        if (s->offset + s->len > hi) hi = s->offset + s->len;
    }
    if (hi) {
        img->offset = lo & ~(page - 1);
        img->len = ((hi + page - 1) & ~(page - 1)) - img->offset;
        rc = fill_memfd(desc, img);
        if (rc) {
            if (img->fd >= 0) close(img->fd);
            free(img);
            *err = rc;
            return NULL;
        }
    }
    *err = 0;
    return img;
}

struct sbx_memimg *sbx_memimg_ref(struct sbx_memimg *img)
{
    atomic_fetch_add_explicit(&img->refs, 1, memory_order_relaxed);
    return img;
}

void sbx_memimg_unref(struct sbx_memimg *img)
{
    if (!img) return;
    if (atomic_fetch_sub_explicit(&img->refs, 1, memory_order_acq_rel) != 1) return;
    if (img->fd >= 0) close(img->fd);
    free(img);
}

int sbx_memimg_fd(const struct sbx_memimg *img)
{
    return img->fd;
}

uint64_t sbx_memimg_offset(const struct sbx_memimg *img)
{
    return img->offset;
}

uint64_t sbx_memimg_len(const struct sbx_memimg *img)
{
    return img->len;
}

uint32_t sbx_memimg_initial_pages(const struct sbx_memimg *img)
{
    return img->initial_pages;
}

int sbx_memimg_copy_segments(uint8_t *mem, uint64_t mem_size, const struct sbx_memimg_segment *segs,
                             size_t count, size_t *bad_index)
{
    for (size_t i = 0; i < count; i++) {
        if (!segment_fits(&segs[i], mem_size)) {
            if (bad_index) *bad_index = i;
            return -ERANGE;
        }
        if (segs[i].len) memcpy(mem + segs[i].offset, segs[i].bytes, segs[i].len);
    }
    return 0;
}
