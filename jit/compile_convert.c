/* Conversions: integer width changes and sign extensions, int <-> float,
 * float width changes, reinterpretations. Float-to-integer truncations
 * (trapping and saturating) and u64-to-float go through sbx_rt_convert,
 * which implements their exact range and NaN rules in C. */
#include "jit/compile.h"
#include "jit/libcalls.h"

static int via_libcall(struct compiler *c, unsigned op, uint8_t result)
{
    static const enum x64_reg arg[] = {X64_RSI};
    libcall_prepare(c, 1, arg);
    x64_mov_ri(c->cb, 32, X64_RDI, op);
    emit_libcall(c, (const void *)sbx_rt_convert);
    x64_alu_rr(c->cb, X64_TEST, 32, X64_RDX, X64_RDX);
    x64_jcc(c->cb, X64_CC_NE, trap_label(c, TRAP_DYN_EDX));
    if (is_float(result)) {
        enum x64_xmm x = alloc_xmm(c);
        x64_movd_xr(c->cb, 64, x, X64_RAX);
        return push_reg(c, result, x);
    }
    if (result == SBX_I32) x64_mov_rr(c->cb, 32, X64_RAX, X64_RAX);
    return push_reg(c, result, X64_RAX);
}

static int int_to_float(struct compiler *c, uint8_t result, unsigned srcw)
{
    enum x64_reg r = pop_gpr(c);
    enum x64_xmm x = alloc_xmm(c);
    /* cvtsi2ss only writes the low lane: clear the register first so no
     * stale dependency (or garbage) remains. */
    x64_sse_rr(c->cb, X64_XORPS, x, x);
    if (result == SBX_F32)
        x64_cvtsi2ss(c->cb, srcw, x, r);
    else
        x64_cvtsi2sd(c->cb, srcw, x, r);
    free_gpr(c, r);
    return push_reg(c, result, x);
}

static int int_op(struct compiler *c, uint8_t result, unsigned w, unsigned srcw, bool sign)
{
    enum x64_reg r = pop_gpr(c);
    if (sign)
        x64_movsx_rr(c->cb, w, srcw, r, r);
    else
        x64_mov_rr(c->cb, 32, r, r); /* zero the upper half */
    return push_reg(c, result, r);
}

static int float_op(struct compiler *c, uint8_t result, enum x64_sse op)
{
    enum x64_xmm x = pop_xmm(c);
    x64_sse_rr(c->cb, op, x, x);
    return push_reg(c, result, x);
}

static int to_gpr(struct compiler *c, uint8_t result, unsigned w)
{
    enum x64_xmm x = pop_xmm(c);
    enum x64_reg r = alloc_gpr(c);
    x64_movd_rx(c->cb, w, r, x);
    free_xmm(c, x);
    return push_reg(c, result, r);
}

static int to_xmm(struct compiler *c, uint8_t result, unsigned w)
{
    enum x64_reg r = pop_gpr(c);
    enum x64_xmm x = alloc_xmm(c);
    x64_movd_xr(c->cb, w, x, r);
    free_gpr(c, r);
    return push_reg(c, result, x);
}

int compile_convert(struct compiler *c, const struct sbx_insn *in)
{
    unsigned op = in->op;
    switch (op) {
    case SBX_OP_I32_WRAP_I64: return int_op(c, SBX_I32, 32, 32, false);
    case SBX_OP_I64_EXTEND_I32_S: return int_op(c, SBX_I64, 64, 32, true);
    case SBX_OP_I64_EXTEND_I32_U: return int_op(c, SBX_I64, 64, 32, false);
    case SBX_OP_I32_EXTEND8_S: return int_op(c, SBX_I32, 32, 8, true);
    case SBX_OP_I32_EXTEND16_S: return int_op(c, SBX_I32, 32, 16, true);
    case SBX_OP_I64_EXTEND8_S: return int_op(c, SBX_I64, 64, 8, true);
    case SBX_OP_I64_EXTEND16_S: return int_op(c, SBX_I64, 64, 16, true);
    case SBX_OP_I64_EXTEND32_S: return int_op(c, SBX_I64, 64, 32, true);
    /* An unsigned i32 is a non-negative i64, as i32 registers keep their
     * upper half zero. */
    case SBX_OP_F32_CONVERT_I32_S: return int_to_float(c, SBX_F32, 32);
    case SBX_OP_F32_CONVERT_I32_U: return int_to_float(c, SBX_F32, 64);
    case SBX_OP_F32_CONVERT_I64_S: return int_to_float(c, SBX_F32, 64);
    case SBX_OP_F64_CONVERT_I32_S: return int_to_float(c, SBX_F64, 32);
    case SBX_OP_F64_CONVERT_I32_U: return int_to_float(c, SBX_F64, 64);
    case SBX_OP_F64_CONVERT_I64_S: return int_to_float(c, SBX_F64, 64);
    case SBX_OP_F32_CONVERT_I64_U: return via_libcall(c, op, SBX_F32);
    case SBX_OP_F64_CONVERT_I64_U: return via_libcall(c, op, SBX_F64);
    case SBX_OP_F32_DEMOTE_F64: return float_op(c, SBX_F32, X64_CVTSD2SS);
    case SBX_OP_F64_PROMOTE_F32: return float_op(c, SBX_F64, X64_CVTSS2SD);
    case SBX_OP_I32_REINTERPRET_F32: return to_gpr(c, SBX_I32, 32);
    case SBX_OP_I64_REINTERPRET_F64: return to_gpr(c, SBX_I64, 64);
    case SBX_OP_F32_REINTERPRET_I32: return to_xmm(c, SBX_F32, 32);
    case SBX_OP_F64_REINTERPRET_I64: return to_xmm(c, SBX_F64, 64);
    }
    /* The remaining conversions are truncations to integers. */
    bool to_i32 = op == SBX_OP_I32_TRUNC_F32_S || op == SBX_OP_I32_TRUNC_F32_U ||
                  op == SBX_OP_I32_TRUNC_F64_S || op == SBX_OP_I32_TRUNC_F64_U ||
                  (op >= SBX_OP_I32_TRUNC_SAT_F32_S && op <= SBX_OP_I32_TRUNC_SAT_F64_U);
    return via_libcall(c, op, to_i32 ? SBX_I32 : SBX_I64);
}
