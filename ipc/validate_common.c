/* ipc/validate_common.c: field checks shared by every channel's validator:
 * strings, ids, fd indices, enums, values, argv/env, stdio, limits, traps. */
#include "ipc/validate_internal.h"
#include "ipc/limits.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void v_start(struct vctx *v, struct sbx_ipc_reject *why, size_t nfds, uint64_t id)
{
    v->why = why;
    v->nfds = nfds;
    memset(v->fds_used, 0, sizeof v->fds_used);
    why->code = SBX__ERROR_CODE__ERROR_CODE_UNSPECIFIED;
    why->request_id = id;
    why->message[0] = '\0';
}

int v_reject(struct vctx *v, Sbx__ErrorCode code, const char *fmt, ...)
{
    if (v->why->code == SBX__ERROR_CODE__ERROR_CODE_UNSPECIFIED) {
        v->why->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->why->message, sizeof(v->why->message), fmt, ap);
        va_end(ap);
    }
    return -EBADMSG;
}

int v_fds_all_used(struct vctx *v)
{
    if (v->nfds > SBX_IPC_MAX_FDS)
        return v_reject(v, SBX__ERROR_CODE__LIMIT, "more than %u fds", SBX_IPC_MAX_FDS);
    for (size_t i = 0; i < v->nfds; i++)
        if (!v->fds_used[i])
            return v_reject(v, SBX__ERROR_CODE__BAD_REQUEST,
                            "%zu fds received but the message refers to fewer", v->nfds);
    return 0;
}

/* Walks the message tree by reflection. Its depth is bounded by the schema,
 * which has no recursive types. */
int v_no_unknown_fields(struct vctx *v, const ProtobufCMessage *m)
{
    if (m->n_unknown_fields)
        return v_reject(v, SBX__ERROR_CODE__BAD_REQUEST, "unknown field %u in %s",
                        m->unknown_fields[0].tag, m->descriptor->short_name);
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        const char *base = (const char *)m;
        size_t n = 1;
        const ProtobufCMessage *const *subs;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            memcpy(&n, base + f->quantifier_offset, sizeof(n));
            const ProtobufCMessage *const *arr;
            memcpy(&arr, base + f->offset, sizeof(arr));
            subs = arr;
        } else {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                uint32_t which;
                memcpy(&which, base + f->quantifier_offset, sizeof(which));
                if (which != f->id) continue;
            }
            subs = (const ProtobufCMessage *const *)(base + f->offset);
        }
        for (size_t j = 0; j < n; j++) {
            if (!subs[j]) continue;
            int rc = v_no_unknown_fields(v, subs[j]);
            if (rc) return rc;
        }
    }
    return 0;
}

#define BAD(...)   v_reject(v, SBX__ERROR_CODE__BAD_REQUEST, __VA_ARGS__)
#define LIMIT(...) v_reject(v, SBX__ERROR_CODE__LIMIT, __VA_ARGS__)

/* Strings are NUL-terminated by protobuf-c; an embedded NUL ends them early,
 * which can only shorten what the sender sent. */
int v_string(struct vctx *v, const char *s, size_t max, bool required, const char *field)
{
    if (!s || !*s) return required ? BAD("%s: missing", field) : 0;
    if (strnlen(s, max + 1) > max) return LIMIT("%s: longer than %zu bytes", field, max);
    return 0;
}

int v_module_id(struct vctx *v, const char *s, const char *field)
{
    if (!s || !*s) return BAD("%s: missing", field);
    size_t n = strnlen(s, SBX_IPC_MODULE_ID_LEN + 1);
    if (n != SBX_IPC_MODULE_ID_LEN)
        return BAD("%s: not %u hex digits", field, SBX_IPC_MODULE_ID_LEN);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return BAD("%s: not lowercase hex", field);
    return 0;
}

int v_fd_index(struct vctx *v, bool has, uint32_t index, const char *field)
{
    if (!has) return BAD("%s: missing", field);
    if (index >= v->nfds || index >= SBX_IPC_MAX_FDS)
        return BAD("%s: fd %u not sent (%zu fds came)", field, index, v->nfds);
    if (v->fds_used[index]) return BAD("%s: fd %u already used", field, index);
    v->fds_used[index] = true;
    return 0;
}

int v_socket_fds(struct vctx *v, size_t n, const uint32_t *index, const char *field)
{
    if (n > SBX_IPC_MAX_SOCKETS)
        return v_reject(v, SBX__ERROR_CODE__LIMIT, "%s: more than %u", field, SBX_IPC_MAX_SOCKETS);
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++)
        rc = v_fd_index(v, true, index[i], field);
    return rc;
}

int v_memfd(struct vctx *v, const Sbx__MemfdRef *m, uint64_t max_size, const char *field)
{
    if (!m) return BAD("%s: missing", field);
    char sub[64];
    snprintf(sub, sizeof(sub), "%s.fd_index", field);
    int rc = v_fd_index(v, m->has_fd_index, m->fd_index, sub);
    if (rc) return rc;
    if (!m->has_size || m->size == 0) return BAD("%s.size: missing", field);
    if (m->size > max_size)
        return LIMIT("%s.size: above %llu bytes", field, (unsigned long long)max_size);
    return 0;
}

int v_enum(struct vctx *v, const ProtobufCEnumDescriptor *desc, bool has, int value,
           const char *field)
{
    if (!has || value == 0) return BAD("%s: missing", field);
    if (!protobuf_c_enum_descriptor_get_value(desc, value))
        return BAD("%s: unknown value %d", field, value);
    return 0;
}

int v_values(struct vctx *v, size_t n, Sbx__Value *const *vals, const char *field)
{
    if (n > SBX_IPC_MAX_VALUES) return LIMIT("%s: more than %u values", field, SBX_IPC_MAX_VALUES);
    for (size_t i = 0; i < n; i++) {
        if (!vals[i] || vals[i]->v_case == SBX__VALUE__V__NOT_SET)
            return BAD("%s[%zu]: no value", field, i);
        switch (vals[i]->v_case) {
        case SBX__VALUE__V_I32:
        case SBX__VALUE__V_I64:
        case SBX__VALUE__V_F32_BITS:
        case SBX__VALUE__V_F64_BITS: break;
        default: return BAD("%s[%zu]: unknown kind", field, i);
        }
    }
    return 0;
}

int v_argv_env(struct vctx *v, size_t nargv, char *const *argv, size_t nenv, char *const *env)
{
    if (nargv > SBX_IPC_MAX_ARGV) return LIMIT("argv: more than %u entries", SBX_IPC_MAX_ARGV);
    if (nenv > SBX_IPC_MAX_ENV) return LIMIT("env: more than %u entries", SBX_IPC_MAX_ENV);
    /* Counted like the kernel counts ARG_MAX: each entry plus its NUL. */
    size_t total = 0;
    for (size_t i = 0; i < nargv + nenv; i++) {
        const char *s = i < nargv ? argv[i] : env[i - nargv];
        if (!s)
            return BAD("%s[%zu]: missing", i < nargv ? "argv" : "env", i < nargv ? i : i - nargv);
        size_t left = SBX_IPC_MAX_ARG_BYTES - total;
        size_t len = strnlen(s, left);
        if (len >= left) return LIMIT("argv and env: more than %u bytes", SBX_IPC_MAX_ARG_BYTES);
        total += len + 1;
        if (i >= nargv) {
            const char *eq = strchr(s, '=');
            if (!eq || eq == s) return BAD("env[%zu]: not KEY=VALUE", i - nargv);
        }
    }
    return 0;
}

int v_stdio(struct vctx *v, size_t n, Sbx__StdioFd *const *stdio, const char *field)
{
    if (n > 3) return BAD("%s: more than 3 streams", field);
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        char sub[64];
        snprintf(sub, sizeof(sub), "%s[%zu].stream", field, i);
        const Sbx__StdioFd *s = stdio[i];
        if (!s) return BAD("%s: missing", sub);
        int rc = v_enum(v, &sbx__stdio_stream__descriptor, s->has_stream, s->stream, sub);
        if (rc) return rc;
        if (seen & (1u << s->stream)) return BAD("%s: stream given twice", sub);
        seen |= 1u << s->stream;
        snprintf(sub, sizeof(sub), "%s[%zu].fd_index", field, i);
        rc = v_fd_index(v, s->has_fd_index, s->fd_index, sub);
        if (rc) return rc;
    }
    return 0;
}

static int v_range(struct vctx *v, bool has, uint64_t value, uint64_t max, const char *field,
                   const char *name)
{
    if (!has) return 0;
    if (value == 0) return BAD("%s.%s: must be at least 1", field, name);
    if (value > max) return LIMIT("%s.%s: above %llu", field, name, (unsigned long long)max);
    return 0;
}

int v_limits(struct vctx *v, const Sbx__ResourceLimits *l, const char *field)
{
    if (!l) return 0;
    int rc = v_range(v, l->has_memory_bytes, l->memory_bytes, SBX_IPC_MAX_MEMORY_BYTES, field,
                     "memory_bytes");
    if (!rc) rc = v_range(v, l->has_fuel, l->fuel, UINT64_MAX, field, "fuel");
    if (!rc)
        rc = v_range(v, l->has_timeout_ms, l->timeout_ms, SBX_IPC_MAX_TIMEOUT_MS, field,
                     "timeout_ms");
    if (!rc)
        rc = v_range(v, l->has_stack_bytes, l->stack_bytes, SBX_IPC_MAX_STACK_BYTES, field,
                     "stack_bytes");
    return rc;
}

int v_trap(struct vctx *v, const Sbx__Trap *t, const char *field)
{
    if (!t) return BAD("%s: missing", field);
    char sub[64];
    snprintf(sub, sizeof(sub), "%s.kind", field);
    int rc = v_enum(v, &sbx__trap_kind__descriptor, t->has_kind, t->kind, sub);
    if (rc) return rc;
    snprintf(sub, sizeof(sub), "%s.message", field);
    rc = v_string(v, t->message, SBX_IPC_MAX_TEXT, false, sub);
    if (rc) return rc;
    if (t->n_frames > SBX_IPC_MAX_FRAMES)
        return LIMIT("%s.frames: more than %u", field, SBX_IPC_MAX_FRAMES);
    for (size_t i = 0; i < t->n_frames; i++) {
        const Sbx__Frame *f = t->frames[i];
        if (!f || !f->has_function_index) return BAD("%s.frames[%zu]: no function index", field, i);
        snprintf(sub, sizeof(sub), "%s.frames[%zu].name", field, i);
        rc = v_string(v, f->name, SBX_IPC_MAX_EXPORT_NAME, false, sub);
        if (rc) return rc;
    }
    return 0;
}

int v_error(struct vctx *v, const Sbx__Error *e, const char *field)
{
    if (!e) return BAD("%s: missing", field);
    char sub[64];
    snprintf(sub, sizeof(sub), "%s.code", field);
    int rc = v_enum(v, &sbx__error_code__descriptor, e->has_code, e->code, sub);
    if (!rc) {
        snprintf(sub, sizeof(sub), "%s.message", field);
        rc = v_string(v, e->message, SBX_IPC_MAX_TEXT, false, sub);
    }
    return rc;
}
