/* Opcode numbering and the static opcode table (see opcodes.def). The
 * validator and, later, the compiler dispatch on `enum sbx_op`. */
#ifndef SBX_JIT_OPCODES_H
#define SBX_JIT_OPCODES_H

#include <stdint.h>

/* How an opcode's immediates are encoded. */
enum sbx_imm_kind {
    IMM_NONE,
    IMM_BLOCK,         /* block type */
    IMM_LABEL,         /* label index */
    IMM_BR_TABLE,      /* vec(label) label */
    IMM_FUNC,          /* function index */
    IMM_CALL_INDIRECT, /* type index, table index */
    IMM_SELECT_T,      /* vec(valtype) */
    IMM_LOCAL,
    IMM_GLOBAL,
    IMM_TABLE,
    IMM_MEMARG,      /* align, offset */
    IMM_MEMIDX,      /* reserved zero byte (memory index 0) */
    IMM_I32,         /* signed LEB128, 32 bits */
    IMM_I64,         /* signed LEB128, 64 bits */
    IMM_F32,         /* 4 bytes */
    IMM_F64,         /* 8 bytes */
    IMM_V128,        /* 16 bytes */
    IMM_REFTYPE,     /* ref.null's heap type */
    IMM_MEMORY_INIT, /* data index, zero byte */
    IMM_DATA,        /* data index */
    IMM_MEMORY_COPY, /* two zero bytes */
    IMM_TABLE_INIT,  /* elem index, table index */
    IMM_ELEM,        /* elem index */
    IMM_TABLE_COPY,  /* dst table, src table */
    IMM_LANE,        /* one lane-index byte */
    IMM_MEMARG_LANE, /* memarg, then a lane-index byte */
    IMM_SHUFFLE,     /* 16 lane-index bytes */
};

#define SBX_OP_PREFIX_FC 0x100
#define SBX_OP_PREFIX_FD 0x200
#define SBX_OP_COUNT     0x300

enum sbx_op {
#define OP(code, ident, text, imm, params, results, arg) SBX_OP_##ident = code,
#include "jit/opcodes.def"
#undef OP
};

struct sbx_opinfo {
    const char *name;   /* NULL: no such opcode */
    const char *params; /* validator signature, see opcodes.def */
    const char *results;
    uint8_t imm; /* enum sbx_imm_kind */
    uint8_t arg; /* natural alignment (log2) or lane count */
};

/* Indexed by opcode (with the prefix offsets above). */
extern const struct sbx_opinfo sbx_opinfo[SBX_OP_COUNT];

#endif
