/* Calls: direct calls to functions of this module (call rel32), calls to
 * imports and call_indirect through function references (which may switch
 * instance), with the argument/result protocol of jit/vmctx.h. */
#include <stddef.h>

#include "jit/compile.h"
#include "jit/vmctx_offsets.h"

/* Moves the top `np` values into the outgoing area and everything else on
 * the stack to its slot: every register is caller-saved. */
static void prepare_call(struct compiler *c, uint32_t np, uint32_t nr)
{
    uint32_t base = c->depth - np;
    for (uint32_t d = 0; d < base; d++) {
        struct value *v = &c->stack[d];
        if (v->loc == VLOC_STACK) continue;
        store_value(c, v, spill_slot(c, d));
        release(c, v);
        v->loc = VLOC_STACK;
    }
    for (uint32_t i = 0; i < np; i++) {
        struct value *v = &c->stack[base + i];
        store_value(c, v, x64_mem(X64_RSP, 8 * (int32_t)i));
        release(c, v);
    }
    c->depth = base;
    save_local_regs(c);
    uint32_t slots = np > nr ? np : nr;
    if (slots > c->max_out) c->max_out = slots;
}

static int push_results(struct compiler *c, const struct sbx_functype *ft)
{
    restore_local_regs(c); /* touches neither rax nor xmm0 */
    if (ft->nresults == 1) {
        uint8_t t = ft->results[0];
        return push_reg(c, t, is_float(t) ? X64_XMM0 : X64_RAX);
    }
    for (uint32_t i = 0; i < ft->nresults; i++) {
        x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(X64_RSP, 8 * (int32_t)i));
        x64_mov_mr(c->cb, 64, spill_slot(c, c->depth), REG_SCRATCH);
        if (push_stack(c, ft->results[i])) return -1;
    }
    return 0;
}

/* With the funcref in r11: switch to its instance and call it. */
static void call_funcref_in_scratch(struct compiler *c)
{
    x64_mov_rm(c->cb, 64, REG_VMCTX, x64_mem(REG_SCRATCH, offsetof(struct sbx_funcref, vmctx)));
    x64_call_m(c->cb, x64_mem(REG_SCRATCH, offsetof(struct sbx_funcref, code)));
    reload_context(c);
}

int compile_call(struct compiler *c, const struct sbx_insn *in)
{
    const struct sbx_module *m = c->m;
    if (in->op == SBX_OP_CALL) {
        uint32_t f = in->u.index;
        const struct sbx_functype *ft = sbx_module_func_type(m, f);
        prepare_call(c, ft->nparams, ft->nresults);
        if (f < m->nfunc_imports) {
            x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_VMCTX, SBX_VMCTX_FUNCS));
            x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_SCRATCH, 8 * (int32_t)f));
            call_funcref_in_scratch(c);
        } else {
            x64_call(c->cb, c->func_labels[f - m->nfunc_imports]);
        }
        return push_results(c, ft);
    }

    /* call_indirect: bounds, null and signature checks, then the call. */
    const struct sbx_functype *ft = &m->types[in->u.call_indirect.type_index];
    uint32_t table = in->u.call_indirect.table;
    enum x64_reg idx = pop_gpr(c);
    /* The index must survive prepare_call's stores, which use only r11. */
    prepare_call(c, ft->nparams, ft->nresults);
    struct codebuf *cb = c->cb;
    x64_mov_rm(cb, 64, REG_SCRATCH, x64_mem(REG_VMCTX, SBX_VMCTX_TABLES));
    x64_mov_rm(cb, 64, REG_SCRATCH, x64_mem(REG_SCRATCH, 8 * (int32_t)table));
    x64_alu_rm(cb, X64_CMP, 32, idx, x64_mem(REG_SCRATCH, offsetof(struct sbx_table, size)));
    x64_jcc(cb, X64_CC_AE, trap_label(c, SBX_TRAP_UNDEFINED_ELEMENT));
    x64_mov_rm(cb, 64, REG_SCRATCH, x64_mem(REG_SCRATCH, offsetof(struct sbx_table, elems)));
    x64_mov_rm(cb, 64, REG_SCRATCH, x64_mem_idx(REG_SCRATCH, idx, 8, 0));
    x64_alu_rr(cb, X64_TEST, 64, REG_SCRATCH, REG_SCRATCH);
    x64_jcc(cb, X64_CC_E, null_elem_label(c, idx)); /* "uninitialized element N" */
    free_gpr(c, idx);
    x64_alu_mi(cb, X64_CMP, 32, x64_mem(REG_SCRATCH, offsetof(struct sbx_funcref, type_id)),
               (int32_t)c->out->type_ids[in->u.call_indirect.type_index]);
    x64_jcc(cb, X64_CC_NE, trap_label(c, SBX_TRAP_INDIRECT_TYPE_MISMATCH));
    call_funcref_in_scratch(c);
    return push_results(c, ft);
}
