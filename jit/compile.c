/* The compiler's driver: compiles every function of a module into one code
 * buffer, then installs it in W^X code memory. Per function: prologue,
 * one pass over the instructions (dispatching to compile_*.c by opcode
 * family), out-of-line trap stubs, and the frame size patched in last. */
#include <stdlib.h>
#include <string.h>

#include "jit/activation.h"
#include "jit/code_memory.h"
#include "jit/compile.h"
#include "jit/libcalls.h"
#include "jit/vmctx_offsets.h"

cb_label trap_label(struct compiler *c, int code)
{
    if (c->trap_labels[code] == CB_NO_LABEL) c->trap_labels[code] = cb_new_label(c->cb);
    return c->trap_labels[code];
}

cb_label null_elem_label(struct compiler *c, enum x64_reg reg)
{
    if (c->nnull_elem == c->null_elem_cap) {
        uint32_t cap = c->null_elem_cap ? c->null_elem_cap * 2 : 16;
        void *p = realloc(c->null_elem_stubs, cap * sizeof(*c->null_elem_stubs));
        if (!p) {
            cb_fail(c->cb, -12);
            return trap_label(c, SBX_TRAP_UNINITIALIZED_ELEMENT);
        }
        c->null_elem_stubs = p, c->null_elem_cap = cap;
    }
    cb_label l = cb_new_label(c->cb);
    c->null_elem_stubs[c->nnull_elem].label = l;
    c->null_elem_stubs[c->nnull_elem++].reg = (uint8_t)reg;
    return l;
}

void mark_trap_site(struct compiler *c, int code)
{
    if (c->ntraps == c->traps_cap) {
        uint32_t cap = c->traps_cap ? c->traps_cap * 2 : 256;
        struct trap_ref *p = realloc(c->traps, cap * sizeof(*p));
        if (!p) {
            cb_fail(c->cb, -12);
            return;
        }
        c->traps = p, c->traps_cap = cap;
    }
    c->traps[c->ntraps++] =
        (struct trap_ref){.offset = (uint32_t)cb_pos(c->cb), .code = (uint8_t)code};
}

void emit_call_abs(struct compiler *c, const void *fn)
{
    x64_movabs(c->cb, X64_RAX, (uint64_t)(uintptr_t)fn);
    x64_call_r(c->cb, X64_RAX);
}

void emit_libcall(struct compiler *c, const void *fn)
{
    emit_call_abs(c, fn);
    restore_local_regs(c);
}

static void move_local(struct compiler *c, uint32_t i, bool save)
{
    int r = c->local_reg[i];
    if (r < 0) return;
    struct x64_mem m = local_slot(c, i);
    if (is_float(c->local_types[i])) {
        if (save)
            x64_sse_mr(c->cb, X64_MOVSD, m, (enum x64_xmm)r);
        else
            x64_sse_rm(c->cb, X64_MOVSD, (enum x64_xmm)r, m);
    } else if (save) {
        x64_mov_mr(c->cb, 64, m, (enum x64_reg)r);
    } else {
        x64_mov_rm(c->cb, 64, (enum x64_reg)r, m);
    }
}

static void move_local_in(struct compiler *c, uint32_t i)
{
    move_local(c, i, false);
}

/* A local never written in the body (a parameter, typically) still has its
 * value in its frame slot: only restoring it is needed. */
void save_local_regs(struct compiler *c)
{
    for (uint32_t i = 0; i < c->nlocals; i++)
        if (c->local_written[i]) move_local(c, i, true);
}

void restore_local_regs(struct compiler *c)
{
    for (uint32_t i = 0; i < c->nlocals; i++)
        move_local(c, i, false);
}

void libcall_prepare(struct compiler *c, unsigned n, const enum x64_reg *regs)
{
    spill_all(c);
    save_local_regs(c); /* before argument registers (r9) are overwritten */
    for (unsigned i = 0; i < n; i++)
        load_gpr(c, &c->stack[c->depth - n + i], regs[i]);
    c->depth -= n;
    x64_mov_rr(c->cb, 64, X64_RDI, REG_VMCTX);
}

int check_libcall_trap(struct compiler *c)
{
    x64_alu_rr(c->cb, X64_TEST, 32, X64_RAX, X64_RAX);
    x64_jcc(c->cb, X64_CC_NE, trap_label(c, TRAP_DYN_EAX));
    return 0;
}

void reload_membase(struct compiler *c)
{
    if (!c->m->nmemories) return;
    x64_mov_rm(c->cb, 64, REG_MEMBASE, x64_mem(REG_VMCTX, SBX_VMCTX_MEMORY));
    x64_mov_rm(c->cb, 64, REG_MEMBASE, x64_mem(REG_MEMBASE, 0));
}

void reload_context(struct compiler *c)
{
    x64_mov_rm(c->cb, 64, REG_VMCTX, x64_mem(X64_RBP, -8));
    reload_membase(c);
}

/* Fuel and epoch checks, at function entry and loop headers. */
void emit_interrupt_checks(struct compiler *c)
{
    if (c->opts->fuel) {
        x64_alu_mi(c->cb, X64_SUB, 64, x64_mem(REG_VMCTX, SBX_VMCTX_FUEL), 1);
        x64_jcc(c->cb, X64_CC_S, trap_label(c, SBX_TRAP_OUT_OF_FUEL));
    }
    if (c->opts->epoch) {
        x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_VMCTX, SBX_VMCTX_EPOCH));
        x64_mov_rm(c->cb, 64, REG_SCRATCH, x64_mem(REG_SCRATCH, 0));
        x64_alu_rm(c->cb, X64_CMP, 64, REG_SCRATCH, x64_mem(REG_VMCTX, SBX_VMCTX_EPOCH_DEADLINE));
        x64_jcc(c->cb, X64_CC_AE, trap_label(c, SBX_TRAP_INTERRUPTED));
    }
}

static void emit_prologue(struct compiler *c, uint32_t ndeclared)
{
    struct codebuf *cb = c->cb;
    x64_push(cb, X64_RBP);
    x64_mov_rr(cb, 64, X64_RBP, X64_RSP);
    x64_push(cb, REG_VMCTX); /* [rbp - 8] = vmctx */
    /* sub rsp, imm32: the frame size is known only at the end. */
    static const uint8_t sub_rsp[] = {0x48, 0x81, 0xec};
    cb_put(cb, sub_rsp, sizeof(sub_rsp));
    c->frame_patch = cb_pos(cb);
    uint32_t zero = 0;
    cb_put(cb, &zero, 4);
    /* cmp rsp, fs:[sbx_stack_limit]; jb overflow. Checked before the frame
     * is touched; the limit keeps a reserve for host code above the guard. */
    static const uint8_t fs_prefix = 0x64;
    cb_put(cb, &fs_prefix, 1);
    x64_alu_rm(cb, X64_CMP, 64, X64_RSP, x64_mem(X64_NOREG, c->stack_tpoff));
    x64_jcc(cb, X64_CC_B, trap_label(c, SBX_TRAP_STACK_EXHAUSTED));
    /* Declared locals start at zero. */
    if (ndeclared <= 8) {
        /* A local kept in a register is zeroed there instead; its slot is
         * written by the first save before anything reads it. */
        for (uint32_t j = 0; j < ndeclared; j++)
            if (c->local_reg[c->ft->nparams + j] < 0)
                x64_mov_mi(cb, 64, x64_mem(X64_RBP, -16 - 8 * (int32_t)j), 0);
    } else {
        x64_alu_rr(cb, X64_XOR, 32, X64_RAX, X64_RAX);
        x64_lea(cb, 64, X64_RDI, x64_mem(X64_RBP, -8 - 8 * (int32_t)ndeclared));
        x64_mov_ri(cb, 32, X64_RCX, ndeclared);
        static const uint8_t rep_stosq[] = {0xf3, 0x48, 0xab};
        cb_put(cb, rep_stosq, sizeof(rep_stosq));
    }
    emit_interrupt_checks(c);
}

static void emit_trap_stubs(struct compiler *c)
{
    struct codebuf *cb = c->cb;
    for (uint32_t i = 0; i < c->nnull_elem; i++) {
        cb_bind(cb, c->null_elem_stubs[i].label);
        x64_mov_rr(cb, 32, X64_RCX, (enum x64_reg)c->null_elem_stubs[i].reg);
        x64_mov_rr(cb, 64, X64_RSI, X64_RBP);
        x64_lea(cb, 64, X64_RDX, x64_mem(X64_RIP, 0));
        x64_mov_ri(cb, 32, X64_RDI, SBX_TRAP_UNINITIALIZED_ELEMENT);
        x64_alu_ri(cb, X64_AND, 64, X64_RSP, -16);
        emit_call_abs(c, (const void *)sbx_trap_from_wasm_index);
        x64_ud2(cb);
    }
    for (int code = 0; code < SBX_TRAP_COUNT + 2; code++) {
        if (c->trap_labels[code] == CB_NO_LABEL) continue;
        cb_bind(cb, c->trap_labels[code]);
        if (code == TRAP_DYN_EAX)
            x64_mov_rr(cb, 32, X64_RDI, X64_RAX);
        else if (code == TRAP_DYN_EDX)
            x64_mov_rr(cb, 32, X64_RDI, X64_RDX);
        else
            x64_mov_ri(cb, 32, X64_RDI, code);
        x64_mov_rr(cb, 64, X64_RSI, X64_RBP);
        x64_lea(cb, 64, X64_RDX, x64_mem(X64_RIP, 0)); /* a pc inside this function */
        x64_alu_ri(cb, X64_AND, 64, X64_RSP, -16);
        emit_call_abs(c, (const void *)sbx_trap_from_wasm);
        x64_ud2(cb);
    }
}

/* Registers for locals, hottest first. GPRs the operand allocator can spare
 * (not rax/rdx/rcx, which division and shifts need; rsi/rdi/r8 stay for
 * operands), and the upper half of the XMM registers. */
static const enum x64_reg local_gprs[] = {X64_RBX, X64_R12, X64_R13, X64_R10,
                                          X64_R9,  X64_RSI, X64_RDI};
/* Integer locals get the first five; functions with more hot integer
 * locals than that get all seven, leaving r8, rax, rdx and rcx for operands
 * (enough for almost every expression; the deepest is spilled if not). */
#define LOCAL_GPRS_FEW 5
static const enum x64_xmm local_xmms[] = {X64_XMM8,  X64_XMM9,  X64_XMM10,
                                          X64_XMM11, X64_XMM12, X64_XMM13};

/* One read of the body before compiling it: counts the parameters of `if`
 * blocks (the else branch needs them again, so the prologue reserves save
 * slots) and how often each local is used, to keep the hottest locals in
 * registers. */
static int prescan(struct compiler *c, const struct sbx_func_body *b, uint32_t *nsave)
{
    struct sbx_reader r = {.base = c->m->bytes, .p = b->code, .end = b->code_end, .err = NULL};
    uint32_t *uses = calloc(c->nlocals + 1, sizeof(uint32_t));
    if (!uses) return cc_fail(c, "out of memory");
    /* Declared locals start as zero, not as their slot's contents: count
     * them as written so the first save stores them. */
    for (uint32_t i = 0; i < c->nlocals; i++)
        c->local_written[i] = i >= c->ft->nparams;
    *nsave = 0;
    struct sbx_insn in;
    while (r.p < r.end && sbx_insn_read(&r, &in) == 0) {
        if (in.op == SBX_OP_IF && in.u.block.kind == SBX_BT_INDEX)
            *nsave += c->m->types[in.u.block.index].nparams;
        else if (in.op >= SBX_OP_LOCAL_GET && in.op <= SBX_OP_LOCAL_TEE) {
            if (uses[in.u.index] < UINT32_MAX) uses[in.u.index]++;
            if (in.op != SBX_OP_LOCAL_GET) c->local_written[in.u.index] = 1;
        }
    }
    for (uint32_t i = 0; i < c->nlocals; i++)
        c->local_reg[i] = -1;
    c->gpr_locals = c->xmm_locals = 0;
    unsigned ngpr = 0, nxmm = 0;
    unsigned hot_ints = 0;
    for (uint32_t i = 0; i < c->nlocals; i++)
        if (!is_float(c->local_types[i]) && c->local_types[i] != SBX_V128 && uses[i] > 1)
            hot_ints++;
    unsigned max_gpr =
        hot_ints > LOCAL_GPRS_FEW ? sizeof local_gprs / sizeof local_gprs[0] : LOCAL_GPRS_FEW;
    for (;;) {
        /* The most used local still in memory, of a class with a free register. */
        uint32_t best = UINT32_MAX, best_uses = 1;
        for (uint32_t i = 0; i < c->nlocals; i++) {
            uint8_t t = c->local_types[i];
            bool fp = is_float(t);
            if (c->local_reg[i] >= 0 || t == SBX_V128) continue;
            if (fp ? nxmm == sizeof local_xmms / sizeof local_xmms[0] : ngpr == max_gpr) continue;
            if (uses[i] > best_uses) best = i, best_uses = uses[i];
        }
        if (best == UINT32_MAX) break;
        if (is_float(c->local_types[best])) {
            c->local_reg[best] = (int8_t)local_xmms[nxmm++];
            c->xmm_locals |= (uint16_t)(1u << c->local_reg[best]);
        } else {
            c->local_reg[best] = (int8_t)local_gprs[ngpr++];
            c->gpr_locals |= (uint16_t)(1u << c->local_reg[best]);
        }
    }
    free(uses);
    return 0;
}

/* Parameters kept in registers start as the caller passed them; declared
 * locals in registers start at zero. */
static void load_register_locals(struct compiler *c)
{
    for (uint32_t i = 0; i < c->nlocals; i++) {
        int r = c->local_reg[i];
        if (r < 0) continue;
        if (i < c->ft->nparams)
            move_local_in(c, i);
        else if (is_float(c->local_types[i]))
            x64_sse_rr(c->cb, X64_XORPS, (enum x64_xmm)r, (enum x64_xmm)r);
        else
            x64_alu_rr(c->cb, X64_XOR, 32, (enum x64_reg)r, (enum x64_reg)r);
    }
}

static int compile_insn(struct compiler *c, const struct sbx_insn *in)
{
    unsigned op = in->op;
    const struct sbx_opinfo *info = &sbx_opinfo[op];
    if (op >= SBX_OP_PREFIX_FD) return cc_fail(c, "SIMD instructions are not compiled yet");
    if (op <= SBX_OP_CALL_INDIRECT && op != SBX_OP_CALL && op != SBX_OP_CALL_INDIRECT)
        return compile_control(c, in);
    if (op == SBX_OP_CALL || op == SBX_OP_CALL_INDIRECT) return compile_call(c, in);
    if (op == SBX_OP_DROP || op == SBX_OP_SELECT || op == SBX_OP_SELECT_T ||
        op == SBX_OP_REF_NULL || op == SBX_OP_REF_IS_NULL || op == SBX_OP_REF_FUNC)
        return compile_parametric(c, in);
    if (info->imm == IMM_LOCAL || info->imm == IMM_GLOBAL) return compile_variable(c, in);
    if (op == SBX_OP_TABLE_GET || op == SBX_OP_TABLE_SET ||
        (op >= SBX_OP_TABLE_INIT && op <= SBX_OP_TABLE_FILL))
        return compile_table(c, in);
    if (info->imm == IMM_MEMARG || info->imm == IMM_MEMIDX || info->imm == IMM_MEMORY_INIT ||
        info->imm == IMM_DATA || info->imm == IMM_MEMORY_COPY)
        return compile_memory(c, in);
    if ((op >= SBX_OP_I32_WRAP_I64 && op <= SBX_OP_I64_EXTEND32_S) ||
        (op >= SBX_OP_I32_TRUNC_SAT_F32_S && op <= SBX_OP_I64_TRUNC_SAT_F64_U))
        return compile_convert(c, in);
    if (op == SBX_OP_F32_CONST || op == SBX_OP_F64_CONST ||
        (op >= SBX_OP_F32_EQ && op <= SBX_OP_F64_GE) ||
        (op >= SBX_OP_F32_ABS && op <= SBX_OP_F64_COPYSIGN))
        return compile_float(c, in);
    return compile_int(c, in);
}

/* In unreachable code only the block structure matters. */
static int skip_unreachable(struct compiler *c, const struct sbx_insn *in, uint32_t *dead_depth)
{
    switch (in->op) {
    case SBX_OP_BLOCK:
    case SBX_OP_LOOP:
    case SBX_OP_IF: (*dead_depth)++; return 0;
    case SBX_OP_ELSE:
        if (*dead_depth) return 0;
        return compile_control(c, in);
    case SBX_OP_END:
        if (*dead_depth) {
            (*dead_depth)--;
            return 0;
        }
        return compile_control(c, in);
    default: return 0;
    }
}

static int compile_function(struct compiler *c, uint32_t func_index)
{
    const struct sbx_module *m = c->m;
    const struct sbx_func_body *b = &m->bodies[func_index - m->nfunc_imports];
    c->func_index = func_index;
    c->ft = sbx_module_func_type(m, func_index);
    c->nlocals = c->ft->nparams + b->nlocals;
    free(c->local_types);
    c->local_types = malloc(c->nlocals + 1);
    if (!c->local_types) return cc_fail(c, "out of memory");
    memcpy(c->local_types, c->ft->params, c->ft->nparams);
    uint32_t k = c->ft->nparams;
    for (uint32_t i = 0; i < b->nlocal_runs; i++)
        for (uint32_t n = 0; n < b->local_runs[i].count; n++)
            c->local_types[k++] = b->local_runs[i].type;
    free(c->local_reg);
    free(c->local_written);
    c->local_reg = malloc(c->nlocals + 1);
    c->local_written = malloc(c->nlocals + 1);
    if (!c->local_reg || !c->local_written) return cc_fail(c, "out of memory");
    uint32_t nsave = 0;
    if (prescan(c, b, &nsave)) return -1;
    /* Declared locals, then if-parameter save slots, then the spill slots. */
    c->nsave_slots = nsave;
    c->save_used = 0;
    c->save_base = -16 - 8 * (int32_t)b->nlocals;
    c->spill_base = c->save_base - 8 * (int32_t)nsave;
    c->max_depth = 0;
    c->max_out = 0;
    c->depth = 0;
    c->nctrl = 0;
    c->gpr_used = c->xmm_used = 0;
    c->reachable = true;
    c->nbrt = 0;
    c->nnull_elem = 0;
    for (int i = 0; i < SBX_TRAP_COUNT + 2; i++)
        c->trap_labels[i] = CB_NO_LABEL;

    cb_bind(c->cb, c->func_labels[func_index - m->nfunc_imports]);
    emit_prologue(c, b->nlocals);
    load_register_locals(c);
    if (push_cframe(c, 0, NULL, 0, c->ft->results, c->ft->nresults)) return -1;

    struct sbx_reader r = {.base = m->bytes, .p = b->code, .end = b->code_end, .err = c->err};
    uint32_t dead_depth = 0;
    while (c->nctrl > 0) {
        struct sbx_insn in;
        if (sbx_insn_read(&r, &in)) return -1;
        c->next_op = r.p < r.end ? *r.p : 0;
        if (c->next_op == SBX_OP_LOCAL_SET || c->next_op == SBX_OP_LOCAL_TEE) {
            struct sbx_reader ahead = r;
            ahead.p++;
            ahead.err = NULL;
            if (rd_u32(&ahead, &c->next_local)) c->next_local = UINT32_MAX;
        }
        int rc = c->reachable ? compile_insn(c, &in) : skip_unreachable(c, &in, &dead_depth);
        if (rc) {
            if (c->err && c->err->offset == 0) c->err->offset = in.offset;
            return -1;
        }
    }
    emit_trap_stubs(c);

    /* Jump-table entries, now that every stub label is bound. */
    for (uint32_t i = 0; i < c->nbrt; i++) {
        int64_t pos = cb_label_pos(c->cb, c->brt[i].target);
        cb_patch32(c->cb, c->brt[i].table_pos,
                   (uint32_t)(int32_t)(pos - (int64_t)c->brt[i].base_pos));
    }

    /* rsp is 16-aligned after `push rbp`, and 8 off after `push r15`. */
    uint64_t frame =
        8ull * b->nlocals + 8ull * nsave + 8ull * (c->max_depth + 1) + 8ull * c->max_out;
    frame = ((frame + 15) & ~15ull) + 8;
    if (frame > INT32_MAX) return cc_fail(c, "function frame too large");
    cb_patch32(c->cb, c->frame_patch, (uint32_t)frame);
    return cb_error(c->cb) ? cc_fail(c, "code generation failed (%d)", cb_error(c->cb)) : 0;
}

static int trap_cmp(const void *a, const void *b)
{
    const struct trap_ref *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int64_t sbx_compiled_func_at(const struct sbx_compiled *c, uint32_t offset)
{
    uint32_t lo = 0, hi = c->m->nbodies;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (offset < c->funcs[mid].start)
            hi = mid;
        else if (offset >= c->funcs[mid].end)
            lo = mid + 1;
        else
            return mid;
    }
    return -1;
}

int sbx_compiled_trap_at(const struct sbx_compiled *c, uint32_t offset)
{
    uint32_t lo = 0, hi = c->ntrap_sites;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->trap_sites[mid].offset == offset) return c->trap_sites[mid].code;
        if (c->trap_sites[mid].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SBX_TRAP_NONE;
}

void sbx_compiled_free(struct sbx_compiled *out)
{
    if (!out) return;
    sbx_compiled_free_runtime_cache(out); /* the memory image, if built */
    if (out->code_mem) {
        code_memory_free(out->code_mem);
        free(out->code_mem);
    }
    free(out->funcs);
    free(out->trap_sites);
    free(out->type_ids);
    free(out);
}

const struct sbx_module *sbx_compiled_module(const struct sbx_compiled *c)
{
    return c->m;
}

struct sbx_compiled *sbx_compile(const struct sbx_module *m, const struct sbx_compile_options *opts,
                                 struct sbx_error *err)
{
    static const struct sbx_compile_options defaults = {0};
    struct sbx_compiled *out = calloc(1, sizeof(*out));
    struct codebuf cb;
    cb_init(&cb);
    struct compiler c = {
        .m = m, .out = out, .cb = &cb, .err = err, .opts = opts ? opts : &defaults};
    if (err) err->func_index = -1;
    int rc = -1;
    if (!out) {
        sbx_fail(err, 0, "out of memory");
        goto done;
    }
    out->m = m;
    out->opts = *c.opts;
    c.cpu = x64_cpu_features();
    if (!(c.cpu & X64_CPU_SSE41) || !(c.cpu & X64_CPU_POPCNT)) {
        sbx_fail(err, 0, "this CPU lacks SSE4.1 or POPCNT, which compiled code needs");
        goto done;
    }
    c.stack_tpoff = sbx_stack_limit_tpoff();
    out->type_ids = calloc(m->ntypes + 1, sizeof(uint32_t));
    out->funcs = calloc(m->nbodies + 1, sizeof(*out->funcs));
    c.func_labels = calloc(m->nbodies + 1, sizeof(cb_label));
    if (!out->type_ids || !out->funcs || !c.func_labels) {
        sbx_fail(err, 0, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < m->ntypes; i++)
        if (!(out->type_ids[i] = sbx_type_id(&m->types[i]))) {
            sbx_fail(err, 0, "out of memory");
            goto done;
        }
    for (uint32_t i = 0; i < m->nbodies; i++)
        c.func_labels[i] = cb_new_label(&cb);
    for (uint32_t i = 0; i < m->nbodies; i++) {
        x64_align_nop(&cb, 16);
        out->funcs[i].start = (uint32_t)cb_pos(&cb);
        if (compile_function(&c, m->nfunc_imports + i)) goto done;
        out->funcs[i].end = (uint32_t)cb_pos(&cb);
    }
    if (cb_pos(&cb) == 0) x64_int3(&cb); /* code memory is never empty */
    int e = cb_finish(&cb);
    if (e) {
        sbx_fail(err, 0, "code generation failed (%d)", e);
        goto done;
    }
    out->code_mem = calloc(1, sizeof(*out->code_mem));
    if (!out->code_mem) {
        sbx_fail(err, 0, "out of memory");
        goto done;
    }
    out->code_mem->fd = -1;
    e = code_memory_install(out->code_mem, cb.data, cb.len, "sbx-code");
    if (e) {
        sbx_fail(err, 0, "cannot install compiled code (%d)", e);
        goto done;
    }
    out->code = out->code_mem->rx;
    out->code_size = cb.len;
    if (c.ntraps) qsort(c.traps, c.ntraps, sizeof(*c.traps), trap_cmp);
    out->trap_sites = calloc(c.ntraps + 1, sizeof(*out->trap_sites));
    if (!out->trap_sites) {
        sbx_fail(err, 0, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < c.ntraps; i++)
        out->trap_sites[i] =
            (struct sbx_trap_site){.offset = c.traps[i].offset, .code = c.traps[i].code};
    out->ntrap_sites = c.ntraps;
    rc = 0;
done:
    cb_free(&cb);
    free(c.func_labels);
    free(c.local_types);
    free(c.local_reg);
    free(c.local_written);
    free(c.stack);
    free(c.ctrl);
    free(c.traps);
    free(c.brt);
    free(c.null_elem_stubs);
    if (rc) {
        sbx_compiled_free(out);
        return NULL;
    }
    return out;
}
