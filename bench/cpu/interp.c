/* A bytecode interpreter: a small register machine dispatched by a switch
 * (a jump table; br_table in wasm), running a program that sums a
 * Collatz-like sequence's lengths. Unpredictable indirect branches. */
#include "bench.h"

enum op {
    OP_LI,
    OP_MOV,
    OP_ADD,
    OP_ADDI,
    OP_SHR1,
    OP_MUL3P1,
    OP_ANDI,
    OP_JZ,
    OP_JNZ,
    OP_DEC,
    OP_JEQI,
    OP_JMP,
    OP_HALT
};

struct insn {
    uint8_t op, a, b;
    int32_t imm;
};

/* r0: n (counting down), r1: x, r2: steps (total), r3: scratch.
 *   for (n = LIMIT; n; n--) { x = n; while (x != 1) { x = x odd ? 3x+1 : x/2; steps++; } }
 * Below 100000 no trajectory passes 2^32 (the highest peak, from 77671, is
 * 1570824736), so 32-bit registers suffice. */
#define LIMIT 100000
static const struct insn program[] = {
    /* 0 */ {OP_LI, 0, 0, LIMIT},
    /* 1 */ {OP_LI, 2, 0, 0},
    /* 2 */ {OP_MOV, 1, 0, 0},
    /* 3 */ {OP_JEQI, 1, 12, 1}, /* x == imm: jump to b */
    /* 4 */ {OP_MOV, 3, 1, 0},
    /* 5 */ {OP_ANDI, 3, 0, 1},
    /* 6 */ {OP_JZ, 3, 9, 0},
    /* 7 */ {OP_MUL3P1, 1, 0, 0},
    /* 8 */ {OP_JMP, 0, 10, 0},
    /* 9 */ {OP_SHR1, 1, 0, 0},
    /* 10 */ {OP_ADDI, 2, 0, 1},
    /* 11 */ {OP_JMP, 0, 3, 0},
    /* 12 */ {OP_DEC, 0, 0, 0},
    /* 13 */ {OP_JNZ, 0, 2, 0},
    /* 14 */ {OP_HALT, 0, 0, 0},
};

static uint32_t execute(const struct insn *code)
{
    uint32_t r[4] = {0, 0, 0, 0};
    uint32_t pc = 0;
    for (;;) {
        const struct insn *in = &code[pc++];
        switch (in->op) {
        case OP_LI: r[in->a] = (uint32_t)in->imm; break;
        case OP_MOV: r[in->a] = r[in->b]; break;
        case OP_ADD: r[in->a] += r[in->b]; break;
        case OP_ADDI: r[in->a] += (uint32_t)in->imm; break;
        case OP_SHR1: r[in->a] >>= 1; break;
        case OP_MUL3P1: r[in->a] = r[in->a] * 3 + 1; break;
        case OP_ANDI: r[in->a] &= (uint32_t)in->imm; break;
        case OP_JZ:
            if (!r[in->a]) pc = in->b;
            break;
        case OP_JNZ:
            if (r[in->a]) pc = in->b;
            break;
        case OP_DEC: r[in->a]--; break;
        case OP_JEQI:
            if (r[in->a] == (uint32_t)in->imm) pc = in->b;
            break;
        case OP_JMP: pc = in->b; break;
        case OP_HALT: return r[2];
        default: return 0;
        }
    }
}

int run(void)
{
    return (int)execute(program);
}
