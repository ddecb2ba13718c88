/* The zygote's code on transparent huge pages (huge_text.h). Every worker
 * runs the zygote's code from the first instruction, and a fresh process
 * has none of a file mapping's page-table entries: each 64 KiB of code it
 * touches is a page fault (about 17 per worker, measured), and each entry
 * the fault maps is one more for its exit to tear down. An anonymous
 * mapping's entries are copied by fork, and a huge page's is one entry: the
 * worker starts with all of its code mapped.
 *
 * How: the code is copied into a fresh anonymous region that asks for huge
 * pages, the region is made read+execute (it is never writable and
 * executable at once), and mremap moves it over the original, which
 * replaces the mapping in one step: the instructions executing this file
 * are the same bytes at the same addresses before and after. */
#include "zygote/huge_text.h"

#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

struct text_segment {
    uintptr_t start, end;      /* the executable PT_LOAD, as loaded */
    uintptr_t next_load_start; /* the lowest PT_LOAD above it (0: none) */
    bool found;
};

/* The first object dl_iterate_phdr reports is the executable itself. */
static int find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct text_segment *t = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && !t->found) {
            t->start = info->dlpi_addr + ph->p_vaddr;
            t->end = t->start + ph->p_memsz;
            t->found = true;
        }
    }
    for (int i = 0; t->found && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t at = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && at > t->start &&
            (!t->next_load_start || at < t->next_load_start))
            t->next_load_start = at;
    }
    return 1; /* the executable only */
}

int sbx_huge_text(size_t *bytes)
{
    *bytes = 0;
    struct text_segment t = {0};
    dl_iterate_phdr(find_text, &t);
    if (!t.found) return -ENOENT;
    uintptr_t len = (t.end - t.start + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    /* The huge mapping covers whole huge pages: the code must start on one
     * and nothing else of the executable may lie in the last one's tail
     * (sbx is linked with 2 MiB segment alignment for this). */
    if (t.start % HUGE_PAGE || (t.next_load_start && t.next_load_start < t.start + len))
        return -ENOTSUP;
    /* Nor anything else the kernel mapped there: claim the tail first. */
    uintptr_t code_end = (t.end + 4095) & ~(uintptr_t)4095;
    if (code_end < t.start + len) {
        void *tail = mmap((void *)code_end, t.start + len - code_end, PROT_NONE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (tail == MAP_FAILED) return errno == EEXIST ? -ENOTSUP : -errno;
    }

    /* A huge-page-aligned region: over-allocate by one, trim both ends. */
    uint8_t *raw =
        mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return -errno;
    uint8_t *copy = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
    if (copy > raw) munmap(raw, (size_t)(copy - raw));
    munmap(copy + len, (size_t)(raw + HUGE_PAGE - copy));
    int rc = 0;
    if (madvise(copy, len, MADV_HUGEPAGE)) rc = -errno; /* THP off or not built */
    if (!rc) {
        memcpy(copy, (const void *)t.start, t.end - t.start);
        if (mprotect(copy, len, PROT_READ | PROT_EXEC)) rc = -errno;
    }
    if (!rc && mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)t.start) == MAP_FAILED)
        rc = -errno;
    if (rc) {
        munmap(copy, len);
        if (code_end < t.start + len) munmap((void *)code_end, t.start + len - code_end);
        return rc;
    }
    *bytes = len;
    return 0;
}
