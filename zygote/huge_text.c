/* The zygote's code and constants on transparent huge pages (huge_text.h).
 * Every worker runs the zygote's code and reads its constants from its
 * first instruction, and a fresh process has none of a file mapping's
 * page-table entries: each 64 KiB it touches there is a page fault (about
 * 19 per worker, measured), and each entry the fault maps is one more for
 * its exit to tear down. An anonymous mapping's entries are copied by fork,
 * and a huge page's is a single entry: the worker starts with all of them.
 *
 * How, for each segment: its bytes are copied into a fresh anonymous
 * region that asks for huge pages, the region gets the segment's
 * protection (code is never writable and executable at once), and mremap
 * moves it over the original, which replaces the mapping in one step: the
 * instructions executing this file are the same bytes at the same
 * addresses before and after. */
#include "zygote/huge_text.h"

#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)
#define PAGE      ((uintptr_t)4096)
#define MAX_LOADS 16

struct segment {
    uintptr_t start, end; /* as loaded */
    int prot;
};

/* The executable's loadable segments, in address order (the ELF rule). */
struct layout {
    struct segment seg[MAX_LOADS];
    int n;
    bool too_many;
};

/* The first object dl_iterate_phdr reports is the executable itself. */
static int read_layout(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct layout *l = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        if (l->n == MAX_LOADS) {
            l->too_many = true;
            break;
        }
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        l->seg[l->n++] = (struct segment){.start = start,
                                          .end = start + ph->p_memsz,
                                          .prot = (ph->p_flags & PF_R ? PROT_READ : 0) |
                                                  (ph->p_flags & PF_W ? PROT_WRITE : 0) |
                                                  (ph->p_flags & PF_X ? PROT_EXEC : 0)};
    }
    return 1; /* the executable only */
}

static uintptr_t round_up(uintptr_t v, uintptr_t to)
{
    return (v + to - 1) & ~(to - 1);
}

/* Copies a whole segment, redzones between globals and all: not memcpy,
 * which AddressSanitizer checks, and a volatile read so that the compiler
 * does not make it memcpy again. Segments are page-aligned, so whole
 * words. */
__attribute__((no_sanitize_address)) static void copy_segment(uint64_t *to, const uint64_t *from,
                                                              size_t bytes)
{
    const volatile uint64_t *src = from;
    for (size_t i = 0; i < bytes / sizeof *to; i++)
        to[i] = src[i];
}

/* Moves one segment onto a huge-page mapping of `len` bytes. */
static int move_segment(const struct segment *s, uintptr_t len)
{
    /* Nothing the kernel mapped may lie in the last huge page's tail:
     * claim it first (mremap would replace whatever is there). */
    uintptr_t bytes_end = round_up(s->end, PAGE), tail = s->start + len - bytes_end;
    if (tail) {
        void *at = mmap((void *)bytes_end, tail, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (at == MAP_FAILED) return errno == EEXIST ? -ENOTSUP : -errno;
        if (at != (void *)bytes_end) { /* a kernel before 4.17 took it as a hint */
            munmap(at, tail);
            return -ENOTSUP;
        }
    }

    /* A huge-page-aligned region: over-allocate by one, trim both ends. */
    uint8_t *raw =
        mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        if (tail) munmap((void *)bytes_end, tail);
        return -errno;
    }
    uint8_t *copy = (uint8_t *)round_up((uintptr_t)raw, HUGE_PAGE);
    if (copy > raw) munmap(raw, (size_t)(copy - raw));
    munmap(copy + len, (size_t)(raw + HUGE_PAGE - copy));
    int rc = 0;
    if (madvise(copy, len, MADV_HUGEPAGE)) rc = -errno; /* no THP in this kernel */
    if (!rc) {
        copy_segment((uint64_t *)copy, (const uint64_t *)s->start, bytes_end - s->start);
        if (mprotect(copy, len, s->prot)) rc = -errno;
    }
    if (!rc &&
        mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)s->start) == MAP_FAILED)
        rc = -errno;
    if (rc) {
        munmap(copy, len);
        if (tail) munmap((void *)bytes_end, tail);
    }
    return rc;
}

int sbx_huge_text(size_t *bytes)
{
    *bytes = 0;
    struct layout l = {0};
    dl_iterate_phdr(read_layout, &l);
    int code = -1;
    for (int i = 0; i < l.n && code < 0; i++)
        if (l.seg[i].prot & PROT_EXEC) code = i;
    if (code < 0 || l.too_many) return -ENOENT;
    /* The code and the read-only segments after it (constants, unwind
     * tables); not the writable one (its relocated part turns read-only
     * later, and fork copies its entries anyway), nor the headers before
     * the code, which workers do not read. Each must start on a huge page
     * and own the rest of its last one (sbx is linked with 2 MiB segment
     * alignment for this). */
    int rc = 0;
    for (int i = code; i < l.n && !(l.seg[i].prot & PROT_WRITE); i++) {
        const struct segment *s = &l.seg[i];
        uintptr_t len = round_up(s->end - s->start, HUGE_PAGE);
        if (s->start % HUGE_PAGE || (i + 1 < l.n && l.seg[i + 1].start < s->start + len))
            rc = -ENOTSUP;
        else
            rc = move_segment(s, len);
        if (rc) break;
        *bytes += len;
    }
    return rc;
}
