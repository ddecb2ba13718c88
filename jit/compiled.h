/* What the compiler produces for a module, as the runtime and the trap
 * handler see it. Internal to jit/. */
#ifndef SBX_JIT_COMPILED_H
#define SBX_JIT_COMPILED_H

#include <stddef.h>
#include <stdint.h>

#include "jit/module.h"
#include "jit/runtime.h"

/* A place in compiled code where a hardware fault means a wasm trap:
 * loads and stores (fault in the guard region: out of bounds memory). */
struct sbx_trap_site {
    uint32_t offset; /* of the faulting instruction, from code start */
    uint8_t code;    /* enum sbx_trap_code */
};

struct sbx_func_range {
    uint32_t start, end; /* code offsets */
};

struct code_memory;

struct sbx_compiled {
    const struct sbx_module *m;
    struct sbx_compile_options opts;
    struct code_memory *code_mem;
    const uint8_t *code; /* read+execute */
    size_t code_size;
    /* Per defined function (index - nfunc_imports): where its code lies. */
    struct sbx_func_range *funcs;
    /* Sorted by offset. */
    struct sbx_trap_site *trap_sites;
    uint32_t ntrap_sites;
    /* Canonical signature id of each type index (see sbx_type_id). */
    uint32_t *type_ids;
    /* The runtime's per-module cache (segments.c: the memory image), set
     * once by the first instantiation; NULL until then. sbx_compiled_free
     * must call sbx_compiled_free_runtime_cache. */
    void *rt_cache;
};

/* Drops what the runtime cached for `c` (its memory image reference). */
void sbx_compiled_free_runtime_cache(struct sbx_compiled *c);

/* Canonical, process-wide id of a function signature: two types get the same
 * id exactly when their params and results are equal. Returns 0 on out of
 * memory (ids start at 1). */
uint32_t sbx_type_id(const struct sbx_functype *ft);

/* The defined function whose code contains `offset`, or -1. */
int64_t sbx_compiled_func_at(const struct sbx_compiled *c, uint32_t offset);

/* The trap code of the fault site at `offset`, or SBX_TRAP_NONE. */
int sbx_compiled_trap_at(const struct sbx_compiled *c, uint32_t offset);

#endif
