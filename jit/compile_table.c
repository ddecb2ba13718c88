/* Table instructions. table.get/set/size are inline (bounds check against
 * the table's current size); the others are libcalls. */
#include <stddef.h>

#include "jit/compile.h"
#include "jit/libcalls.h"
#include "jit/vmctx_offsets.h"

/* r11 = the table; traps unless idx < size. */
static void table_bounds(struct compiler *c, uint32_t table, enum x64_reg idx)
{
    x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_VMCTX, SBX_VMCTX_TABLES));
    x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_SCRATCH, 8 * (int32_t)table));
    x64_alu_rm(c->cb, X64_CMP, 32, idx, x64_mem(REG_SCRATCH, offsetof(struct sbx_table, size)));
    x64_jcc(c->cb, X64_CC_AE, trap_label(c, SBX_TRAP_OOB_TABLE));
    x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_SCRATCH, offsetof(struct sbx_table, elems)));
}

int compile_table(struct compiler *c, const struct sbx_insn *in)
{
    static const enum x64_reg a_si_dx[] = {X64_RSI, X64_RDX};
    static const enum x64_reg a_dx_cx_r8[] = {X64_RDX, X64_RCX, X64_R8};
    static const enum x64_reg a_cx_r8_r9[] = {X64_RCX, X64_R8, X64_R9};
    const struct sbx_module *m = c->m;
    switch (in->op) {
    case SBX_OP_TABLE_GET: {
        enum x64_reg idx = pop_gpr(c);
        table_bounds(c, in->u.index, idx);
        x64_mov_rm(c->cb, 64, idx, x64_mem_idx(REG_SCRATCH, idx, 8, 0));
        return push_reg(c, m->tables[in->u.index].elem_type, idx);
    }
    case SBX_OP_TABLE_SET: {
        enum x64_reg val = pop_gpr(c);
        enum x64_reg idx = pop_gpr(c);
        table_bounds(c, in->u.index, idx);
        x64_mov_mr(c->cb, 64, x64_mem_idx(REG_SCRATCH, idx, 8, 0), val);
        free_gpr(c, val);
        free_gpr(c, idx);
        return 0;
    }
    case SBX_OP_TABLE_SIZE: {
        enum x64_reg r = alloc_gpr(c);
        x64_mov_rm(c->cb, 64, r, x64_mem(REG_VMCTX, SBX_VMCTX_TABLES));
        x64_mov_rm(c->cb, 64, r, x64_mem(r, 8 * (int32_t)in->u.index));
        x64_mov_rm(c->cb, 32, r, x64_mem(r, offsetof(struct sbx_table, size)));
        return push_reg(c, SBX_I32, r);
    }
    case SBX_OP_TABLE_GROW: /* (init, delta) -> old size or -1 */
        libcall_prepare(c, 2, a_si_dx + 0);
        /* rsi = init, rdx = delta; the libcall takes (vm, table, init, delta). */
        x64_mov_rr(c->cb, 64, X64_RCX, X64_RDX);
        x64_mov_rr(c->cb, 64, X64_RDX, X64_RSI);
        x64_mov_ri(c->cb, 32, X64_RSI, in->u.index);
        emit_libcall(c, (const void *)sbx_rt_table_grow);
        x64_mov_rr(c->cb, 32, X64_RAX, X64_RAX);
        return push_reg(c, SBX_I32, X64_RAX);
    case SBX_OP_TABLE_FILL: /* (dst, value, n) */
        libcall_prepare(c, 3, a_dx_cx_r8);
        x64_mov_ri(c->cb, 32, X64_RSI, in->u.index);
        emit_libcall(c, (const void *)sbx_rt_table_fill);
        return check_libcall_trap(c);
    case SBX_OP_TABLE_COPY: /* (dst, src, n) */
        libcall_prepare(c, 3, a_cx_r8_r9);
        x64_mov_ri(c->cb, 32, X64_RSI, in->u.pair.a);
        x64_mov_ri(c->cb, 32, X64_RDX, in->u.pair.b);
        emit_libcall(c, (const void *)sbx_rt_table_copy);
        return check_libcall_trap(c);
    case SBX_OP_TABLE_INIT: /* elem a, table b: (dst, src, n) */
        libcall_prepare(c, 3, a_cx_r8_r9);
        x64_mov_ri(c->cb, 32, X64_RSI, in->u.pair.b);
        x64_mov_ri(c->cb, 32, X64_RDX, in->u.pair.a);
        emit_libcall(c, (const void *)sbx_rt_table_init);
        return check_libcall_trap(c);
    case SBX_OP_ELEM_DROP:
        libcall_prepare(c, 0, a_si_dx);
        x64_mov_ri(c->cb, 32, X64_RSI, in->u.index);
        emit_libcall(c, (const void *)sbx_rt_elem_drop);
        return 0;
    }
    return cc_fail(c, "internal error: table opcode %#x", in->op);
}
