/* memimg/config.h: the pool's limits and layout knobs in one struct, their
 * defaults, their validation, and the slot-layout arithmetic derived from them.
 * The derivation of every size lives here and in docs/memimg.md. */
#ifndef SBX_MEMIMG_CONFIG_H
#define SBX_MEMIMG_CONFIG_H

#include <stdint.h>

/* A wasm page is 64 KiB; a 32-bit memory has at most 65536 of them, so a
 * 32-bit index (0 .. 2^32-1) addresses at most 4 GiB. */
#define SBX_WASM_PAGE_SIZE   (64u * 1024u)
#define SBX_WASM_MAX_PAGES   65536u
#define SBX_POOL_INDEX_SPACE (UINT64_C(1) << 32)

/* Guard after the index space.  Compiled code computes an effective address as
 * base + idx32 + offset32 and may omit the bounds check when
 *     idx32 + offset + access_size <= INDEX_SPACE + guard
 * holds for every idx32, that is when offset + access_size <= guard.  With a
 * 2 GiB guard every access whose static offset is below 2 GiB - 16 (16 bytes
 * being the widest access, v128) needs no check; larger offsets, which real
 * toolchains practically never emit, get an explicit check.  So a slot spans
 * 4 GiB + 2 GiB = 6 GiB of address space (plus the optional pre-guard).  A
 * 4 GiB guard would remove every check at 8 GiB per slot; 2 GiB keeps ~21k
 * slots addressable in a 128 TiB user address space instead of ~16k. */
#define SBX_POOL_DEFAULT_GUARD (UINT64_C(2) << 30)

/* The pool reserves at most this much address space: half of the 47-bit
 * (128 TiB) user address space of x86-64 with 4-level paging, leaving the
 * other half to the heap, libraries, stacks and the JIT. */
#define SBX_POOL_MAX_RESERVATION (UINT64_C(64) << 40)

#define SBX_POOL_DEFAULT_SLOTS 100u

/* How the index allocator picks a free slot (see index_alloc.h).  The first
 * three are presets of one policy; CAPPED uses max_warm_slots as given. */
enum sbx_pool_strategy {
    SBX_POOL_NEXT_AVAILABLE = 0, /* warm cap 0: freed slots reused first */
    SBX_POOL_REUSE_AFFINITY = 1, /* no cap: cold slots used before evicting */
    SBX_POOL_RANDOM = 2,         /* uniformly random free slot */
    SBX_POOL_CAPPED = 3,         /* warm cap = max_warm_slots */
};

struct sbx_pool_config {
    uint32_t slot_count;          /* slots reserved up front (>= 1) */
    uint64_t max_memory_bytes;    /* accessible bytes per slot, <= 4 GiB, 64 KiB multiple */
    uint64_t guard_bytes;         /* PROT_NONE after the 4 GiB index space */
    uint64_t pre_guard_bytes;     /* PROT_NONE before each slot (0 = none) */
    uint64_t max_committed_bytes; /* sum of accessible bytes of live slots (0 = no limit) */
    uint64_t keep_resident_bytes; /* first K bytes reset by memset, not madvise */
    enum sbx_pool_strategy strategy;
    uint32_t max_warm_slots; /* only for SBX_POOL_CAPPED */
    uint64_t random_seed;    /* SBX_POOL_RANDOM; 0 = seed from getrandom() */
};

/* The byte layout of one slot, derived from a validated config:
 *   [pre_guard][index space 4 GiB: accessible prefix, then PROT_NONE][guard]
 * and slot i starts at pool_base + i * stride. */
struct sbx_pool_layout {
    uint64_t pre_guard; /* bytes before the slot base */
    uint64_t slot_span; /* index space + guard: bytes from base to the next slot's pre-guard */
    uint64_t stride;    /* pre_guard + slot_span */
    uint64_t total;     /* stride * slot_count: the one reservation */
};

/* Fills *cfg with the defaults: 100 slots, 4 GiB max memory, 2 GiB guard, no
 * pre-guard, no commit limit, no keep-resident, reuse-affinity. */
void sbx_pool_config_default(struct sbx_pool_config *cfg);

/* Returns 0 if cfg is usable, else -EINVAL (a field out of range or not page
 * aligned) or -E2BIG (the reservation would exceed SBX_POOL_MAX_RESERVATION).
 * On error *field, when field is non-NULL, names the offending field. */
int sbx_pool_config_validate(const struct sbx_pool_config *cfg, const char **field);

/* Computes the layout of a validated config.  Returns 0 or the validation error. */
int sbx_pool_config_layout(const struct sbx_pool_config *cfg, struct sbx_pool_layout *out);

/* A static message for the -errno values the pool and images return, worded
 * for this library (e.g. -EAGAIN is "no free slot in the pool"). */
const char *sbx_pool_strerror(int err);

#endif
