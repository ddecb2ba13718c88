/* The general-purpose half of the x86-64 encoder: integer arithmetic, moves,
 * conditions and control flow (jit/x64.h). Each function checks its operands,
 * then writes one instruction, spelled out in the comment beside its bytes. */
#include "jit/x64.h"
#include "jit/x64_enc.h"

static bool w_ok(unsigned w)
{
    return w == 32 || w == 64;
}

static unsigned rexw(unsigned w)
{
    return w == 64 ? E_W : 0;
}

static bool alu_ok(enum x64_alu op)
{
    return op == X64_ADD || op == X64_OR || (op >= X64_AND && op <= X64_TEST);
}

static bool label_ok(const struct codebuf *cb, cb_label l)
{
    return l < cb->nlabels;
}

/* -- Integer arithmetic -------------------------------------------------- */

void x64_alu_rr(struct codebuf *cb, enum x64_alu op, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    if (!operands_ok(cb, alu_ok(op) && w_ok(w) && gpr_ok(dst) && gpr_ok(src))) return;
    uint8_t *p = cb_room(cb);
    if (op == X64_TEST)
        p = enc_rr(p, 0, rexw(w), OP1(0x85), src, dst); /* test dst, src */
    else
        p = enc_rr(p, 0, rexw(w), OP1(op << 3 | 1), src, dst); /* op dst, src (op r/m, r) */
    cb_commit(cb, p);
}

void x64_alu_ri(struct codebuf *cb, enum x64_alu op, unsigned w, enum x64_reg dst, int32_t imm)
{
    if (!operands_ok(cb, alu_ok(op) && w_ok(w) && gpr_ok(dst))) return;
    uint8_t *p = cb_room(cb);
    if (op == X64_TEST) {
        if (dst == X64_RAX)
            p = enc_head(p, 0, w == 64 ? 8 : 0, false, OP1(0xa9)); /* test eax/rax, imm32 */
        else
            p = enc_rr(p, 0, rexw(w), OP1(0xf7), 0, dst); /* test dst, imm32 */
        p = put32(p, (uint32_t)imm);
    } else if (fits8(imm)) {
        p = enc_rr(p, 0, rexw(w), OP1(0x83), op, dst); /* op dst, imm8 (sign-extended) */
        p = put8(p, (uint32_t)imm);
    } else if (dst == X64_RAX) {
        p = enc_head(p, 0, w == 64 ? 8 : 0, false, OP1(op << 3 | 5)); /* op eax/rax, imm32 */
        p = put32(p, (uint32_t)imm);
    } else {
        p = enc_rr(p, 0, rexw(w), OP1(0x81), op, dst); /* op dst, imm32 */
        p = put32(p, (uint32_t)imm);
    }
    cb_commit(cb, p);
}

void x64_alu_rm(struct codebuf *cb, enum x64_alu op, unsigned w, enum x64_reg dst,
                struct x64_mem src)
{
    if (!operands_ok(cb, alu_ok(op) && w_ok(w) && gpr_ok(dst) && mem_ok(&src))) return;
    uint8_t *p = cb_room(cb);
    if (op == X64_TEST)
        p = enc_rm(p, 0, rexw(w), OP1(0x85), dst, &src); /* test [src], dst */
    else
        p = enc_rm(p, 0, rexw(w), OP1(op << 3 | 3), dst, &src); /* op dst, [src] */
    cb_commit(cb, p);
}

void x64_alu_mr(struct codebuf *cb, enum x64_alu op, unsigned w, struct x64_mem dst,
                enum x64_reg src)
{
    if (!operands_ok(cb, alu_ok(op) && w_ok(w) && gpr_ok(src) && mem_ok(&dst))) return;
    uint8_t *p = cb_room(cb);
    if (op == X64_TEST)
        p = enc_rm(p, 0, rexw(w), OP1(0x85), src, &dst); /* test [dst], src */
    else
        p = enc_rm(p, 0, rexw(w), OP1(op << 3 | 1), src, &dst); /* op [dst], src */
    cb_commit(cb, p);
}

void x64_alu_mi(struct codebuf *cb, enum x64_alu op, unsigned w, struct x64_mem dst, int32_t imm)
{
    if (!operands_ok(cb, alu_ok(op) && w_ok(w) && mem_ok(&dst))) return;
    uint8_t *p = cb_room(cb);
    if (op == X64_TEST) {
        p = enc_rm(p, 0, rexw(w), OP1(0xf7), 0, &dst); /* test [dst], imm32 */
        p = put32(p, (uint32_t)imm);
    } else if (fits8(imm)) {
        p = enc_rm(p, 0, rexw(w), OP1(0x83), op, &dst); /* op [dst], imm8 */
        p = put8(p, (uint32_t)imm);
    } else {
        p = enc_rm(p, 0, rexw(w), OP1(0x81), op, &dst); /* op [dst], imm32 */
        p = put32(p, (uint32_t)imm);
    }
    cb_commit(cb, p);
}

void x64_shift_rcl(struct codebuf *cb, enum x64_shift op, unsigned w, enum x64_reg r)
{
    if (!operands_ok(cb, op <= X64_SAR && op != 6 && w_ok(w) && gpr_ok(r))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, 0, rexw(w), OP1(0xd3), op, r); /* op r, cl */
    cb_commit(cb, p);
}

void x64_shift_ri(struct codebuf *cb, enum x64_shift op, unsigned w, enum x64_reg r, uint8_t imm)
{
    if (!operands_ok(cb, op <= X64_SAR && op != 6 && w_ok(w) && gpr_ok(r))) return;
    uint8_t *p = cb_room(cb);
    if (imm == 1) {
        p = enc_rr(p, 0, rexw(w), OP1(0xd1), op, r); /* op r, 1 */
    } else {
        p = enc_rr(p, 0, rexw(w), OP1(0xc1), op, r); /* op r, imm8 */
        p = put8(p, imm);
    }
    cb_commit(cb, p);
}

void x64_unary_r(struct codebuf *cb, enum x64_unary op, unsigned w, enum x64_reg r)
{
    bool op_ok = op == X64_NOT || op == X64_NEG || op == X64_MUL || op == X64_DIV || op == X64_IDIV;
    if (!operands_ok(cb, op_ok && w_ok(w) && gpr_ok(r))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, 0, rexw(w), OP1(0xf7), op, r); /* not/neg/mul/div/idiv r */
    cb_commit(cb, p);
}

void x64_imul_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    if (!operands_ok(cb, w_ok(w) && gpr_ok(dst) && gpr_ok(src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, 0, rexw(w), OP2(0x0f, 0xaf), dst, src); /* imul dst, src */
    cb_commit(cb, p);
}

void x64_imul_rri(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src, int32_t imm)
{
    if (!operands_ok(cb, w_ok(w) && gpr_ok(dst) && gpr_ok(src))) return;
    uint8_t *p = cb_room(cb);
    if (fits8(imm)) {
        p = enc_rr(p, 0, rexw(w), OP1(0x6b), dst, src); /* imul dst, src, imm8 */
        p = put8(p, (uint32_t)imm);
    } else {
        p = enc_rr(p, 0, rexw(w), OP1(0x69), dst, src); /* imul dst, src, imm32 */
        p = put32(p, (uint32_t)imm);
    }
    cb_commit(cb, p);
}

void x64_cdq(struct codebuf *cb)
{
    uint8_t *p = cb_room(cb);
    p = put8(p, 0x99); /* cdq */
    cb_commit(cb, p);
}

void x64_cqo(struct codebuf *cb)
{
    uint8_t *p = cb_room(cb);
    p = enc_head(p, 0, 8, false, OP1(0x99)); /* cqo */
    cb_commit(cb, p);
}

/* [pfx] 0F opc dst, src: the bit-counting family. */
static void bitop(struct codebuf *cb, unsigned pfx, uint8_t opc, unsigned w, enum x64_reg dst,
                  enum x64_reg src)
{
    if (!operands_ok(cb, w_ok(w) && gpr_ok(dst) && gpr_ok(src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, pfx, rexw(w), OP2(0x0f, opc), dst, src);
    cb_commit(cb, p);
}

void x64_bsf_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    bitop(cb, 0, 0xbc, w, dst, src); /* bsf dst, src */
}

void x64_bsr_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    bitop(cb, 0, 0xbd, w, dst, src); /* bsr dst, src */
}

void x64_lzcnt_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    bitop(cb, 0xf3, 0xbd, w, dst, src); /* lzcnt dst, src (bsr with F3) */
}

void x64_tzcnt_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    bitop(cb, 0xf3, 0xbc, w, dst, src); /* tzcnt dst, src (bsf with F3) */
}

void x64_popcnt_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    bitop(cb, 0xf3, 0xb8, w, dst, src); /* popcnt dst, src */
}

/* -- Moves --------------------------------------------------------------- */

void x64_mov_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    if (!operands_ok(cb, w_ok(w) && gpr_ok(dst) && gpr_ok(src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, 0, rexw(w), OP1(0x89), src, dst); /* mov dst, src */
    cb_commit(cb, p);
}

void x64_movabs(struct codebuf *cb, enum x64_reg dst, uint64_t imm)
{
    if (!operands_ok(cb, gpr_ok(dst))) return;
    uint8_t *p = cb_room(cb);
    p = enc_o(p, E_W, OP1(0xb8), dst); /* movabs dst, imm64 */
    p = put64(p, imm);
    cb_commit(cb, p);
}

void x64_mov_ri(struct codebuf *cb, unsigned w, enum x64_reg dst, int64_t imm)
{
    if (!operands_ok(cb, w_ok(w) && gpr_ok(dst))) return;
    if (w == 64 && (uint64_t)imm > UINT32_MAX && (imm < INT32_MIN || imm > INT32_MAX)) {
        x64_movabs(cb, dst, (uint64_t)imm);
        return;
    }
    uint8_t *p = cb_room(cb);
    if (w == 32 || (uint64_t)imm <= UINT32_MAX) {
        p = enc_o(p, 0, OP1(0xb8), dst); /* mov dst32, imm32 (zero-extends) */
    } else {
        p = enc_rr(p, 0, E_W, OP1(0xc7), 0, dst); /* mov dst64, simm32 */
    }
    p = put32(p, (uint32_t)imm);
    cb_commit(cb, p);
}

void x64_mov_rm(struct codebuf *cb, unsigned w, enum x64_reg dst, struct x64_mem src)
{
    if (!operands_ok(cb, w_ok(w) && gpr_ok(dst) && mem_ok(&src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rm(p, 0, rexw(w), OP1(0x8b), dst, &src); /* mov dst, [src] */
    cb_commit(cb, p);
}

void x64_mov_mr(struct codebuf *cb, unsigned w, struct x64_mem dst, enum x64_reg src)
{
    if (!operands_ok(cb, (w == 8 || w == 16 || w_ok(w)) && gpr_ok(src) && mem_ok(&dst))) return;
    uint8_t *p = cb_room(cb);
    if (w == 8)
        p = enc_rm(p, 0, E_REG8, OP1(0x88), src, &dst); /* mov byte [dst], src8 */
    else
        p = enc_rm(p, w == 16 ? 0x66 : 0, rexw(w), OP1(0x89), src, &dst); /* mov [dst], src */
    cb_commit(cb, p);
}

void x64_mov_mi(struct codebuf *cb, unsigned w, struct x64_mem dst, int32_t imm)
{
    if (!operands_ok(cb, (w == 8 || w == 16 || w_ok(w)) && mem_ok(&dst))) return;
    uint8_t *p = cb_room(cb);
    if (w == 8) {
        p = enc_rm(p, 0, 0, OP1(0xc6), 0, &dst); /* mov byte [dst], imm8 */
        p = put8(p, (uint32_t)imm);
    } else if (w == 16) {
        p = enc_rm(p, 0x66, 0, OP1(0xc7), 0, &dst); /* mov word [dst], imm16 */
        p = put16(p, (uint32_t)imm);
    } else {
        p = enc_rm(p, 0, rexw(w), OP1(0xc7), 0, &dst); /* mov [dst], imm32 */
        p = put32(p, (uint32_t)imm);
    }
    cb_commit(cb, p);
}

/* The opcode of movzx/movsx dst(w), src(srcw), or 0 if there is none. */
static uint32_t extend_op(bool sign, unsigned w, unsigned srcw)
{
    if (!w_ok(w)) return 0;
    if (srcw == 8) return OP2(0x0f, sign ? 0xbe : 0xb6);
    if (srcw == 16) return OP2(0x0f, sign ? 0xbf : 0xb7);
    if (srcw == 32 && sign && w == 64) return OP1(0x63); /* movsxd */
    return 0;
}

static void extend_rr(struct codebuf *cb, bool sign, unsigned w, unsigned srcw, enum x64_reg dst,
                      enum x64_reg src)
{
    uint32_t opc = extend_op(sign, w, srcw);
    if (!operands_ok(cb, opc && gpr_ok(dst) && gpr_ok(src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, 0, rexw(w) | (srcw == 8 ? E_RM8 : 0), opc, dst, src);
    cb_commit(cb, p);
}

static void extend_rm(struct codebuf *cb, bool sign, unsigned w, unsigned srcw, enum x64_reg dst,
                      const struct x64_mem *src)
{
    uint32_t opc = extend_op(sign, w, srcw);
    if (!operands_ok(cb, opc && gpr_ok(dst) && mem_ok(src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rm(p, 0, rexw(w), opc, dst, src);
    cb_commit(cb, p);
}

void x64_movzx_rr(struct codebuf *cb, unsigned w, unsigned srcw, enum x64_reg dst, enum x64_reg src)
{
    extend_rr(cb, false, w, srcw, dst, src); /* movzx dst, src8/src16 */
}

void x64_movzx_rm(struct codebuf *cb, unsigned w, unsigned srcw, enum x64_reg dst,
                  struct x64_mem src)
{
    extend_rm(cb, false, w, srcw, dst, &src); /* movzx dst, byte/word [src] */
}

void x64_movsx_rr(struct codebuf *cb, unsigned w, unsigned srcw, enum x64_reg dst, enum x64_reg src)
{
    extend_rr(cb, true, w, srcw, dst, src); /* movsx dst, src8/src16; movsxd dst, src32 */
}

void x64_movsx_rm(struct codebuf *cb, unsigned w, unsigned srcw, enum x64_reg dst,
                  struct x64_mem src)
{
    extend_rm(cb, true, w, srcw, dst, &src); /* movsx(d) dst, byte/word/dword [src] */
}

void x64_lea(struct codebuf *cb, unsigned w, enum x64_reg dst, struct x64_mem src)
{
    if (!operands_ok(cb, w_ok(w) && gpr_ok(dst) && mem_ok(&src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rm(p, 0, rexw(w), OP1(0x8d), dst, &src); /* lea dst, [src] */
    cb_commit(cb, p);
}

void x64_lea_label(struct codebuf *cb, enum x64_reg dst, cb_label l)
{
    if (!operands_ok(cb, gpr_ok(dst) && label_ok(cb, l))) return;
    uint8_t *p = cb_room(cb);
    p = enc_head(p, 0, 8 | (dst & 8) >> 1, false, OP1(0x8d)); /* lea dst, [rip + rel32] */
    p = put8(p, 0x05 | (dst & 7) << 3);
    cb_commit(cb, p);
    cb_rel32(cb, l);
}

void x64_xchg_rr(struct codebuf *cb, unsigned w, enum x64_reg a, enum x64_reg b)
{
    if (!operands_ok(cb, w_ok(w) && gpr_ok(a) && gpr_ok(b))) return;
    uint8_t *p = cb_room(cb);
    enum x64_reg other = a == X64_RAX ? b : a;
    /* 90+r is xchg with eax/rax, except that 90 itself is nop: in 32-bit form
     * it would not zero the upper half of rax. */
    if (w == 64 && a == X64_RAX && b == X64_RAX)
        p = put8(p, 0x90); /* xchg rax, rax: nop */
    else if ((a == X64_RAX || b == X64_RAX) && !(w == 32 && other == X64_RAX))
        p = enc_o(p, rexw(w), OP1(0x90), other); /* xchg eax/rax, other */
    else
        p = enc_rr(p, 0, rexw(w), OP1(0x87), b, a); /* xchg a, b */
    cb_commit(cb, p);
}

void x64_push(struct codebuf *cb, enum x64_reg r)
{
    if (!operands_ok(cb, gpr_ok(r))) return;
    uint8_t *p = cb_room(cb);
    p = enc_o(p, 0, OP1(0x50), r); /* push r */
    cb_commit(cb, p);
}

void x64_pop(struct codebuf *cb, enum x64_reg r)
{
    if (!operands_ok(cb, gpr_ok(r))) return;
    uint8_t *p = cb_room(cb);
    p = enc_o(p, 0, OP1(0x58), r); /* pop r */
    cb_commit(cb, p);
}

/* -- Conditions ---------------------------------------------------------- */

void x64_setcc(struct codebuf *cb, enum x64_cc cc, enum x64_reg dst)
{
    if (!operands_ok(cb, cc <= X64_CC_G && gpr_ok(dst))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, 0, E_RM8, OP2(0x0f, 0x90 | cc), 0, dst); /* setcc dst8 */
    cb_commit(cb, p);
}

void x64_cmov_rr(struct codebuf *cb, enum x64_cc cc, unsigned w, enum x64_reg dst, enum x64_reg src)
{
    if (!operands_ok(cb, cc <= X64_CC_G && w_ok(w) && gpr_ok(dst) && gpr_ok(src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rr(p, 0, rexw(w), OP2(0x0f, 0x40 | cc), dst, src); /* cmovcc dst, src */
    cb_commit(cb, p);
}

void x64_cmov_rm(struct codebuf *cb, enum x64_cc cc, unsigned w, enum x64_reg dst,
                 struct x64_mem src)
{
    if (!operands_ok(cb, cc <= X64_CC_G && w_ok(w) && gpr_ok(dst) && mem_ok(&src))) return;
    uint8_t *p = cb_room(cb);
    p = enc_rm(p, 0, rexw(w), OP2(0x0f, 0x40 | cc), dst, &src); /* cmovcc dst, [src] */
    cb_commit(cb, p);
}

/* -- Control flow -------------------------------------------------------- */

/* An opcode followed by a pc-relative field that refers to `l`. */
static void branch(struct codebuf *cb, uint32_t opc, cb_label l, bool rel8)
{
    if (!operands_ok(cb, label_ok(cb, l))) return;
    uint8_t *p = cb_room(cb);
    p = enc_head(p, 0, 0, false, opc);
    cb_commit(cb, p);
    if (rel8)
        cb_rel8(cb, l);
    else
        cb_rel32(cb, l);
}

void x64_jmp(struct codebuf *cb, cb_label l)
{
    branch(cb, OP1(0xe9), l, false); /* jmp rel32 */
}

void x64_jmp8(struct codebuf *cb, cb_label l)
{
    branch(cb, OP1(0xeb), l, true); /* jmp rel8 */
}

void x64_jcc(struct codebuf *cb, enum x64_cc cc, cb_label l)
{
    if (!operands_ok(cb, cc <= X64_CC_G)) return;
    branch(cb, OP2(0x0f, 0x80 | cc), l, false); /* jcc rel32 */
}

void x64_jcc8(struct codebuf *cb, enum x64_cc cc, cb_label l)
{
    if (!operands_ok(cb, cc <= X64_CC_G)) return;
    branch(cb, OP1(0x70 | cc), l, true); /* jcc rel8 */
}

void x64_call(struct codebuf *cb, cb_label l)
{
    branch(cb, OP1(0xe8), l, false); /* call rel32 */
}

/* FF /digit on a register or memory operand: indirect call (2) and jump (4).
 * The operand size is 64 bits without REX.W. */
static void ff_group(struct codebuf *cb, unsigned digit, enum x64_reg r, const struct x64_mem *m)
{
    if (!operands_ok(cb, m ? mem_ok(m) : gpr_ok(r))) return;
    uint8_t *p = cb_room(cb);
    p = m ? enc_rm(p, 0, 0, OP1(0xff), digit, m) : enc_rr(p, 0, 0, OP1(0xff), digit, r);
    cb_commit(cb, p);
}

void x64_call_r(struct codebuf *cb, enum x64_reg r)
{
    ff_group(cb, 2, r, NULL); /* call r */
}

void x64_jmp_r(struct codebuf *cb, enum x64_reg r)
{
    ff_group(cb, 4, r, NULL); /* jmp r */
}

void x64_call_m(struct codebuf *cb, struct x64_mem m)
{
    ff_group(cb, 2, X64_RAX, &m); /* call qword [m] */
}

void x64_jmp_m(struct codebuf *cb, struct x64_mem m)
{
    ff_group(cb, 4, X64_RAX, &m); /* jmp qword [m] */
}

static void one_op(struct codebuf *cb, uint32_t opc)
{
    uint8_t *p = cb_room(cb);
    p = enc_head(p, 0, 0, false, opc);
    cb_commit(cb, p);
}

void x64_ret(struct codebuf *cb)
{
    one_op(cb, OP1(0xc3)); /* ret */
}

void x64_ud2(struct codebuf *cb)
{
    one_op(cb, OP2(0x0f, 0x0b)); /* ud2 */
}

void x64_int3(struct codebuf *cb)
{
    one_op(cb, OP1(0xcc)); /* int3 */
}

/* The recommended nop of each length 1..9 (Intel SDM vol. 2, "NOP"). */
static const uint8_t nops[9][9] = {
    {0x90},                                                 /* nop */
    {0x66, 0x90},                                           /* xchg ax, ax */
    {0x0f, 0x1f, 0x00},                                     /* nop dword [rax] */
    {0x0f, 0x1f, 0x40, 0x00},                               /* nop dword [rax + 0] */
    {0x0f, 0x1f, 0x44, 0x00, 0x00},                         /* nop dword [rax + rax + 0] */
    {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},                   /* nop word [rax + rax + 0] */
    {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},             /* nop dword [rax + 0] (disp32) */
    {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},       /* nop dword [rax + rax + 0] */
    {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00}, /* nop word [rax + rax + 0] */
};

void x64_nop(struct codebuf *cb, unsigned n)
{
    while (n > 0) {
        unsigned k = n < 9 ? n : 9;
        cb_put(cb, nops[k - 1], k);
        n -= k;
    }
}

void x64_align_nop(struct codebuf *cb, unsigned align)
{
    if (!operands_ok(cb, align && (align & (align - 1)) == 0)) return;
    x64_nop(cb, (unsigned)(-cb_pos(cb) & (align - 1)));
}
