/* The single-pass baseline compiler's internal state, shared by the files
 * that compile one opcode family each (compile_*.c).
 *
 *   validated body --(one pass, one instruction at a time)--> x86-64 code
 *        |                 value stack of locations (register, constant,
 *        |                 spilled) and a control stack of labels
 *        v
 *   codebuf (jit/codebuf.h) --> code memory (W^X, jit/code_memory.h)
 *
 * Frame of a compiled function (rbp-based; rsp 16-byte aligned in the body):
 *
 *   [rbp + 16 + 8*i]   parameter i (the caller's outgoing area); several
 *                      results are written back over it from offset 0
 *   [rbp + 8]          return address
 *   [rbp]              caller's rbp
 *   [rbp - 8]          vmctx (r15 on entry)
 *   [rbp - 16 - 8*j]   declared local j (zeroed by the prologue)
 *   [spill(d)]         the canonical slot of operand-stack depth d
 *   [rsp + 8*i]        outgoing area for calls (params, then results)
 *
 * Operand values live in registers while they can; every depth has a
 * canonical slot where the value goes when spilled. At control-flow merges
 * (block ends that are branch targets, loop headers, if/else) and around
 * calls the whole stack is spilled, so every edge agrees on where values
 * are without a register-state merge. */
#ifndef SBX_JIT_COMPILE_H
#define SBX_JIT_COMPILE_H

#include <stdbool.h>
#include <stdint.h>

#include "jit/codebuf.h"
#include "jit/compiled.h"
#include "jit/insn.h"
#include "jit/x64.h"

enum vloc {
    VLOC_REG,   /* in a GPR (integers, references) or an XMM register (floats) */
    VLOC_CONST, /* a known constant (bits in `imm`) */
    VLOC_STACK, /* in its canonical spill slot */
    VLOC_FLAGS, /* an i32 condition still in the flags (`cc` true means 1);
                   only ever the top, consumed by the br_if/if right after */
    VLOC_LOCAL, /* the current value of the register local `imm`, in `reg`:
                   read in place; copied before the local changes */
};

struct value {
    uint8_t loc;  /* enum vloc */
    uint8_t type; /* enum sbx_valtype */
    uint8_t reg;  /* enum x64_reg or enum x64_xmm, for VLOC_REG */
    uint64_t imm; /* VLOC_CONST */
    uint8_t cc;   /* VLOC_FLAGS: enum x64_cc */
};

struct cframe {
    uint32_t save;        /* if with params: first save slot */
    uint16_t op;          /* block, loop, if, else, or 0 for the function */
    bool reachable_end;   /* some branch targets the end label */
    bool entry_reachable; /* code before the frame was reachable */
    uint32_t height;      /* value stack height at entry, below the params */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    cb_label label;      /* branch target: loop start, or block/if end */
    cb_label else_label; /* if: where the false branch starts */
};

struct trap_ref {
    uint32_t offset; /* of a faulting instruction */
    uint8_t code;
};

struct br_table_fixup {
    size_t table_pos; /* position of the rel32 entry */
    size_t base_pos;  /* position entries are relative to */
    cb_label target;
};

struct compiler {
    const struct sbx_module *m;
    const struct sbx_compiled *out;
    struct codebuf *cb;
    struct sbx_error *err;
    const struct sbx_compile_options *opts;
    unsigned cpu;          /* X64_CPU_* features */
    int32_t stack_tpoff;   /* fs offset of the thread's stack limit */
    cb_label *func_labels; /* entry of every defined function */

    /* Per function. */
    uint32_t func_index;
    const struct sbx_functype *ft;
    uint8_t *local_types; /* params then declared locals */
    uint32_t nlocals;     /* params + declared */
    int32_t spill_base;   /* rbp offset of depth 0's slot */
    int32_t save_base;    /* rbp offset of the first if-parameter save slot */
    uint32_t nsave_slots, save_used;
    uint32_t max_depth; /* deepest operand stack seen */
    uint32_t max_out;   /* largest outgoing area (slots) */
    size_t frame_patch; /* position of the prologue's frame-size imm32 */
    bool reachable;
    unsigned next_op;    /* first byte of the next instruction (fusion) */
    uint32_t next_local; /* its local index, if it is local.set/tee */
    /* Locals kept in registers for the whole function: the register, or -1
     * for locals that live in their frame slot. */
    int8_t *local_reg;
    uint8_t *local_written; /* set or tee'd somewhere in the body */
    uint16_t gpr_locals;    /* registers holding locals: never allocated */
    uint16_t xmm_locals;

    struct value *stack;
    uint32_t depth, stack_cap;
    struct cframe *ctrl;
    uint32_t nctrl, ctrl_cap;
    uint16_t gpr_used; /* bit per register holding a stack value */
    uint16_t xmm_used;

    cb_label trap_labels[SBX_TRAP_COUNT + 2]; /* trap stubs; +2: code in eax/edx */

    /* call_indirect sites whose null-element trap reports the index: the
     * index is in `reg` when the code jumps to `label`. */
    struct {
        cb_label label;
        uint8_t reg;
    } * null_elem_stubs;
    uint32_t nnull_elem, null_elem_cap;

    struct trap_ref *traps;
    uint32_t ntraps, traps_cap;
    struct br_table_fixup *brt;
    uint32_t nbrt, brt_cap;
};

/* -- Registers ----------------------------------------------------------- */

/* Registers compiled code never allocates to values. */
#define REG_VMCTX   X64_R15
#define REG_MEMBASE X64_R14
#define REG_SCRATCH X64_R11 /* free for any single instruction sequence */
#define XMM_SCRATCH X64_XMM15

bool is_float(uint8_t type);
int cc_fail(struct compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A free GPR/XMM (spilling the deepest register value if none is free). */
enum x64_reg alloc_gpr(struct compiler *c);
enum x64_xmm alloc_xmm(struct compiler *c);
/* Makes `r` free, moving or spilling its value. */
void free_up_gpr(struct compiler *c, enum x64_reg r);
/* Returns a register the caller owns (from pop_* or alloc_*) to the pool. */
void free_gpr(struct compiler *c, enum x64_reg r);
void free_xmm(struct compiler *c, enum x64_xmm r);

/* -- The operand stack -------------------------------------------------- */

int32_t spill_offset(const struct compiler *c, uint32_t depth);
struct x64_mem spill_slot(const struct compiler *c, uint32_t depth);
struct x64_mem local_slot(const struct compiler *c, uint32_t index);

int push_reg(struct compiler *c, uint8_t type, uint8_t reg);
int push_const(struct compiler *c, uint8_t type, uint64_t bits);
/* The value `n` below the top (0 = top). */
struct value *peek(struct compiler *c, uint32_t n);
/* Pops the top value into a register it owns (loading it if needed). */
enum x64_reg pop_gpr(struct compiler *c);
enum x64_xmm pop_xmm(struct compiler *c);
/* Pops the top value; the caller must release its register (if any). The
 * entry stays in c->stack[c->depth] until the next push, so a pointer to it
 * can be passed to store_value/load_*. */
struct value pop_value(struct compiler *c);
void release(struct compiler *c, const struct value *v);
/* Loads v into register `r` (which must be free or v's own). */
void load_gpr(struct compiler *c, const struct value *v, enum x64_reg r);
void load_xmm(struct compiler *c, const struct value *v, enum x64_xmm r);
/* A register holding v for reading only: v's own register (a local's, or
 * an operand's), else a new one loaded with it. *owned says whether the
 * caller must free it. Pops nothing. */
enum x64_reg read_gpr(struct compiler *c, const struct value *v, bool *owned);
enum x64_xmm read_xmm(struct compiler *c, const struct value *v, bool *owned);
/* Copies every reference to register local `x` on the stack below `limit`
 * into a register of its own, before the local changes. */
void materialize_local_refs(struct compiler *c, uint32_t x, uint32_t limit);
/* Whether the next instruction is local.set/tee of `x` (for in-place
 * updates). */
bool next_sets_local(const struct compiler *c, uint32_t x);
/* Writes every value of the stack to its canonical slot. */
void spill_all(struct compiler *c);
/* Stores v (wherever it is) to memory operand m (8 bytes). */
void store_value(struct compiler *c, const struct value *v, struct x64_mem m);

/* -- Code ---------------------------------------------------------------- */

/* The label of the out-of-line stub that raises `code`. */
cb_label trap_label(struct compiler *c, int code);
/* The label of a stub raising "uninitialized element N" with N in `reg`. */
cb_label null_elem_label(struct compiler *c, enum x64_reg reg);
/* Records that the instruction emitted next may fault with `code`. */
void mark_trap_site(struct compiler *c, int code);
/* Calls a C function at `fn` (SysV ABI) and restores the locals kept in
 * registers; libcall_prepare has spilled the stack, saved those locals and
 * loaded the arguments. */
void emit_libcall(struct compiler *c, const void *fn);
/* For a libcall: spills the stack, pops the top `n` operands into regs[]
 * (in push order) and sets rdi = vmctx. */
void libcall_prepare(struct compiler *c, unsigned n, const enum x64_reg *regs);
/* After a libcall that returns 0 or a trap code in eax: trap if nonzero. */
int check_libcall_trap(struct compiler *c);
/* Reloads r15 from the frame and r14 from the vmctx (after calls that may
 * switch instances). */
void reload_context(struct compiler *c);
void reload_membase(struct compiler *c);

/* Locals in registers are caller-saved like everything else: stored to
 * their frame slots before calls and libcalls, reloaded after. */
void save_local_regs(struct compiler *c);
void restore_local_regs(struct compiler *c);
/* A call to a C function at an absolute address, with nothing restored
 * afterwards (trap stubs, which never return). */
void emit_call_abs(struct compiler *c, const void *fn);

/* -- Opcode families (compile_*.c) -------------------------------------- */

int compile_control(struct compiler *c, const struct sbx_insn *in);
int compile_call(struct compiler *c, const struct sbx_insn *in);
int compile_int(struct compiler *c, const struct sbx_insn *in);
int compile_float(struct compiler *c, const struct sbx_insn *in);
int compile_convert(struct compiler *c, const struct sbx_insn *in);
int compile_memory(struct compiler *c, const struct sbx_insn *in);
int compile_variable(struct compiler *c, const struct sbx_insn *in);
int compile_table(struct compiler *c, const struct sbx_insn *in);
int compile_parametric(struct compiler *c, const struct sbx_insn *in);

#define TRAP_DYN_EAX SBX_TRAP_COUNT
#define TRAP_DYN_EDX (SBX_TRAP_COUNT + 1)

/* Pushes a value that sits in its canonical spill slot. */
int push_stack(struct compiler *c, uint8_t type);
/* Fuel and epoch checks (when compiled in): function entries, loop headers. */
void emit_interrupt_checks(struct compiler *c);

/* Emits the epilogue: results from the stack top to rax/xmm0 or the area. */
int emit_return(struct compiler *c);
/* Control frame helpers for compile_control. */
int push_cframe(struct compiler *c, uint16_t op, const uint8_t *params, uint32_t np,
                const uint8_t *results, uint32_t nr);

#endif
