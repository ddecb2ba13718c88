/* Instantiation, the spec's algorithm step by step: resolve and check the
 * imports, allocate functions, tables, memory (a memimg pool slot) and
 * globals, evaluate the element segments, write the active segments in
 * order (a failing one traps, earlier writes stay), run the start
 * function. Also teardown, exports, and calls from C. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jit/rt_internal.h"
#include "memimg/pool.h"

/* What vm.epoch points to until the embedder sets one: never reaches a
 * deadline of UINT64_MAX. */
static const volatile uint64_t no_epoch = 0;

/* -- Import matching ---------------------------------------------------------- */

/* The spec's limits subtyping: the provided limits (current size as min)
 * match the declared ones when min >= declared min and, if a maximum is
 * declared, the provided one has a maximum no larger. */
static bool limits_match(uint64_t cur, bool unbounded, uint64_t max, const struct sbx_limits *decl)
{
    if (cur < decl->min) return false;
    if (!decl->has_max) return true;
    return !unbounded && max <= decl->max;
}

/* The declared maximum of a table or memory: declared_max when set, else
 * the effective maximum (see jit/vmctx.h). */
static uint64_t declared_max(uint32_t declared, uint32_t effective)
{
    return declared > effective ? declared : effective;
}

static int link_fail(struct sbx_error *err, const char *what, const struct sbx_import *imp)
{
    return sbx_fail(err, imp->offset, "%s \"%.*s\" \"%.*s\"", what, (int)imp->module.len,
                    imp->module.ptr, (int)imp->name.len, imp->name.ptr);
}

static int resolve_imports(struct sbx_instance *inst, struct sbx_linker *linker,
                           struct sbx_error *err)
{
    const struct sbx_module *m = inst->m;
    uint32_t nf = 0, nt = 0, nmem = 0, ng = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct sbx_import *imp = &m->imports[i];
        const struct sbx_extern *ext = sbx_linker_lookup(linker, imp->module.ptr, imp->module.len,
                                                         imp->name.ptr, imp->name.len);
        if (!ext) return link_fail(err, "unknown import", imp);
        if (ext->kind != imp->kind) return link_fail(err, "incompatible import type", imp);
        switch (imp->kind) {
        case SBX_EXTERN_FUNC: {
            struct sbx_funcref *ref = ext->u.func.ref;
            if (!ref && ext->u.func.host) ref = sbx_host_func_ref(ext->u.func.host);
            if (!ref || ref->type_id != inst->c->type_ids[imp->u.func_type])
                return link_fail(err, "incompatible import type", imp);
            inst->funcs[nf++] = ref;
            break;
        }
        case SBX_EXTERN_TABLE: {
            struct sbx_table *t = ext->u.table;
            if (!t || t->elem_type != imp->u.table.elem_type ||
                !limits_match(t->size, t->unbounded, declared_max(t->declared_max, t->max),
                              &imp->u.table.limits))
                return link_fail(err, "incompatible import type", imp);
            inst->tables[nt++] = t;
            break;
        }
        case SBX_EXTERN_MEMORY: {
            struct sbx_memory *mem = ext->u.memory;
            if (!mem ||
                !limits_match(mem->pages, mem->unbounded,
                              declared_max(mem->declared_max, mem->max_pages), &imp->u.memory))
                return link_fail(err, "incompatible import type", imp);
            if (nmem++ == 0) inst->vm.memory = mem;
            break;
        }
        case SBX_EXTERN_GLOBAL:
            if (!ext->u.global.cell || ext->u.global.type != imp->u.global.type ||
                ext->u.global.mutable_ != imp->u.global.mutable_)
                return link_fail(err, "incompatible import type", imp);
            inst->globals[ng++] = ext->u.global.cell;
            break;
        default: return link_fail(err, "incompatible import type", imp);
        }
    }
    return 0;
}

/* -- Allocation ----------------------------------------------------------------- */

static int alloc_arrays(struct sbx_instance *inst, struct sbx_error *err)
{
    const struct sbx_module *m = inst->m;
    /* +1 everywhere: calloc(0) may return NULL. */
    inst->funcs = calloc(m->nfuncs + 1, sizeof(*inst->funcs));
    inst->own_funcs = calloc(m->nfuncs - m->nfunc_imports + 1, sizeof(*inst->own_funcs));
    inst->tables = calloc(m->ntables + 1, sizeof(*inst->tables));
    inst->own_tables = calloc(m->ntables - m->ntable_imports + 1, sizeof(*inst->own_tables));
    inst->globals = calloc(m->nglobals + 1, sizeof(*inst->globals));
    inst->own_globals = calloc(m->nglobals - m->nglobal_imports + 1, sizeof(*inst->own_globals));
    inst->datas = calloc(m->ndatas + 1, sizeof(*inst->datas));
    inst->elems = calloc(m->nelems + 1, sizeof(*inst->elems));
    if (!inst->funcs || !inst->own_funcs || !inst->tables || !inst->own_tables || !inst->globals ||
        !inst->own_globals || !inst->datas || !inst->elems)
        return sbx_fail(err, 0, "out of memory");
    inst->nown_tables = m->ntables - m->ntable_imports;
    inst->nelem_states = m->nelems;
    return 0;
}

static void define_funcs(struct sbx_instance *inst)
{
    const struct sbx_module *m = inst->m;
    const struct sbx_compiled *c = inst->c;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        struct sbx_funcref *f = &inst->own_funcs[i - m->nfunc_imports];
        f->code = (void *)(c->code + c->funcs[i - m->nfunc_imports].start);
        f->vmctx = &inst->vm;
        f->type_id = c->type_ids[m->func_types[i]];
        f->func_index = i;
        inst->funcs[i] = f;
    }
}

static int define_tables(struct sbx_instance *inst, struct sbx_error *err)
{
    const struct sbx_module *m = inst->m;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const struct sbx_tabletype *tt = &m->tables[i];
        struct sbx_table *t = &inst->own_tables[i - m->ntable_imports];
        inst->tables[i] = t;
        if (tt->limits.min > SBX_RT_MAX_TABLE_ELEMS)
            return sbx_fail(err, 0, "table %u: initial size %llu exceeds the limit of %u elements",
                            i, (unsigned long long)tt->limits.min, SBX_RT_MAX_TABLE_ELEMS);
        t->elems = calloc(tt->limits.min ? tt->limits.min : 1, sizeof(void *));
        if (!t->elems) return sbx_fail(err, 0, "out of memory");
        t->size = (uint32_t)tt->limits.min;
        t->elem_type = tt->elem_type;
        t->unbounded = !tt->limits.has_max;
        t->declared_max = tt->limits.has_max ? (uint32_t)tt->limits.max : 0;
        uint64_t max = tt->limits.has_max ? tt->limits.max : UINT32_MAX;
        t->max = (uint32_t)(max < SBX_RT_MAX_TABLE_ELEMS ? max : SBX_RT_MAX_TABLE_ELEMS);
    }
    return 0;
}

static int define_globals(struct sbx_instance *inst, struct sbx_error *err)
{
    const struct sbx_module *m = inst->m;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        union sbx_global_cell *cell = &inst->own_globals[i - m->nglobal_imports];
        if (sbx_const_eval(inst, &m->globals[i].init, cell))
            return sbx_fail(err, 0, "global %u: bad constant expression", i);
        inst->globals[i] = cell;
    }
    return 0;
}

/* -- Instantiation --------------------------------------------------------------- */

static void fail_trap(struct sbx_error *err, struct sbx_trap *trap, int code)
{
    memset(trap, 0, sizeof(*trap));
    trap->code = code;
    strncpy(trap->message, sbx_trap_message(code), sizeof(trap->message) - 1);
    sbx_fail(err, 0, "%s", trap->message);
}

struct sbx_instance *sbx_instantiate(const struct sbx_compiled *c, struct sbx_linker *linker,
                                     struct sbx_pool *pool, struct sbx_error *err,
                                     struct sbx_trap *trap)
{
    return sbx_instantiate_with(c, linker, pool, NULL, err, trap);
}

int sbx_instance_start(struct sbx_instance *inst, struct sbx_trap *trap)
{
    const struct sbx_module *m = inst->m;
    if (!inst->start_pending) return 0;
    inst->start_pending = false;
    return sbx_invoke(inst->funcs[m->start], sbx_module_func_type(m, m->start), NULL, NULL,
                      inst->stack_size, trap);
}

bool sbx_instance_memory_limited(const struct sbx_instance *inst)
{
    return inst->memory_limited;
}

struct sbx_instance *sbx_instantiate_with(const struct sbx_compiled *c, struct sbx_linker *linker,
                                          struct sbx_pool *pool,
                                          const struct sbx_instance_options *opts,
                                          struct sbx_error *err, struct sbx_trap *trap)
{
    struct sbx_trap local_trap;
    if (!trap) trap = &local_trap;
    memset(trap, 0, sizeof(*trap));
    if (err) err->func_index = -1;
    if (!c) {
        sbx_fail(err, 0, "no compiled module");
        return NULL;
    }
    struct sbx_instance *inst = calloc(1, sizeof(*inst));
    if (!inst) {
        sbx_fail(err, 0, "out of memory");
        return NULL;
    }
    const struct sbx_module *m = c->m;
    inst->c = c;
    inst->m = m;
    inst->pool = pool;
    inst->stack_size = opts && opts->stack_size ? opts->stack_size : SBX_DEFAULT_WASM_STACK;
    if (opts && opts->max_memory_bytes)
        inst->memory_limit_pages = opts->max_memory_bytes / SBX_WASM_PAGE_SIZE > SBX_WASM_MAX_PAGES
                                       ? SBX_WASM_MAX_PAGES
                                       : (uint32_t)(opts->max_memory_bytes / SBX_WASM_PAGE_SIZE);
    inst->type_ids = c->type_ids;

    struct sbx_vmctx *vm = &inst->vm;
    vm->fuel = INT64_MAX; /* unmetered until sbx_instance_set_fuel */
    vm->epoch = &no_epoch;
    vm->epoch_deadline = UINT64_MAX;
    vm->type_ids = c->type_ids;
    vm->instance = inst;

    if (alloc_arrays(inst, err) || resolve_imports(inst, linker, err)) goto fail;
    define_funcs(inst);
    if (define_tables(inst, err) || define_globals(inst, err)) goto fail;
    if (m->nmemory_imports == 0 && m->nmemories > 0) {
        if (sbx_rt_memory_create(inst, err)) goto fail;
        vm->memory = &inst->own_memory;
    }
    if (sbx_rt_elems_evaluate(inst, err)) goto fail;
    vm->tables = inst->tables;
    vm->globals = inst->globals;
    vm->funcs = inst->funcs;
    vm->data_segments = inst->datas;
    vm->elem_segments = inst->elems;

    /* From here a trap may leave this instance's function references in
     * imported tables (element segments written before the failing one),
     * or wherever the start function's callees put them. The spec keeps
     * those functions callable, so such an instance is not freed but handed
     * to the linker, which frees it with itself. */
    int code = sbx_rt_elems_apply(inst);
    if (!code) code = sbx_rt_datas_apply(inst);
    if (code) {
        fail_trap(err, trap, code);
        if (m->ntable_imports > 0) goto adopt;
        goto fail;
    }
    if (m->has_start && opts && opts->defer_start) {
        inst->start_pending = true;
    } else if (m->has_start) {
        if (sbx_invoke(inst->funcs[m->start], sbx_module_func_type(m, m->start), NULL, NULL,
                       inst->stack_size, trap)) {
            sbx_fail(err, 0, "%s", trap->message);
            if (m->nimports > 0) goto adopt;
            goto fail;
        }
    }
    return inst;

adopt:
    sbx_linker_adopt(linker, inst);
    return NULL;
fail:
    sbx_instance_free(inst);
    return NULL;
}

void sbx_instance_free(struct sbx_instance *inst)
{
    if (!inst) return;
    if (inst->slot) sbx_pool_release(inst->pool, inst->slot);
    if (inst->own_tables)
        for (uint32_t i = 0; i < inst->nown_tables; i++)
            free(inst->own_tables[i].elems);
    if (inst->elems)
        for (uint32_t i = 0; i < inst->nelem_states; i++)
            free(inst->elems[i].refs);
    free(inst->funcs);
    free(inst->own_funcs);
    free(inst->tables);
    free(inst->own_tables);
    free(inst->globals);
    free(inst->own_globals);
    free(inst->datas);
    free(inst->elems);
    free(inst);
}

/* -- Exports and calls -------------------------------------------------------------- */

int sbx_instance_export_at(struct sbx_instance *inst, uint32_t index, struct sbx_extern *ext)
{
    const struct sbx_module *m = inst->m;
    if (index >= m->nexports) return -ENOENT;
    const struct sbx_export *x = &m->exports[index];
    memset(ext, 0, sizeof(*ext));
    ext->kind = x->kind;
    switch (x->kind) {
    case SBX_EXTERN_FUNC: ext->u.func.ref = inst->funcs[x->index]; break;
    case SBX_EXTERN_TABLE: ext->u.table = inst->tables[x->index]; break;
    case SBX_EXTERN_MEMORY: ext->u.memory = inst->vm.memory; break;
    case SBX_EXTERN_GLOBAL:
        ext->u.global.cell = inst->globals[x->index];
        ext->u.global.type = m->globals[x->index].type.type;
        ext->u.global.mutable_ = m->globals[x->index].type.mutable_;
        break;
    default: return -ENOENT;
    }
    return 0;
}

int sbx_instance_export(struct sbx_instance *inst, const char *name, struct sbx_extern *ext)
{
    if (!inst || !name) return -ENOENT;
    const struct sbx_export *e = sbx_module_export(inst->m, name);
    return e ? sbx_instance_export_at(inst, (uint32_t)(e - inst->m->exports), ext) : -ENOENT;
}

int sbx_instance_call(struct sbx_instance *inst, uint32_t func_index, const union sbx_val *args,
                      union sbx_val *results, struct sbx_trap *trap)
{
    const struct sbx_module *m = inst->m;
    if (func_index >= m->nfuncs) {
        memset(trap, 0, sizeof(*trap));
        trap->code = SBX_TRAP_HOST;
        strncpy(trap->message, "no such function", sizeof(trap->message) - 1);
        return -1;
    }
    return sbx_invoke(inst->funcs[func_index], sbx_module_func_type(m, func_index), args, results,
                      inst->stack_size, trap);
}

void sbx_instance_set_fuel(struct sbx_instance *inst, int64_t fuel)
{
    inst->vm.fuel = fuel;
}

int64_t sbx_instance_fuel(const struct sbx_instance *inst)
{
    return inst->vm.fuel;
}

void sbx_instance_set_epoch(struct sbx_instance *inst, const volatile uint64_t *epoch,
                            uint64_t deadline)
{
    inst->vm.epoch = epoch ? epoch : &no_epoch;
    inst->vm.epoch_deadline = epoch ? deadline : UINT64_MAX;
}

struct sbx_memory *sbx_instance_memory(struct sbx_instance *inst)
{
    return inst->vm.memory;
}

const struct sbx_module *sbx_instance_module(const struct sbx_instance *inst)
{
    return inst->m;
}
