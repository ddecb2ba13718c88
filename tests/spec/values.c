/* Parsing and matching of wast2json values. Numbers arrive as decimal strings
 * of their bit patterns ("4294967295" is i32 -1, "2143289344" is an f32 NaN);
 * references as "null" or an index; floats may instead be a NaN pattern. */
#include "tests/spec/values.h"

#include <stdio.h>
#include <string.h>

#include "jit/module.h"

#define F32_SIGN      UINT32_C(0x80000000)
#define F32_QUIET_NAN UINT32_C(0x7fc00000) /* exponent all ones + quiet bit */
#define F64_SIGN      UINT64_C(0x8000000000000000)
#define F64_QUIET_NAN UINT64_C(0x7ff8000000000000)

static const char *type_name(uint8_t type)
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

static int type_from_name(const char *s, uint8_t *out)
{
    static const uint8_t types[] = {SBX_I32,  SBX_I64,     SBX_F32,      SBX_F64,
                                    SBX_V128, SBX_FUNCREF, SBX_EXTERNREF};
    for (size_t i = 0; i < sizeof types; i++) {
        if (strcmp(s, type_name(types[i])) == 0) {
            *out = types[i];
            return 0;
        }
    }
    return -1;
}

int spec_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    bool neg = *s == '-';
    if (neg) s++;
    if (!*s) return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (neg) {
        /* Two's complement within the width `max` describes. */
        if (v == 0) {
            *out = 0;
            return 0;
        }
        if (v - 1 > max / 2) return -1;
        v = (max - v + 1) & max;
    } else if (v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

static int say(char *why, size_t size, const char *what, const char *detail)
{
    if (why && size) snprintf(why, size, "%s%s", what, detail ? detail : "");
    return -1;
}

int spec_value_parse(struct json_object *obj, struct spec_value *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    struct json_object *t, *v;
    if (!json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, "type", &t) || !json_object_is_type(t, json_type_string))
        return say(why, why_size, "value without a type", NULL);
    const char *tname = json_object_get_string(t);
    if (type_from_name(tname, &out->type)) return say(why, why_size, "unknown value type ", tname);
    if (out->type == SBX_V128) return 0;

    bool has_value = json_object_object_get_ex(obj, "value", &v);
    if (has_value && !json_object_is_type(v, json_type_string))
        return say(why, why_size, "value of a non-string form for type ", tname);
    const char *s = has_value ? json_object_get_string(v) : NULL;

    if (out->type == SBX_FUNCREF || out->type == SBX_EXTERNREF) {
        if (!s) {
            out->ref = SPEC_REF_ANY;
        } else if (strcmp(s, "null") == 0) {
            out->ref = SPEC_REF_NULL;
        } else if (spec_parse_u64(s, UINT64_MAX, &out->bits) == 0) {
            /* wast2json names host references only for externref. */
            out->ref = out->type == SBX_EXTERNREF ? SPEC_REF_HOST : SPEC_REF_ANY;
        } else {
            return say(why, why_size, "bad reference value ", s);
        }
        return 0;
    }
    if (!s) return say(why, why_size, "missing value for type ", tname);
    if (out->type == SBX_F32 || out->type == SBX_F64) {
        if (strcmp(s, "nan:canonical") == 0) {
            out->nan = SPEC_NAN_CANONICAL;
            return 0;
        }
        if (strcmp(s, "nan:arithmetic") == 0) {
            out->nan = SPEC_NAN_ARITHMETIC;
            return 0;
        }
    }
    uint64_t max = (out->type == SBX_I32 || out->type == SBX_F32) ? UINT32_MAX : UINT64_MAX;
    if (spec_parse_u64(s, max, &out->bits)) return say(why, why_size, "bad number ", s);
    return 0;
}

void *spec_externref(uint64_t n)
{
    return (void *)(uintptr_t)(n + 1);
}

int spec_value_to_val(const struct spec_value *v, union sbx_val *out)
{
    memset(out, 0, sizeof *out);
    switch (v->type) {
    case SBX_I32:
    case SBX_F32:
        if (v->nan != SPEC_NAN_NONE) return -1;
        out->i32 = (uint32_t)v->bits;
        return 0;
    case SBX_I64:
    case SBX_F64:
        if (v->nan != SPEC_NAN_NONE) return -1;
        out->i64 = v->bits;
        return 0;
    case SBX_EXTERNREF:
    case SBX_FUNCREF:
        if (v->ref == SPEC_REF_NULL) {
            out->ref = NULL;
            return 0;
        }
        if (v->ref == SPEC_REF_HOST) {
            out->ref = spec_externref(v->bits);
            return 0;
        }
        return -1;
    default: return -1;
    }
}

bool spec_f32_is_canonical_nan(uint32_t bits)
{
    return (bits & ~F32_SIGN) == F32_QUIET_NAN;
}

bool spec_f32_is_arithmetic_nan(uint32_t bits)
{
    return (bits & F32_QUIET_NAN) == F32_QUIET_NAN;
}

bool spec_f64_is_canonical_nan(uint64_t bits)
{
    return (bits & ~F64_SIGN) == F64_QUIET_NAN;
}

bool spec_f64_is_arithmetic_nan(uint64_t bits)
{
    return (bits & F64_QUIET_NAN) == F64_QUIET_NAN;
}

bool spec_value_matches(const struct spec_value *e, const union sbx_val *got)
{
    switch (e->type) {
    case SBX_I32: return got->i32 == (uint32_t)e->bits;
    case SBX_I64: return got->i64 == e->bits;
    case SBX_F32:
        switch (e->nan) {
        case SPEC_NAN_CANONICAL: return spec_f32_is_canonical_nan(got->f32);
        case SPEC_NAN_ARITHMETIC: return spec_f32_is_arithmetic_nan(got->f32);
        default: return got->f32 == (uint32_t)e->bits;
        }
    case SBX_F64:
        switch (e->nan) {
        case SPEC_NAN_CANONICAL: return spec_f64_is_canonical_nan(got->f64);
        case SPEC_NAN_ARITHMETIC: return spec_f64_is_arithmetic_nan(got->f64);
        default: return got->f64 == e->bits;
        }
    case SBX_FUNCREF:
    case SBX_EXTERNREF:
        switch (e->ref) {
        case SPEC_REF_NULL: return got->ref == NULL;
        case SPEC_REF_ANY: return got->ref != NULL;
        default: return got->ref == spec_externref(e->bits);
        }
    default: return false;
    }
}

void spec_val_format(uint8_t type, const union sbx_val *v, char *buf, size_t size)
{
    float f;
    double d;
    switch (type) {
    case SBX_I32: snprintf(buf, size, "i32:%u (0x%x)", v->i32, v->i32); break;
    case SBX_I64:
        snprintf(buf, size, "i64:%llu (0x%llx)", (unsigned long long)v->i64,
                 (unsigned long long)v->i64);
        break;
    case SBX_F32:
        memcpy(&f, &v->f32, sizeof f);
        snprintf(buf, size, "f32:%.9g (0x%08x)", (double)f, v->f32);
        break;
    case SBX_F64:
        memcpy(&d, &v->f64, sizeof d);
        snprintf(buf, size, "f64:%.17g (0x%016llx)", d, (unsigned long long)v->f64);
        break;
    case SBX_FUNCREF:
    case SBX_EXTERNREF:
        if (!v->ref)
            snprintf(buf, size, "%s:null", type_name(type));
        else if (type == SBX_EXTERNREF && (uintptr_t)v->ref < UINT32_MAX)
            snprintf(buf, size, "externref:%llu", (unsigned long long)((uintptr_t)v->ref - 1));
        else
            snprintf(buf, size, "%s:%p", type_name(type), v->ref);
        break;
    default: snprintf(buf, size, "%s", type_name(type)); break;
    }
}

void spec_value_format(const struct spec_value *e, char *buf, size_t size)
{
    if ((e->type == SBX_F32 || e->type == SBX_F64) && e->nan != SPEC_NAN_NONE) {
        snprintf(buf, size, "%s:%s", type_name(e->type),
                 e->nan == SPEC_NAN_CANONICAL ? "nan:canonical" : "nan:arithmetic");
        return;
    }
    if ((e->type == SBX_FUNCREF || e->type == SBX_EXTERNREF) && e->ref == SPEC_REF_ANY) {
        snprintf(buf, size, "%s:non-null", type_name(e->type));
        return;
    }
    union sbx_val v;
    memset(&v, 0, sizeof v);
    if (spec_value_to_val(e, &v) == 0 || e->type == SBX_V128)
        spec_val_format(e->type, &v, buf, size);
    else
        snprintf(buf, size, "%s", type_name(e->type));
}
