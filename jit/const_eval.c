/* Evaluating constant expressions at instantiation: global initialisers,
 * element segment items and segment offsets. The decoder recorded the one
 * instruction each expression holds (jit/module.h); this gives it a value
 * in a particular instance. */
#include <string.h>

#include "jit/rt_internal.h"

int sbx_const_eval(const struct sbx_instance *inst, const struct sbx_const_expr *e,
                   union sbx_global_cell *out)
{
    memset(out, 0, sizeof(*out));
    switch (e->kind) {
    case SBX_CONST_I32: out->i32 = e->u.i32; return 0;
    case SBX_CONST_I64: out->i64 = e->u.i64; return 0;
    case SBX_CONST_F32: out->i32 = e->u.f32_bits; return 0;
    case SBX_CONST_F64: out->i64 = e->u.f64_bits; return 0;
    case SBX_CONST_V128: memcpy(out->v128, e->u.v128, sizeof(out->v128)); return 0;
    case SBX_CONST_REF_NULL: out->ref = NULL; return 0;
    case SBX_CONST_GLOBAL_GET:
        if (e->u.index >= inst->m->nglobals || !inst->globals[e->u.index]) return -1;
        *out = *inst->globals[e->u.index];
        return 0;
    case SBX_CONST_REF_FUNC:
        if (e->u.index >= inst->m->nfuncs || !inst->funcs[e->u.index]) return -1;
        out->ref = inst->funcs[e->u.index];
        return 0;
    }
    return -1;
}
