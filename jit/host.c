/* Host functions: C functions that wasm imports, called through the host
 * trampoline (entry_x64.S) or directly when C calls them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/activation.h"
#include "jit/instance.h"

struct sbx_host_func {
    struct sbx_funcref ref; /* first: the trampoline receives this pointer */
    struct sbx_functype type;
    uint8_t *types;
    sbx_host_fn fn;
    void *env;
};

void sbx_host_trampoline(void);

/* A host function's request to end the call, until the dispatcher acts. */
static __thread struct {
    int code;
    int exit_code;
    char message[160];
} pending;

int sbx_host_trap(struct sbx_caller *caller, const char *message)
{
    pending.code = SBX_TRAP_HOST;
    pending.exit_code = 0;
    snprintf(pending.message, sizeof(pending.message), "%s", message ? message : "host trap");
    return -1;
}

int sbx_host_exit(struct sbx_caller *caller, int code)
{
    pending.code = SBX_TRAP_EXIT;
    pending.exit_code = code;
    snprintf(pending.message, sizeof(pending.message), "exit with code %d", code);
    return -1;
}

struct sbx_host_func *sbx_host_func_new(const uint8_t *params, uint32_t nparams,
                                        const uint8_t *results, uint32_t nresults, sbx_host_fn fn,
                                        void *env)
{
    struct sbx_host_func *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    f->types = malloc(nparams + nresults + 1);
    if (!f->types) {
        free(f);
        return NULL;
    }
    if (nparams) memcpy(f->types, params, nparams);
    if (nresults) memcpy(f->types + nparams, results, nresults);
    f->type = (struct sbx_functype){.nparams = nparams,
                                    .nresults = nresults,
                                    .params = f->types,
                                    .results = f->types + nparams};
    f->fn = fn;
    f->env = env;
    f->ref.code = (void *)sbx_host_trampoline;
    f->ref.vmctx = f;
    f->ref.type_id = sbx_type_id(&f->type);
    f->ref.func_index = UINT32_MAX;
    if (!f->ref.type_id) {
        sbx_host_func_free(f);
        return NULL;
    }
    return f;
}

void sbx_host_func_free(struct sbx_host_func *f)
{
    if (!f) return;
    free(f->types);
    free(f);
}

struct sbx_funcref *sbx_host_func_ref(struct sbx_host_func *f);
struct sbx_funcref *sbx_host_func_ref(struct sbx_host_func *f)
{
    return &f->ref;
}

const struct sbx_functype *sbx_host_func_type(const struct sbx_host_func *f);
const struct sbx_functype *sbx_host_func_type(const struct sbx_host_func *f)
{
    return &f->type;
}

bool sbx_funcref_is_host(const struct sbx_funcref *ref)
{
    return ref->code == (void *)sbx_host_trampoline;
}

/* Reads slot values into vals (8 bytes per value) and back. */
void sbx_slots_to_vals(const uint64_t *slots, union sbx_val *vals, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        memset(&vals[i], 0, sizeof(vals[i]));
        if (types[i] == SBX_I32 || types[i] == SBX_F32)
            vals[i].i32 = (uint32_t)slots[i];
        else
            vals[i].i64 = slots[i];
    }
}

void sbx_vals_to_slots(const union sbx_val *vals, uint64_t *slots, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        slots[i] = (types[i] == SBX_I32 || types[i] == SBX_F32) ? vals[i].i32 : vals[i].i64;
}

/* Runs a host function called from C; returns 0 or -1 with *trap set. */
int sbx_host_call_direct(struct sbx_host_func *f, const union sbx_val *args, union sbx_val *results,
                         struct sbx_trap *trap);
int sbx_host_call_direct(struct sbx_host_func *f, const union sbx_val *args, union sbx_val *results,
                         struct sbx_trap *trap)
{
    struct sbx_caller caller = {0};
    pending.code = SBX_TRAP_NONE;
    if (f->fn(f->env, &caller, args, results) == 0) return 0;
    trap->code = pending.code ? pending.code : SBX_TRAP_HOST;
    trap->exit_code = pending.exit_code;
    snprintf(trap->message, sizeof(trap->message), "%s", pending.message);
    trap->nframes = 0;
    return -1;
}

/* Called by sbx_host_trampoline with the caller's argument area. */
void sbx_host_dispatch(struct sbx_host_func *f, uint64_t *area, uintptr_t caller_fp,
                       uintptr_t ret_pc);
void sbx_host_dispatch(struct sbx_host_func *f, uint64_t *area, uintptr_t caller_fp,
                       uintptr_t ret_pc)
{
    const struct sbx_vmctx *vm = *(struct sbx_vmctx *const *)(caller_fp - 8);
    struct sbx_caller caller = {.instance = vm->instance, .memory = vm->memory};
    /* At most SBX_MAX_PARAMS/RESULTS (1000) each: bounded, on the wasm stack's
     * host reserve. */
    union sbx_val vals[f->type.nparams + 1];
    union sbx_val outs[f->type.nresults + 1];
    sbx_slots_to_vals(area, vals, f->type.params, f->type.nparams);
    memset(outs, 0, f->type.nresults * sizeof(outs[0]));
    pending.code = SBX_TRAP_NONE;
    if (f->fn(f->env, &caller, vals, outs) != 0) {
        int code = pending.code ? pending.code : SBX_TRAP_HOST;
        struct sbx_activation *act = sbx_activation_current();
        act->trap->exit_code = pending.exit_code;
        sbx_trap_unwind(code, pending.message, ret_pc, caller_fp);
    }
    sbx_vals_to_slots(outs, area, f->type.results, f->type.nresults);
}
