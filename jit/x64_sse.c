/* The SSE half of the x86-64 encoder: scalar float arithmetic, conversions,
 * bitwise ops on xmm registers and 128-bit moves (jit/x64.h). The scalar ops
 * share one shape, [prefix] [REX] 0F op ModRM, so they are a table. */
#include "jit/x64.h"
#include "jit/x64_enc.h"

struct sse_form {
    uint8_t pfx;   /* mandatory prefix, 0 for none */
    uint8_t op;    /* 0F op: op xmm, xmm/[m] */
    uint8_t store; /* 0F store: op [m], xmm; 0 if there is none */
};

static const struct sse_form sse_forms[X64_NSSE] = {
#define SSE_ROW(name, p, o, s) [X64_##name] = {.pfx = p, .op = o, .store = s},
    X64_SSE_OPS(SSE_ROW)
#undef SSE_ROW
};

void x64_sse_rr(struct codebuf *cb, enum x64_sse op, enum x64_xmm dst, enum x64_xmm src)
{
    if (!operands_ok(cb, op < X64_NSSE && xmm_ok(dst) && xmm_ok(src))) return;
    const struct sse_form *f = &sse_forms[op];
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, f->pfx, 0, OP2(0x0f, f->op), dst, src); /* op dst, src */
    cb_commit(cb, p);
}

void x64_sse_rm(struct codebuf *cb, enum x64_sse op, enum x64_xmm dst, struct x64_mem src)
{
    if (!operands_ok(cb, op < X64_NSSE && xmm_ok(dst) && mem_ok(&src))) return;
    const struct sse_form *f = &sse_forms[op];
    uint8_t *p = cb_room(cb);
    p = enc_rm(p, f->pfx, 0, OP2(0x0f, f->op), dst, &src); /* op dst, [src] */
    cb_commit(cb, p);
}

void x64_sse_mr(struct codebuf *cb, enum x64_sse op, struct x64_mem dst, enum x64_xmm src)
{
    if (!operands_ok(cb, op < X64_NSSE && sse_forms[op].store && xmm_ok(src) && mem_ok(&dst)))
        return;
    const struct sse_form *f = &sse_forms[op];
    uint8_t *p = cb_room(cb);
    p = enc_rm(p, f->pfx, 0, OP2(0x0f, f->store), src, &dst); /* op [dst], src */
    cb_commit(cb, p);
}

/* pfx [REX.W] 0F op with ModRM.reg = reg, ModRM.rm = rm, one of them a
 * general register of width w and the other an xmm register. */
static void gpr_xmm(struct codebuf *cb, unsigned pfx, uint8_t op, unsigned w, unsigned reg,
                    unsigned rm)
{
    if (!operands_ok(cb, (w == 32 || w == 64) && reg < 16 && rm < 16)) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, pfx, w == 64 ? E_W : 0, OP2(0x0f, op), reg, rm);
    cb_commit(cb, p);
}

void x64_movd_xr(struct codebuf *cb, unsigned w, enum x64_xmm dst, enum x64_reg src)
{
    gpr_xmm(cb, 0x66, 0x6e, w, dst, src); /* movd/movq dst, src */
}

void x64_movd_rx(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_xmm src)
{
    gpr_xmm(cb, 0x66, 0x7e, w, src, dst); /* movd/movq dst, src */
}

void x64_cvtsi2ss(struct codebuf *cb, unsigned w, enum x64_xmm dst, enum x64_reg src)
{
    gpr_xmm(cb, 0xf3, 0x2a, w, dst, src); /* cvtsi2ss dst, src32/src64 */
}

void x64_cvtsi2sd(struct codebuf *cb, unsigned w, enum x64_xmm dst, enum x64_reg src)
{
    gpr_xmm(cb, 0xf2, 0x2a, w, dst, src); /* cvtsi2sd dst, src32/src64 */
}

void x64_cvttss2si(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_xmm src)
{
    gpr_xmm(cb, 0xf3, 0x2c, w, dst, src); /* cvttss2si dst32/dst64, src */
}

void x64_cvttsd2si(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_xmm src)
{
    gpr_xmm(cb, 0xf2, 0x2c, w, dst, src); /* cvttsd2si dst32/dst64, src */
}

/* 66 [REX] 0F 3A op /r ib: roundss (0A) and roundsd (0B). */
static void round_op(struct codebuf *cb, uint8_t op, enum x64_xmm dst, enum x64_xmm src,
                     uint8_t mode)
{
    if (!operands_ok(cb, xmm_ok(dst) && xmm_ok(src) && mode < 16)) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, 0x66, 0, OP3(0x0f, 0x3a, op), dst, src);
    p = put8(p, mode);
    cb_commit(cb, p);
}

void x64_roundss(struct codebuf *cb, enum x64_xmm dst, enum x64_xmm src, uint8_t mode)
{
    round_op(cb, 0x0a, dst, src, mode); /* roundss dst, src, mode */
}

void x64_roundsd(struct codebuf *cb, enum x64_xmm dst, enum x64_xmm src, uint8_t mode)
{
    round_op(cb, 0x0b, dst, src, mode); /* roundsd dst, src, mode */
}
