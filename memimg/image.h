/* memimg/image.h: memory images.  An image is the initial contents of a linear
 * memory that constant-offset data segments produce, held in a sealed memfd
 * and mapped copy-on-write into pool slots.  Also the copy fallback for
 * segments that cannot be imaged, and the bounds check both paths share. */
#ifndef SBX_MEMIMG_IMAGE_H
#define SBX_MEMIMG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* One active data segment at a constant offset.  Segments are applied in
 * order, later ones overwriting earlier ones. */
struct sbx_memimg_segment {
    uint64_t offset;
    const uint8_t *bytes;
    size_t len;
};

/* What to image: the memory's initial size in 64 KiB pages and its segments.
 * name (optional, may be NULL) labels the memfd ("memfd:sbx-img:<name>" in
 * /proc/self/maps and /proc/self/fd), for diagnostics. */
struct sbx_memimg_desc {
    uint32_t initial_pages;
    const struct sbx_memimg_segment *segments;
    size_t segment_count;
    const char *name;
};

struct sbx_memimg;

/* Checks that every segment lies inside initial_pages * 64 KiB.  Returns 0, or
 * -ERANGE with *bad_index (if non-NULL) set to the first segment that does
 * not fit (the caller then falls back to copying, which traps there), or
 * -EINVAL if initial_pages exceeds 65536 or a segment has NULL bytes. */
int sbx_memimg_segments_fit(uint32_t initial_pages, const struct sbx_memimg_segment *segs,
                            size_t count, size_t *bad_index);

/* Builds an image: a memfd (MFD_CLOEXEC | MFD_ALLOW_SEALING) holding the bytes
 * of the page-aligned range the segments cover, sealed against write, grow
 * and shrink (and further sealing).  If no segment has bytes the image is
 * empty and owns no memfd.  Returns the image with one reference, or NULL with
 * *err set: -ERANGE (a segment out of bounds: use the copy fallback), -EINVAL,
 * -ENOMEM, or the -errno of a failed memfd_create/ftruncate/pwrite/fcntl. */
struct sbx_memimg *sbx_memimg_create(const struct sbx_memimg_desc *desc, int *err);

/* Takes another reference; returns img.  Thread-safe. */
struct sbx_memimg *sbx_memimg_ref(struct sbx_memimg *img);

/* Drops a reference; the last one closes the memfd and frees the image.
 * NULL is ignored.  Thread-safe. */
void sbx_memimg_unref(struct sbx_memimg *img);

/* The memfd, or -1 for an empty image.  Owned by the image: do not close. */
int sbx_memimg_fd(const struct sbx_memimg *img);

/* The image covers linear-memory bytes [offset, offset + len): both are
 * multiples of the host page size; len is 0 for an empty image. */
uint64_t sbx_memimg_offset(const struct sbx_memimg *img);
uint64_t sbx_memimg_len(const struct sbx_memimg *img);

/* The initial size the image was built for, in 64 KiB pages. */
uint32_t sbx_memimg_initial_pages(const struct sbx_memimg *img);

/* The copy fallback: writes the segments, in order, into the linear memory at
 * mem (mem_size accessible bytes).  Stops at the first segment that does not
 * fit and returns -ERANGE with *bad_index set (segments before it stay
 * written, as in wasm); otherwise returns 0.  The result for segments that
 * fit is byte-for-byte what mapping their image gives. */
int sbx_memimg_copy_segments(uint8_t *mem, uint64_t mem_size, const struct sbx_memimg_segment *segs,
                             size_t count, size_t *bad_index);

#endif
