/* Trap codes, their spec wording, backtraces and unwinding. */
#include <stdio.h>
#include <string.h>

#include "jit/activation.h"
#include "jit/compiled.h"
#include "jit/instance.h"
#include "jit/libcalls.h"

static const char *const trap_messages[SBX_TRAP_COUNT] = {
    [SBX_TRAP_NONE] = "no trap",
    [SBX_TRAP_UNREACHABLE] = "unreachable",
    [SBX_TRAP_INT_DIV_ZERO] = "integer divide by zero",
    [SBX_TRAP_INT_OVERFLOW] = "integer overflow",
    [SBX_TRAP_INVALID_CONVERSION] = "invalid conversion to integer",
    [SBX_TRAP_OOB_MEMORY] = "out of bounds memory access",
    [SBX_TRAP_OOB_TABLE] = "out of bounds table access",
    [SBX_TRAP_INDIRECT_TYPE_MISMATCH] = "indirect call type mismatch",
    [SBX_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
    [SBX_TRAP_UNDEFINED_ELEMENT] = "undefined element",
    [SBX_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
    [SBX_TRAP_OUT_OF_FUEL] = "all fuel consumed",
    [SBX_TRAP_INTERRUPTED] = "interrupted",
    [SBX_TRAP_HOST] = "host function trapped",
    [SBX_TRAP_EXIT] = "exit",
};

const char *sbx_trap_message(int code)
{
    if (code < 0 || code >= SBX_TRAP_COUNT) return "unknown trap";
    return trap_messages[code];
}

void sbx_backtrace(struct sbx_trap *trap, uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi)
{
    trap->nframes = 0;
    /* Each wasm frame: [fp] saved fp, [fp + 8] return address, [fp - 8] its
     * vmctx. The entry trampoline's fake frame has return address 0. */
    while (trap->nframes < SBX_TRAP_MAX_FRAMES && pc && fp >= lo + 8 && fp + 16 <= hi) {
        /* The entry trampoline's fake frame (saved rbp and return address
         * both 0) ends the chain; its [fp - 8] is not a vmctx. */
        if (((const uintptr_t *)fp)[0] == 0 && ((const uintptr_t *)fp)[1] == 0) break;
        const struct sbx_vmctx *vm = *(struct sbx_vmctx *const *)(fp - 8);
        if (!vm || !vm->instance) break;
        const struct sbx_compiled *c = sbx_instance_compiled(vm->instance);
        uintptr_t base = (uintptr_t)c->code;
        if (pc < base || pc >= base + c->code_size) break;
        int64_t f = sbx_compiled_func_at(c, (uint32_t)(pc - base));
        if (f < 0) break;
        trap->frames[trap->nframes++] = (uint32_t)f + c->m->nfunc_imports;
        pc = *(const uintptr_t *)(fp + 8);
        fp = *(const uintptr_t *)fp;
    }
}

_Noreturn void sbx_trap_unwind(int code, const char *message, uintptr_t pc, uintptr_t fp)
{
    struct sbx_activation *act = sbx_activation_current();
    struct sbx_trap *trap = act->trap;
    trap->code = code;
    snprintf(trap->message, sizeof(trap->message), "%s",
             message ? message : sbx_trap_message(code));
    sbx_backtrace(trap, pc, fp, act->stack_lo, act->stack_hi);
    siglongjmp(act->jb, 1);
}

/* Called by the out-of-line trap stubs of compiled code (see the compiler):
 * pc is inside the trapping function, fp is its frame. */
_Noreturn void sbx_trap_from_wasm(int code, uintptr_t fp, uintptr_t pc)
{
    sbx_trap_unwind(code, NULL, pc, fp);
}

_Noreturn void sbx_trap_from_wasm_index(int code, uintptr_t fp, uintptr_t pc, uint32_t index)
{
    char msg[96];
    snprintf(msg, sizeof msg, "%s %u", sbx_trap_message(code), index);
    sbx_trap_unwind(code, msg, pc, fp);
}
