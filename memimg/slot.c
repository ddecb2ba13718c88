/* memimg/slot.c: the system calls behind a slot's states: repave (fresh
 * PROT_NONE reservation), set-up (mprotect + copy-on-write image mapping),
 * reset (MADV_DONTNEED or memset/pread) and extend (memory.grow). */
#include "memimg/slot.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int reserve(uint8_t *addr, uint64_t len)
{
    if (!len) return 0;
    void *p =
        mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? -errno : 0;
}

static int fail(struct sbx_pool_slot *s, int err)
{
    s->state = SBX_SLOT_UNKNOWN;
    return err;
}

int sbx_slot_repave(struct sbx_pool_slot *s)
{
    /* The whole index space, not just `accessible`: an UNKNOWN slot may have
     * anything mapped anywhere below 4 GiB.  Only populated page tables cost
     * time, so this is as cheap as repaving the accessible prefix. */
    int rc = reserve(s->base, SBX_POOL_INDEX_SPACE);
    if (rc) return fail(s, rc);
    sbx_memimg_unref(s->image);
    s->image = NULL;
    s->accessible = 0;
    s->state = SBX_SLOT_UNMAPPED;
    return 0;
}

static int map_image(struct sbx_pool_slot *s, struct sbx_memimg *image)
{
    void *at = s->base + sbx_memimg_offset(image);
    void *p = mmap(at, sbx_memimg_len(image), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                   sbx_memimg_fd(image), 0);
    if (p == MAP_FAILED) return -errno;
    s->image = sbx_memimg_ref(image);
    return 0;
}

int sbx_slot_setup(struct sbx_pool_slot *s, struct sbx_memimg *image, uint64_t initial)
{
    int rc;
    if (s->state == SBX_SLOT_UNKNOWN || (s->state == SBX_SLOT_CLEAN && s->image != image)) {
        /* A different image (or none) is wanted: drop every trace of the old
         * one.  Remapping only the new image's range would leave the old
         * image's other pages visible (the CVE this design pins). */
        rc = sbx_slot_repave(s);
        if (rc) return rc;
    }
    if (s->state == SBX_SLOT_CLEAN) {
        /* Same image: contents are already pristine; fix the size only. */
        if (s->accessible < initial) {
            if (mprotect(s->base + s->accessible, initial - s->accessible, PROT_READ | PROT_WRITE))
                return fail(s, -errno);
        } else if (s->accessible > initial) {
            rc = reserve(s->base + initial, s->accessible - initial);
            if (rc) return fail(s, rc);
        }
    } else {
        if (initial && mprotect(s->base, initial, PROT_READ | PROT_WRITE)) return fail(s, -errno);
        s->accessible = initial;
        if (image) {
            rc = map_image(s, image);
            if (rc) return fail(s, rc);
        }
    }
    s->accessible = initial;
    s->initial = initial;
    s->state = SBX_SLOT_IN_USE;
    return 0;
}

static int pread_all(int fd, uint8_t *buf, uint64_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return -EIO; /* sealed image shorter than recorded */
        buf += n;
        len -= (uint64_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Restores [0, keep): the image's bytes by pread from its memfd, zeroes
 * elsewhere.  Writing keeps these pages resident (private), which is the
 * point: no page fault on the next instance's first touch. */
static int restore_resident(struct sbx_pool_slot *s, uint64_t keep)
{
    uint64_t lo = 0, hi = 0;
    if (s->image) {
        lo = sbx_memimg_offset(s->image);
        hi = lo + sbx_memimg_len(s->image);
    }
    if (lo > keep) lo = keep;
    if (hi > keep) hi = keep;
    memset(s->base, 0, lo);
    if (hi > lo) {
        int rc = pread_all(sbx_memimg_fd(s->image), s->base + lo, hi - lo,
                           lo - sbx_memimg_offset(s->image));
        if (rc) return rc;
    }
    memset(s->base + hi, 0, keep - hi);
    return 0;
}

int sbx_slot_reset(struct sbx_pool_slot *s, uint64_t keep_resident)
{
    if (s->state != SBX_SLOT_IN_USE) return -EIO;
    int rc;
    if (s->accessible > s->initial) {
        /* Grown pages: a fresh reservation zeroes and protects them at once. */
        rc = reserve(s->base + s->initial, s->accessible - s->initial);
        if (rc) return fail(s, rc);
        s->accessible = s->initial;
    }
    uint64_t keep = keep_resident < s->initial ? keep_resident : s->initial;
    if (keep) {
        rc = restore_resident(s, keep);
        if (rc) return fail(s, rc);
    }
    /* MAP_PRIVATE file pages revert to the image, anonymous ones to zero. */
    if (s->initial > keep && madvise(s->base + keep, s->initial - keep, MADV_DONTNEED))
        return fail(s, -errno);
    s->state = SBX_SLOT_CLEAN;
    return 0;
}

int sbx_slot_extend(struct sbx_pool_slot *s, uint64_t bytes)
{
    if (mprotect(s->base + s->accessible, bytes, PROT_READ | PROT_WRITE)) return fail(s, -errno);
    s->accessible += bytes;
    return 0;
}
