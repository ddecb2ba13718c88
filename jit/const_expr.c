/* Constant expressions: which instructions qualify, and how one is recorded. */
#include "jit/decode_internal.h"

bool sbx_is_const_op(unsigned op)
{
    switch (op) {
    case SBX_OP_I32_CONST:
    case SBX_OP_I64_CONST:
    case SBX_OP_F32_CONST:
    case SBX_OP_F64_CONST:
    case SBX_OP_V128_CONST:
    case SBX_OP_GLOBAL_GET:
    case SBX_OP_REF_NULL:
    case SBX_OP_REF_FUNC: return true;
    default: return false;
    }
}

void sbx_const_from_insn(const struct sbx_insn *in, struct sbx_const_expr *ce)
{
    switch (in->op) {
    case SBX_OP_I32_CONST:
        ce->kind = SBX_CONST_I32, ce->type = SBX_I32, ce->u.i32 = in->u.i32;
        break;
    case SBX_OP_I64_CONST:
        ce->kind = SBX_CONST_I64, ce->type = SBX_I64, ce->u.i64 = in->u.i64;
        break;
    case SBX_OP_F32_CONST:
        ce->kind = SBX_CONST_F32, ce->type = SBX_F32, ce->u.f32_bits = in->u.f32;
        break;
    case SBX_OP_F64_CONST:
        ce->kind = SBX_CONST_F64, ce->type = SBX_F64, ce->u.f64_bits = in->u.f64;
        break;
    case SBX_OP_V128_CONST:
        ce->kind = SBX_CONST_V128, ce->type = SBX_V128;
        memcpy(ce->u.v128, in->u.bytes, 16);
        break;
    case SBX_OP_GLOBAL_GET:
        /* The type is the global's; the validator fills it in. */
        ce->kind = SBX_CONST_GLOBAL_GET, ce->type = 0, ce->u.index = in->u.index;
        break;
    case SBX_OP_REF_NULL: ce->kind = SBX_CONST_REF_NULL, ce->type = in->u.reftype; break;
    case SBX_OP_REF_FUNC:
        ce->kind = SBX_CONST_REF_FUNC, ce->type = SBX_FUNCREF, ce->u.index = in->u.index;
        break;
    }
}
