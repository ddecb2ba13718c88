/* memimg/slot.h (internal): one slot's mapping state and the system calls
 * that move it between states.  The thread that owns a slot (its instance, or
 * the purge that claimed it) calls these without the pool's lock.
 *
 * Invariant outside IN_USE/UNKNOWN: [base, base + accessible) is read-write,
 * holding `image` (mapped MAP_PRIVATE at its offset) and zeroes elsewhere;
 * [base + accessible, base + 4 GiB) is an untouched PROT_NONE reservation. */
#ifndef SBX_MEMIMG_SLOT_H
#define SBX_MEMIMG_SLOT_H

#include <stdint.h>

#include "memimg/image.h"
#include "memimg/pool.h"

struct sbx_pool_slot {
    struct sbx_pool *pool;
    uint8_t *base;
    uint32_t index;
    enum sbx_pool_slot_state state;
    struct sbx_memimg *image; /* mapped in the slot (a reference is held), or NULL */
    uint64_t accessible;      /* read-write bytes from base */
    uint64_t initial;         /* initial size of the current or last instance */
    uint32_t max_pages;       /* effective maximum of the current instance */
};

/* Replaces the whole index space with a fresh PROT_NONE reservation and drops
 * the image reference: the slot becomes UNMAPPED.  On failure it is UNKNOWN
 * (and keeps its reference, since the image may still be mapped). */
int sbx_slot_repave(struct sbx_pool_slot *s);

/* Prepares a free slot for an instance: exactly `initial` bytes accessible,
 * holding image (may be NULL: zeroes).  Reuses the mapping when the slot is
 * CLEAN with this very image; otherwise repaves first, so no byte of another
 * image can show through.  Returns 0 (IN_USE) or -errno (UNKNOWN). */
int sbx_slot_setup(struct sbx_pool_slot *s, struct sbx_memimg *image, uint64_t initial);

/* Resets an in-use slot to CLEAN: pages beyond `initial` back to PROT_NONE,
 * the first keep_resident bytes restored by memset/pread, the rest dropped
 * with MADV_DONTNEED.  Returns 0 or -errno (UNKNOWN). */
int sbx_slot_reset(struct sbx_pool_slot *s, uint64_t keep_resident);

/* Makes [accessible, accessible + bytes) read-write.  Returns 0 or -errno;
 * a failed mprotect leaves the slot UNKNOWN (to be repaved on release). */
int sbx_slot_extend(struct sbx_pool_slot *s, uint64_t bytes);

#endif
