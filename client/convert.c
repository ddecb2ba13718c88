/* client/convert.c: between the wire messages (proto/sbx.proto) and the
 * public structs of include/sbx.h. Every input here has passed
 * validate.c; copies into fixed buffers are cut to fit and always
 * NUL-terminated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

void sbxc_copy_string(char *dst, size_t size, const char *src)
{
    if (!size) return;
    size_t n = src ? strnlen(src, size - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* -- Values: floats travel as their bits ----------------------------------- */

int sbxc_values_to_proto(const struct sbx_value *in, size_t n, Sbx__Value *vals, Sbx__Value **ptrs)
{
    for (size_t i = 0; i < n; i++) {
        Sbx__Value *v = &vals[i];
        sbx__value__init(v);
        ptrs[i] = v;
        switch (in[i].type) {
        case SBX_VALUE_I32:
            v->v_case = SBX__VALUE__V_I32;
            v->i32 = in[i].u.i32;
            break;
        case SBX_VALUE_I64:
            v->v_case = SBX__VALUE__V_I64;
            v->i64 = in[i].u.i64;
            break;
        case SBX_VALUE_F32:
            v->v_case = SBX__VALUE__V_F32_BITS;
            memcpy(&v->f32_bits, &in[i].u.f32, sizeof(v->f32_bits));
            break;
        case SBX_VALUE_F64:
            v->v_case = SBX__VALUE__V_F64_BITS;
            memcpy(&v->f64_bits, &in[i].u.f64, sizeof(v->f64_bits));
            break;
        default: return -EINVAL;
        }
    }
    return 0;
}

void sbxc_value_from_proto(const Sbx__Value *in, struct sbx_value *out)
{
    memset(out, 0, sizeof(*out));
    switch (in->v_case) {
    case SBX__VALUE__V_I32:
        out->type = SBX_VALUE_I32;
        out->u.i32 = in->i32;
        break;
    case SBX__VALUE__V_I64:
        out->type = SBX_VALUE_I64;
        out->u.i64 = in->i64;
        break;
    case SBX__VALUE__V_F32_BITS:
        out->type = SBX_VALUE_F32;
        memcpy(&out->u.f32, &in->f32_bits, sizeof(out->u.f32));
        break;
    default: /* validated: the only case left */
        out->type = SBX_VALUE_F64;
        memcpy(&out->u.f64, &in->f64_bits, sizeof(out->u.f64));
        break;
    }
}

/* -- Outcomes -------------------------------------------------------------- */

void sbxc_trap_from_proto(const Sbx__Trap *in, struct sbx_trap *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = in->has_kind ? (enum sbx_trap_kind)in->kind : SBX_TRAP_KIND_UNSPECIFIED;
    sbxc_copy_string(out->message, sizeof(out->message), in->message);
    out->total_frames = in->n_frames;
    out->nframes = in->n_frames < SBX_MAX_FRAMES ? in->n_frames : SBX_MAX_FRAMES;
    for (size_t i = 0; i < out->nframes; i++) {
        out->frames[i].function_index = in->frames[i]->function_index;
        sbxc_copy_string(out->frames[i].name, sizeof(out->frames[i].name), in->frames[i]->name);
    }
}

void sbxc_outcome_from_proto(const Sbx__Outcome *in, struct sbx_outcome *out)
{
    memset(out, 0, sizeof(*out));
    out->worker_id = in->worker_id;
    switch (in->kind_case) {
    case SBX__OUTCOME__KIND_EXITED:
        out->kind = SBX_OUTCOME_EXITED;
        out->exit_code = in->exited->code;
        break;
    case SBX__OUTCOME__KIND_TRAPPED:
        out->kind = SBX_OUTCOME_TRAPPED;
        sbxc_trap_from_proto(in->trapped, &out->trap);
        break;
    case SBX__OUTCOME__KIND_TIMEOUT:
        out->kind = SBX_OUTCOME_TIMEOUT;
        out->limit = in->timeout->timeout_ms;
        break;
    case SBX__OUTCOME__KIND_FUEL_EXHAUSTED:
        out->kind = SBX_OUTCOME_FUEL_EXHAUSTED;
        out->limit = in->fuel_exhausted->fuel;
        break;
    case SBX__OUTCOME__KIND_MEMORY_LIMIT:
        out->kind = SBX_OUTCOME_MEMORY_LIMIT;
        out->limit = in->memory_limit->limit_bytes;
        break;
    case SBX__OUTCOME__KIND_KILLED:
        out->kind = SBX_OUTCOME_KILLED;
        out->signal = in->killed->signal;
        out->by_request = in->killed->by_request;
        break;
    case SBX__OUTCOME__KIND_POLICY_VIOLATION:
        out->kind = SBX_OUTCOME_POLICY_VIOLATION;
        out->syscall_nr = in->policy_violation->syscall_nr;
        sbxc_copy_string(out->message, sizeof(out->message), in->policy_violation->syscall_name);
        break;
    default: /* validated: the only case left */
        out->kind = SBX_OUTCOME_INTERNAL_ERROR;
        sbxc_copy_string(out->message, sizeof(out->message), in->internal_error->message);
        break;
    }
    if (in->usage) {
        out->usage.wall_us = in->usage->wall_us;
        out->usage.user_us = in->usage->user_us;
        out->usage.sys_us = in->usage->sys_us;
        out->usage.max_rss_kb = in->usage->max_rss_kb;
    }
    out->total_results = in->n_results;
    out->nresults = in->n_results < SBX_MAX_RESULTS ? in->n_results : SBX_MAX_RESULTS;
    for (size_t i = 0; i < out->nresults; i++)
        sbxc_value_from_proto(in->results[i], &out->results[i]);
}

/* -- Module descriptions --------------------------------------------------- */

/* Strings and type lists of a module description live in one arena
 * allocated with it, so sbx_module_info_free is one free(). */
struct arena {
    char *p, *end;
};

static void *arena_take(struct arena *a, size_t n, size_t align)
{
    uintptr_t at = ((uintptr_t)a->p + align - 1) & ~(uintptr_t)(align - 1);
    char *p = (char *)at;
    a->p = p + n;
    return p;
}

static const char *arena_str(struct arena *a, const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *p = arena_take(a, n, 1);
    memcpy(p, s ? s : "", n);
    return p;
}

static size_t extern_size(const char *module, const char *name, const Sbx__ExternType *t)
{
    size_t n = (module ? strlen(module) + 1 : 0) + strlen(name) + 1;
    if (t->func)
        n += (t->func->n_params + t->func->n_results) * sizeof(enum sbx_type) +
             2 * _Alignof(enum sbx_type);
    return n;
}

static void fill_item(struct arena *a, struct sbx_item *it, const char *module, const char *name,
                      const Sbx__ExternType *t)
{
    memset(it, 0, sizeof(*it));
    it->module = module ? arena_str(a, module) : NULL;
    it->name = arena_str(a, name);
    it->kind = (enum sbx_item_kind)t->kind;
    if (t->func) {
        enum sbx_type *p = arena_take(a, t->func->n_params * sizeof(*p), _Alignof(enum sbx_type));
        for (size_t i = 0; i < t->func->n_params; i++)
            p[i] = (enum sbx_type)t->func->params[i];
        enum sbx_type *r = arena_take(a, t->func->n_results * sizeof(*r), _Alignof(enum sbx_type));
        for (size_t i = 0; i < t->func->n_results; i++)
            r[i] = (enum sbx_type)t->func->results[i];
        it->params = p;
        it->nparams = t->func->n_params;
        it->results = r;
        it->nresults = t->func->n_results;
    }
    const Sbx__SizeLimits *lim = NULL;
    if (t->table) {
        it->type = (enum sbx_type)t->table->elem;
        lim = t->table->limits;
    }
    if (t->memory) {
        lim = t->memory->pages;
        it->shared = t->memory->shared;
    }
    if (t->global) {
        it->type = (enum sbx_type)t->global->type;
        it->mutable_ = t->global->mutable_;
    }
    if (lim) {
        it->min = lim->min;
        it->max = lim->max;
        it->has_max = lim->has_max;
    }
}

int sbxc_module_info_from_proto(const Sbx__ModuleLoaded *in, struct sbx_module_info **out)
{
    *out = NULL;
    /* Counts are at most SBX_IPC_MAX_EXTERNS and strings live in a message
     * of at most 128 KiB, so the total cannot overflow. */
    size_t items = in->n_imports + in->n_exports;
    size_t size = sizeof(struct sbx_module_info) + items * sizeof(struct sbx_item);
    for (size_t i = 0; i < in->n_imports; i++)
        size += extern_size(in->imports[i]->module, in->imports[i]->name, in->imports[i]->type);
    for (size_t i = 0; i < in->n_exports; i++)
        size += extern_size(NULL, in->exports[i]->name, in->exports[i]->type);
    struct sbx_module_info *info = calloc(1, size);
    if (!info) return -ENOMEM;
    struct arena a = {(char *)(info + 1), (char *)info + size};
    struct sbx_item *list = arena_take(&a, items * sizeof(*list), _Alignof(struct sbx_item));
    sbxc_copy_string(info->module_id, sizeof(info->module_id), in->module_id);
    info->already_loaded = in->already_loaded;
    info->nimports = in->n_imports;
    info->imports = list;
    info->nexports = in->n_exports;
    info->exports = list + in->n_imports;
    for (size_t i = 0; i < in->n_imports; i++)
        fill_item(&a, &list[i], in->imports[i]->module, in->imports[i]->name, in->imports[i]->type);
    for (size_t i = 0; i < in->n_exports; i++)
        fill_item(&a, &list[in->n_imports + i], NULL, in->exports[i]->name, in->exports[i]->type);
    (void)a.end;
    *out = info;
    return 0;
}

void sbx_module_info_free(struct sbx_module_info *info)
{
    free(info);
}

/* -- Names ----------------------------------------------------------------- */

const char *sbx_outcome_kind_name(enum sbx_outcome_kind kind)
{
    static const char *const names[] = {
        [SBX_OUTCOME_EXITED] = "exited",
        [SBX_OUTCOME_TRAPPED] = "trapped",
        [SBX_OUTCOME_TIMEOUT] = "timeout",
        [SBX_OUTCOME_FUEL_EXHAUSTED] = "fuel_exhausted",
        [SBX_OUTCOME_MEMORY_LIMIT] = "memory_limit",
        [SBX_OUTCOME_KILLED] = "killed",
        [SBX_OUTCOME_POLICY_VIOLATION] = "policy_violation",
        [SBX_OUTCOME_INTERNAL_ERROR] = "internal_error",
    };
    if ((unsigned)kind < sizeof(names) / sizeof(names[0]) && names[kind]) return names[kind];
    return "unknown";
}

const char *sbx_trap_kind_name(enum sbx_trap_kind kind)
{
    static const char *const names[] = {
        [SBX_TRAP_KIND_UNSPECIFIED] = "unspecified",
        [SBX_TRAP_KIND_UNREACHABLE] = "unreachable",
        [SBX_TRAP_KIND_INT_DIV_ZERO] = "int_div_zero",
        [SBX_TRAP_KIND_INT_OVERFLOW] = "int_overflow",
        [SBX_TRAP_KIND_INVALID_CONVERSION] = "invalid_conversion",
        [SBX_TRAP_KIND_OOB_MEMORY] = "oob_memory",
        [SBX_TRAP_KIND_OOB_TABLE] = "oob_table",
        [SBX_TRAP_KIND_INDIRECT_TYPE_MISMATCH] = "indirect_type_mismatch",
        [SBX_TRAP_KIND_UNINITIALIZED_ELEMENT] = "uninitialized_element",
        [SBX_TRAP_KIND_UNDEFINED_ELEMENT] = "undefined_element",
        [SBX_TRAP_KIND_STACK_EXHAUSTED] = "stack_exhausted",
        [SBX_TRAP_KIND_OUT_OF_FUEL] = "out_of_fuel",
        [SBX_TRAP_KIND_INTERRUPTED] = "interrupted",
        [SBX_TRAP_KIND_HOST] = "host",
    };
    if ((unsigned)kind < sizeof(names) / sizeof(names[0]) && names[kind]) return names[kind];
    return "unknown";
}
