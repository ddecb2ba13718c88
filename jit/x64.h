/* The x86-64 encoder: one function per instruction form, each appending the
 * machine code of exactly the instruction written in its comment to a code
 * buffer. Instruction selection (which form, which registers) is the
 * compiler's business; the encoder only picks the shortest encoding of the
 * instruction it is asked for (imm8 and disp8 forms, the accumulator forms).
 *
 *   naming   _rr reg, reg   _ri reg, imm   _rm reg, [mem]   _mr [mem], reg
 *            _mi [mem], imm
 *   w        operand width in bits: 32 or 64 unless a comment says more
 *            (32-bit results zero the upper half of the register, as always)
 *
 * An operand the instruction cannot take (a width, rsp as an index, a
 * register number above 15) records -EINVAL in the buffer and emits nothing.
 * Golden bytes for every form: tests/jit/test_x64_encoder.c. */
#ifndef SBX_JIT_X64_H
#define SBX_JIT_X64_H

#include <stdint.h>

#include "jit/codebuf.h"
#include "jit/x64_regs.h"

/* -- Integer arithmetic -------------------------------------------------- */

/* The /digit of the 0x81 group, which is also (opcode >> 3) of the reg forms.
 * X64_TEST has encodings of its own but the same five entry points. */
enum x64_alu {
    X64_ADD = 0,
    X64_OR = 1,
    X64_AND = 4,
    X64_SUB = 5,
    X64_XOR = 6,
    X64_CMP = 7,
    X64_TEST = 8,
};

void x64_alu_rr(struct codebuf *cb, enum x64_alu op, unsigned w, enum x64_reg dst,
                enum x64_reg src); /* op dst, src */
void x64_alu_ri(struct codebuf *cb, enum x64_alu op, unsigned w, enum x64_reg dst,
                int32_t imm); /* op dst, imm */
void x64_alu_rm(struct codebuf *cb, enum x64_alu op, unsigned w, enum x64_reg dst,
                struct x64_mem src); /* op dst, [src] */
void x64_alu_mr(struct codebuf *cb, enum x64_alu op, unsigned w, struct x64_mem dst,
                enum x64_reg src); /* op [dst], src */
void x64_alu_mi(struct codebuf *cb, enum x64_alu op, unsigned w, struct x64_mem dst,
                int32_t imm); /* op [dst], imm */

/* The /digit of the 0xC1/0xD3 group. */
enum x64_shift { X64_ROL = 0, X64_ROR = 1, X64_SHL = 4, X64_SHR = 5, X64_SAR = 7 };

void x64_shift_rcl(struct codebuf *cb, enum x64_shift op, unsigned w,
                   enum x64_reg r); /* op r, cl */
void x64_shift_ri(struct codebuf *cb, enum x64_shift op, unsigned w, enum x64_reg r,
                  uint8_t imm); /* op r, imm (the 0xD1 form for 1) */

/* The /digit of the 0xF7 group. mul/div/idiv work on rdx:rax (edx:eax). */
enum x64_unary { X64_NOT = 2, X64_NEG = 3, X64_MUL = 4, X64_DIV = 6, X64_IDIV = 7 };

void x64_unary_r(struct codebuf *cb, enum x64_unary op, unsigned w, enum x64_reg r); /* op r */
void x64_imul_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src);
/* imul dst, src, imm */
void x64_imul_rri(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src, int32_t imm);
void x64_cdq(struct codebuf *cb); /* cdq: edx = sign of eax */
void x64_cqo(struct codebuf *cb); /* cqo: rdx = sign of rax */

/* Bit counting: op dst, src. lzcnt/tzcnt/popcnt need the CPU features below. */
void x64_bsf_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src);
void x64_bsr_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src);
void x64_lzcnt_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src);
void x64_tzcnt_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src);
void x64_popcnt_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src);

/* -- Moves --------------------------------------------------------------- */

void x64_mov_rr(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_reg src);
/* mov dst, imm. w = 32: the low 32 bits of imm. w = 64: the shortest of
 * mov r32, imm32 (imm fits in 32 unsigned bits), mov r64, simm32 and
 * movabs r64, imm64. (xor r, r for zero is the compiler's choice.) */
void x64_mov_ri(struct codebuf *cb, unsigned w, enum x64_reg dst, int64_t imm);
/* movabs dst, imm64: always 10 bytes, the immediate in the last 8. */
void x64_movabs(struct codebuf *cb, enum x64_reg dst, uint64_t imm);
void x64_mov_rm(struct codebuf *cb, unsigned w, enum x64_reg dst, struct x64_mem src);
/* mov [dst], src: w = 8, 16, 32 or 64 (a store of that many bits). */
void x64_mov_mr(struct codebuf *cb, unsigned w, struct x64_mem dst, enum x64_reg src);
/* mov [dst], imm: w = 8, 16, 32 or 64 (64: imm sign-extended). */
void x64_mov_mi(struct codebuf *cb, unsigned w, struct x64_mem dst, int32_t imm);
/* movzx/movsx dst(w), src(srcw): srcw = 8 or 16; movsx also takes srcw = 32
 * with w = 64 (movsxd). A zero-extending 32-bit load is x64_mov_rm(.., 32, ..). */
void x64_movzx_rr(struct codebuf *cb, unsigned w, unsigned srcw, enum x64_reg dst,
                  enum x64_reg src);
void x64_movzx_rm(struct codebuf *cb, unsigned w, unsigned srcw, enum x64_reg dst,
                  struct x64_mem src);
void x64_movsx_rr(struct codebuf *cb, unsigned w, unsigned srcw, enum x64_reg dst,
                  enum x64_reg src);
void x64_movsx_rm(struct codebuf *cb, unsigned w, unsigned srcw, enum x64_reg dst,
                  struct x64_mem src);
void x64_lea(struct codebuf *cb, unsigned w, enum x64_reg dst, struct x64_mem src);
/* lea dst, [rip + label]: the address of a label (jump tables, constants). */
void x64_lea_label(struct codebuf *cb, enum x64_reg dst, cb_label l);
void x64_xchg_rr(struct codebuf *cb, unsigned w, enum x64_reg a, enum x64_reg b);
void x64_push(struct codebuf *cb, enum x64_reg r);
void x64_pop(struct codebuf *cb, enum x64_reg r);

/* -- Conditions ---------------------------------------------------------- */

void x64_setcc(struct codebuf *cb, enum x64_cc cc, enum x64_reg dst); /* setcc dst8 */
void x64_cmov_rr(struct codebuf *cb, enum x64_cc cc, unsigned w, enum x64_reg dst,
                 enum x64_reg src); /* cmovcc dst, src */
void x64_cmov_rm(struct codebuf *cb, enum x64_cc cc, unsigned w, enum x64_reg dst,
                 struct x64_mem src); /* cmovcc dst, [src] */

/* -- Control flow -------------------------------------------------------- */

/* Jumps and calls to a label bound before or after; rel32 forms, and rel8
 * forms (jmp8/jcc8) whose out-of-range targets make the buffer fail -ERANGE. */
void x64_jmp(struct codebuf *cb, cb_label l);                  /* jmp rel32 */
void x64_jmp8(struct codebuf *cb, cb_label l);                 /* jmp rel8 */
void x64_jcc(struct codebuf *cb, enum x64_cc cc, cb_label l);  /* jcc rel32 */
void x64_jcc8(struct codebuf *cb, enum x64_cc cc, cb_label l); /* jcc rel8 */
void x64_call(struct codebuf *cb, cb_label l);                 /* call rel32 */
void x64_call_r(struct codebuf *cb, enum x64_reg r);           /* call r */
void x64_jmp_r(struct codebuf *cb, enum x64_reg r);            /* jmp r */
void x64_call_m(struct codebuf *cb, struct x64_mem m);         /* call qword [m] */
void x64_jmp_m(struct codebuf *cb, struct x64_mem m);          /* jmp qword [m] */
void x64_ret(struct codebuf *cb);                              /* ret */
void x64_ud2(struct codebuf *cb);                              /* ud2 */
void x64_int3(struct codebuf *cb);                             /* int3 */
/* n bytes of the recommended multi-byte nops (at most 9 bytes each). */
void x64_nop(struct codebuf *cb, unsigned n);
/* nops up to the next multiple of `align` (a power of two). */
void x64_align_nop(struct codebuf *cb, unsigned align);

/* -- SSE scalar float and 128-bit moves ---------------------------------- */

/* name, mandatory prefix (0 = none), opcode after 0F for op xmm, xmm/[m],
 * opcode after 0F for the store [m], xmm (0 = no store form). */
#define X64_SSE_OPS(X)                                                                             \
    X(MOVSS, 0xf3, 0x10, 0x11)                                                                     \
    X(MOVSD, 0xf2, 0x10, 0x11)                                                                     \
    X(MOVUPS, 0x00, 0x10, 0x11)                                                                    \
    X(MOVDQU, 0xf3, 0x6f, 0x7f)                                                                    \
    X(MOVAPS, 0x00, 0x28, 0x29)                                                                    \
    X(MOVAPD, 0x66, 0x28, 0x29)                                                                    \
    X(ADDSS, 0xf3, 0x58, 0)                                                                        \
    X(ADDSD, 0xf2, 0x58, 0)                                                                        \
    X(SUBSS, 0xf3, 0x5c, 0)                                                                        \
    X(SUBSD, 0xf2, 0x5c, 0)                                                                        \
    X(MULSS, 0xf3, 0x59, 0)                                                                        \
    X(MULSD, 0xf2, 0x59, 0)                                                                        \
    X(DIVSS, 0xf3, 0x5e, 0)                                                                        \
    X(DIVSD, 0xf2, 0x5e, 0)                                                                        \
    X(SQRTSS, 0xf3, 0x51, 0)                                                                       \
    X(SQRTSD, 0xf2, 0x51, 0)                                                                       \
    X(MINSS, 0xf3, 0x5d, 0)                                                                        \
    X(MINSD, 0xf2, 0x5d, 0)                                                                        \
    X(MAXSS, 0xf3, 0x5f, 0)                                                                        \
    X(MAXSD, 0xf2, 0x5f, 0)                                                                        \
    X(UCOMISS, 0x00, 0x2e, 0)                                                                      \
    X(UCOMISD, 0x66, 0x2e, 0)                                                                      \
    X(CVTSS2SD, 0xf3, 0x5a, 0)                                                                     \
    X(CVTSD2SS, 0xf2, 0x5a, 0)                                                                     \
    X(ANDPS, 0x00, 0x54, 0)                                                                        \
    X(ANDPD, 0x66, 0x54, 0)                                                                        \
    X(ANDNPS, 0x00, 0x55, 0)                                                                       \
    X(ANDNPD, 0x66, 0x55, 0)                                                                       \
    X(ORPS, 0x00, 0x56, 0)                                                                         \
    X(ORPD, 0x66, 0x56, 0)                                                                         \
    X(XORPS, 0x00, 0x57, 0)                                                                        \
    X(XORPD, 0x66, 0x57, 0)                                                                        \
    X(PXOR, 0x66, 0xef, 0)

enum x64_sse {
#define X64_SSE_ENUM(name, pfx, op, st) X64_##name,
    X64_SSE_OPS(X64_SSE_ENUM)
#undef X64_SSE_ENUM
        X64_NSSE
};

void x64_sse_rr(struct codebuf *cb, enum x64_sse op, enum x64_xmm dst,
                enum x64_xmm src); /* op dst, src */
void x64_sse_rm(struct codebuf *cb, enum x64_sse op, enum x64_xmm dst,
                struct x64_mem src); /* op dst, [src] (movss/movsd/... are loads) */
/* op [dst], src: only movss, movsd, movups, movdqu, movaps, movapd. */
void x64_sse_mr(struct codebuf *cb, enum x64_sse op, struct x64_mem dst, enum x64_xmm src);

/* movd/movq dst, src between general and xmm registers: w = 32 (movd) or 64. */
void x64_movd_xr(struct codebuf *cb, unsigned w, enum x64_xmm dst, enum x64_reg src);
void x64_movd_rx(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_xmm src);
/* cvtsi2ss/sd dst, src(w): a signed 32- or 64-bit integer to float. */
void x64_cvtsi2ss(struct codebuf *cb, unsigned w, enum x64_xmm dst, enum x64_reg src);
void x64_cvtsi2sd(struct codebuf *cb, unsigned w, enum x64_xmm dst, enum x64_reg src);
/* cvttss2si/cvttsd2si dst(w), src: truncating float to signed integer. */
void x64_cvttss2si(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_xmm src);
void x64_cvttsd2si(struct codebuf *cb, unsigned w, enum x64_reg dst, enum x64_xmm src);

/* SSE4.1 rounding immediate: a mode, optionally | X64_ROUND_INEXACT_OFF to
 * suppress the precision exception. */
enum x64_round {
    X64_ROUND_NEAREST = 0, /* to nearest, ties to even */
    X64_ROUND_DOWN = 1,    /* toward -inf (floor) */
    X64_ROUND_UP = 2,      /* toward +inf (ceil) */
    X64_ROUND_TRUNC = 3,   /* toward zero */
    X64_ROUND_INEXACT_OFF = 8,
};
void x64_roundss(struct codebuf *cb, enum x64_xmm dst, enum x64_xmm src, uint8_t mode);
void x64_roundsd(struct codebuf *cb, enum x64_xmm dst, enum x64_xmm src, uint8_t mode);

/* -- CPU features -------------------------------------------------------- */

enum x64_cpu_feature {
    X64_CPU_POPCNT = 1u << 0, /* popcnt */
    X64_CPU_LZCNT = 1u << 1,  /* lzcnt (ABM) */
    X64_CPU_BMI1 = 1u << 2,   /* tzcnt, andn, ... */
    X64_CPU_SSE41 = 1u << 3,  /* roundss/roundsd, ... */
    X64_CPU_AVX = 1u << 4,    /* AVX, and the OS saves the ymm state */
};

/* The X64_CPU_* bits this CPU (and OS) supports, from CPUID. */
unsigned x64_cpu_features(void);

#endif
