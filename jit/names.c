/* Printable names of value types and extern kinds, for tools and messages. */
#include "jit/module.h"

const char *sbx_valtype_name(uint8_t type)
{
    switch (type) {
    case SBX_I32: return "i32";
    case SBX_I64: return "i64";
    case SBX_F32: return "f32";
    case SBX_F64: return "f64";
    case SBX_V128: return "v128";
    case SBX_FUNCREF: return "funcref";
    case SBX_EXTERNREF: return "externref";
    default: return "?";
    }
}

const char *sbx_extern_kind_name(uint8_t kind)
{
    switch (kind) {
    case SBX_EXTERN_FUNC: return "func";
    case SBX_EXTERN_TABLE: return "table";
    case SBX_EXTERN_MEMORY: return "memory";
    case SBX_EXTERN_GLOBAL: return "global";
    default: return "?";
    }
}
