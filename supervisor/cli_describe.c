/* Names and renderings of module parts shared by the text and JSON forms of
 * `sbx inspect`. */
#include <inttypes.h>
#include <string.h>

#include "supervisor/cli.h"

const char *cli_section_name(uint8_t id)
{
    /* Indexed by section id, as the binary format numbers them. */
    static const char *const names[] = {
        "custom", "type",  "import",  "function", "table", "memory",    "global",
        "export", "start", "element", "code",     "data",  "datacount",
    };
    return id < sizeof names / sizeof names[0] ? names[id] : "unknown";
}

void cli_describe_const(const struct sbx_const_expr *e, char *buf, size_t size)
{
    float f;
    double d;
    switch (e->kind) {
    case SBX_CONST_I32: snprintf(buf, size, "i32.const %" PRId32, (int32_t)e->u.i32); break;
    case SBX_CONST_I64: snprintf(buf, size, "i64.const %" PRId64, (int64_t)e->u.i64); break;
    case SBX_CONST_F32:
        memcpy(&f, &e->u.f32_bits, sizeof f);
        snprintf(buf, size, "f32.const %a", (double)f);
        break;
    case SBX_CONST_F64:
        memcpy(&d, &e->u.f64_bits, sizeof d);
        snprintf(buf, size, "f64.const %a", d);
        break;
    case SBX_CONST_V128: {
        uint32_t lanes[4];
        memcpy(lanes, e->u.v128, sizeof lanes); /* little-endian lanes, as on x86-64 */
        snprintf(buf, size,
                 "v128.const i32x4 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32,
                 lanes[0], lanes[1], lanes[2], lanes[3]);
        break;
    }
    case SBX_CONST_GLOBAL_GET: snprintf(buf, size, "global.get %" PRIu32, e->u.index); break;
    case SBX_CONST_REF_NULL:
        snprintf(buf, size, "ref.null %s", e->type == SBX_EXTERNREF ? "extern" : "func");
        break;
    case SBX_CONST_REF_FUNC: snprintf(buf, size, "ref.func %" PRIu32, e->u.index); break;
    default: snprintf(buf, size, "(unknown constant kind %u)", e->kind); break;
    }
}

void cli_print_name(FILE *out, struct sbx_name name)
{
    fputc('"', out);
    for (uint32_t i = 0; i < name.len; i++) {
        unsigned char c = (unsigned char)name.ptr[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\%02x", c); /* the wasm text format's byte escape */
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_types(FILE *out, uint32_t n, const uint8_t *types)
{
    fputc('(', out);
    for (uint32_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", sbx_valtype_name(types[i]));
    fputc(')', out);
}

void cli_print_functype(FILE *out, const struct sbx_functype *t)
{
    print_types(out, t->nparams, t->params);
    fputs(" -> ", out);
    print_types(out, t->nresults, t->results);
}
