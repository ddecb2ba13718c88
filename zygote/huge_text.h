/* The zygote's executable code moved onto transparent huge pages, so that
 * its workers start with their code mapped (huge_text.c). */
#ifndef SBX_ZYGOTE_HUGE_TEXT_H
#define SBX_ZYGOTE_HUGE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Replaces the executable's code mapping with an anonymous read+execute
 * copy that asks for huge pages; *bytes is the size mapped so. Returns 0,
 * or -ENOTSUP if the executable is not laid out for it (its code does not
 * start on a 2 MiB boundary, or shares its last 2 MiB with something
 * else), or the errno of the mapping calls (-EINVAL from madvise: the
 * kernel has no transparent huge pages); the code mapping is then
 * unchanged. Whether the kernel gave a huge page is its choice
 * (/sys/kernel/mm/transparent_hugepage); the copy works either way. Call
 * while single-threaded. */
int sbx_huge_text(size_t *bytes);

#endif
