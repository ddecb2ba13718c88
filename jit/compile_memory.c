/* Linear memory: loads and stores address [r14 + index + offset] with no
 * bounds check, relying on the slot's guard region (memimg): each access is
 * recorded as a trap site, so its fault becomes "out of bounds memory
 * access". Offsets too large for the guard get an explicit check. Bulk
 * memory operations are libcalls. */
#include <stddef.h>

#include "jit/compile.h"
#include "jit/libcalls.h"
#include "jit/vmctx_offsets.h"

/* memimg's default guard after the 4 GiB index space is 2 GiB, so an access
 * [index + offset, + 16) with offset below this cannot leave the slot. */
#define MAX_UNCHECKED_OFFSET (0x7fffffffu - 16)

/* Access width in bytes, from the natural alignment in the opcode table. */
static unsigned access_bytes(unsigned op)
{
    return 1u << sbx_opinfo[op].arg;
}

/* The memory operand for the address on top of the stack (popped); `addr`
 * receives the register the caller must free (or X64_NOREG). */
static struct x64_mem address(struct compiler *c, uint32_t offset, unsigned size,
                              enum x64_reg *addr)
{
    struct value *v = peek(c, 0);
    if (v->loc == VLOC_CONST && (uint64_t)(uint32_t)v->imm + offset <= MAX_UNCHECKED_OFFSET) {
        c->depth--;
        *addr = X64_NOREG;
        return x64_mem(REG_MEMBASE, (int32_t)((uint32_t)v->imm + offset));
    }
    if (offset <= MAX_UNCHECKED_OFFSET) {
        /* The index is only read: a local's register serves as it is. */
        bool owned;
        enum x64_reg r = read_gpr(c, v, &owned); /* an i32: upper half zero */
        c->depth--;
        *addr = owned ? r : X64_NOREG;
        return x64_mem_idx(REG_MEMBASE, r, 1, (int32_t)offset);
    }
    enum x64_reg r = pop_gpr(c);
    *addr = r;
    /* r = index + offset (33 bits); past 4 GiB - size is out of bounds
     * whatever the memory's size; below, the guard does the rest. */
    x64_mov_ri(c->cb, 64, REG_SCRATCH, (int64_t)offset);
    x64_alu_rr(c->cb, X64_ADD, 64, r, REG_SCRATCH);
    x64_mov_rr(c->cb, 64, REG_SCRATCH, r);
    x64_alu_ri(c->cb, X64_ADD, 64, REG_SCRATCH, (int32_t)size - 1);
    x64_shift_ri(c->cb, X64_SHR, 64, REG_SCRATCH, 32);
    x64_jcc(c->cb, X64_CC_NE, trap_label(c, SBX_TRAP_OOB_MEMORY));
    return x64_mem_idx(REG_MEMBASE, r, 1, 0);
}

static int compile_load(struct compiler *c, const struct sbx_insn *in)
{
    unsigned op = in->op;
    enum x64_reg a;
    struct x64_mem m = address(c, in->u.memarg.offset, access_bytes(op), &a);
    if (op == SBX_OP_F32_LOAD || op == SBX_OP_F64_LOAD) {
        enum x64_xmm x = alloc_xmm(c);
        mark_trap_site(c, SBX_TRAP_OOB_MEMORY);
        x64_sse_rm(c->cb, op == SBX_OP_F32_LOAD ? X64_MOVSS : X64_MOVSD, x, m);
        if (a != X64_NOREG) free_gpr(c, a);
        return push_reg(c, op == SBX_OP_F32_LOAD ? SBX_F32 : SBX_F64, x);
    }
    enum x64_reg r = a != X64_NOREG ? a : alloc_gpr(c);
    uint8_t type = sbx_opinfo[op].results[0] == 'i' ? SBX_I32 : SBX_I64;
    unsigned w = type == SBX_I32 ? 32 : 64;
    mark_trap_site(c, SBX_TRAP_OOB_MEMORY);
    switch (op) {
    case SBX_OP_I32_LOAD:
    case SBX_OP_I64_LOAD32_U: x64_mov_rm(c->cb, 32, r, m); break;
    case SBX_OP_I64_LOAD: x64_mov_rm(c->cb, 64, r, m); break;
    case SBX_OP_I32_LOAD8_S:
    case SBX_OP_I64_LOAD8_S: x64_movsx_rm(c->cb, w, 8, r, m); break;
    case SBX_OP_I32_LOAD8_U:
    case SBX_OP_I64_LOAD8_U: x64_movzx_rm(c->cb, 32, 8, r, m); break;
    case SBX_OP_I32_LOAD16_S:
    case SBX_OP_I64_LOAD16_S: x64_movsx_rm(c->cb, w, 16, r, m); break;
    case SBX_OP_I32_LOAD16_U:
    case SBX_OP_I64_LOAD16_U: x64_movzx_rm(c->cb, 32, 16, r, m); break;
    case SBX_OP_I64_LOAD32_S: x64_movsx_rm(c->cb, 64, 32, r, m); break;
    default: return cc_fail(c, "internal error: load opcode %#x", op);
    }
    return push_reg(c, type, r);
}

static int compile_store(struct compiler *c, const struct sbx_insn *in)
{
    unsigned op = in->op;
    unsigned bytes = access_bytes(op);
    if (op == SBX_OP_F32_STORE || op == SBX_OP_F64_STORE) {
        bool x_owned;
        enum x64_xmm x = read_xmm(c, peek(c, 0), &x_owned);
        c->depth--;
        enum x64_reg a;
        struct x64_mem m = address(c, in->u.memarg.offset, bytes, &a);
        mark_trap_site(c, SBX_TRAP_OOB_MEMORY);
        x64_sse_mr(c->cb, op == SBX_OP_F32_STORE ? X64_MOVSS : X64_MOVSD, m, x);
        if (x_owned) free_xmm(c, x);
        if (a != X64_NOREG) free_gpr(c, a);
        return 0;
    }
    struct value *v = peek(c, 0);
    bool imm = v->loc == VLOC_CONST && bytes <= 4;
    int32_t immv = (int32_t)v->imm;
    if (!imm && v->loc == VLOC_CONST && bytes == 8 && (int64_t)v->imm == (int32_t)v->imm)
        imm = true;
    enum x64_reg val = X64_NOREG;
    bool val_owned = false;
    if (imm) {
        c->depth--;
    } else {
        val = read_gpr(c, peek(c, 0), &val_owned);
        c->depth--;
    }
    enum x64_reg a;
    struct x64_mem m = address(c, in->u.memarg.offset, bytes, &a);
    mark_trap_site(c, SBX_TRAP_OOB_MEMORY);
    if (imm)
        x64_mov_mi(c->cb, bytes * 8, m, immv);
    else
        x64_mov_mr(c->cb, bytes * 8, m, val);
    if (val_owned) free_gpr(c, val);
    if (a != X64_NOREG) free_gpr(c, a);
    return 0;
}

int compile_memory(struct compiler *c, const struct sbx_insn *in)
{
    static const enum x64_reg args3[] = {X64_RSI, X64_RDX, X64_RCX};
    static const enum x64_reg args4[] = {X64_RDX, X64_RCX, X64_R8};
    unsigned op = in->op;
    if (sbx_opinfo[op].imm == IMM_MEMARG) {
        return sbx_opinfo[op].results[0] == '-' ? compile_store(c, in) : compile_load(c, in);
    }
    switch (op) {
    case SBX_OP_MEMORY_SIZE: {
        enum x64_reg r = alloc_gpr(c);
        x64_mov_rm(c->cb, 64, r, x64_mem(REG_VMCTX, SBX_VMCTX_MEMORY));
        x64_mov_rm(c->cb, 32, r, x64_mem(r, offsetof(struct sbx_memory, pages)));
        return push_reg(c, SBX_I32, r);
    }
    case SBX_OP_MEMORY_GROW:
        libcall_prepare(c, 1, args3);
        emit_libcall(c, (const void *)sbx_rt_memory_grow);
        x64_mov_rr(c->cb, 32, X64_RAX, X64_RAX);
        reload_membase(c);
        return push_reg(c, SBX_I32, X64_RAX);
    case SBX_OP_MEMORY_FILL:
        libcall_prepare(c, 3, args3);
        emit_libcall(c, (const void *)sbx_rt_memory_fill);
        return check_libcall_trap(c);
    case SBX_OP_MEMORY_COPY:
        libcall_prepare(c, 3, args3);
        emit_libcall(c, (const void *)sbx_rt_memory_copy);
        return check_libcall_trap(c);
    case SBX_OP_MEMORY_INIT:
        libcall_prepare(c, 3, args4);
        x64_mov_ri(c->cb, 32, X64_RSI, in->u.pair.a);
        emit_libcall(c, (const void *)sbx_rt_memory_init);
        return check_libcall_trap(c);
    case SBX_OP_DATA_DROP:
        libcall_prepare(c, 0, args3);
        x64_mov_ri(c->cb, 32, X64_RSI, in->u.index);
        emit_libcall(c, (const void *)sbx_rt_data_drop);
        return 0;
    }
    return cc_fail(c, "internal error: memory opcode %#x", op);
}
