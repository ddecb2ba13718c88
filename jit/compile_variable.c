/* Locals and globals. Locals live in frame slots (compile.h); globals are
 * cells reached through the vmctx's array of cell pointers. */
#include "jit/compile.h"
#include "jit/vmctx_offsets.h"

/* Loads 8 bytes at m into a new register of the type's class. */
static int push_load(struct compiler *c, uint8_t type, struct x64_mem m)
{
    if (is_float(type)) {
        enum x64_xmm r = alloc_xmm(c);
        x64_sse_rm(c->cb, type == SBX_F32 ? X64_MOVSS : X64_MOVSD, r, m);
        return push_reg(c, type, r);
    }
    enum x64_reg r = alloc_gpr(c);
    x64_mov_rm(c->cb, type == SBX_I32 ? 32 : 64, r, m);
    return push_reg(c, type, r);
}

/* Writes the top value to m (8 bytes) and pops it unless `keep`. */
static void store_top(struct compiler *c, struct x64_mem m, bool keep)
{
    struct value *v = peek(c, 0);
    store_value(c, v, m);
    if (keep) return;
    release(c, v);
    c->depth--;
}

static void global_cell(struct compiler *c, uint32_t index)
{
    x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_VMCTX, SBX_VMCTX_GLOBALS));
    x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_SCRATCH, 8 * (int32_t)index));
}

/* local.get of a local kept in a register pushes a reference to it; the
 * value is copied only if the local changes while it is on the stack. */
static int get_register_local(struct compiler *c, uint32_t x)
{
    if (push_const(c, c->local_types[x], 0)) return -1;
    struct value *v = peek(c, 0);
    v->loc = VLOC_LOCAL;
    v->reg = (uint8_t)c->local_reg[x];
    v->imm = x;
    return 0;
}

static void set_register_local(struct compiler *c, uint32_t x, bool keep)
{
    struct value *v = peek(c, 0);
    uint8_t type = c->local_types[x];
    int lr = c->local_reg[x];
    if (v->loc == VLOC_LOCAL && v->imm == x) { /* already there (in-place update) */
        if (!keep) c->depth--;
        return;
    }
    materialize_local_refs(c, x, c->depth - 1);
    v = peek(c, 0);
    if (is_float(type)) {
        load_xmm(c, v, (enum x64_xmm)lr);
    } else if (v->loc == VLOC_STACK) {
        x64_mov_rm(c->cb, type == SBX_I32 ? 32 : 64, (enum x64_reg)lr, spill_slot(c, c->depth - 1));
    } else {
        load_gpr(c, v, (enum x64_reg)lr);
    }
    if (!keep) {
        release(c, v);
        c->depth--;
        return;
    }
    /* tee: a value in a register stays there (the next instruction may
     * modify it in place); anything else becomes a reference to the local. */
    if (v->loc == VLOC_REG) return;
    v->loc = VLOC_LOCAL;
    v->reg = (uint8_t)lr;
    v->imm = x;
}

int compile_variable(struct compiler *c, const struct sbx_insn *in)
{
    uint32_t x = in->u.index;
    bool local_op =
        in->op == SBX_OP_LOCAL_GET || in->op == SBX_OP_LOCAL_SET || in->op == SBX_OP_LOCAL_TEE;
    if (local_op && c->local_reg[x] >= 0) {
        if (in->op == SBX_OP_LOCAL_GET) return get_register_local(c, x);
        set_register_local(c, x, in->op == SBX_OP_LOCAL_TEE);
        return 0;
    }
    switch (in->op) {
    case SBX_OP_LOCAL_GET: return push_load(c, c->local_types[x], local_slot(c, x));
    case SBX_OP_LOCAL_SET:
    case SBX_OP_LOCAL_TEE: {
        struct value *v = peek(c, 0);
        /* A tee'd spilled value must stay readable from its slot: store_value
         * only reads it. */
        store_top(c, local_slot(c, x), in->op == SBX_OP_LOCAL_TEE);
        (void)v;
        return 0;
    }
    case SBX_OP_GLOBAL_GET: {
        uint8_t type = c->m->globals[x].type.type;
        global_cell(c, x);
        return push_load(c, type, x64_mem(REG_SCRATCH, 0));
    }
    case SBX_OP_GLOBAL_SET: {
        struct value *v = peek(c, 0);
        if (v->loc == VLOC_STACK || (v->loc == VLOC_CONST && (int64_t)v->imm != (int32_t)v->imm)) {
            /* store_value needs r11 itself: go through a register. */
            enum x64_reg r = alloc_gpr(c);
            v = peek(c, 0);
            load_gpr(c, v, r);
            c->depth--;
            global_cell(c, x);
            x64_mov_mr(c->cb, 64, x64_mem(REG_SCRATCH, 0), r);
            free_gpr(c, r);
            return 0;
        }
        global_cell(c, x);
        store_top(c, x64_mem(REG_SCRATCH, 0), false);
        return 0;
    }
    }
    return cc_fail(c, "internal error: variable opcode %#x", in->op);
}
