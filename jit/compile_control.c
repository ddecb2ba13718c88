/* Control flow: blocks, loops, if/else, branches, br_table, return and
 * unreachable. Merge points use the canonical-slot protocol of compile.h:
 * a branch leaves its label's values in the slots of depths
 * [target height, target height + arity). */
#include <stdlib.h>

#include "jit/compile.h"

/* After `test r, r` of a popped condition: a flags value meaning "r != 0". */
static void push_flags_after_test(struct compiler *c)
{
    struct value *v = &c->stack[c->depth++];
    v->loc = VLOC_FLAGS;
    v->type = SBX_I32;
    v->cc = X64_CC_NE;
}

int push_cframe(struct compiler *c, uint16_t op, const uint8_t *params, uint32_t np,
                const uint8_t *results, uint32_t nr)
{
    if (c->nctrl == c->ctrl_cap) {
        uint32_t cap = c->ctrl_cap ? c->ctrl_cap * 2 : 16;
        struct cframe *p = realloc(c->ctrl, cap * sizeof(*p));
        if (!p) return cc_fail(c, "out of memory");
        c->ctrl = p, c->ctrl_cap = cap;
    }
    c->ctrl[c->nctrl++] = (struct cframe){
        .op = op,
        .height = c->depth - np,
        .params = params,
        .nparams = np,
        .results = results,
        .nresults = nr,
        .label = cb_new_label(c->cb),
        .else_label = CB_NO_LABEL,
        .entry_reachable = c->reachable,
    };
    return 0;
}

static void block_signature(struct compiler *c, const struct sbx_insn *in, const uint8_t **params,
                            uint32_t *np, const uint8_t **results, uint32_t *nr)
{
    *np = *nr = 0;
    *params = *results = NULL;
    if (in->u.block.kind == SBX_BT_VALTYPE) {
        *results = &sbx_valtype_list[in->u.block.valtype];
        *nr = 1;
    } else if (in->u.block.kind == SBX_BT_INDEX) {
        const struct sbx_functype *ft = &c->m->types[in->u.block.index];
        *params = ft->params, *np = ft->nparams;
        *results = ft->results, *nr = ft->nresults;
    }
}

/* Copies slot `from` to slot `to` (both depths). */
static void copy_slot(struct compiler *c, uint32_t from, uint32_t to)
{
    if (from == to) return;
    x64_mov_rm(c->cb, 64, REG_SCRATCH, spill_slot(c, from));
    x64_mov_mr(c->cb, 64, spill_slot(c, to), REG_SCRATCH);
}

/* Leaves the top `arity` values in the slots of depths [height, ...). Safe
 * in ascending order: a destination is never above its source. */
static void move_to_label(struct compiler *c, uint32_t height, uint32_t arity)
{
    for (uint32_t i = 0; i < arity; i++) {
        uint32_t src = c->depth - arity + i;
        store_value(c, &c->stack[src], spill_slot(c, height + i));
    }
}

/* Resets the stack to `height` followed by `n` spilled values of `types`. */
static int reset_stack(struct compiler *c, uint32_t height, const uint8_t *types, uint32_t n)
{
    for (uint32_t d = height; d < c->depth; d++)
        release(c, &c->stack[d]);
    c->depth = height;
    for (uint32_t i = 0; i < n; i++)
        if (push_stack(c, types[i])) return -1;
    return 0;
}

static int branch(struct compiler *c, uint32_t label_depth)
{
    struct cframe *t = &c->ctrl[c->nctrl - 1 - label_depth];
    if (t->op == 0) return emit_return(c);
    uint32_t arity = t->op == SBX_OP_LOOP ? t->nparams : t->nresults;
    move_to_label(c, t->height, arity);
    if (t->op != SBX_OP_LOOP) t->reachable_end = true;
    x64_jmp(c->cb, t->label);
    return 0;
}

/* Pops a branch condition and returns the condition code that means
 * "true": a fused comparison's, or NE after testing the value. Only moves
 * (which keep the flags) may follow before the jump. */
static enum x64_cc pop_condition(struct compiler *c)
{
    struct value *v = peek(c, 0);
    if (v->loc == VLOC_FLAGS) {
        c->depth--;
        return (enum x64_cc)v->cc;
    }
    enum x64_reg cond = pop_gpr(c);
    x64_alu_rr(c->cb, X64_TEST, 32, cond, cond);
    free_gpr(c, cond);
    return X64_CC_NE;
}

static int compile_br_if(struct compiler *c, uint32_t label_depth)
{
    /* Spill before the condition's test: spilling never changes flags, but
     * loading a value to test might need registers the spill frees. */
    struct value *top = peek(c, 0);
    if (top->loc != VLOC_FLAGS) {
        enum x64_reg r = pop_gpr(c);
        spill_all(c);
        x64_alu_rr(c->cb, X64_TEST, 32, r, r);
        free_gpr(c, r);
        push_flags_after_test(c);
    } else {
        struct value flags = pop_value(c);
        spill_all(c);
        c->stack[c->depth++] = flags;
    }
    enum x64_cc cc = pop_condition(c);
    struct cframe *t = &c->ctrl[c->nctrl - 1 - label_depth];
    uint32_t arity = t->op == SBX_OP_LOOP ? t->nparams : t->nresults;
    if (t->op != 0 && (arity == 0 || t->height + arity == c->depth)) {
        if (t->op != SBX_OP_LOOP) t->reachable_end = true;
        x64_jcc(c->cb, cc, t->label);
        return 0;
    }
    cb_label skip = cb_new_label(c->cb);
    x64_jcc(c->cb, x64_cc_invert(cc), skip);
    if (t->op == 0) {
        if (emit_return(c)) return -1;
    } else {
        for (uint32_t i = 0; i < arity; i++)
            copy_slot(c, c->depth - arity + i, t->height + i);
        if (t->op != SBX_OP_LOOP) t->reachable_end = true;
        x64_jmp(c->cb, t->label);
    }
    cb_bind(c->cb, skip);
    return 0;
}

static int add_brt_fixup(struct compiler *c, size_t table_pos, size_t base_pos, cb_label target)
{
    if (c->nbrt == c->brt_cap) {
        uint32_t cap = c->brt_cap ? c->brt_cap * 2 : 64;
        struct br_table_fixup *p = realloc(c->brt, cap * sizeof(*p));
        if (!p) return cc_fail(c, "out of memory");
        c->brt = p, c->brt_cap = cap;
    }
    c->brt[c->nbrt++] = (struct br_table_fixup){table_pos, base_pos, target};
    return 0;
}

static int compile_br_table(struct compiler *c, const struct sbx_insn *in)
{
    enum x64_reg idx = pop_gpr(c);
    spill_all(c);
    uint32_t n = in->u.br_table.count;
    struct sbx_reader r = {.base = c->m->bytes,
                           .p = in->u.br_table.targets,
                           .end = c->m->bytes + c->m->size,
                           .err = c->err};
    uint32_t *labels = malloc((n + 1) * sizeof(uint32_t));
    cb_label *stubs = malloc((n + 1) * sizeof(cb_label));
    /* The stub of each label depth, once made; and whether it is emitted.
     * Indexed by depth (validation keeps each below nctrl), so that a
     * table of many entries costs linear time, not quadratic. */
    cb_label *stub_of_depth = malloc(c->nctrl * sizeof(cb_label));
    bool *emitted = calloc(c->nctrl, sizeof(bool));
    if (!labels || !stubs || !stub_of_depth || !emitted) {
        free(labels);
        free(stubs);
        free(stub_of_depth);
        free(emitted);
        return cc_fail(c, "out of memory");
    }
    for (uint32_t d = 0; d < c->nctrl; d++)
        stub_of_depth[d] = CB_NO_LABEL;
    for (uint32_t i = 0; i <= n; i++)
        rd_u32(&r, &labels[i]);
    /* One stub per distinct label depth; a branch that moves no values to a
     * block or loop jumps to the label itself. */
    for (uint32_t i = 0; i <= n; i++) {
        struct cframe *t = &c->ctrl[c->nctrl - 1 - labels[i]];
        uint32_t arity = t->op == SBX_OP_LOOP ? t->nparams : t->nresults;
        if (t->op != 0 && (arity == 0 || t->height + arity == c->depth)) {
            if (t->op != SBX_OP_LOOP) t->reachable_end = true;
            stubs[i] = t->label;
            continue;
        }
        if (stub_of_depth[labels[i]] == CB_NO_LABEL) stub_of_depth[labels[i]] = cb_new_label(c->cb);
        stubs[i] = stub_of_depth[labels[i]];
    }
    /* cmp idx, n; jae default; jump through a table of rel32 offsets. */
    x64_alu_ri(c->cb, X64_CMP, 32, idx, (int32_t)n);
    x64_jcc(c->cb, X64_CC_AE, stubs[n]);
    cb_label table = cb_new_label(c->cb);
    x64_lea_label(c->cb, REG_SCRATCH, table);
    x64_movsx_rm(c->cb, 64, 32, idx, x64_mem_idx(REG_SCRATCH, idx, 4, 0));
    x64_alu_rr(c->cb, X64_ADD, 64, idx, REG_SCRATCH);
    x64_jmp_r(c->cb, idx);
    free_gpr(c, idx);
    x64_align_nop(c->cb, 4);
    cb_bind(c->cb, table);
    size_t base = cb_pos(c->cb);
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        uint32_t zero = 0;
        size_t pos = cb_pos(c->cb);
        cb_put(c->cb, &zero, 4);
        rc = add_brt_fixup(c, pos, base, stubs[i]);
    }
    /* The stubs: move values to the target's slots and jump. */
    for (uint32_t i = 0; i <= n && !rc; i++) {
        struct cframe *t = &c->ctrl[c->nctrl - 1 - labels[i]];
        if (emitted[labels[i]] || stubs[i] == t->label) continue; /* done, or none of its own */
        emitted[labels[i]] = true;
        cb_bind(c->cb, stubs[i]);
        if (t->op == 0) {
            rc = emit_return(c);
            continue;
        }
        uint32_t arity = t->op == SBX_OP_LOOP ? t->nparams : t->nresults;
        for (uint32_t k = 0; k < arity; k++)
            copy_slot(c, c->depth - arity + k, t->height + k);
        if (t->op != SBX_OP_LOOP) t->reachable_end = true;
        x64_jmp(c->cb, t->label);
    }
    free(labels);
    free(stubs);
    free(stub_of_depth);
    free(emitted);
    c->reachable = false;
    return rc;
}

int emit_return(struct compiler *c)
{
    const struct sbx_functype *ft = c->ft;
    if (ft->nresults == 1) {
        struct value *v = peek(c, 0);
        if (is_float(v->type))
            load_xmm(c, v, X64_XMM0);
        else
            load_gpr(c, v, X64_RAX);
    } else {
        for (uint32_t i = 0; i < ft->nresults; i++) {
            struct value *v = &c->stack[c->depth - ft->nresults + i];
            store_value(c, v, x64_mem(X64_RBP, 16 + 8 * (int32_t)i));
        }
    }
    x64_mov_rr(c->cb, 64, X64_RSP, X64_RBP);
    x64_pop(c->cb, X64_RBP);
    x64_ret(c->cb);
    return 0;
}

static int compile_end(struct compiler *c)
{
    struct cframe f = c->ctrl[--c->nctrl];
    if (f.op == 0) {
        if (c->reachable && emit_return(c)) return -1;
        return 0;
    }
    if (f.op == SBX_OP_LOOP) {
        /* Only fallthrough reaches a loop's end: nothing to merge. */
        if (!c->reachable) return reset_stack(c, f.height, f.results, f.nresults);
        return 0;
    }
    if (c->reachable) spill_all(c);
    bool merges = f.reachable_end || (f.op == SBX_OP_IF && f.entry_reachable);
    if (f.op == SBX_OP_IF) {
        cb_bind(c->cb, f.else_label);
        /* The false path passes the params through; they are in place. */
        if (f.nparams) c->save_used -= f.nparams;
    } else if (f.op == SBX_OP_ELSE && f.nparams) {
        c->save_used -= f.nparams;
    }
    cb_bind(c->cb, f.label);
    c->reachable = c->reachable || merges;
    return reset_stack(c, f.height, f.results, f.nresults);
}

static int compile_else(struct compiler *c)
{
    struct cframe *f = &c->ctrl[c->nctrl - 1];
    if (c->reachable) {
        spill_all(c);
        f->reachable_end = true;
        x64_jmp(c->cb, f->label);
    }
    cb_bind(c->cb, f->else_label);
    f->else_label = CB_NO_LABEL;
    f->op = SBX_OP_ELSE;
    c->reachable = f->entry_reachable;
    if (reset_stack(c, f->height, f->params, f->nparams)) return -1;
    /* Restore the params the then-branch may have overwritten. */
    for (uint32_t i = 0; i < f->nparams; i++) {
        x64_mov_rm(c->cb, 64, REG_SCRATCH,
                   x64_mem(X64_RBP, c->save_base - 8 * (int32_t)(f->save + i)));
        x64_mov_mr(c->cb, 64, spill_slot(c, f->height + i), REG_SCRATCH);
    }
    return 0;
}

int compile_control(struct compiler *c, const struct sbx_insn *in)
{
    const uint8_t *params, *results;
    uint32_t np, nr;
    switch (in->op) {
    case SBX_OP_UNREACHABLE:
        x64_jmp(c->cb, trap_label(c, SBX_TRAP_UNREACHABLE));
        c->reachable = false;
        return 0;
    case SBX_OP_NOP: return 0;
    case SBX_OP_BLOCK:
        block_signature(c, in, &params, &np, &results, &nr);
        spill_all(c);
        return push_cframe(c, SBX_OP_BLOCK, params, np, results, nr);
    case SBX_OP_LOOP:
        block_signature(c, in, &params, &np, &results, &nr);
        spill_all(c);
        if (push_cframe(c, SBX_OP_LOOP, params, np, results, nr)) return -1;
        cb_bind(c->cb, c->ctrl[c->nctrl - 1].label);
        emit_interrupt_checks(c);
        return 0;
    case SBX_OP_IF: {
        block_signature(c, in, &params, &np, &results, &nr);
        enum x64_cc cc;
        if (peek(c, 0)->loc == VLOC_FLAGS) {
            struct value flags = pop_value(c);
            spill_all(c);
            cc = (enum x64_cc)flags.cc;
        } else {
            enum x64_reg cond = pop_gpr(c);
            spill_all(c);
            x64_alu_rr(c->cb, X64_TEST, 32, cond, cond);
            free_gpr(c, cond);
            cc = X64_CC_NE;
        }
        if (push_cframe(c, SBX_OP_IF, params, np, results, nr)) return -1;
        struct cframe *f = &c->ctrl[c->nctrl - 1];
        f->else_label = cb_new_label(c->cb);
        f->save = c->save_used;
        for (uint32_t i = 0; i < np; i++) {
            x64_mov_rm(c->cb, 64, REG_SCRATCH, spill_slot(c, f->height + i));
            x64_mov_mr(c->cb, 64, x64_mem(X64_RBP, c->save_base - 8 * (int32_t)(f->save + i)),
                       REG_SCRATCH);
        }
        c->save_used += np;
        x64_jcc(c->cb, x64_cc_invert(cc), f->else_label);
        return 0;
    }
    case SBX_OP_ELSE: return compile_else(c);
    case SBX_OP_END: return compile_end(c);
    case SBX_OP_BR:
        if (branch(c, in->u.index)) return -1;
        c->reachable = false;
        return 0;
    case SBX_OP_BR_IF: return compile_br_if(c, in->u.index);
    case SBX_OP_BR_TABLE: return compile_br_table(c, in);
    case SBX_OP_RETURN:
        if (emit_return(c)) return -1;
        c->reachable = false;
        return 0;
    }
    return cc_fail(c, "internal error: control opcode %#x", in->op);
}
