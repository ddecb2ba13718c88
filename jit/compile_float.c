/* Floating-point instructions on SSE scalar registers: constants,
 * arithmetic, min/max with the wasm rules for NaN and signed zeros,
 * rounding (SSE4.1 roundss/roundsd), sign operations as bit masks, and
 * comparisons that are false for unordered operands (except ne). */
#include "jit/compile.h"

struct fops {
    enum x64_sse add, sub, mul, div, min, max, sqrt, ucomi, andp, andnp, orp, xorp, mov;
    uint64_t sign;
};

static const struct fops f32ops = {X64_ADDSS, X64_SUBSS,  X64_MULSS,   X64_DIVSS,  X64_MINSS,
                                   X64_MAXSS, X64_SQRTSS, X64_UCOMISS, X64_ANDPS,  X64_ANDNPS,
                                   X64_ORPS,  X64_XORPS,  X64_MOVAPS,  0x80000000u};
static const struct fops f64ops = {
    X64_ADDSD,   X64_SUBSD, X64_MULSD,  X64_DIVSD, X64_MINSD, X64_MAXSD,  X64_SQRTSD,
    X64_UCOMISD, X64_ANDPD, X64_ANDNPD, X64_ORPD,  X64_XORPD, X64_MOVAPD, 0x8000000000000000ull};

/* xmm15 = the mask `bits` (in the low lane). */
static void load_mask(struct compiler *c, uint64_t bits)
{
    x64_mov_ri(c->cb, 64, REG_SCRATCH, (int64_t)bits);
    x64_movd_xr(c->cb, 64, XMM_SCRATCH, REG_SCRATCH);
}

static int binary(struct compiler *c, uint8_t type, enum x64_sse op)
{
    bool b_owned;
    enum x64_xmm b = read_xmm(c, peek(c, 0), &b_owned); /* only read */
    c->depth--;
    enum x64_xmm a = pop_xmm(c);
    x64_sse_rr(c->cb, op, a, b);
    if (b_owned) free_xmm(c, b);
    return push_reg(c, type, a);
}

/* min/max: a NaN operand gives a NaN; min(-0, +0) is -0 and max is +0
 * (x86 minss/maxss return the second operand in both cases). */
static int minmax(struct compiler *c, uint8_t type, const struct fops *f, bool is_min)
{
    enum x64_xmm b = pop_xmm(c);
    enum x64_xmm a = pop_xmm(c);
    cb_label nan = cb_new_label(c->cb), normal = cb_new_label(c->cb), done = cb_new_label(c->cb);
    x64_sse_rr(c->cb, f->ucomi, a, b);
    x64_jcc8(c->cb, X64_CC_P, nan);
    x64_jcc8(c->cb, X64_CC_NE, normal);
    /* Equal: only the signs of zeros can differ. */
    x64_sse_rr(c->cb, is_min ? f->orp : f->andp, a, b);
    x64_jmp8(c->cb, done);
    cb_bind(c->cb, normal);
    x64_sse_rr(c->cb, is_min ? f->min : f->max, a, b);
    x64_jmp8(c->cb, done);
    cb_bind(c->cb, nan);
    x64_sse_rr(c->cb, f->add, a, b); /* propagates a quiet NaN */
    cb_bind(c->cb, done);
    free_xmm(c, b);
    return push_reg(c, type, a);
}

static int sign_op(struct compiler *c, uint8_t type, const struct fops *f, unsigned which)
{
    enum x64_xmm a;
    switch (which) {
    case 0: /* abs */
        a = pop_xmm(c);
        load_mask(c, ~f->sign & (type == SBX_F32 ? 0xffffffffu : UINT64_MAX));
        x64_sse_rr(c->cb, f->andp, a, XMM_SCRATCH);
        return push_reg(c, type, a);
    case 1: /* neg */
        a = pop_xmm(c);
        load_mask(c, f->sign);
        x64_sse_rr(c->cb, f->xorp, a, XMM_SCRATCH);
        return push_reg(c, type, a);
    default: { /* copysign a, b: (a & ~sign) | (b & sign) */
        enum x64_xmm b = pop_xmm(c);
        a = pop_xmm(c);
        load_mask(c, f->sign);
        x64_sse_rr(c->cb, f->andp, b, XMM_SCRATCH);
        x64_sse_rr(c->cb, f->andnp, XMM_SCRATCH, a);
        x64_sse_rr(c->cb, f->orp, XMM_SCRATCH, b);
        x64_sse_rr(c->cb, f->mov, a, XMM_SCRATCH);
        free_xmm(c, b);
        return push_reg(c, type, a);
    }
    }
}

static int unary(struct compiler *c, uint8_t type, const struct fops *f, int round_mode)
{
    enum x64_xmm a = pop_xmm(c);
    if (round_mode < 0)
        x64_sse_rr(c->cb, f->sqrt, a, a);
    else if (type == SBX_F32)
        x64_roundss(c->cb, a, a, (uint8_t)(round_mode | X64_ROUND_INEXACT_OFF));
    else
        x64_roundsd(c->cb, a, a, (uint8_t)(round_mode | X64_ROUND_INEXACT_OFF));
    return push_reg(c, type, a);
}

/* eq/ne need the parity flag too: unordered sets ZF as well. lt/le are
 * computed as gt/ge with swapped operands, which are false when unordered. */
static int compare(struct compiler *c, const struct fops *f, unsigned rel)
{
    enum x64_xmm b = pop_xmm(c);
    enum x64_xmm a = pop_xmm(c);
    enum x64_reg r = alloc_gpr(c);
    switch (rel) {
    case 0: /* eq */
    case 1: /* ne */
        x64_sse_rr(c->cb, f->ucomi, a, b);
        x64_setcc(c->cb, rel == 0 ? X64_CC_E : X64_CC_NE, r);
        x64_setcc(c->cb, rel == 0 ? X64_CC_NP : X64_CC_P, REG_SCRATCH);
        x64_movzx_rr(c->cb, 32, 8, r, r);
        x64_movzx_rr(c->cb, 32, 8, REG_SCRATCH, REG_SCRATCH);
        x64_alu_rr(c->cb, rel == 0 ? X64_AND : X64_OR, 32, r, REG_SCRATCH);
        break;
    case 2: /* lt */
    case 4: /* le */
        x64_sse_rr(c->cb, f->ucomi, b, a);
        x64_setcc(c->cb, rel == 2 ? X64_CC_A : X64_CC_AE, r);
        x64_movzx_rr(c->cb, 32, 8, r, r);
        break;
    default: /* 3 gt, 5 ge */
        x64_sse_rr(c->cb, f->ucomi, a, b);
        x64_setcc(c->cb, rel == 3 ? X64_CC_A : X64_CC_AE, r);
        x64_movzx_rr(c->cb, 32, 8, r, r);
        break;
    }
    free_xmm(c, a);
    free_xmm(c, b);
    return push_reg(c, SBX_I32, r);
}

int compile_float(struct compiler *c, const struct sbx_insn *in)
{
    unsigned op = in->op;
    switch (op) {
    case SBX_OP_F32_CONST: return push_const(c, SBX_F32, in->u.f32);
    case SBX_OP_F64_CONST: return push_const(c, SBX_F64, in->u.f64);
    }
    if (op >= SBX_OP_F32_EQ && op <= SBX_OP_F32_GE) return compare(c, &f32ops, op - SBX_OP_F32_EQ);
    if (op >= SBX_OP_F64_EQ && op <= SBX_OP_F64_GE) return compare(c, &f64ops, op - SBX_OP_F64_EQ);
    bool is32 = op >= SBX_OP_F32_ABS && op <= SBX_OP_F32_COPYSIGN;
    uint8_t t = is32 ? SBX_F32 : SBX_F64;
    const struct fops *f = is32 ? &f32ops : &f64ops;
    unsigned k = op - (is32 ? SBX_OP_F32_ABS : SBX_OP_F64_ABS);
    /* abs neg ceil floor trunc nearest sqrt add sub mul div min max copysign */
    switch (k) {
    case 0: return sign_op(c, t, f, 0);
    case 1: return sign_op(c, t, f, 1);
    case 2: return unary(c, t, f, X64_ROUND_UP);
    case 3: return unary(c, t, f, X64_ROUND_DOWN);
    case 4: return unary(c, t, f, X64_ROUND_TRUNC);
    case 5: return unary(c, t, f, X64_ROUND_NEAREST);
    case 6: return unary(c, t, f, -1);
    case 7: return binary(c, t, f->add);
    case 8: return binary(c, t, f->sub);
    case 9: return binary(c, t, f->mul);
    case 10: return binary(c, t, f->div);
    case 11: return minmax(c, t, f, true);
    case 12: return minmax(c, t, f, false);
    case 13: return sign_op(c, t, f, 2);
    }
    return cc_fail(c, "internal error: float opcode %#x", op);
}
