/* drop, select and the reference instructions (ref.null, ref.is_null,
 * ref.func). References are 8-byte pointers; null is 0. */
#include "jit/compile.h"
#include "jit/vmctx_offsets.h"

int compile_parametric(struct compiler *c, const struct sbx_insn *in)
{
    switch (in->op) {
    case SBX_OP_DROP: {
        struct value v = pop_value(c);
        release(c, &v);
        return 0;
    }
    case SBX_OP_SELECT:
    case SBX_OP_SELECT_T: {
        enum x64_reg cond = pop_gpr(c);
        uint8_t type = peek(c, 0)->type;
        if (is_float(type)) {
            enum x64_xmm b = pop_xmm(c);
            enum x64_xmm a = pop_xmm(c);
            cb_label keep = cb_new_label(c->cb);
            x64_alu_rr(c->cb, X64_TEST, 32, cond, cond);
            x64_jcc8(c->cb, X64_CC_NE, keep);
            x64_sse_rr(c->cb, X64_MOVAPS, a, b);
            cb_bind(c->cb, keep);
            free_xmm(c, b);
            free_gpr(c, cond);
            return push_reg(c, type, a);
        }
        enum x64_reg b = pop_gpr(c);
        enum x64_reg a = pop_gpr(c);
        x64_alu_rr(c->cb, X64_TEST, 32, cond, cond);
        x64_cmov_rr(c->cb, X64_CC_E, 64, a, b);
        free_gpr(c, b);
        free_gpr(c, cond);
        return push_reg(c, type, a);
    }
    case SBX_OP_REF_NULL: return push_const(c, in->u.reftype, 0);
    case SBX_OP_REF_IS_NULL: {
        enum x64_reg r = pop_gpr(c);
        x64_alu_rr(c->cb, X64_TEST, 64, r, r);
        x64_setcc(c->cb, X64_CC_E, r);
        x64_movzx_rr(c->cb, 32, 8, r, r);
        return push_reg(c, SBX_I32, r);
    }
    case SBX_OP_REF_FUNC: {
        enum x64_reg r = alloc_gpr(c);
        x64_mov_rm(c->cb, 64, r, x64_mem(REG_VMCTX, SBX_VMCTX_FUNCS));
        x64_mov_rm(c->cb, 64, r, x64_mem(r, 8 * (int32_t)in->u.index));
        return push_reg(c, SBX_FUNCREF, r);
    }
    }
    return cc_fail(c, "internal error: parametric opcode %#x", in->op);
}
