/* Integer instructions: constants, arithmetic, bitwise, shifts and rotates,
 * comparisons, bit counts, division with its traps. i32 values in registers
 * always have their upper 32 bits zero (32-bit x86 operations guarantee it),
 * which memory addressing and i64.extend_i32_u rely on. */
#include "jit/compile.h"

static unsigned width(uint8_t type)
{
    return type == SBX_I32 ? 32 : 64;
}

/* The top value as an imm32 operand of a `w`-bit instruction, if it is a
 * constant that fits (64-bit instructions sign-extend their imm32). */
static bool top_imm(struct compiler *c, unsigned w, int32_t *imm)
{
    const struct value *v = peek(c, 0);
    if (v->loc != VLOC_CONST) return false;
    if (w == 64 && (int64_t)v->imm != (int32_t)v->imm) return false;
    *imm = (int32_t)v->imm;
    return true;
}

/* The register a binary operation writes: for `local.get x; ...; op;
 * local.set x` with x in a register, x's register itself (its other
 * references on the stack are copied first); else the left operand, owned. */
static enum x64_reg binop_target(struct compiler *c, bool *in_place)
{
    struct value *l = peek(c, 0);
    *in_place = l->loc == VLOC_LOCAL && next_sets_local(c, (uint32_t)l->imm);
    if (!*in_place) return pop_gpr(c);
    uint32_t x = (uint32_t)l->imm;
    enum x64_reg r = (enum x64_reg)l->reg;
    c->depth--;
    materialize_local_refs(c, x, c->depth);
    return r;
}

static int push_target(struct compiler *c, uint8_t type, enum x64_reg r, bool in_place)
{
    if (!in_place) return push_reg(c, type, r);
    if (push_const(c, type, 0)) return -1;
    struct value *v = peek(c, 0);
    v->loc = VLOC_LOCAL;
    v->reg = (uint8_t)r;
    v->imm = c->next_local;
    return 0;
}

static int binop(struct compiler *c, uint8_t type, enum x64_alu op)
{
    unsigned w = width(type);
    int32_t imm;
    bool in_place;
    if (top_imm(c, w, &imm)) {
        c->depth--;
        enum x64_reg l = binop_target(c, &in_place);
        x64_alu_ri(c->cb, op, w, l, imm);
        return push_target(c, type, l, in_place);
    }
    /* The right operand is only read: a local's register will do. */
    bool owned;
    enum x64_reg r = read_gpr(c, peek(c, 0), &owned);
    c->depth--;
    enum x64_reg l = binop_target(c, &in_place);
    x64_alu_rr(c->cb, op, w, l, r);
    if (owned) free_gpr(c, r);
    return push_target(c, type, l, in_place);
}

static int mul(struct compiler *c, uint8_t type)
{
    unsigned w = width(type);
    int32_t imm;
    if (top_imm(c, w, &imm)) {
        c->depth--;
        enum x64_reg l = pop_gpr(c);
        x64_imul_rri(c->cb, w, l, l, imm);
        return push_reg(c, type, l);
    }
    enum x64_reg r = pop_gpr(c);
    enum x64_reg l = pop_gpr(c);
    x64_imul_rr(c->cb, w, l, r);
    free_gpr(c, r);
    return push_reg(c, type, l);
}

/* A comparison right before br_if or if leaves its result in the flags:
 * the branch becomes cmp + jcc, with no setcc/movzx/test. */
static bool fuse_with_branch(struct compiler *c)
{
    return c->next_op == SBX_OP_BR_IF || c->next_op == SBX_OP_IF;
}

static int push_flags(struct compiler *c, enum x64_cc cc)
{
    if (push_const(c, SBX_I32, 0)) return -1;
    struct value *v = peek(c, 0);
    v->loc = VLOC_FLAGS;
    v->cc = (uint8_t)cc;
    return 0;
}

static int compare(struct compiler *c, uint8_t type, enum x64_cc cc)
{
    unsigned w = width(type);
    int32_t imm;
    bool lowned, rowned = false;
    enum x64_reg l, r = X64_NOREG;
    bool fused = fuse_with_branch(c);
    /* Without fusion the result needs a register; take it before the
     * compare, so nothing runs between cmp and setcc. */
    enum x64_reg res = fused ? X64_NOREG : alloc_gpr(c);
    if (top_imm(c, w, &imm)) {
        c->depth--;
        l = read_gpr(c, peek(c, 0), &lowned);
        c->depth--;
        x64_alu_ri(c->cb, X64_CMP, w, l, imm);
    } else {
        r = read_gpr(c, peek(c, 0), &rowned);
        c->depth--;
        l = read_gpr(c, peek(c, 0), &lowned);
        c->depth--;
        x64_alu_rr(c->cb, X64_CMP, w, l, r);
    }
    if (rowned) free_gpr(c, r);
    if (lowned) free_gpr(c, l);
    if (fused) return push_flags(c, cc);
    x64_setcc(c->cb, cc, res);
    x64_movzx_rr(c->cb, 32, 8, res, res);
    return push_reg(c, SBX_I32, res);
}

static int eqz(struct compiler *c, uint8_t type)
{
    enum x64_reg r = pop_gpr(c);
    x64_alu_rr(c->cb, X64_TEST, width(type), r, r);
    if (fuse_with_branch(c)) {
        free_gpr(c, r);
        return push_flags(c, X64_CC_E);
    }
    x64_setcc(c->cb, X64_CC_E, r);
    x64_movzx_rr(c->cb, 32, 8, r, r);
    return push_reg(c, SBX_I32, r);
}

static int shift(struct compiler *c, uint8_t type, enum x64_shift op)
{
    unsigned w = width(type);
    int32_t imm;
    if (top_imm(c, w, &imm)) {
        c->depth--;
        enum x64_reg l = pop_gpr(c);
        uint8_t n = (uint8_t)(imm & (int32_t)(w - 1));
        if (n) x64_shift_ri(c->cb, op, w, l, n);
        return push_reg(c, type, l);
    }
    /* The count goes in cl. */
    free_up_gpr(c, X64_RCX);
    struct value *cnt = peek(c, 0);
    load_gpr(c, cnt, X64_RCX);
    release(c, cnt);
    c->depth--;
    c->gpr_used |= 1u << X64_RCX;
    enum x64_reg l = pop_gpr(c);
    x64_shift_rcl(c->cb, op, w, l);
    free_gpr(c, X64_RCX);
    return push_reg(c, type, l);
}

static int bitcount(struct compiler *c, uint8_t type, unsigned op)
{
    unsigned w = width(type);
    enum x64_reg r = pop_gpr(c);
    bool clz = op == SBX_OP_I32_CLZ || op == SBX_OP_I64_CLZ;
    bool ctz = op == SBX_OP_I32_CTZ || op == SBX_OP_I64_CTZ;
    if (!clz && !ctz) {
        x64_popcnt_rr(c->cb, w, r, r);
    } else if (clz && (c->cpu & X64_CPU_LZCNT)) {
        x64_lzcnt_rr(c->cb, w, r, r);
    } else if (ctz && (c->cpu & X64_CPU_BMI1)) {
        x64_tzcnt_rr(c->cb, w, r, r);
    } else {
        /* bsr/bsf leave the result undefined for zero: that case is w. */
        cb_label zero = cb_new_label(c->cb), done = cb_new_label(c->cb);
        if (clz)
            x64_bsr_rr(c->cb, w, REG_SCRATCH, r);
        else
            x64_bsf_rr(c->cb, w, REG_SCRATCH, r);
        x64_jcc8(c->cb, X64_CC_E, zero);
        if (clz) {
            x64_mov_ri(c->cb, 32, r, w - 1); /* (w - 1) - index == (w - 1) ^ index */
            x64_alu_rr(c->cb, X64_XOR, 32, r, REG_SCRATCH);
        } else {
            x64_mov_rr(c->cb, 32, r, REG_SCRATCH);
        }
        x64_jmp8(c->cb, done);
        cb_bind(c->cb, zero);
        x64_mov_ri(c->cb, 32, r, w);
        cb_bind(c->cb, done);
    }
    return push_reg(c, type, r);
}

/* Division and remainder. x86 divides rdx:rax; the wasm traps (divide by
 * zero, INT_MIN / -1 overflow) are checked first, and INT_MIN % -1 is 0
 * without dividing (idiv would fault). A constant divisor other than 0 and
 * -1 needs no check. */
static int divide(struct compiler *c, uint8_t type, unsigned op)
{
    unsigned w = width(type);
    bool is_signed = op == SBX_OP_I32_DIV_S || op == SBX_OP_I64_DIV_S || op == SBX_OP_I32_REM_S ||
                     op == SBX_OP_I64_REM_S;
    bool is_rem = op == SBX_OP_I32_REM_S || op == SBX_OP_I64_REM_S || op == SBX_OP_I32_REM_U ||
                  op == SBX_OP_I64_REM_U;
    const struct value *rv = peek(c, 0);
    uint64_t minus_one = w == 32 ? 0xffffffffu : UINT64_MAX;
    bool safe = rv->loc == VLOC_CONST && rv->imm != 0 && !(is_signed && rv->imm == minus_one);

    free_up_gpr(c, X64_RAX);
    free_up_gpr(c, X64_RDX);
    c->gpr_used |= (1u << X64_RAX) | (1u << X64_RDX);
    enum x64_reg d;
    if (safe) {
        d = REG_SCRATCH;
        load_gpr(c, peek(c, 0), d);
        c->depth--;
    } else {
        d = pop_gpr(c);
    }
    struct value *lv = peek(c, 0);
    load_gpr(c, lv, X64_RAX);
    release(c, lv);
    c->gpr_used |= 1u << X64_RAX;
    c->depth--;

    cb_label done = cb_new_label(c->cb);
    if (!safe) {
        x64_alu_rr(c->cb, X64_TEST, w, d, d);
        x64_jcc(c->cb, X64_CC_E, trap_label(c, SBX_TRAP_INT_DIV_ZERO));
        if (is_signed) {
            cb_label go = cb_new_label(c->cb);
            x64_alu_ri(c->cb, X64_CMP, w, d, -1);
            x64_jcc8(c->cb, X64_CC_NE, go);
            if (is_rem) {
                x64_alu_rr(c->cb, X64_XOR, 32, X64_RDX, X64_RDX);
                x64_jmp(c->cb, done);
            } else {
                /* -1 divides everything but INT_MIN: neg overflows there. */
                x64_unary_r(c->cb, X64_NEG, w, X64_RAX);
                x64_jcc(c->cb, X64_CC_O, trap_label(c, SBX_TRAP_INT_OVERFLOW));
                x64_jmp(c->cb, done);
            }
            cb_bind(c->cb, go);
        }
    }
    if (is_signed) {
        if (w == 32)
            x64_cdq(c->cb);
        else
            x64_cqo(c->cb);
        x64_unary_r(c->cb, X64_IDIV, w, d);
    } else {
        x64_alu_rr(c->cb, X64_XOR, 32, X64_RDX, X64_RDX);
        x64_unary_r(c->cb, X64_DIV, w, d);
    }
    cb_bind(c->cb, done);
    if (d != REG_SCRATCH) free_gpr(c, d);
    enum x64_reg res = is_rem ? X64_RDX : X64_RAX;
    free_gpr(c, is_rem ? X64_RAX : X64_RDX);
    return push_reg(c, type, res);
}

int compile_int(struct compiler *c, const struct sbx_insn *in)
{
    unsigned op = in->op;
    uint8_t t = (op >= SBX_OP_I64_EQZ && op <= SBX_OP_I64_GE_U) ||
                        (op >= SBX_OP_I64_CLZ && op <= SBX_OP_I64_ROTR) || op == SBX_OP_I64_CONST
                    ? SBX_I64
                    : SBX_I32;
    switch (op) {
    case SBX_OP_I32_CONST: return push_const(c, SBX_I32, in->u.i32);
    case SBX_OP_I64_CONST: return push_const(c, SBX_I64, in->u.i64);
    case SBX_OP_I32_EQZ:
    case SBX_OP_I64_EQZ: return eqz(c, t);
    case SBX_OP_I32_EQ:
    case SBX_OP_I64_EQ: return compare(c, t, X64_CC_E);
    case SBX_OP_I32_NE:
    case SBX_OP_I64_NE: return compare(c, t, X64_CC_NE);
    case SBX_OP_I32_LT_S:
    case SBX_OP_I64_LT_S: return compare(c, t, X64_CC_L);
    case SBX_OP_I32_LT_U:
    case SBX_OP_I64_LT_U: return compare(c, t, X64_CC_B);
    case SBX_OP_I32_GT_S:
    case SBX_OP_I64_GT_S: return compare(c, t, X64_CC_G);
    case SBX_OP_I32_GT_U:
    case SBX_OP_I64_GT_U: return compare(c, t, X64_CC_A);
    case SBX_OP_I32_LE_S:
    case SBX_OP_I64_LE_S: return compare(c, t, X64_CC_LE);
    case SBX_OP_I32_LE_U:
    case SBX_OP_I64_LE_U: return compare(c, t, X64_CC_BE);
    case SBX_OP_I32_GE_S:
    case SBX_OP_I64_GE_S: return compare(c, t, X64_CC_GE);
    case SBX_OP_I32_GE_U:
    case SBX_OP_I64_GE_U: return compare(c, t, X64_CC_AE);
    case SBX_OP_I32_CLZ:
    case SBX_OP_I64_CLZ:
    case SBX_OP_I32_CTZ:
    case SBX_OP_I64_CTZ:
    case SBX_OP_I32_POPCNT:
    case SBX_OP_I64_POPCNT: return bitcount(c, t, op);
    case SBX_OP_I32_ADD:
    case SBX_OP_I64_ADD: return binop(c, t, X64_ADD);
    case SBX_OP_I32_SUB:
    case SBX_OP_I64_SUB: return binop(c, t, X64_SUB);
    case SBX_OP_I32_AND:
    case SBX_OP_I64_AND: return binop(c, t, X64_AND);
    case SBX_OP_I32_OR:
    case SBX_OP_I64_OR: return binop(c, t, X64_OR);
    case SBX_OP_I32_XOR:
    case SBX_OP_I64_XOR: return binop(c, t, X64_XOR);
    case SBX_OP_I32_MUL:
    case SBX_OP_I64_MUL: return mul(c, t);
    case SBX_OP_I32_DIV_S:
    case SBX_OP_I64_DIV_S:
    case SBX_OP_I32_DIV_U:
    case SBX_OP_I64_DIV_U:
    case SBX_OP_I32_REM_S:
    case SBX_OP_I64_REM_S:
    case SBX_OP_I32_REM_U:
    case SBX_OP_I64_REM_U: return divide(c, t, op);
    case SBX_OP_I32_SHL:
    case SBX_OP_I64_SHL: return shift(c, t, X64_SHL);
    case SBX_OP_I32_SHR_S:
    case SBX_OP_I64_SHR_S: return shift(c, t, X64_SAR);
    case SBX_OP_I32_SHR_U:
    case SBX_OP_I64_SHR_U: return shift(c, t, X64_SHR);
    case SBX_OP_I32_ROTL:
    case SBX_OP_I64_ROTL: return shift(c, t, X64_ROL);
    case SBX_OP_I32_ROTR:
    case SBX_OP_I64_ROTR: return shift(c, t, X64_ROR);
    }
    return cc_fail(c, "internal error: integer opcode %#x", op);
}
