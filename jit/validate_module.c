/* Module-level validation: index spaces, limits, constant expressions,
 * segments, start function and exports. The checks run in the reference
 * interpreter's order so that a module with one error reports the message the
 * spec tests expect. Function bodies are checked by validate_code.c. */
#include <stdlib.h>

#include "jit/decode_internal.h"
#include "jit/limits.h"

struct mcheck {
    const struct sbx_module *m;
    struct sbx_error *err;
};

static int check_limits(struct mcheck *c, const struct sbx_limits *l, uint64_t bound,
                        const char *too_big, size_t at)
{
    if (l->min > bound) return sbx_fail(c->err, at, "%s", too_big);
    if (l->has_max && l->max > bound) return sbx_fail(c->err, at, "%s", too_big);
    if (l->has_max && l->min > l->max)
        return sbx_fail(c->err, at, "size minimum must not be greater than maximum");
    return 0;
}

static int check_memory_limits(struct mcheck *c, const struct sbx_limits *l, size_t at)
{
    return check_limits(c, l, SBX_MAX_MEMORY_PAGES,
                        "memory size must be at most 65536 pages (4GiB)", at);
}

static int check_table_limits(struct mcheck *c, const struct sbx_limits *l, size_t at)
{
    return check_limits(c, l, UINT32_MAX, "table size must be at most 2^32-1", at);
}

/* A constant expression producing `expected`. In WebAssembly 2.0 only
 * imported globals are visible to constant expressions. */
static int check_const(struct mcheck *c, const struct sbx_const_expr *ce, uint8_t expected)
{
    const struct sbx_module *m = c->m;
    if (ce->nonconst) return sbx_fail(c->err, ce->offset, "constant expression required");
    if (ce->ninstrs == 0) return sbx_fail(c->err, ce->offset, "type mismatch");
    uint8_t type = ce->type;
    if (ce->kind == SBX_CONST_GLOBAL_GET) {
        if (ce->u.index >= m->nglobal_imports)
            return sbx_fail(c->err, ce->offset, "unknown global %u", ce->u.index);
        if (m->globals[ce->u.index].type.mutable_)
            return sbx_fail(c->err, ce->offset, "constant expression required");
        type = m->globals[ce->u.index].type.type;
    } else if (ce->kind == SBX_CONST_REF_FUNC) {
        if (ce->u.index >= m->nfuncs)
            return sbx_fail(c->err, ce->offset, "unknown function %u", ce->u.index);
    }
    if (ce->ninstrs > 1 || type != expected) return sbx_fail(c->err, ce->offset, "type mismatch");
    return 0;
}

static int check_imports(struct mcheck *c)
{
    const struct sbx_module *m = c->m;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct sbx_import *im = &m->imports[i];
        switch (im->kind) {
        case SBX_EXTERN_FUNC:
            if (im->u.func_type >= m->ntypes)
                return sbx_fail(c->err, im->offset, "unknown type %u", im->u.func_type);
            break;
        case SBX_EXTERN_TABLE:
            if (check_table_limits(c, &im->u.table.limits, im->offset)) return -1;
            break;
        case SBX_EXTERN_MEMORY:
            if (check_memory_limits(c, &im->u.memory, im->offset)) return -1;
            break;
        }
    }
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++)
        if (m->func_types[f] >= m->ntypes)
            return sbx_fail(c->err, m->bodies[f - m->nfunc_imports].offset, "unknown type %u",
                            m->func_types[f]);
    return 0;
}

/* Functions that ref.func may name inside code: those referenced from
 * globals, element segments and exports (the spec's C.refs). */
static void collect_declared(const struct sbx_module *m)
{
    uint8_t *decl = m->func_declared;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        const struct sbx_const_expr *ce = &m->globals[i].init;
        if (ce->kind == SBX_CONST_REF_FUNC && ce->u.index < m->nfuncs) decl[ce->u.index] = 1;
    }
    for (uint32_t i = 0; i < m->nelems; i++)
        for (uint32_t k = 0; k < m->elems[i].count; k++) {
            const struct sbx_const_expr *ce = &m->elems[i].items[k];
            if (ce->kind == SBX_CONST_REF_FUNC && ce->u.index < m->nfuncs) decl[ce->u.index] = 1;
        }
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == SBX_EXTERN_FUNC && m->exports[i].index < m->nfuncs)
            decl[m->exports[i].index] = 1;
}

static int check_elems(struct mcheck *c)
{
    const struct sbx_module *m = c->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct sbx_elem_segment *s = &m->elems[i];
        for (uint32_t k = 0; k < s->count; k++)
            if (check_const(c, &s->items[k], s->elem_type)) return -1;
        if (s->mode != SBX_SEG_ACTIVE) continue;
        if (s->table >= m->ntables)
            return sbx_fail(c->err, s->offset.offset, "unknown table %u", s->table);
        if (check_const(c, &s->offset, SBX_I32)) return -1;
        if (m->tables[s->table].elem_type != s->elem_type)
            return sbx_fail(c->err, s->offset.offset, "type mismatch");
    }
    return 0;
}

static int check_datas(struct mcheck *c)
{
    const struct sbx_module *m = c->m;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct sbx_data_segment *s = &m->datas[i];
        if (s->mode != SBX_SEG_ACTIVE) continue;
        if (s->memory >= m->nmemories)
            return sbx_fail(c->err, s->offset.offset, "unknown memory %u", s->memory);
        if (check_const(c, &s->offset, SBX_I32)) return -1;
    }
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    const struct sbx_export *x = *(const struct sbx_export *const *)a;
    const struct sbx_export *y = *(const struct sbx_export *const *)b;
    if (x->name.len != y->name.len) return x->name.len < y->name.len ? -1 : 1;
    return memcmp(x->name.ptr, y->name.ptr, x->name.len);
}

static int check_exports(struct mcheck *c)
{
    const struct sbx_module *m = c->m;
    static const char *const what[] = {"function", "table", "memory", "global"};
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct sbx_export *e = &m->exports[i];
        uint32_t n = e->kind == SBX_EXTERN_FUNC     ? m->nfuncs
                     : e->kind == SBX_EXTERN_TABLE  ? m->ntables
                     : e->kind == SBX_EXTERN_MEMORY ? m->nmemories
                                                    : m->nglobals;
        if (e->index >= n)
            return sbx_fail(c->err, e->offset, "unknown %s %u", what[e->kind], e->index);
    }
    if (m->nexports < 2) return 0;
    const struct sbx_export **sorted = malloc(m->nexports * sizeof(*sorted));
    if (!sorted) return sbx_fail(c->err, 0, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof(*sorted), name_cmp);
    int rc = 0;
    for (uint32_t i = 1; i < m->nexports && !rc; i++)
        if (!name_cmp(&sorted[i - 1], &sorted[i]))
            rc = sbx_fail(c->err, sorted[i]->offset, "duplicate export name \"%.*s\"",
                          (int)sorted[i]->name.len, sorted[i]->name.ptr);
    free(sorted);
    return rc;
}

/* Where section `id` starts, for errors about entries that have no offset
 * of their own; 0 if absent. */
static size_t section_offset(const struct sbx_module *m, uint8_t id)
{
    for (uint32_t i = 0; i < m->nsections; i++)
        if (m->sections[i].id == id) return m->sections[i].offset;
    return 0;
}

int sbx_module_validate(const struct sbx_module *m, struct sbx_error *err)
{
    struct mcheck c = {.m = m, .err = err};
    if (check_imports(&c)) return -1;
    collect_declared(m);
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
        if (check_const(&c, &m->globals[i].init, m->globals[i].type.type)) return -1;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (check_table_limits(&c, &m->tables[i].limits, section_offset(m, 4))) return -1;
    for (uint32_t i = m->nmemory_imports; i < m->nmemories; i++)
        if (check_memory_limits(&c, &m->memories[i], section_offset(m, 5))) return -1;
    if (check_elems(&c) || check_datas(&c)) return -1;
    struct sbx_body_scratch scratch = {0};
    int rc = 0;
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs && !rc; f++)
        rc = sbx_validate_body(m, f, &scratch, err);
    sbx_body_scratch_free(&scratch);
    if (rc) return -1;
    if (m->has_start) {
        size_t at = section_offset(m, 8);
        if (m->start >= m->nfuncs) return sbx_fail(err, at, "unknown function %u", m->start);
        const struct sbx_functype *ft = sbx_module_func_type(m, m->start);
        if (ft->nparams || ft->nresults) return sbx_fail(err, at, "start function");
    }
    if (check_exports(&c)) return -1;
    if (m->nmemories > 1) return sbx_fail(err, section_offset(m, 5), "multiple memories");
    return 0;
}

const struct sbx_functype *sbx_module_func_type(const struct sbx_module *m, uint32_t func_index)
{
    return &m->types[m->func_types[func_index]];
}

struct sbx_module *sbx_module_load(const uint8_t *bytes, size_t len, struct sbx_error *err)
{
    struct sbx_module *m = sbx_module_decode(bytes, len, err);
    if (!m) return NULL;
    if (sbx_module_validate(m, err)) {
        sbx_module_free(m);
        return NULL;
    }
    return m;
}
