/* The instruction reader: decodes opcodes and their immediates. */
#include "jit/insn.h"

#include "jit/limits.h"
#include "jit/module.h"

static bool is_valtype(uint8_t b)
{
    switch (b) {
    case SBX_I32:
    case SBX_I64:
    case SBX_F32:
    case SBX_F64:
    case SBX_V128:
    case SBX_FUNCREF:
    case SBX_EXTERNREF: return true;
    default: return false;
    }
}

int sbx_read_valtype(struct sbx_reader *r, uint8_t *out)
{
    if (rd_u8(r, out)) return -1;
    if (!is_valtype(*out)) return sbx_fail(r->err, rd_offset(r) - 1, "malformed value type");
    return 0;
}

int sbx_read_reftype(struct sbx_reader *r, uint8_t *out)
{
    if (rd_u8(r, out)) return -1;
    if (*out != SBX_FUNCREF && *out != SBX_EXTERNREF)
        return sbx_fail(r->err, rd_offset(r) - 1, "malformed reference type");
    return 0;
}

static int read_zero(struct sbx_reader *r)
{
    uint8_t b;
    if (rd_u8(r, &b)) return -1;
    if (b != 0) return sbx_fail(r->err, rd_offset(r) - 1, "zero byte expected");
    return 0;
}

static int read_blocktype(struct sbx_reader *r, struct sbx_insn *in)
{
    if (r->p >= r->end) return sbx_fail(r->err, rd_offset(r), SBX_ERR_EOF);
    uint8_t b = *r->p;
    if (b == 0x40) {
        r->p++;
        in->u.block.kind = SBX_BT_EMPTY;
        return 0;
    }
    if ((b & 0xc0) == 0x40) { /* a one-byte negative s33: a value type */
        in->u.block.kind = SBX_BT_VALTYPE;
        return sbx_read_valtype(r, &in->u.block.valtype);
    }
    size_t at = rd_offset(r);
    int64_t v;
    if (rd_sleb(r, 33, &v)) return -1;
    if (v < 0) return sbx_fail(r->err, at, "malformed block type");
    in->u.block.kind = SBX_BT_INDEX;
    in->u.block.index = (uint32_t)v;
    return 0;
}

static int read_memarg(struct sbx_reader *r, struct sbx_insn *in)
{
    return rd_u32(r, &in->u.memarg.align) || rd_u32(r, &in->u.memarg.offset) ? -1 : 0;
}

static int read_immediates(struct sbx_reader *r, struct sbx_insn *in, uint8_t imm)
{
    int64_t s;
    const uint8_t *b;
    switch (imm) {
    case IMM_NONE: return 0;
    case IMM_BLOCK: return read_blocktype(r, in);
    case IMM_LABEL:
    case IMM_FUNC:
    case IMM_LOCAL:
    case IMM_GLOBAL:
    case IMM_TABLE:
    case IMM_DATA:
    case IMM_ELEM: return rd_u32(r, &in->u.index);
    case IMM_BR_TABLE: {
        size_t at = rd_offset(r);
        if (rd_u32(r, &in->u.br_table.count)) return -1;
        if (in->u.br_table.count > SBX_MAX_BR_TABLE_TARGETS)
            return sbx_fail(r->err, at, "br_table has too many targets (limit %u)",
                            SBX_MAX_BR_TABLE_TARGETS);
        in->u.br_table.targets = r->p;
        uint32_t label;
        for (uint32_t i = 0; i <= in->u.br_table.count; i++)
            if (rd_u32(r, &label)) return -1;
        return 0;
    }
    case IMM_CALL_INDIRECT:
        return rd_u32(r, &in->u.call_indirect.type_index) || rd_u32(r, &in->u.call_indirect.table)
                   ? -1
                   : 0;
    case IMM_SELECT_T: {
        if (rd_len(r, &in->u.select_t.count)) return -1;
        in->u.select_t.types = r->p;
        uint8_t t;
        for (uint32_t i = 0; i < in->u.select_t.count; i++)
            if (sbx_read_valtype(r, &t)) return -1;
        return 0;
    }
    case IMM_MEMARG: return read_memarg(r, in);
    case IMM_MEMIDX: return read_zero(r);
    case IMM_I32:
        if (rd_sleb(r, 32, &s)) return -1;
        in->u.i32 = (uint32_t)s;
        return 0;
    case IMM_I64:
        if (rd_sleb(r, 64, &s)) return -1;
        in->u.i64 = (uint64_t)s;
        return 0;
    case IMM_F32: return rd_fixed32(r, &in->u.f32);
    case IMM_F64: return rd_fixed64(r, &in->u.f64);
    case IMM_V128:
    case IMM_SHUFFLE:
        if (rd_bytes(r, 16, &b)) return -1;
        memcpy(in->u.bytes, b, 16);
        return 0;
    case IMM_REFTYPE: return sbx_read_reftype(r, &in->u.reftype);
    case IMM_MEMORY_INIT: return rd_u32(r, &in->u.pair.a) || read_zero(r) ? -1 : 0;
    case IMM_MEMORY_COPY: return read_zero(r) || read_zero(r) ? -1 : 0;
    case IMM_TABLE_INIT:
    case IMM_TABLE_COPY: return rd_u32(r, &in->u.pair.a) || rd_u32(r, &in->u.pair.b) ? -1 : 0;
    case IMM_LANE: return rd_u8(r, &in->u.lane);
    case IMM_MEMARG_LANE: return read_memarg(r, in) || rd_u8(r, &in->u.memarg.lane) ? -1 : 0;
    }
    return sbx_fail(r->err, rd_offset(r), "internal error: immediate kind %u", imm);
}

int sbx_insn_read(struct sbx_reader *r, struct sbx_insn *in)
{
    in->offset = rd_offset(r);
    uint8_t b;
    if (rd_u8(r, &b)) return -1;
    unsigned op = b;
    if (b == 0xfc || b == 0xfd) {
        uint32_t sub;
        if (rd_u32(r, &sub)) return -1;
        if (sub > 0xff) return sbx_fail(r->err, in->offset, "illegal opcode %02x %x", b, sub);
        op = (b == 0xfc ? SBX_OP_PREFIX_FC : SBX_OP_PREFIX_FD) + sub;
        if (!sbx_opinfo[op].name)
            return sbx_fail(r->err, in->offset, "illegal opcode %02x %x", b, sub);
    } else if (!sbx_opinfo[op].name) {
        return sbx_fail(r->err, in->offset, "illegal opcode %02x", b);
    }
    in->op = (uint16_t)op;
    return read_immediates(r, in, sbx_opinfo[op].imm);
}
