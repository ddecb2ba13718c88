/* The zygote's executable code and constants moved onto transparent huge
 * pages, so that its workers start with them mapped (huge_text.c). */
#ifndef SBX_ZYGOTE_HUGE_TEXT_H
#define SBX_ZYGOTE_HUGE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Replaces the mapping of the executable's code, and of each read-only
 * segment after it, with an anonymous copy of the same protection that
 * asks for huge pages; *bytes is the size mapped so. Returns 0, or
 * -ENOTSUP if the executable is not laid out for it (a segment does not
 * start on a 2 MiB boundary, or shares its last 2 MiB with something
 * else), or the errno of the mapping calls (-EINVAL from madvise: the
 * kernel has no transparent huge pages); a segment that failed is
 * unchanged, and those before it stay moved. Whether the kernel gave a huge page is its choice
 * (/sys/kernel/mm/transparent_hugepage); the copy works either way. Call
 * while single-threaded. */
int sbx_huge_text(size_t *bytes);

#endif
