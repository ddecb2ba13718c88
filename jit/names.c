/* Printable names of value types and extern kinds, for tools and messages. */
#include <string.h>

#include "jit/module.h"
#include "jit/reader.h"

const uint8_t sbx_valtype_list[256] = {
    [SBX_I32] = SBX_I32,
    [SBX_I64] = SBX_I64,
    [SBX_F32] = SBX_F32,
    [SBX_F64] = SBX_F64,
    [SBX_V128] = SBX_V128,
    [SBX_FUNCREF] = SBX_FUNCREF,
    [SBX_EXTERNREF] = SBX_EXTERNREF,
};

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

/* The function-names subsection (id 1) of the "name" custom section, read
 * with the bounded reader; a malformed section just yields no name. */
bool sbx_module_func_name(const struct sbx_module *m, uint32_t func_index, struct sbx_name *out)
{
    if (!m->name_section) return false;
    struct sbx_reader r = {.base = m->bytes,
                           .p = m->name_section,
                           .end = m->name_section + m->name_section_size,
                           .err = NULL};
    while (r.p < r.end) {
        uint8_t id;
        uint32_t size;
        if (rd_u8(&r, &id) || rd_u32(&r, &size) || size > rd_remaining(&r)) return false;
        const uint8_t *next = r.p + size;
        if (id == 1) {
            uint32_t n;
            if (rd_u32(&r, &n)) return false;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t idx;
                const char *p;
                uint32_t len;
                if (rd_u32(&r, &idx) || rd_name(&r, &p, &len)) return false;
                if (idx == func_index) {
                    out->ptr = p, out->len = len;
                    return true;
                }
            }
            return false;
        }
        r.p = next;
    }
    return false;
}

const struct sbx_export *sbx_module_export(const struct sbx_module *m, const char *name)
{
    size_t len = strlen(name);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct sbx_export *e = &m->exports[i];
        if (e->name.len == len && !memcmp(e->name.ptr, name, len)) return e;
    }
    return NULL;
}
