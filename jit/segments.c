/* Element and data segments at instantiation (the spec's order: active
 * element segments, then active data segments, each written then dropped),
 * and the memory image of a compiled module: built once from its active
 * data segments when they all sit at constant offsets inside the initial
 * memory, cached on the compiled module, and mapped copy-on-write into
 * every instance's pool slot. Anything else takes the copy path, which
 * writes the same bytes in the same order and traps where the spec does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/rt_internal.h"
#include "memimg/pool.h"

/* -- The per-module image cache ------------------------------------------ */

struct seg_cache {
    /* Every active data segment is in the image: instances need no copy. */
    bool imaged;
    struct sbx_memimg *img; /* NULL when the segments hold no bytes */
};

/* Whether the module's data can be imaged, and the segments to image. */
static int build_cache(const struct sbx_compiled *c, struct seg_cache *out, bool *cacheable)
{
    const struct sbx_module *m = c->m;
    *cacheable = true;
    out->imaged = false;
    out->img = NULL;
    if (m->nmemories == 0 || m->nmemory_imports > 0) return 0;
    size_t n = 0;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct sbx_data_segment *d = &m->datas[i];
        if (d->mode != SBX_SEG_ACTIVE) continue;
        if (d->offset.kind != SBX_CONST_I32) return 0; /* global.get: copy */
        n++;
    }
    if (n == 0) {
        out->imaged = true;
        return 0;
    }
    struct sbx_memimg_segment *segs = calloc(n, sizeof(*segs));
    if (!segs) {
        *cacheable = false;
        return 0;
    }
    n = 0;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct sbx_data_segment *d = &m->datas[i];
        if (d->mode != SBX_SEG_ACTIVE) continue;
        segs[n++] = (struct sbx_memimg_segment){.offset = d->offset.u.i32,
                                                .bytes = d->bytes ? d->bytes : (const uint8_t *)"",
                                                .len = d->len};
    }
    uint32_t pages = (uint32_t)m->memories[0].min;
    if (sbx_memimg_segments_fit(pages, segs, n, NULL) == 0) {
        char name[32];
        snprintf(name, sizeof(name), "%p", (const void *)c);
        struct sbx_memimg_desc desc = {
            .initial_pages = pages, .segments = segs, .segment_count = n, .name = name};
        int e = 0;
        out->img = sbx_memimg_create(&desc, &e);
        if (out->img) {
            out->imaged = true;
        } else {
            /* Out of memory or fds: copy this time, try imaging again later. */
            *cacheable = false;
        }
    }
    /* Not fitting is permanent: every instance copies and traps. */
    free(segs);
    return 0;
}

/* The module's cache, built on first use. Thread-safe: concurrent first
 * instantiations may each build one; the first to publish wins. */
static struct seg_cache *get_cache(const struct sbx_compiled *c, struct seg_cache *tmp)
{
    /* The cache is logically mutable state of a shared, otherwise immutable
     * compiled module. */
    struct sbx_compiled *mc = (struct sbx_compiled *)c;
    struct seg_cache *cur = __atomic_load_n((struct seg_cache **)&mc->rt_cache, __ATOMIC_ACQUIRE);
    if (cur) return cur;
    bool cacheable;
    build_cache(c, tmp, &cacheable);
    if (!cacheable) return tmp;
    struct seg_cache *mine = malloc(sizeof(*mine));
    if (!mine) return tmp;
    *mine = *tmp;
    struct seg_cache *expected = NULL;
    if (__atomic_compare_exchange_n((struct seg_cache **)&mc->rt_cache, &expected, mine, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return mine;
    sbx_memimg_unref(mine->img);
    free(mine);
    return expected;
}

void sbx_compiled_prepare(const struct sbx_compiled *c)
{
    if (c->m->nmemories == 0 || c->m->nmemory_imports > 0) return;
    struct seg_cache tmp;
    if (get_cache(c, &tmp) == &tmp) sbx_memimg_unref(tmp.img); /* not cacheable now */
}

void sbx_compiled_free_runtime_cache(struct sbx_compiled *c)
{
    if (!c) return;
    struct seg_cache *cache = c->rt_cache;
    c->rt_cache = NULL;
    if (!cache) return;
    sbx_memimg_unref(cache->img);
    free(cache);
}

/* -- Memory ---------------------------------------------------------------- */

int sbx_rt_memory_create(struct sbx_instance *inst, struct sbx_error *err)
{
    const struct sbx_module *m = inst->m;
    if (m->nmemories == 0 || m->nmemory_imports > 0) return 0;
    const struct sbx_limits *lim = &m->memories[0];
    if (!inst->pool) return sbx_fail(err, 0, "cannot allocate memory: no memory pool given");
    if (lim->min > SBX_WASM_MAX_PAGES || (lim->has_max && lim->max > SBX_WASM_MAX_PAGES))
        return sbx_fail(err, 0, "memory size must be at most 65536 pages (4GiB)");

    struct seg_cache tmp;
    struct seg_cache *cache = get_cache(inst->c, &tmp);
    uint32_t cap = inst->memory_limit_pages;
    if (cap && lim->min > cap) {
        if (cache == &tmp) sbx_memimg_unref(tmp.img);
        return sbx_fail(err, 0, "memory limit: %llu pages needed, %u allowed",
                        (unsigned long long)lim->min, cap);
    }
    uint32_t max = lim->has_max ? (uint32_t)lim->max : SBX_POOL_NO_MAX;
    struct sbx_pool_request req = {
        .module = (uint64_t)(uintptr_t)inst->c,
        .memory_index = 0,
        .image = cache->imaged ? cache->img : NULL,
        .initial_pages = (uint32_t)lim->min,
        .max_pages = cap && cap < max ? cap : max,
    };
    int e = 0;
    struct sbx_pool_slot *slot = sbx_pool_instantiate(inst->pool, &req, &e);
    bool imaged = cache->imaged;
    if (cache == &tmp) sbx_memimg_unref(tmp.img); /* the slot holds its own reference */
    if (!slot)
        return sbx_fail(err, 0, "cannot allocate memory of %u pages: %s", req.initial_pages,
                        sbx_pool_strerror(e));
    inst->slot = slot;
    struct sbx_memory *mem = &inst->own_memory;
    mem->base = sbx_pool_slot_base(slot);
    mem->pages = sbx_pool_slot_pages(slot);
    mem->size = (uint64_t)mem->pages * SBX_WASM_PAGE_SIZE;
    mem->max_pages = sbx_pool_slot_max_pages(slot);
    mem->slot = slot;
    mem->unbounded = !lim->has_max;
    mem->declared_max = lim->has_max ? (uint32_t)lim->max : 0;
    inst->data_imaged = imaged;
    return 0;
}

/* -- Element segments -------------------------------------------------------- */

int sbx_rt_elems_evaluate(struct sbx_instance *inst, struct sbx_error *err)
{
    const struct sbx_module *m = inst->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct sbx_elem_segment *s = &m->elems[i];
        struct sbx_elem_state *st = &inst->elems[i];
        st->refs = calloc(s->count ? s->count : 1, sizeof(void *));
        if (!st->refs) return sbx_fail(err, 0, "out of memory");
        for (uint32_t j = 0; j < s->count; j++) {
            union sbx_global_cell v;
            if (sbx_const_eval(inst, &s->items[j], &v))
                return sbx_fail(err, 0, "element segment %u: bad constant expression", i);
            st->refs[j] = v.ref;
        }
        st->count = s->count;
    }
    return 0;
}

static void elem_drop(struct sbx_elem_state *st)
{
    free(st->refs);
    st->refs = NULL;
    st->count = 0;
}

int sbx_rt_elems_apply(struct sbx_instance *inst)
{
    const struct sbx_module *m = inst->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct sbx_elem_segment *s = &m->elems[i];
        struct sbx_elem_state *st = &inst->elems[i];
        if (s->mode == SBX_SEG_PASSIVE) continue;
        if (s->mode == SBX_SEG_ACTIVE) {
            union sbx_global_cell off;
            if (sbx_const_eval(inst, &s->offset, &off) || s->table >= m->ntables)
                return SBX_TRAP_OOB_TABLE;
            struct sbx_table *t = inst->tables[s->table];
            /* table.init with n = count: bounds checked in 64 bits, even
             * when the segment is empty. */
            if ((uint64_t)off.i32 + st->count > t->size) return SBX_TRAP_OOB_TABLE;
            if (st->count) memcpy(&t->elems[off.i32], st->refs, st->count * sizeof(void *));
        }
        elem_drop(st);
    }
    return 0;
}

/* -- Data segments ----------------------------------------------------------- */

int sbx_rt_datas_apply(struct sbx_instance *inst)
{
    const struct sbx_module *m = inst->m;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct sbx_data_segment *d = &m->datas[i];
        struct sbx_data_state *st = &inst->datas[i];
        if (d->mode != SBX_SEG_ACTIVE) {
            st->dropped = false;
            continue;
        }
        if (!inst->data_imaged) {
            union sbx_global_cell off;
            struct sbx_memory *mem = inst->vm.memory;
            if (!mem || sbx_const_eval(inst, &d->offset, &off)) return SBX_TRAP_OOB_MEMORY;
            if ((uint64_t)off.i32 + d->len > mem->size) return SBX_TRAP_OOB_MEMORY;
            if (d->len) memcpy(mem->base + off.i32, d->bytes, d->len);
        }
        st->dropped = true;
    }
    return 0;
}
