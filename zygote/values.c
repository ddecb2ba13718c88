/* Value and trap conversions between jit/runtime.h and proto/sbx.proto. */
#include "zygote/values.h"

#include <errno.h>
#include <string.h>

int sbx_value_from_proto(const Sbx__Value *in, uint8_t type, union sbx_val *out)
{
    memset(out, 0, sizeof(*out));
    switch (type) {
    case SBX_I32:
        if (in->v_case != SBX__VALUE__V_I32) return -EINVAL;
        out->i32 = (uint32_t)in->i32;
        return 0;
    case SBX_I64:
        if (in->v_case != SBX__VALUE__V_I64) return -EINVAL;
        out->i64 = (uint64_t)in->i64;
        return 0;
    case SBX_F32:
        if (in->v_case != SBX__VALUE__V_F32_BITS) return -EINVAL;
        out->f32 = in->f32_bits;
        return 0;
    case SBX_F64:
        if (in->v_case != SBX__VALUE__V_F64_BITS) return -EINVAL;
        out->f64 = in->f64_bits;
        return 0;
    default: return -EINVAL; /* references and v128 do not cross processes */
    }
}

void sbx_value_to_proto(uint8_t type, const union sbx_val *in, Sbx__Value *out)
{
    sbx__value__init(out);
    switch (type) {
    case SBX_I32:
        out->v_case = SBX__VALUE__V_I32;
        out->i32 = (int32_t)in->i32;
        break;
    case SBX_F32:
        out->v_case = SBX__VALUE__V_F32_BITS;
        out->f32_bits = in->f32;
        break;
    case SBX_F64:
        out->v_case = SBX__VALUE__V_F64_BITS;
        out->f64_bits = in->f64;
        break;
    default: /* i64; references travel as their bits, for diagnostics only */
        out->v_case = SBX__VALUE__V_I64;
        out->i64 = (int64_t)in->i64;
        break;
    }
}

Sbx__TrapKind sbx_trap_kind_to_proto(int code)
{
    switch (code) {
    case SBX_TRAP_UNREACHABLE: return SBX__TRAP_KIND__TRAP_UNREACHABLE;
    case SBX_TRAP_INT_DIV_ZERO: return SBX__TRAP_KIND__TRAP_INT_DIV_ZERO;
    case SBX_TRAP_INT_OVERFLOW: return SBX__TRAP_KIND__TRAP_INT_OVERFLOW;
    case SBX_TRAP_INVALID_CONVERSION: return SBX__TRAP_KIND__TRAP_INVALID_CONVERSION;
    case SBX_TRAP_OOB_MEMORY: return SBX__TRAP_KIND__TRAP_OOB_MEMORY;
    case SBX_TRAP_OOB_TABLE: return SBX__TRAP_KIND__TRAP_OOB_TABLE;
    case SBX_TRAP_INDIRECT_TYPE_MISMATCH: return SBX__TRAP_KIND__TRAP_INDIRECT_TYPE_MISMATCH;
    case SBX_TRAP_UNINITIALIZED_ELEMENT: return SBX__TRAP_KIND__TRAP_UNINITIALIZED_ELEMENT;
    case SBX_TRAP_UNDEFINED_ELEMENT: return SBX__TRAP_KIND__TRAP_UNDEFINED_ELEMENT;
    case SBX_TRAP_STACK_EXHAUSTED: return SBX__TRAP_KIND__TRAP_STACK_EXHAUSTED;
    case SBX_TRAP_OUT_OF_FUEL: return SBX__TRAP_KIND__TRAP_OUT_OF_FUEL;
    case SBX_TRAP_INTERRUPTED: return SBX__TRAP_KIND__TRAP_INTERRUPTED;
    case SBX_TRAP_HOST: return SBX__TRAP_KIND__TRAP_HOST;
    default: return SBX__TRAP_KIND__TRAP_UNSPECIFIED;
    }
}
