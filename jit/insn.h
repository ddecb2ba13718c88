/* Reading one instruction: opcode plus immediates, with every binary-format
 * rule checked (LEB128 bounds, reserved zero bytes, known opcodes). Index
 * ranges and types are the validator's business, not this reader's. */
#ifndef SBX_JIT_INSN_H
#define SBX_JIT_INSN_H

#include "jit/opcodes.h"
#include "jit/reader.h"

enum sbx_blocktype_kind { SBX_BT_EMPTY, SBX_BT_VALTYPE, SBX_BT_INDEX };

struct sbx_insn {
    uint16_t op;   /* enum sbx_op */
    size_t offset; /* of the opcode byte */
    union {
        struct {
            uint8_t kind; /* enum sbx_blocktype_kind */
            uint8_t valtype;
            uint32_t index;
        } block;
        uint32_t index; /* label, func, local, global, table, data or elem */
        struct {
            uint32_t type_index;
            uint32_t table;
        } call_indirect;
        struct {
            uint32_t count;         /* targets, excluding the default */
            const uint8_t *targets; /* count+1 LEB128 label indices */
        } br_table;
        struct {
            uint32_t count;
            const uint8_t *types; /* count value-type bytes */
        } select_t;
        struct {
            uint32_t align; /* log2 */
            uint32_t offset;
            uint8_t lane;
        } memarg;
        struct {
            uint32_t a; /* table.init: elem, table.copy: dst, memory.init: data */
            uint32_t b; /* table.init: table, table.copy: src */
        } pair;
        uint32_t i32;
        uint64_t i64;
        uint32_t f32;
        uint64_t f64;
        uint8_t bytes[16]; /* v128.const, i8x16.shuffle lanes */
        uint8_t reftype;
        uint8_t lane;
    } u;
};

/* Reads one instruction at r->p. Returns 0, or -1 with r->err set. */
int sbx_insn_read(struct sbx_reader *r, struct sbx_insn *insn);

/* Reads a value type byte; "malformed value type" otherwise. */
int sbx_read_valtype(struct sbx_reader *r, uint8_t *out);

/* Reads a reference type byte; "malformed reference type" otherwise. */
int sbx_read_reftype(struct sbx_reader *r, uint8_t *out);

#endif
