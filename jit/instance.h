/* The instance structure, shared by the runtime files of jit/. Compiled code
 * sees only the vmctx (jit/vmctx.h); this is the rest. Internal to jit/. */
#ifndef SBX_JIT_INSTANCE_H
#define SBX_JIT_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "jit/compiled.h"
#include "jit/runtime.h"
#include "jit/vmctx.h"

struct sbx_pool_slot;

struct sbx_data_state {
    bool dropped; /* data.drop ran, or the segment was active */
};

struct sbx_elem_state {
    uint32_t count; /* 0 once dropped (or active, after instantiation) */
    void **refs;    /* evaluated element references */
};

struct sbx_instance {
    const struct sbx_compiled *c; /* first: trap.c reads it through vmctx */
    const struct sbx_module *m;
    struct sbx_vmctx vm;

    struct sbx_memory own_memory; /* memory 0 when defined, not imported */
    struct sbx_pool *pool;
    struct sbx_pool_slot *slot;

    struct sbx_table *own_tables; /* defined tables */
    struct sbx_table **tables;    /* all, imports first */
    union sbx_global_cell *own_globals;
    union sbx_global_cell **globals;
    struct sbx_funcref *own_funcs; /* one per defined function */
    struct sbx_funcref **funcs;    /* all, imports first */
    uint32_t *type_ids;

    struct sbx_data_state *datas;
    struct sbx_elem_state *elems;

    size_t stack_size; /* usable wasm stack for calls into this instance */
    /* The embedder's cap on memory 0 in pages (0: the pool's), and whether
     * memory.grow was refused because of it rather than the module's own
     * maximum (sbx_instance_memory_limited). */
    uint32_t memory_limit_pages;
    bool memory_limited;
    bool start_pending; /* instantiated with defer_start, not started yet */

    /* Added by the runtime (segments.c): memory 0 was mapped from the
     * module's image, which already holds the active data segments. */
    bool data_imaged;
    /* What sbx_instance_free needs, so it never reads the module (which a
     * linker-adopted instance may outlive). */
    uint32_t nown_tables, nelem_states;
};

static inline const struct sbx_compiled *sbx_instance_compiled(const void *inst)
{
    return ((const struct sbx_instance *)inst)->c;
}

/* Calls compiled code or a host function through a funcref; the core of
 * sbx_instance_call and sbx_call_funcref (invoke.c). */
int sbx_invoke(struct sbx_funcref *ref, const struct sbx_functype *type, const union sbx_val *args,
               union sbx_val *results, size_t stack_size, struct sbx_trap *trap);

/* Values to and from the 8-byte slots of the calling convention (i32 and
 * f32 in the low half, zero-extended). host.c. */
void sbx_vals_to_slots(const union sbx_val *vals, uint64_t *slots, const uint8_t *types,
                       uint32_t n);
void sbx_slots_to_vals(const uint64_t *slots, union sbx_val *vals, const uint8_t *types,
                       uint32_t n);

/* True if `ref` is a host function's funcref. */
bool sbx_funcref_is_host(const struct sbx_funcref *ref);

#define SBX_DEFAULT_WASM_STACK (1024 * 1024)

#endif
