/* The compiler's operand stack: where each value lives (register, constant,
 * canonical spill slot), register allocation with spilling, and moving values
 * between those places. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "jit/compile.h"

/* Allocation order: registers no instruction needs for itself come first,
 * so rax/rdx (division) and rcx (shift counts) are taken last. r11 is the
 * scratch register, r14/r15 are pinned, rsp/rbp are the frame. */
static const enum x64_reg gpr_order[] = {
    X64_RBX, X64_R12, X64_R13, X64_RSI, X64_RDI, X64_R8, X64_R9, X64_R10, X64_RAX, X64_RDX, X64_RCX,
};
#define NGPR_ALLOC (sizeof(gpr_order) / sizeof(gpr_order[0]))
/* xmm15 is the scratch register. */
#define NXMM_ALLOC 15

bool is_float(uint8_t type)
{
    return type == SBX_F32 || type == SBX_F64;
}

int cc_fail(struct compiler *c, const char *fmt, ...)
{
    if (!c->err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
    va_end(ap);
    c->err->offset = 0;
    c->err->func_index = c->func_index;
    return -1;
}

int32_t spill_offset(const struct compiler *c, uint32_t depth)
{
    return c->spill_base - 8 * (int32_t)depth;
}

struct x64_mem spill_slot(const struct compiler *c, uint32_t depth)
{
    return x64_mem(X64_RBP, spill_offset(c, depth));
}

struct x64_mem local_slot(const struct compiler *c, uint32_t index)
{
    if (index < c->ft->nparams) return x64_mem(X64_RBP, 16 + 8 * (int32_t)index);
    return x64_mem(X64_RBP, -16 - 8 * (int32_t)(index - c->ft->nparams));
}

/* -- Moving values -------------------------------------------------------- */

static void spill_one(struct compiler *c, uint32_t depth)
{
    struct value *v = &c->stack[depth];
    if (v->loc == VLOC_STACK) return;
    store_value(c, v, spill_slot(c, depth));
    release(c, v);
    v->loc = VLOC_STACK;
}

void store_value(struct compiler *c, const struct value *v, struct x64_mem m)
{
    switch (v->loc) {
    case VLOC_REG:
        if (is_float(v->type))
            x64_sse_mr(c->cb, X64_MOVSD, m, (enum x64_xmm)v->reg);
        else
            x64_mov_mr(c->cb, 64, m, (enum x64_reg)v->reg);
        break;
    case VLOC_CONST:
        if ((int64_t)v->imm == (int32_t)v->imm) {
            x64_mov_mi(c->cb, 64, m, (int32_t)v->imm);
        } else {
            x64_mov_ri(c->cb, 64, REG_SCRATCH, (int64_t)v->imm);
            x64_mov_mr(c->cb, 64, m, REG_SCRATCH);
        }
        break;
    case VLOC_FLAGS:
        x64_setcc(c->cb, (enum x64_cc)v->cc, REG_SCRATCH);
        x64_movzx_rr(c->cb, 32, 8, REG_SCRATCH, REG_SCRATCH);
        x64_mov_mr(c->cb, 64, m, REG_SCRATCH);
        break;
    case VLOC_LOCAL:
        if (is_float(v->type))
            x64_sse_mr(c->cb, X64_MOVSD, m, (enum x64_xmm)v->reg);
        else
            x64_mov_mr(c->cb, 64, m, (enum x64_reg)v->reg);
        break;
    case VLOC_STACK: {
        /* v points into c->stack (popped entries stay in the array until
         * overwritten), so its depth names its slot. */
        struct x64_mem src = spill_slot(c, (uint32_t)(v - c->stack));
        if (m.base == src.base && m.index == src.index && m.disp == src.disp) break;
        x64_mov_rm(c->cb, 64, REG_SCRATCH, src);
        x64_mov_mr(c->cb, 64, m, REG_SCRATCH);
        break;
    }
    }
}

void free_gpr(struct compiler *c, enum x64_reg r)
{
    c->gpr_used &= (uint16_t) ~(1u << r);
}

void free_xmm(struct compiler *c, enum x64_xmm r)
{
    c->xmm_used &= (uint16_t) ~(1u << r);
}

void release(struct compiler *c, const struct value *v)
{
    if (v->loc != VLOC_REG) return;
    if (is_float(v->type))
        c->xmm_used &= (uint16_t) ~(1u << v->reg);
    else
        c->gpr_used &= (uint16_t) ~(1u << v->reg);
}

void spill_all(struct compiler *c)
{
    for (uint32_t d = 0; d < c->depth; d++)
        spill_one(c, d);
}

/* Spills the deepest value held in a register of the given class. */
static void spill_deepest(struct compiler *c, bool fp)
{
    for (uint32_t d = 0; d < c->depth; d++) {
        struct value *v = &c->stack[d];
        if (v->loc == VLOC_REG && is_float(v->type) == fp) {
            spill_one(c, d);
            return;
        }
    }
}

enum x64_reg alloc_gpr(struct compiler *c)
{
    for (;;) {
        for (size_t i = 0; i < NGPR_ALLOC; i++)
            if (!((c->gpr_used | c->gpr_locals) & (1u << gpr_order[i]))) {
                c->gpr_used |= (uint16_t)(1u << gpr_order[i]);
                return gpr_order[i];
            }
        spill_deepest(c, false);
    }
}

enum x64_xmm alloc_xmm(struct compiler *c)
{
    for (;;) {
        for (unsigned i = 0; i < NXMM_ALLOC; i++)
            if (!((c->xmm_used | c->xmm_locals) & (1u << i))) {
                c->xmm_used |= (uint16_t)(1u << i);
                return (enum x64_xmm)i;
            }
        spill_deepest(c, true);
    }
}

void free_up_gpr(struct compiler *c, enum x64_reg r)
{
    if (!(c->gpr_used & (1u << r))) return;
    for (uint32_t d = 0; d < c->depth; d++) {
        struct value *v = &c->stack[d];
        if (v->loc == VLOC_REG && !is_float(v->type) && v->reg == r) {
            /* Prefer moving to another free register over a store. */
            c->gpr_used &= (uint16_t) ~(1u << r);
            for (size_t i = 0; i < NGPR_ALLOC; i++) {
                enum x64_reg n = gpr_order[i];
                if (n != r && !((c->gpr_used | c->gpr_locals) & (1u << n)) && n != X64_RAX &&
                    n != X64_RDX && n != X64_RCX) {
                    x64_mov_rr(c->cb, 64, n, r);
                    v->reg = n;
                    c->gpr_used |= (uint16_t)(1u << n);
                    return;
                }
            }
            c->gpr_used |= (uint16_t)(1u << r);
            spill_one(c, d);
            return;
        }
    }
}

/* -- Pushing and popping ------------------------------------------------- */

static int grow_stack(struct compiler *c)
{
    if (c->depth < c->stack_cap) return 0;
    uint32_t cap = c->stack_cap ? c->stack_cap * 2 : 64;
    struct value *p = realloc(c->stack, cap * sizeof(*p));
    if (!p) return cc_fail(c, "out of memory");
    c->stack = p, c->stack_cap = cap;
    return 0;
}

static void note_depth(struct compiler *c)
{
    if (c->depth > c->max_depth) c->max_depth = c->depth;
}

int push_reg(struct compiler *c, uint8_t type, uint8_t reg)
{
    if (grow_stack(c)) return -1;
    c->stack[c->depth++] = (struct value){.loc = VLOC_REG, .type = type, .reg = reg};
    if (is_float(type))
        c->xmm_used |= (uint16_t)(1u << reg);
    else
        c->gpr_used |= (uint16_t)(1u << reg);
    note_depth(c);
    return 0;
}

int push_stack(struct compiler *c, uint8_t type)
{
    if (grow_stack(c)) return -1;
    c->stack[c->depth++] = (struct value){.loc = VLOC_STACK, .type = type};
    note_depth(c);
    return 0;
}

int push_const(struct compiler *c, uint8_t type, uint64_t bits)
{
    if (grow_stack(c)) return -1;
    c->stack[c->depth++] = (struct value){.loc = VLOC_CONST, .type = type, .imm = bits};
    note_depth(c);
    return 0;
}

struct value *peek(struct compiler *c, uint32_t n)
{
    return &c->stack[c->depth - 1 - n];
}

struct value pop_value(struct compiler *c)
{
    return c->stack[--c->depth];
}

void load_gpr(struct compiler *c, const struct value *v, enum x64_reg r)
{
    switch (v->loc) {
    case VLOC_REG:
        if (v->reg != r) x64_mov_rr(c->cb, 64, r, (enum x64_reg)v->reg);
        break;
    case VLOC_CONST:
        if (v->imm == 0)
            x64_alu_rr(c->cb, X64_XOR, 32, r, r);
        else if (v->type == SBX_I32 || v->type == SBX_F32)
            x64_mov_ri(c->cb, 32, r, (int64_t)(uint32_t)v->imm);
        else
            x64_mov_ri(c->cb, 64, r, (int64_t)v->imm);
        break;
    case VLOC_STACK: x64_mov_rm(c->cb, 64, r, spill_slot(c, (uint32_t)(v - c->stack))); break;
    case VLOC_FLAGS:
        x64_setcc(c->cb, (enum x64_cc)v->cc, r);
        x64_movzx_rr(c->cb, 32, 8, r, r);
        break;
    case VLOC_LOCAL:
        if (v->reg != r) x64_mov_rr(c->cb, 64, r, (enum x64_reg)v->reg);
        break;
    }
}

void load_xmm(struct compiler *c, const struct value *v, enum x64_xmm r)
{
    switch (v->loc) {
    case VLOC_REG:
        if (v->reg != r) x64_sse_rr(c->cb, X64_MOVAPS, r, (enum x64_xmm)v->reg);
        break;
    case VLOC_CONST:
        if (v->imm == 0) {
            x64_sse_rr(c->cb, X64_XORPS, r, r);
        } else {
            x64_mov_ri(c->cb, 64, REG_SCRATCH, (int64_t)v->imm);
            x64_movd_xr(c->cb, 64, r, REG_SCRATCH);
        }
        break;
    case VLOC_STACK:
        x64_sse_rm(c->cb, X64_MOVSD, r, spill_slot(c, (uint32_t)(v - c->stack)));
        break;
    case VLOC_LOCAL:
        if (v->reg != r) x64_sse_rr(c->cb, X64_MOVAPS, r, (enum x64_xmm)v->reg);
        break;
    case VLOC_FLAGS: break; /* never a float */
    }
}

enum x64_reg read_gpr(struct compiler *c, const struct value *v, bool *owned)
{
    if (v->loc == VLOC_REG || v->loc == VLOC_LOCAL) {
        *owned = v->loc == VLOC_REG;
        return (enum x64_reg)v->reg;
    }
    *owned = true;
    uint32_t d = (uint32_t)(v - c->stack);
    enum x64_reg r = alloc_gpr(c);
    load_gpr(c, &c->stack[d], r);
    return r;
}

enum x64_xmm read_xmm(struct compiler *c, const struct value *v, bool *owned)
{
    if (v->loc == VLOC_REG || v->loc == VLOC_LOCAL) {
        *owned = v->loc == VLOC_REG;
        return (enum x64_xmm)v->reg;
    }
    *owned = true;
    uint32_t d = (uint32_t)(v - c->stack);
    enum x64_xmm r = alloc_xmm(c);
    load_xmm(c, &c->stack[d], r);
    return r;
}

void materialize_local_refs(struct compiler *c, uint32_t x, uint32_t limit)
{
    for (uint32_t d = 0; d < limit; d++) {
        struct value *v = &c->stack[d];
        if (v->loc != VLOC_LOCAL || v->imm != x) continue;
        if (is_float(v->type)) {
            enum x64_xmm r = alloc_xmm(c);
            v = &c->stack[d];
            x64_sse_rr(c->cb, X64_MOVAPS, r, (enum x64_xmm)v->reg);
            v->reg = (uint8_t)r;
        } else {
            enum x64_reg r = alloc_gpr(c);
            v = &c->stack[d];
            x64_mov_rr(c->cb, 64, r, (enum x64_reg)v->reg);
            v->reg = (uint8_t)r;
        }
        v->loc = VLOC_REG;
    }
}

bool next_sets_local(const struct compiler *c, uint32_t x)
{
    return (c->next_op == SBX_OP_LOCAL_SET || c->next_op == SBX_OP_LOCAL_TEE) && c->next_local == x;
}

enum x64_reg pop_gpr(struct compiler *c)
{
    struct value *v = peek(c, 0);
    if (v->loc == VLOC_REG) {
        c->depth--;
        return (enum x64_reg)v->reg;
    }
    enum x64_reg r = alloc_gpr(c);
    v = peek(c, 0); /* alloc may have spilled, but never the top's location */
    load_gpr(c, v, r);
    c->depth--;
    return r;
}

enum x64_xmm pop_xmm(struct compiler *c)
{
    struct value *v = peek(c, 0);
    if (v->loc == VLOC_REG) {
        c->depth--;
        return (enum x64_xmm)v->reg;
    }
    enum x64_xmm r = alloc_xmm(c);
    v = peek(c, 0);
    load_xmm(c, v, r);
    c->depth--;
    return r;
}
