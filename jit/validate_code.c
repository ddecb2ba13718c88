/* Function body validation: the operand-stack / control-stack algorithm of
 * the spec's validation appendix. Operand types are bytes (enum sbx_valtype);
 * 0 stands for the unknown type that appears on the polymorphic stack after
 * `unreachable`, `br`, `br_table` and `return`. Plain numeric, comparison and
 * SIMD instructions are checked from the signature in opcodes.def; the rest
 * have a case each below. */
#include <stdlib.h>

#include "jit/decode_internal.h"
#include "jit/limits.h"

#define UNKNOWN 0

void sbx_body_scratch_free(struct sbx_body_scratch *s)
{
    free(s->vals);
    free(s->ctrls);
    free(s->locals);
}

struct sbx_ctrl_frame {
    uint16_t op; /* block, loop, if, else, or 0 for the function body */
    bool unreachable;
    uint32_t height; /* operand stack height at entry */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
};

struct vstate {
    const struct sbx_module *m;
    struct sbx_error *err;
    size_t at;                  /* offset of the instruction being checked */
    struct sbx_body_scratch *s; /* buffers reused across bodies */
    uint8_t *vals;
    uint32_t nvals, vals_cap;
    struct sbx_ctrl_frame *ctrls;
    uint32_t nctrls, ctrls_cap;
    uint8_t *locals;
    uint32_t nlocals;
};

/* Signature letters of opcodes.def to value types. */
static const uint8_t sig_type[128] = {
    ['i'] = SBX_I32, ['I'] = SBX_I64, ['f'] = SBX_F32, ['F'] = SBX_F64, ['v'] = SBX_V128,
};

static int mismatch(struct vstate *v)
{
    return sbx_fail(v->err, v->at, "type mismatch");
}

static int push(struct vstate *v, uint8_t t)
{
    if (v->nvals == v->vals_cap) {
        uint32_t cap = v->vals_cap ? v->vals_cap * 2 : 64;
        uint8_t *p = realloc(v->vals, cap);
        if (!p) return sbx_fail(v->err, v->at, "out of memory");
        v->vals = p;
        v->vals_cap = cap;
    }
    v->vals[v->nvals++] = t;
    return 0;
}

/* Pops one operand of type `want` (UNKNOWN: any); stores what was popped. */
static int pop(struct vstate *v, uint8_t want, uint8_t *got)
{
    if (got) *got = want; /* defined on every path */
    struct sbx_ctrl_frame *c = &v->ctrls[v->nctrls - 1];
    uint8_t t;
    if (v->nvals == c->height) {
        if (!c->unreachable) return mismatch(v);
        t = UNKNOWN;
    } else {
        t = v->vals[--v->nvals];
        if (t != want && t != UNKNOWN && want != UNKNOWN) return mismatch(v);
    }
    if (got) *got = t == UNKNOWN ? want : t;
    return 0;
}

static int pop_list(struct vstate *v, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;)
        if (pop(v, types[i], NULL)) return -1;
    return 0;
}

static int push_list(struct vstate *v, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (push(v, types[i])) return -1;
    return 0;
}

static int push_ctrl(struct vstate *v, uint16_t op, const uint8_t *params, uint32_t np,
                     const uint8_t *results, uint32_t nr)
{
    if (v->nctrls == v->ctrls_cap) {
        uint32_t cap = v->ctrls_cap ? v->ctrls_cap * 2 : 16;
        struct sbx_ctrl_frame *p = realloc(v->ctrls, cap * sizeof(*p));
        if (!p) return sbx_fail(v->err, v->at, "out of memory");
        v->ctrls = p;
        v->ctrls_cap = cap;
    }
    v->ctrls[v->nctrls++] = (struct sbx_ctrl_frame){
        .op = op,
        .height = v->nvals,
        .params = params,
        .nparams = np,
        .results = results,
        .nresults = nr,
    };
    return push_list(v, params, np);
}

/* Checks the frame's results are exactly what is on its part of the stack. */
static int pop_frame_results(struct vstate *v)
{
    struct sbx_ctrl_frame *c = &v->ctrls[v->nctrls - 1];
    if (pop_list(v, c->results, c->nresults)) return -1;
    if (v->nvals != c->height) return mismatch(v);
    return 0;
}

static void set_unreachable(struct vstate *v)
{
    struct sbx_ctrl_frame *c = &v->ctrls[v->nctrls - 1];
    v->nvals = c->height;
    c->unreachable = true;
}

/* The types a branch to label `depth` must carry. */
static int label_types(struct vstate *v, uint32_t depth, const uint8_t **types, uint32_t *n)
{
    *types = NULL, *n = 0;
    if (depth >= v->nctrls) return sbx_fail(v->err, v->at, "unknown label");
    const struct sbx_ctrl_frame *c = &v->ctrls[v->nctrls - 1 - depth];
    if (c->op == SBX_OP_LOOP) {
        *types = c->params, *n = c->nparams;
    } else {
        *types = c->results, *n = c->nresults;
    }
    return 0;
}

static int block_type(struct vstate *v, const struct sbx_insn *in, const uint8_t **params,
                      uint32_t *np, const uint8_t **results, uint32_t *nr)
{
    *np = *nr = 0;
    *params = *results = NULL;
    switch (in->u.block.kind) {
    case SBX_BT_EMPTY: return 0;
    case SBX_BT_VALTYPE:
        *results = &sbx_valtype_list[in->u.block.valtype];
        *nr = 1;
        return 0;
    default: {
        if (in->u.block.index >= v->m->ntypes)
            return sbx_fail(v->err, v->at, "unknown type %u", in->u.block.index);
        const struct sbx_functype *ft = &v->m->types[in->u.block.index];
        *params = ft->params, *np = ft->nparams;
        *results = ft->results, *nr = ft->nresults;
        return 0;
    }
    }
}

static bool is_ref(uint8_t t)
{
    return t == SBX_FUNCREF || t == SBX_EXTERNREF;
}

/* -- Checks shared by several opcodes -- */

static int need_memory(struct vstate *v, uint32_t index)
{
    if (index >= v->m->nmemories) return sbx_fail(v->err, v->at, "unknown memory %u", index);
    return 0;
}

static int need_table(struct vstate *v, uint32_t index)
{
    if (index >= v->m->ntables) return sbx_fail(v->err, v->at, "unknown table %u", index);
    return 0;
}

/* memory.init and data.drop name a data segment before the data section is
 * decoded, which is why the binary must declare the count up front. */
static int need_data(struct vstate *v, uint32_t index)
{
    uint32_t n = v->m->has_data_count ? v->m->data_count : v->m->ndatas;
    if (index >= n) return sbx_fail(v->err, v->at, "unknown data segment %u", index);
    if (!v->m->has_data_count) return sbx_fail(v->err, v->at, "data count section required");
    return 0;
}

static int need_elem(struct vstate *v, uint32_t index)
{
    if (index >= v->m->nelems) return sbx_fail(v->err, v->at, "unknown elem segment %u", index);
    return 0;
}

static int check_memarg(struct vstate *v, const struct sbx_insn *in)
{
    if (need_memory(v, 0)) return -1;
    if (in->u.memarg.align > sbx_opinfo[in->op].arg)
        return sbx_fail(v->err, v->at, "alignment must not be larger than natural");
    return 0;
}

/* Pops and pushes per the opcodes.def signature. */
static int apply_signature(struct vstate *v, const struct sbx_opinfo *info)
{
    const char *p = info->params;
    if (p[0] != '-') {
        size_t n = strlen(p);
        for (size_t i = n; i-- > 0;)
            if (pop(v, sig_type[(unsigned char)p[i]], NULL)) return -1;
    }
    if (info->results[0] != '-') return push(v, sig_type[(unsigned char)info->results[0]]);
    return 0;
}

/* -- Instructions with their own rules -- */

static int check_control(struct vstate *v, const struct sbx_insn *in, bool *done)
{
    const uint8_t *params, *results, *types;
    uint32_t np, nr, n;
    switch (in->op) {
    case SBX_OP_UNREACHABLE: set_unreachable(v); return 0;
    case SBX_OP_NOP: return 0;
    case SBX_OP_BLOCK:
    case SBX_OP_LOOP:
    case SBX_OP_IF:
        if (block_type(v, in, &params, &np, &results, &nr)) return -1;
        if (in->op == SBX_OP_IF && pop(v, SBX_I32, NULL)) return -1;
        if (pop_list(v, params, np)) return -1;
        return push_ctrl(v, in->op, params, np, results, nr);
    case SBX_OP_ELSE: {
        struct sbx_ctrl_frame *c = &v->ctrls[v->nctrls - 1];
        if (c->op != SBX_OP_IF) return sbx_fail(v->err, v->at, "else without if");
        if (pop_frame_results(v)) return -1;
        c->op = SBX_OP_ELSE;
        c->unreachable = false;
        return push_list(v, c->params, c->nparams);
    }
    case SBX_OP_END: {
        struct sbx_ctrl_frame c = v->ctrls[v->nctrls - 1];
        if (pop_frame_results(v)) return -1;
        /* An `if` without `else` passes its parameters through as results. */
        if (c.op == SBX_OP_IF &&
            (c.nparams != c.nresults || (c.nparams && memcmp(c.params, c.results, c.nparams))))
            return mismatch(v);
        v->nctrls--;
        if (v->nctrls == 0) {
            *done = true;
            return 0;
        }
        return push_list(v, c.results, c.nresults);
    }
    case SBX_OP_BR:
        if (label_types(v, in->u.index, &types, &n) || pop_list(v, types, n)) return -1;
        set_unreachable(v);
        return 0;
    case SBX_OP_BR_IF:
        if (pop(v, SBX_I32, NULL)) return -1;
        if (label_types(v, in->u.index, &types, &n) || pop_list(v, types, n)) return -1;
        return push_list(v, types, n);
    case SBX_OP_BR_TABLE: {
        if (pop(v, SBX_I32, NULL)) return -1;
        /* The decoder already read these labels, so they are in bounds. */
        struct sbx_reader r = {.base = v->m->bytes,
                               .p = in->u.br_table.targets,
                               .end = v->m->bytes + v->m->size,
                               .err = v->err};
        /* Every label must have the default's arity, and the operands must
         * fit each label's types (checked without consuming them). */
        uint32_t labels_left = in->u.br_table.count + 1, def;
        const uint8_t *p = in->u.br_table.targets;
        for (uint32_t i = 0; i < in->u.br_table.count; i++)
            if (rd_u32(&r, &def)) return -1;
        if (rd_u32(&r, &def)) return -1;
        const uint8_t *dtypes;
        uint32_t arity;
        if (label_types(v, def, &dtypes, &arity)) return -1;
        r.p = p;
        while (--labels_left > 0) {
            uint32_t l;
            if (rd_u32(&r, &l) || label_types(v, l, &types, &n)) return -1;
            if (n != arity) return mismatch(v);
            struct sbx_ctrl_frame *c = &v->ctrls[v->nctrls - 1];
            for (uint32_t k = 0; k < n; k++) {
                uint32_t depth = n - 1 - k; /* from the top of the stack */
                if (v->nvals - c->height <= depth) {
                    if (!c->unreachable) return mismatch(v);
                    continue;
                }
                uint8_t t = v->vals[v->nvals - 1 - depth];
                if (t != UNKNOWN && t != types[k]) return mismatch(v);
            }
        }
        if (pop_list(v, dtypes, arity)) return -1;
        set_unreachable(v);
        return 0;
    }
    case SBX_OP_RETURN: {
        const struct sbx_ctrl_frame *f = &v->ctrls[0];
        if (pop_list(v, f->results, f->nresults)) return -1;
        set_unreachable(v);
        return 0;
    }
    }
    return sbx_fail(v->err, v->at, "internal error: opcode %#x", in->op);
}

static int check_call(struct vstate *v, const struct sbx_insn *in)
{
    const struct sbx_module *m = v->m;
    const struct sbx_functype *ft;
    if (in->op == SBX_OP_CALL) {
        if (in->u.index >= m->nfuncs)
            return sbx_fail(v->err, v->at, "unknown function %u", in->u.index);
        ft = sbx_module_func_type(m, in->u.index);
    } else {
        uint32_t table = in->u.call_indirect.table, type = in->u.call_indirect.type_index;
        if (need_table(v, table)) return -1;
        if (m->tables[table].elem_type != SBX_FUNCREF) return mismatch(v);
        if (type >= m->ntypes) return sbx_fail(v->err, v->at, "unknown type %u", type);
        ft = &m->types[type];
        if (pop(v, SBX_I32, NULL)) return -1;
    }
    if (pop_list(v, ft->params, ft->nparams)) return -1;
    return push_list(v, ft->results, ft->nresults);
}

static int check_variable(struct vstate *v, const struct sbx_insn *in)
{
    const struct sbx_module *m = v->m;
    uint32_t x = in->u.index;
    switch (in->op) {
    case SBX_OP_LOCAL_GET:
    case SBX_OP_LOCAL_SET:
    case SBX_OP_LOCAL_TEE: {
        if (x >= v->nlocals) return sbx_fail(v->err, v->at, "unknown local %u", x);
        uint8_t t = v->locals[x];
        if (in->op == SBX_OP_LOCAL_GET) return push(v, t);
        if (pop(v, t, NULL)) return -1;
        return in->op == SBX_OP_LOCAL_TEE ? push(v, t) : 0;
    }
    default: {
        if (x >= m->nglobals) return sbx_fail(v->err, v->at, "unknown global %u", x);
        const struct sbx_globaltype *g = &m->globals[x].type;
        if (in->op == SBX_OP_GLOBAL_GET) return push(v, g->type);
        if (!g->mutable_) return sbx_fail(v->err, v->at, "global is immutable");
        return pop(v, g->type, NULL);
    }
    }
}

static int check_reference(struct vstate *v, const struct sbx_insn *in)
{
    uint8_t t;
    switch (in->op) {
    case SBX_OP_DROP: return pop(v, UNKNOWN, NULL);
    case SBX_OP_SELECT: {
        uint8_t t1, t2;
        if (pop(v, SBX_I32, NULL) || pop(v, UNKNOWN, &t1) || pop(v, UNKNOWN, &t2)) return -1;
        /* Untyped select is for numeric and vector operands only. */
        if (is_ref(t1) || is_ref(t2)) return mismatch(v);
        if (t1 != UNKNOWN && t2 != UNKNOWN && t1 != t2) return mismatch(v);
        return push(v, t1 != UNKNOWN ? t1 : t2);
    }
    case SBX_OP_SELECT_T:
        if (in->u.select_t.count != 1) return sbx_fail(v->err, v->at, "invalid result arity");
        t = in->u.select_t.types[0];
        if (pop(v, SBX_I32, NULL) || pop(v, t, NULL) || pop(v, t, NULL)) return -1;
        return push(v, t);
    case SBX_OP_REF_NULL: return push(v, in->u.reftype);
    case SBX_OP_REF_IS_NULL:
        if (pop(v, UNKNOWN, &t)) return -1;
        if (t != UNKNOWN && !is_ref(t)) return mismatch(v);
        return push(v, SBX_I32);
    case SBX_OP_REF_FUNC:
        if (in->u.index >= v->m->nfuncs)
            return sbx_fail(v->err, v->at, "unknown function %u", in->u.index);
        if (!v->m->func_declared[in->u.index])
            return sbx_fail(v->err, v->at, "undeclared function reference");
        return push(v, SBX_FUNCREF);
    }
    return sbx_fail(v->err, v->at, "internal error: opcode %#x", in->op);
}

static int check_table_op(struct vstate *v, const struct sbx_insn *in)
{
    const struct sbx_module *m = v->m;
    uint8_t et;
    switch (in->op) {
    case SBX_OP_TABLE_GET:
    case SBX_OP_TABLE_SET:
    case SBX_OP_TABLE_GROW:
    case SBX_OP_TABLE_SIZE:
    case SBX_OP_TABLE_FILL:
        if (need_table(v, in->u.index)) return -1;
        et = m->tables[in->u.index].elem_type;
        switch (in->op) {
        case SBX_OP_TABLE_GET: return pop(v, SBX_I32, NULL) || push(v, et);
        case SBX_OP_TABLE_SET: return pop(v, et, NULL) || pop(v, SBX_I32, NULL);
        case SBX_OP_TABLE_GROW:
            return pop(v, SBX_I32, NULL) || pop(v, et, NULL) || push(v, SBX_I32);
        case SBX_OP_TABLE_SIZE: return push(v, SBX_I32);
        default: return pop(v, SBX_I32, NULL) || pop(v, et, NULL) || pop(v, SBX_I32, NULL);
        }
    case SBX_OP_TABLE_INIT:
        if (need_table(v, in->u.pair.b) || need_elem(v, in->u.pair.a)) return -1;
        if (m->tables[in->u.pair.b].elem_type != m->elems[in->u.pair.a].elem_type)
            return mismatch(v);
        break;
    case SBX_OP_ELEM_DROP: return need_elem(v, in->u.index);
    case SBX_OP_TABLE_COPY:
        if (need_table(v, in->u.pair.a) || need_table(v, in->u.pair.b)) return -1;
        if (m->tables[in->u.pair.a].elem_type != m->tables[in->u.pair.b].elem_type)
            return mismatch(v);
        break;
    }
    /* table.init and table.copy: (i32 dst, i32 src, i32 len). */
    return pop(v, SBX_I32, NULL) || pop(v, SBX_I32, NULL) || pop(v, SBX_I32, NULL);
}

static int check_memory_op(struct vstate *v, const struct sbx_insn *in)
{
    switch (in->op) {
    case SBX_OP_MEMORY_SIZE:
    case SBX_OP_MEMORY_GROW:
    case SBX_OP_MEMORY_COPY:
    case SBX_OP_MEMORY_FILL:
        if (need_memory(v, 0)) return -1;
        break;
    case SBX_OP_MEMORY_INIT:
        if (need_memory(v, 0) || need_data(v, in->u.pair.a)) return -1;
        break;
    case SBX_OP_DATA_DROP: return need_data(v, in->u.index);
    }
    return apply_signature(v, &sbx_opinfo[in->op]);
}

static int check_simd_special(struct vstate *v, const struct sbx_insn *in)
{
    const struct sbx_opinfo *info = &sbx_opinfo[in->op];
    switch (info->imm) {
    case IMM_LANE:
        if (in->u.lane >= info->arg) return sbx_fail(v->err, v->at, "invalid lane index");
        break;
    case IMM_MEMARG_LANE:
        if (check_memarg(v, in)) return -1;
        /* Lanes of a load/store-lane op: 16 bytes over the access size. */
        if (in->u.memarg.lane >= (16u >> info->arg))
            return sbx_fail(v->err, v->at, "invalid lane index");
        break;
    case IMM_SHUFFLE:
        for (int i = 0; i < 16; i++)
            if (in->u.bytes[i] >= 32) return sbx_fail(v->err, v->at, "invalid lane index");
        break;
    }
    return apply_signature(v, info);
}

static int check_insn(struct vstate *v, const struct sbx_insn *in, bool *done)
{
    const struct sbx_opinfo *info = &sbx_opinfo[in->op];
    switch (info->imm) {
    case IMM_MEMARG:
        if (check_memarg(v, in)) return -1;
        return apply_signature(v, info);
    case IMM_LANE:
    case IMM_MEMARG_LANE:
    case IMM_SHUFFLE: return check_simd_special(v, in);
    case IMM_MEMIDX:
    case IMM_MEMORY_INIT:
    case IMM_DATA:
    case IMM_MEMORY_COPY: return check_memory_op(v, in);
    case IMM_TABLE:
    case IMM_TABLE_INIT:
    case IMM_ELEM:
    case IMM_TABLE_COPY:
        if (in->op == SBX_OP_TABLE_GET || in->op == SBX_OP_TABLE_SET || in->op >= 0x100)
            return check_table_op(v, in);
        break;
    case IMM_LOCAL:
    case IMM_GLOBAL: return check_variable(v, in);
    case IMM_FUNC:
        if (in->op == SBX_OP_REF_FUNC) return check_reference(v, in);
        return check_call(v, in);
    case IMM_CALL_INDIRECT: return check_call(v, in);
    case IMM_SELECT_T:
    case IMM_REFTYPE: return check_reference(v, in);
    default: break;
    }
    switch (in->op) {
    case SBX_OP_DROP:
    case SBX_OP_SELECT:
    case SBX_OP_REF_IS_NULL: return check_reference(v, in);
    }
    if (info->params[0] == '*') return check_control(v, in, done);
    return apply_signature(v, info);
}

/* Expands parameters and declared locals into one type per local index. */
static int expand_locals(struct vstate *v, const struct sbx_functype *ft,
                         const struct sbx_func_body *b)
{
    uint64_t total = (uint64_t)ft->nparams + b->nlocals;
    if (total > SBX_MAX_LOCALS)
        return sbx_fail(v->err, b->offset, "too many locals (limit %u)", SBX_MAX_LOCALS);
    if (total > v->s->locals_cap || !v->s->locals) {
        uint8_t *p = realloc(v->s->locals, total ? total : 1);
        if (!p) return sbx_fail(v->err, b->offset, "out of memory");
        v->s->locals = p;
        v->s->locals_cap = (uint32_t)(total ? total : 1);
    }
    v->locals = v->s->locals;
    if (ft->nparams) memcpy(v->locals, ft->params, ft->nparams);
    uint32_t k = ft->nparams;
    for (uint32_t i = 0; i < b->nlocal_runs; i++) {
        memset(v->locals + k, b->local_runs[i].type, b->local_runs[i].count);
        k += b->local_runs[i].count;
    }
    v->nlocals = (uint32_t)total;
    return 0;
}

int sbx_validate_body(const struct sbx_module *m, uint32_t func_index,
                      struct sbx_body_scratch *scratch, struct sbx_error *err)
{
    const struct sbx_func_body *b = &m->bodies[func_index - m->nfunc_imports];
    const struct sbx_functype *ft = sbx_module_func_type(m, func_index);
    struct vstate v = {.m = m,
                       .err = err,
                       .at = b->offset,
                       .s = scratch,
                       .vals = scratch->vals,
                       .vals_cap = scratch->vals_cap,
                       .ctrls = scratch->ctrls,
                       .ctrls_cap = scratch->ctrls_cap};
    struct sbx_reader r = {.base = m->bytes, .p = b->code, .end = b->code_end, .err = err};
    int rc = expand_locals(&v, ft, b);
    if (!rc) rc = push_ctrl(&v, 0, NULL, 0, ft->results, ft->nresults);
    bool done = false;
    while (!rc && !done) {
        struct sbx_insn in;
        if (r.p >= r.end) {
            rc = sbx_fail(err, (size_t)(r.p - r.base), SBX_ERR_EOF);
            break;
        }
        rc = sbx_insn_read(&r, &in);
        if (rc) break;
        v.at = in.offset;
        rc = check_insn(&v, &in, &done);
    }
    /* Hand the (possibly grown) buffers back for the next body. */
    scratch->vals = v.vals, scratch->vals_cap = v.vals_cap;
    scratch->ctrls = v.ctrls, scratch->ctrls_cap = v.ctrls_cap;
    if (rc && err) err->func_index = func_index;
    return rc;
}
