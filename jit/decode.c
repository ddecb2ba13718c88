/* The binary decoder: turns module bytes into struct sbx_module, enforcing
 * every rule of the binary format (section order and sizes, LEB128 bounds,
 * UTF-8 names, encodings of types, segments and instructions). Validation
 * rules (types, indices) are left to validate_*.c, in the same order the
 * reference interpreter applies them, so error messages match the spec tests.
 *
 * Allocation is bounded by the input: a vector of n items is allocated with
 * at most min(n, bytes left) entries, since every item takes at least one
 * byte, and the limits of jit/limits.h cap everything else. */
#include <stdlib.h>

#include "jit/decode_internal.h"
#include "jit/insn.h"
#include "jit/limits.h"

enum {
    SEC_CUSTOM = 0,
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
    SEC_ELEMENT = 9,
    SEC_CODE = 10,
    SEC_DATA = 11,
    SEC_DATA_COUNT = 12,
};

/* Position of each section id in the required order (data count sits between
 * element and code). */
static const uint8_t section_rank[13] = {
    [SEC_TYPE] = 1,    [SEC_IMPORT] = 2,      [SEC_FUNCTION] = 3, [SEC_TABLE] = 4,
    [SEC_MEMORY] = 5,  [SEC_GLOBAL] = 6,      [SEC_EXPORT] = 7,   [SEC_START] = 8,
    [SEC_ELEMENT] = 9, [SEC_DATA_COUNT] = 10, [SEC_CODE] = 11,    [SEC_DATA] = 12,
};

struct decoder {
    struct sbx_reader r;
    struct sbx_module *m;
    uint32_t ndefined_funcs; /* from the function section */
    uint32_t ncodes;         /* from the code section */
    uint8_t *nest;           /* scratch stack for scanning instructions */
};

/* Reads a vector count and allocates room for it (see the header comment). */
static int read_count(struct decoder *d, uint32_t *n, uint32_t limit, const char *what,
                      size_t item_size, void **out)
{
    size_t at = rd_offset(&d->r);
    if (rd_u32(&d->r, n)) return -1;
    size_t left = rd_remaining(&d->r);
    if (*n > limit && *n <= left)
        return sbx_fail(d->r.err, at, "too many %s (limit %u)", what, limit);
    /* One spare entry: an item may be written to just before the read that
     * fails for lack of input. */
    size_t alloc = (*n < left ? *n : left) + 1;
    *out = calloc(alloc, item_size);
    if (!*out) return sbx_fail(d->r.err, at, "out of memory");
    return 0;
}

static int read_limits(struct sbx_reader *r, struct sbx_limits *lim)
{
    uint64_t flag;
    uint32_t v;
    if (rd_uleb(r, 1, &flag)) return -1;
    if (rd_u32(r, &v)) return -1;
    lim->min = v;
    lim->has_max = flag == 1;
    if (lim->has_max) {
        if (rd_u32(r, &v)) return -1;
        lim->max = v;
    }
    return 0;
}

static int read_tabletype(struct sbx_reader *r, struct sbx_tabletype *t)
{
    return sbx_read_reftype(r, &t->elem_type) || read_limits(r, &t->limits) ? -1 : 0;
}

static int read_globaltype(struct sbx_reader *r, struct sbx_globaltype *g)
{
    uint8_t mut;
    if (sbx_read_valtype(r, &g->type) || rd_u8(r, &mut)) return -1;
    if (mut > 1) return sbx_fail(r->err, rd_offset(r) - 1, "malformed mutability");
    g->mutable_ = mut == 1;
    return 0;
}

/* -- Instruction sequences -- */

/* Scans instructions up to the `end` that closes the outermost level,
 * checking only the binary format. If `ce` is non-NULL the sequence is a
 * constant expression and its first instruction is recorded there. */
static int scan_expr(struct decoder *d, struct sbx_const_expr *ce)
{
    struct sbx_reader *r = &d->r;
    uint32_t depth = 1;
    d->nest[0] = 0; /* 0: block/loop/body, 1: if before else, 2: if after else */
    if (ce) {
        ce->offset = rd_offset(r);
        ce->ninstrs = 0;
        ce->nonconst = false;
    }
    for (;;) {
        struct sbx_insn in;
        if (sbx_insn_read(r, &in)) return -1;
        switch (in.op) {
        case SBX_OP_BLOCK:
        case SBX_OP_LOOP:
        case SBX_OP_IF:
            if (depth >= SBX_MAX_NESTING)
                return sbx_fail(r->err, in.offset, "blocks nested too deeply (limit %u)",
                                SBX_MAX_NESTING);
            d->nest[depth++] = in.op == SBX_OP_IF;
            break;
        case SBX_OP_ELSE:
            if (d->nest[depth - 1] != 1) return sbx_fail(r->err, in.offset, "END opcode expected");
            d->nest[depth - 1] = 2;
            break;
        case SBX_OP_END:
            if (--depth == 0) return 0;
            break;
        default: break;
        }
        if (!ce) continue;
        if (ce->ninstrs++ > 0) {
            if (!sbx_is_const_op(in.op)) ce->nonconst = true;
            continue;
        }
        if (!sbx_is_const_op(in.op)) {
            ce->nonconst = true;
            continue;
        }
        sbx_const_from_insn(&in, ce);
    }
}

/* -- Sections -- */

static int decode_types(struct decoder *d)
{
    struct sbx_module *m = d->m;
    if (read_count(d, &m->ntypes, SBX_MAX_TYPES, "types", sizeof(*m->types), (void **)&m->types))
        return -1;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        struct sbx_functype *ft = &m->types[i];
        /* The form is a signed LEB128 (-0x20), so a padded encoding is
         * "integer representation too long", not a bad form. */
        int64_t form;
        if (rd_sleb(&d->r, 7, &form)) return -1;
        if (form != -0x20)
            return sbx_fail(d->r.err, rd_offset(&d->r) - 1, "malformed function type");
        uint8_t t;
        size_t at = rd_offset(&d->r);
        if (rd_len(&d->r, &ft->nparams)) return -1;
        if (ft->nparams > SBX_MAX_PARAMS)
            return sbx_fail(d->r.err, at, "too many parameters (limit %u)", SBX_MAX_PARAMS);
        ft->params = d->r.p;
        for (uint32_t k = 0; k < ft->nparams; k++)
            if (sbx_read_valtype(&d->r, &t)) return -1;
        at = rd_offset(&d->r);
        if (rd_len(&d->r, &ft->nresults)) return -1;
        if (ft->nresults > SBX_MAX_RESULTS)
            return sbx_fail(d->r.err, at, "too many results (limit %u)", SBX_MAX_RESULTS);
        ft->results = d->r.p;
        for (uint32_t k = 0; k < ft->nresults; k++)
            if (sbx_read_valtype(&d->r, &t)) return -1;
    }
    return 0;
}

static int decode_imports(struct decoder *d)
{
    struct sbx_module *m = d->m;
    if (read_count(d, &m->nimports, SBX_MAX_IMPORTS, "imports", sizeof(*m->imports),
                   (void **)&m->imports))
        return -1;
    for (uint32_t i = 0; i < m->nimports; i++) {
        struct sbx_import *im = &m->imports[i];
        im->offset = rd_offset(&d->r);
        if (rd_name(&d->r, &im->module.ptr, &im->module.len) ||
            rd_name(&d->r, &im->name.ptr, &im->name.len) || rd_u8(&d->r, &im->kind))
            return -1;
        switch (im->kind) {
        case SBX_EXTERN_FUNC:
            if (rd_u32(&d->r, &im->u.func_type)) return -1;
            m->nfunc_imports++;
            break;
        case SBX_EXTERN_TABLE:
            if (read_tabletype(&d->r, &im->u.table)) return -1;
            m->ntable_imports++;
            break;
        case SBX_EXTERN_MEMORY:
            if (read_limits(&d->r, &im->u.memory)) return -1;
            m->nmemory_imports++;
            break;
        case SBX_EXTERN_GLOBAL:
            if (read_globaltype(&d->r, &im->u.global)) return -1;
            m->nglobal_imports++;
            break;
        default: return sbx_fail(d->r.err, rd_offset(&d->r) - 1, "malformed import kind");
        }
    }
    return 0;
}

static int decode_functions(struct decoder *d)
{
    struct sbx_module *m = d->m;
    uint32_t *types;
    if (read_count(d, &d->ndefined_funcs, SBX_MAX_FUNCTIONS, "functions", sizeof(uint32_t),
                   (void **)&types))
        return -1;
    /* Stash the defined functions' type indices; finish() merges them with
     * the imported ones into m->func_types. */
    m->func_types = types;
    for (uint32_t i = 0; i < d->ndefined_funcs; i++)
        if (rd_u32(&d->r, &types[i])) return -1;
    return 0;
}

static int decode_tables(struct decoder *d)
{
    struct sbx_module *m = d->m;
    uint32_t n;
    struct sbx_tabletype *t;
    if (read_count(d, &n, SBX_MAX_TABLES, "tables", sizeof(*t), (void **)&t)) return -1;
    m->ntables = n;
    m->tables = t;
    for (uint32_t i = 0; i < n; i++)
        if (read_tabletype(&d->r, &t[i])) return -1;
    return 0;
}

static int decode_memories(struct decoder *d)
{
    struct sbx_module *m = d->m;
    uint32_t n;
    struct sbx_limits *l;
    if (read_count(d, &n, SBX_MAX_TABLES, "memories", sizeof(*l), (void **)&l)) return -1;
    m->nmemories = n;
    m->memories = l;
    for (uint32_t i = 0; i < n; i++)
        if (read_limits(&d->r, &l[i])) return -1;
    return 0;
}

static int decode_globals(struct decoder *d)
{
    struct sbx_module *m = d->m;
    uint32_t n;
    struct sbx_global *g;
    if (read_count(d, &n, SBX_MAX_GLOBALS, "globals", sizeof(*g), (void **)&g)) return -1;
    m->nglobals = n;
    m->globals = g;
    for (uint32_t i = 0; i < n; i++)
        if (read_globaltype(&d->r, &g[i].type) || scan_expr(d, &g[i].init)) return -1;
    return 0;
}

static int decode_exports(struct decoder *d)
{
    struct sbx_module *m = d->m;
    if (read_count(d, &m->nexports, SBX_MAX_EXPORTS, "exports", sizeof(*m->exports),
                   (void **)&m->exports))
        return -1;
    for (uint32_t i = 0; i < m->nexports; i++) {
        struct sbx_export *e = &m->exports[i];
        e->offset = rd_offset(&d->r);
        if (rd_name(&d->r, &e->name.ptr, &e->name.len) || rd_u8(&d->r, &e->kind)) return -1;
        if (e->kind > SBX_EXTERN_GLOBAL)
            return sbx_fail(d->r.err, rd_offset(&d->r) - 1, "malformed export kind");
        if (rd_u32(&d->r, &e->index)) return -1;
    }
    return 0;
}

static int decode_elem_items(struct decoder *d, struct sbx_elem_segment *s, bool exprs)
{
    if (read_count(d, &s->count, SBX_MAX_TABLE_SIZE, "elements", sizeof(*s->items),
                   (void **)&s->items))
        return -1;
    for (uint32_t i = 0; i < s->count; i++) {
        struct sbx_const_expr *ce = &s->items[i];
        if (exprs) {
            if (scan_expr(d, ce)) return -1;
            continue;
        }
        ce->offset = rd_offset(&d->r);
        ce->kind = SBX_CONST_REF_FUNC;
        ce->type = SBX_FUNCREF;
        ce->ninstrs = 1;
        if (rd_u32(&d->r, &ce->u.index)) return -1;
    }
    return 0;
}

static int decode_elems(struct decoder *d)
{
    struct sbx_module *m = d->m;
    uint32_t n;
    if (read_count(d, &n, SBX_MAX_ELEM_SEGMENTS, "element segments", sizeof(*m->elems),
                   (void **)&m->elems))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        struct sbx_elem_segment *s = &m->elems[i];
        m->nelems = i + 1; /* counts what sbx_module_free must release */
        size_t at = rd_offset(&d->r);
        uint32_t flags;
        if (rd_u32(&d->r, &flags)) return -1;
        if (flags > 7) return sbx_fail(d->r.err, at, "malformed elements segment kind");
        /* Bit 0: passive or declarative; bit 1: explicit table index (active)
         * or declarative (passive); bit 2: items are expressions. */
        bool exprs = flags & 4;
        s->elem_type = SBX_FUNCREF;
        if (flags & 1) {
            s->mode = (flags & 2) ? SBX_SEG_DECLARATIVE : SBX_SEG_PASSIVE;
        } else {
            s->mode = SBX_SEG_ACTIVE;
            if ((flags & 2) && rd_u32(&d->r, &s->table)) return -1;
            if (scan_expr(d, &s->offset)) return -1;
        }
        if (flags & 3) { /* an element kind or reference type follows */
            if (exprs) {
                if (sbx_read_reftype(&d->r, &s->elem_type)) return -1;
            } else {
                uint8_t kind;
                if (rd_u8(&d->r, &kind)) return -1;
                if (kind != 0)
                    return sbx_fail(d->r.err, rd_offset(&d->r) - 1, "malformed element kind");
            }
        }
        if (decode_elem_items(d, s, exprs)) return -1;
    }
    return 0;
}

static int decode_locals(struct decoder *d, struct sbx_func_body *b)
{
    size_t at = rd_offset(&d->r);
    if (read_count(d, &b->nlocal_runs, UINT32_MAX, "local runs", sizeof(*b->local_runs),
                   (void **)&b->local_runs))
        return -1;
    uint64_t total = 0;
    for (uint32_t i = 0; i < b->nlocal_runs; i++) {
        if (rd_u32(&d->r, &b->local_runs[i].count) ||
            sbx_read_valtype(&d->r, &b->local_runs[i].type))
            return -1;
        total += b->local_runs[i].count;
    }
    if (total >= ((uint64_t)1 << 32)) return sbx_fail(d->r.err, at, "too many locals");
    if (total > SBX_MAX_LOCALS)
        return sbx_fail(d->r.err, at, "too many locals (limit %u)", SBX_MAX_LOCALS);
    b->nlocals = (uint32_t)total;
    return 0;
}

static int decode_code(struct decoder *d)
{
    struct sbx_module *m = d->m;
    if (read_count(d, &d->ncodes, SBX_MAX_FUNCTIONS, "function bodies", sizeof(*m->bodies),
                   (void **)&m->bodies))
        return -1;
    for (uint32_t i = 0; i < d->ncodes; i++) {
        struct sbx_func_body *b = &m->bodies[i];
        m->nbodies = i + 1; /* counts what sbx_module_free must release */
        b->offset = rd_offset(&d->r);
        uint32_t size;
        if (rd_len(&d->r, &size)) return -1;
        if (size > SBX_MAX_BODY_SIZE)
            return sbx_fail(d->r.err, b->offset, "function body too large (limit %u bytes)",
                            SBX_MAX_BODY_SIZE);
        const uint8_t *end = d->r.p + size;
        if (decode_locals(d, b)) return -1;
        b->code = d->r.p;
        if (scan_expr(d, NULL)) {
            d->r.err->func_index = (int64_t)m->nfunc_imports + i;
            return -1;
        }
        b->code_end = d->r.p;
        if (d->r.p != end) return sbx_fail(d->r.err, b->offset, "section size mismatch");
    }
    return 0;
}

static int decode_datas(struct decoder *d)
{
    struct sbx_module *m = d->m;
    if (read_count(d, &m->ndatas, SBX_MAX_DATA_SEGMENTS, "data segments", sizeof(*m->datas),
                   (void **)&m->datas))
        return -1;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        struct sbx_data_segment *s = &m->datas[i];
        size_t at = rd_offset(&d->r);
        uint32_t flags;
        if (rd_u32(&d->r, &flags)) return -1;
        if (flags > 2) return sbx_fail(d->r.err, at, "malformed data segment kind");
        s->mode = flags == 1 ? SBX_SEG_PASSIVE : SBX_SEG_ACTIVE;
        if (flags == 2 && rd_u32(&d->r, &s->memory)) return -1;
        if (flags != 1 && scan_expr(d, &s->offset)) return -1;
        if (rd_len(&d->r, &s->len) || rd_bytes(&d->r, s->len, &s->bytes)) return -1;
    }
    return 0;
}

static int decode_custom(struct decoder *d, struct sbx_section_info *si, const uint8_t *end)
{
    /* rd_len allows a size one LEB128 longer than what is left (the
     * reference's rule); skipping the payload must not pass the end. */
    if (si->size > rd_remaining(&d->r)) return sbx_fail(d->r.err, rd_offset(&d->r), SBX_ERR_EOF);
    if (rd_name(&d->r, &si->custom_name.ptr, &si->custom_name.len)) return -1;
    if (d->r.p > end) return sbx_fail(d->r.err, rd_offset(&d->r), SBX_ERR_EOF);
    if (si->custom_name.len == 4 && !memcmp(si->custom_name.ptr, "name", 4)) {
        d->m->name_section = d->r.p;
        d->m->name_section_size = (size_t)(end - d->r.p);
    }
    d->r.p = end;
    return 0;
}

static int decode_section(struct decoder *d, uint8_t id, struct sbx_section_info *si)
{
    const uint8_t *end = d->r.p + si->size;
    switch (id) {
    case SEC_CUSTOM: return decode_custom(d, si, end);
    case SEC_TYPE: return decode_types(d);
    case SEC_IMPORT: return decode_imports(d);
    case SEC_FUNCTION: return decode_functions(d);
    case SEC_TABLE: return decode_tables(d);
    case SEC_MEMORY: return decode_memories(d);
    case SEC_GLOBAL: return decode_globals(d);
    case SEC_EXPORT: return decode_exports(d);
    case SEC_START: d->m->has_start = true; return rd_u32(&d->r, &d->m->start);
    case SEC_ELEMENT: return decode_elems(d);
    case SEC_DATA_COUNT: d->m->has_data_count = true; return rd_u32(&d->r, &d->m->data_count);
    case SEC_CODE: return decode_code(d);
    case SEC_DATA: return decode_datas(d);
    }
    return sbx_fail(d->r.err, si->offset, "malformed section id");
}

/* Merges imported and defined entities into single index spaces. */
static int finish(struct decoder *d)
{
    struct sbx_module *m = d->m;
    struct sbx_reader *r = &d->r;
    size_t at = rd_offset(r);
    if (d->ndefined_funcs != d->ncodes)
        return sbx_fail(r->err, at, "function and code section have inconsistent lengths");
    if (m->has_data_count && m->data_count != m->ndatas)
        return sbx_fail(r->err, at, "data count and data section have inconsistent lengths");
    if ((uint64_t)m->nfunc_imports + d->ndefined_funcs > SBX_MAX_FUNCTIONS)
        return sbx_fail(r->err, at, "too many functions (limit %u)", SBX_MAX_FUNCTIONS);
    if ((uint64_t)m->nglobal_imports + m->nglobals > SBX_MAX_GLOBALS)
        return sbx_fail(r->err, at, "too many globals (limit %u)", SBX_MAX_GLOBALS);
    if ((uint64_t)m->ntable_imports + m->ntables > SBX_MAX_TABLES)
        return sbx_fail(r->err, at, "too many tables (limit %u)", SBX_MAX_TABLES);

    uint32_t *defined_types = m->func_types;
    struct sbx_tabletype *defined_tables = m->tables;
    struct sbx_limits *defined_mems = m->memories;
    struct sbx_global *defined_globals = m->globals;
    uint32_t nt = m->ntables, nm = m->nmemories, ng = m->nglobals;

    m->nfuncs = m->nfunc_imports + d->ndefined_funcs;
    m->ntables = m->ntable_imports + nt;
    m->nmemories = m->nmemory_imports + nm;
    m->nglobals = m->nglobal_imports + ng;
    m->func_types = calloc(m->nfuncs + 1, sizeof(uint32_t));
    m->tables = calloc(m->ntables + 1, sizeof(*m->tables));
    m->memories = calloc(m->nmemories + 1, sizeof(*m->memories));
    m->globals = calloc(m->nglobals + 1, sizeof(*m->globals));
    m->func_declared = calloc(m->nfuncs + 1, 1);
    int rc = 0;
    if (!m->func_types || !m->tables || !m->memories || !m->globals || !m->func_declared) {
        rc = sbx_fail(r->err, at, "out of memory");
        goto out;
    }
    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct sbx_import *im = &m->imports[i];
        switch (im->kind) {
        case SBX_EXTERN_FUNC: m->func_types[fi++] = im->u.func_type; break;
        case SBX_EXTERN_TABLE: m->tables[ti++] = im->u.table; break;
        case SBX_EXTERN_MEMORY: m->memories[mi++] = im->u.memory; break;
        case SBX_EXTERN_GLOBAL: m->globals[gi++].type = im->u.global; break;
        }
    }
    if (defined_types)
        memcpy(m->func_types + fi, defined_types, d->ndefined_funcs * sizeof(uint32_t));
    if (defined_tables) memcpy(m->tables + ti, defined_tables, nt * sizeof(*m->tables));
    if (defined_mems) memcpy(m->memories + mi, defined_mems, nm * sizeof(*m->memories));
    if (defined_globals) memcpy(m->globals + gi, defined_globals, ng * sizeof(*m->globals));
out:
    free(defined_types);
    free(defined_tables);
    free(defined_mems);
    free(defined_globals);
    return rc;
}

static int decode_module(struct decoder *d)
{
    struct sbx_reader *r = &d->r;
    struct sbx_module *m = d->m;
    const uint8_t *b;
    if (rd_bytes(r, 4, &b)) return -1;
    if (memcmp(b, "\0asm", 4)) return sbx_fail(r->err, 0, "magic header not detected");
    if (rd_bytes(r, 4, &b)) return -1;
    if (memcmp(b, "\1\0\0\0", 4)) return sbx_fail(r->err, 4, "unknown binary version");

    m->sections = calloc(SBX_MAX_SECTIONS, sizeof(*m->sections));
    if (!m->sections) return sbx_fail(r->err, 0, "out of memory");
    unsigned last_rank = 0;
    while (r->p < r->end) {
        size_t at = rd_offset(r);
        uint8_t id = *r->p;
        if (id > SEC_DATA_COUNT) return sbx_fail(r->err, at, "malformed section id");
        if (id != SEC_CUSTOM) {
            if (section_rank[id] <= last_rank)
                return sbx_fail(r->err, at, "unexpected content after last section");
            last_rank = section_rank[id];
        }
        if (m->nsections >= SBX_MAX_SECTIONS)
            return sbx_fail(r->err, at, "too many sections (limit %u)", SBX_MAX_SECTIONS);
        struct sbx_section_info *si = &m->sections[m->nsections++];
        r->p++;
        uint32_t size;
        if (rd_len(r, &size)) return -1;
        si->id = id;
        si->offset = rd_offset(r);
        si->size = size;
        if (decode_section(d, id, si)) return -1;
        if (rd_offset(r) != si->offset + size)
            return sbx_fail(r->err, si->offset, "section size mismatch");
    }
    return finish(d);
}

struct sbx_module *sbx_module_decode(const uint8_t *bytes, size_t len, struct sbx_error *err)
{
    if (len > SBX_MAX_MODULE_SIZE) {
        sbx_fail(err, 0, "module too large (limit %u bytes)", SBX_MAX_MODULE_SIZE);
        return NULL;
    }
    struct decoder d = {
        .r = {.base = bytes, .p = bytes, .end = bytes + len, .err = err},
        .m = calloc(1, sizeof(struct sbx_module)),
        .nest = malloc(SBX_MAX_NESTING),
    };
    if (!d.m || !d.nest) {
        free(d.m);
        free(d.nest);
        sbx_fail(err, 0, "out of memory");
        return NULL;
    }
    d.m->bytes = bytes;
    d.m->size = len;
    int rc = decode_module(&d);
    free(d.nest);
    if (rc) {
        /* finish() did not run: m->func_types still holds the defined types
         * only, which sbx_module_free releases like any other array. */
        sbx_module_free(d.m);
        return NULL;
    }
    return d.m;
}

void sbx_module_free(struct sbx_module *m)
{
    if (!m) return;
    free(m->types);
    free(m->imports);
    free(m->func_types);
    free(m->tables);
    free(m->memories);
    free(m->globals);
    free(m->exports);
    for (uint32_t i = 0; m->elems && i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    for (uint32_t i = 0; m->bodies && i < m->nbodies; i++)
        free(m->bodies[i].local_runs);
    free(m->bodies);
    free(m->func_declared);
    free(m->sections);
    free(m);
}
