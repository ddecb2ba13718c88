/* The byte layer of the x86-64 encoder (private to jit/x64_*.c): prefixes,
 * REX, opcode bytes, ModRM/SIB/displacement and immediates, written at a
 * pointer into the code buffer's room for one instruction.
 *
 * Instruction layout:  [66/F2/F3] [REX] opcode(1-3) [ModRM [SIB] [disp]] [imm]
 * REX = 0100WRXB: W = 64-bit operand, R/X/B = bit 3 of ModRM.reg, SIB.index,
 * ModRM.rm or SIB.base. */
#ifndef SBX_JIT_X64_ENC_H
#define SBX_JIT_X64_ENC_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "jit/codebuf.h"
#include "jit/x64_regs.h"

/* Opcodes of 1 to 3 bytes, packed with their length in the top byte. */
#define OP1(a)       (0x01000000u | (uint32_t)(a))
#define OP2(a, b)    (0x02000000u | (uint32_t)(a) << 8 | (uint32_t)(b))
#define OP3(a, b, c) (0x03000000u | (uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))

/* enc_* flags */
#define E_W    1u /* REX.W: 64-bit operand size */
#define E_REG8 2u /* ModRM.reg is a byte register: spl..dil need a REX */
#define E_RM8  4u /* ModRM.rm is a byte register */

static inline bool gpr_ok(unsigned r)
{
    return r < X64_NGPR;
}

static inline bool xmm_ok(unsigned r)
{
    return r < X64_NXMM;
}

static inline bool mem_ok(const struct x64_mem *m)
{
    if (m->scale != 1 && m->scale != 2 && m->scale != 4 && m->scale != 8) return false;
    if (m->index != X64_NOREG && (!gpr_ok(m->index) || m->index == X64_RSP)) return false;
    if (m->base == X64_RIP) return m->index == X64_NOREG;
    return m->base == X64_NOREG || gpr_ok(m->base);
}

/* Record -EINVAL unless `ok`; returns `ok`. Every emitter checks its operands
 * with this before it writes a byte. */
static inline bool operands_ok(struct codebuf *cb, bool ok)
{
    if (!ok) cb_fail(cb, -EINVAL);
    return ok;
}

static inline uint8_t *put8(uint8_t *p, uint32_t v)
{
    *p++ = (uint8_t)v;
    return p;
}

static inline uint8_t *put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return p + 4;
}

static inline uint8_t *put64(uint8_t *p, uint64_t v)
{
    p = put32(p, (uint32_t)v);
    return put32(p, (uint32_t)(v >> 32));
}

static inline bool fits8(int64_t v)
{
    return v >= INT8_MIN && v <= INT8_MAX;
}

/* Prefix, REX (if any bit is set, or `force` for the byte registers spl..dil)
 * and the opcode bytes. */
static inline uint8_t *enc_head(uint8_t *p, unsigned pfx, unsigned rex, bool force, uint32_t opc)
{
    if (pfx) *p++ = (uint8_t)pfx;
    if (rex || force) *p++ = (uint8_t)(0x40 | rex);
    for (unsigned i = opc >> 24; i-- > 0;)
        *p++ = (uint8_t)(opc >> (8 * i));
    return p;
}

/* A byte register numbered 4..7 is spl/bpl/sil/dil only with a REX prefix
 * (without one it is ah/ch/dh/bh). */
static inline bool needs_rex8(unsigned r, bool is_byte)
{
    return is_byte && r >= 4 && r < 8;
}

/* pfx REX opcode ModRM(11, reg, rm): both operands registers. */
static inline uint8_t *enc_rr(uint8_t *p, unsigned pfx, unsigned flags, uint32_t opc, unsigned reg,
                              unsigned rm)
{
    unsigned rex = (flags & E_W ? 8 : 0) | (reg & 8) >> 1 | (rm & 8) >> 3;
    bool force = needs_rex8(reg, flags & E_REG8) || needs_rex8(rm, flags & E_RM8);
    p = enc_head(p, pfx, rex, force, opc);
    return put8(p, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

/* pfx REX opcode ModRM [SIB] [disp8/disp32]: reg, [m].
 *  - [rip + disp32] is mod 00 rm 101.
 *  - rm 100 means "a SIB follows", so an rsp/r12 base always takes a SIB;
 *    SIB.index 100 means "no index".
 *  - mod 00 with rm (or SIB.base) 101 means "disp32, no base", so an
 *    rbp/r13 base with no displacement is written as disp8 0; with no base at
 *    all, SIB.base 101 and mod 00 give [index*scale + disp32]. */
static inline uint8_t *enc_rm(uint8_t *p, unsigned pfx, unsigned flags, uint32_t opc, unsigned reg,
                              const struct x64_mem *m)
{
    unsigned scale = m->scale == 8 ? 3 : m->scale == 4 ? 2 : m->scale == 2 ? 1 : 0;
    bool has_index = m->index != X64_NOREG;
    bool has_base = m->base != X64_NOREG && m->base != X64_RIP;
    unsigned rex = (flags & E_W ? 8 : 0) | (reg & 8) >> 1 | (has_index ? (m->index & 8) >> 2 : 0) |
                   (has_base ? (m->base & 8) >> 3 : 0);
    p = enc_head(p, pfx, rex, needs_rex8(reg, flags & E_REG8), opc);
    unsigned r = (reg & 7) << 3;
    unsigned idx = has_index ? (m->index & 7) : 4;

    if (m->base == X64_RIP) {
        p = put8(p, 0x05 | r);
        return put32(p, (uint32_t)m->disp);
    }
    if (!has_base) {
        p = put8(p, 0x04 | r);
        p = put8(p, scale << 6 | idx << 3 | 5);
        return put32(p, (uint32_t)m->disp);
    }
    unsigned mod = (m->disp == 0 && (m->base & 7) != 5) ? 0x00 : fits8(m->disp) ? 0x40 : 0x80;
    if (has_index || (m->base & 7) == 4) {
        p = put8(p, mod | r | 4);
        p = put8(p, scale << 6 | idx << 3 | (m->base & 7));
    } else {
        p = put8(p, mod | r | (m->base & 7));
    }
    if (mod == 0x40) return put8(p, (uint32_t)m->disp);
    if (mod == 0x80) return put32(p, (uint32_t)m->disp);
    return p;
}

/* REX opcode+r: the register in the low 3 bits of the last opcode byte. */
static inline uint8_t *enc_o(uint8_t *p, unsigned flags, uint32_t opc, unsigned r)
{
    unsigned rex = (flags & E_W ? 8 : 0) | (r & 8) >> 3;
    return enc_head(p, 0, rex, false, opc | (r & 7));
}

#endif
