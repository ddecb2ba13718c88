/* The contract between compiled code and the instance runtime: the layout of
 * the per-instance context (vmctx) that JIT code addresses through a pinned
 * register, and the records it points to (memories, tables, function
 * references, global cells). Offsets are fixed per compiled module, so code
 * compiled once serves every instance of the module.
 *
 * Register conventions of compiled code (x86-64):
 *   r15  vmctx of the running function's instance (preserved across calls
 *        to functions of the same instance; restored from the frame after
 *        calls that may switch instance)
 *   r14  base of memory 0 (reloaded after every call and memory.grow)
 *   rbp  frame pointer; every wasm frame stores its vmctx at [rbp - 8], so
 *        host trampolines and backtraces can walk the rbp chain
 *   rsp  16-byte aligned at every call instruction; prologues compare it
 *        with the thread's stack limit (sbx_stack_limit, read through fs)
 * Every other register is caller-saved between wasm functions.
 *
 * Arguments and results travel in the caller's outgoing area at [rsp] of the
 * call: 8 bytes per value, params from offset 0; a single result comes back
 * in rax (integers, references) or xmm0 (floats), several results are
 * written over the same area from offset 0. */
#ifndef SBX_JIT_VMCTX_H
#define SBX_JIT_VMCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A value as host code passes it across the boundary. i32/f32 live in the
 * low 32 bits; references are pointers (NULL is ref.null). */
union sbx_val {
    uint32_t i32;
    uint64_t i64;
    uint32_t f32; /* bits */
    uint64_t f64; /* bits */
    uint8_t v128[16];
    void *ref;
};

/* A linear memory. JIT code loads `base` into r14. */
struct sbx_memory {
    uint8_t *base;
    uint64_t size; /* accessible bytes (pages * 64 KiB) */
    uint32_t pages;
    uint32_t max_pages; /* effective maximum */
    void *slot;         /* memimg pool slot backing it (runtime-private) */
    /* Added by the runtime (instance.c) for import matching. Zero values
     * (a memory built by hand) mean: max_pages is the declared maximum. */
    uint32_t declared_max; /* if above max_pages (capped by the pool) */
    bool unbounded;        /* declared without a maximum */
};

/* A function reference: what funcref table elements and ref.func produce.
 * Calling one means: r15 = vmctx, call code. For host functions `code` is the
 * host trampoline and `vmctx` points to the host function record. */
struct sbx_funcref {
    void *code;
    void *vmctx;
    uint32_t type_id; /* canonical signature id, for call_indirect */
    uint32_t func_index;
};

/* A table: an array of references (funcref: struct sbx_funcref *;
 * externref: opaque host pointers). */
struct sbx_table {
    void **elems;
    uint32_t size;
    uint32_t max; /* effective maximum */
    uint8_t elem_type;
    /* Added by the runtime for import matching. Zero values (a table built
     * by hand) mean: max is the declared maximum. */
    uint32_t declared_max; /* if above max (capped by the runtime's limit) */
    bool unbounded;        /* declared without a maximum */
};

/* A global's storage cell; imported globals point at the exporter's cell. */
union sbx_global_cell {
    uint32_t i32;
    uint64_t i64;
    uint8_t v128[16];
    void *ref;
};

/* The fixed head of every vmctx. Per-module arrays follow it at offsets the
 * compiler computes (struct sbx_vmctx_layout). */
struct sbx_vmctx {
    int64_t fuel;                   /* remaining fuel, when metering is on */
    const volatile uint64_t *epoch; /* current epoch, when interruption is on */
    uint64_t epoch_deadline;
    struct sbx_memory *memory;       /* memory 0, or NULL */
    struct sbx_table **tables;       /* every table, imported ones included */
    union sbx_global_cell **globals; /* every global's cell */
    struct sbx_funcref **funcs;      /* every function, imports included */
    const uint32_t *type_ids;        /* canonical id of each type index */
    void *instance;                  /* the owning struct sbx_instance */
    void *data_segments;             /* runtime-private: passive data, dropped flags */
    void *elem_segments;             /* runtime-private: passive elems, dropped flags */
};

#define SBX_VMCTX_OFF(field) ((int32_t)offsetof(struct sbx_vmctx, field))

#endif
