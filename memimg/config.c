/* memimg/config.c: pool configuration defaults, validation and the slot-layout
 * arithmetic; also the error messages of the memimg library. */
#include "memimg/config.h"

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

void sbx_pool_config_default(struct sbx_pool_config *cfg)
{
    *cfg = (struct sbx_pool_config){
        .slot_count = SBX_POOL_DEFAULT_SLOTS,
        .max_memory_bytes = SBX_POOL_INDEX_SPACE,
        .guard_bytes = SBX_POOL_DEFAULT_GUARD,
        .pre_guard_bytes = 0,
        .max_committed_bytes = 0,
        .keep_resident_bytes = 0,
        .strategy = SBX_POOL_REUSE_AFFINITY,
        .max_warm_slots = 0,
        .random_seed = 0,
    };
}

static int bad(const char **field, const char *name, int err)
{
    if (field) *field = name;
    return err;
}

int sbx_pool_config_validate(const struct sbx_pool_config *cfg, const char **field)
{
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

    if (field) *field = NULL;
    if (!cfg) return bad(field, "config", -EINVAL);
    if (cfg->slot_count == 0) return bad(field, "slot_count", -EINVAL);
    if (cfg->max_memory_bytes == 0 || cfg->max_memory_bytes > SBX_POOL_INDEX_SPACE ||
        cfg->max_memory_bytes % SBX_WASM_PAGE_SIZE)
        return bad(field, "max_memory_bytes", -EINVAL);
    /* Each bound below keeps the layout sum under 2^47, so no overflow. */
    if (cfg->guard_bytes % page || cfg->guard_bytes > SBX_POOL_MAX_RESERVATION)
        return bad(field, "guard_bytes", -EINVAL);
    if (cfg->pre_guard_bytes % page || cfg->pre_guard_bytes > SBX_POOL_MAX_RESERVATION)
        return bad(field, "pre_guard_bytes", -EINVAL);
    if (cfg->keep_resident_bytes % page || cfg->keep_resident_bytes > cfg->max_memory_bytes)
        return bad(field, "keep_resident_bytes", -EINVAL);
    if (cfg->max_committed_bytes % SBX_WASM_PAGE_SIZE)
        return bad(field, "max_committed_bytes", -EINVAL);
    switch (cfg->strategy) {
    case SBX_POOL_NEXT_AVAILABLE:
    case SBX_POOL_REUSE_AFFINITY:
    case SBX_POOL_RANDOM:
    case SBX_POOL_CAPPED: break;
    default: return bad(field, "strategy", -EINVAL);
    }
    const uint64_t stride = cfg->pre_guard_bytes + SBX_POOL_INDEX_SPACE + cfg->guard_bytes;
    /* stride < 2^47 and slot_count < 2^32: compare by division, not product. */
    if (cfg->slot_count > SBX_POOL_MAX_RESERVATION / stride)
        return bad(field, "slot_count", -E2BIG);
    return 0;
}

int sbx_pool_config_layout(const struct sbx_pool_config *cfg, struct sbx_pool_layout *out)
{
    int rc = sbx_pool_config_validate(cfg, NULL);
    if (rc) return rc;
    out->pre_guard = cfg->pre_guard_bytes;
    out->slot_span = SBX_POOL_INDEX_SPACE + cfg->guard_bytes;
    out->stride = out->pre_guard + out->slot_span;
    out->total = out->stride * cfg->slot_count;
    return 0;
}

const char *sbx_pool_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -EINVAL: return "invalid argument or configuration";
    case -E2BIG: return "size exceeds the pool's limit (reservation or memory per slot)";
    case -EAGAIN: return "no free slot in the pool";
    case -EDQUOT: return "the pool's committed-memory limit is reached";
    case -EFBIG: return "memory cannot grow past its maximum";
    case -ERANGE: return "data segment out of bounds of the initial memory";
    case -EBUSY: return "slots are still in use";
    case -ENOMEM: return "out of memory or address space (mmap/memfd failed)";
    case -ENOSYS: return "memfd_create is not supported by the kernel";
    default: return "system call failed";
    }
}
