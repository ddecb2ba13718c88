/* Bounds-checked access to the guest's linear memory. Every pointer and
 * length the guest passes is checked against the memory's current size
 * (read at each call: memory.grow changes it) before the host touches it,
 * so a bad pointer becomes WASI EFAULT, never a host fault. Loads and
 * stores use memcpy: the guest's pointers need not be aligned, and the
 * host is little-endian like wasm. */
#ifndef SBX_WASI_GUEST_MEM_H
#define SBX_WASI_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "wasi/abi.h"

struct guest_mem {
    uint8_t *base;
    uint64_t size; /* 0 when the instance has no memory */
};

/* [ptr, ptr + len) lies inside the memory. */
static inline bool gm_ok(const struct guest_mem *m, uint32_t ptr, uint64_t len)
{
    return (uint64_t)ptr <= m->size && len <= m->size - ptr;
}

/* Host address of guest address ptr; only after gm_ok. */
static inline uint8_t *gm_at(const struct guest_mem *m, uint32_t ptr)
{
    return m->base + ptr;
}

static inline uint32_t gm_load_u32(const struct guest_mem *m, uint32_t ptr)
{
    uint32_t v;
    memcpy(&v, m->base + ptr, 4);
    return v;
}

static inline uint64_t gm_load_u64(const struct guest_mem *m, uint32_t ptr)
{
    uint64_t v;
    memcpy(&v, m->base + ptr, 8);
    return v;
}

static inline void gm_put_u8(const struct guest_mem *m, uint32_t ptr, uint8_t v)
{
    m->base[ptr] = v;
}

static inline void gm_put_u16(const struct guest_mem *m, uint32_t ptr, uint16_t v)
{
    memcpy(m->base + ptr, &v, 2);
}

static inline void gm_put_u32(const struct guest_mem *m, uint32_t ptr, uint32_t v)
{
    memcpy(m->base + ptr, &v, 4);
}

static inline void gm_put_u64(const struct guest_mem *m, uint32_t ptr, uint64_t v)
{
    memcpy(m->base + ptr, &v, 8);
}

/* Checked stores for a single result: 0 or EFAULT. */
static inline uint16_t gm_store_u32(const struct guest_mem *m, uint32_t ptr, uint32_t v)
{
    if (!gm_ok(m, ptr, 4)) return SBX_WASI_EFAULT;
    gm_put_u32(m, ptr, v);
    return 0;
}

static inline uint16_t gm_store_u64(const struct guest_mem *m, uint32_t ptr, uint64_t v)
{
    if (!gm_ok(m, ptr, 8)) return SBX_WASI_EFAULT;
    gm_put_u64(m, ptr, v);
    return 0;
}

#endif
