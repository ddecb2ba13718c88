/* The opcode table, expanded from opcodes.def. */
#include "jit/opcodes.h"

const struct sbx_opinfo sbx_opinfo[SBX_OP_COUNT] = {
#define OP(code, ident, text, immk, p, r, a)                                                       \
    [code] = {.name = text, .params = p, .results = r, .imm = immk, .arg = a},
#include "jit/opcodes.def"
#undef OP
};
