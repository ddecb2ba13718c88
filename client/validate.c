/* client/validate.c: checks of every Response before the client acts on it.
 * The server is trusted to run modules, not to send well-formed messages: a
 * buggy or hostile one must get a clean -EPROTO, never a crash. The IPC
 * layer has already bounded the size, the fds (none allowed) and the unpack
 * allocation; this file checks the content against docs/protocol.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/client_internal.h"
#include "ipc/limits.h"

#define REFUSE(...) (snprintf(why, why_len, __VA_ARGS__), -EPROTO)

/* Every field of every message in the tree, by reflection: no unknown
 * fields (the protocol refuses them at any depth) and no enum value the
 * schema does not name. The schema has no recursive types, so the depth is
 * bounded. */
int sbxc_check_tree(const ProtobufCMessage *m, char *why, size_t why_len)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (m->n_unknown_fields)
        return REFUSE("unknown field %u in %s", m->unknown_fields[0].tag, d->short_name);
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_ENUM) continue;
        size_t n = 1;
        const void *elems = base + f->offset; /* one element in place, or an array */
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            memcpy(&n, base + f->quantifier_offset, sizeof(n));
            memcpy(&elems, base + f->offset, sizeof(elems));
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, base + f->quantifier_offset, sizeof(which));
            if (which != f->id) continue;
        } else if (f->type == PROTOBUF_C_TYPE_ENUM && f->label == PROTOBUF_C_LABEL_OPTIONAL) {
            protobuf_c_boolean has;
            memcpy(&has, base + f->quantifier_offset, sizeof(has));
            if (!has) continue;
        }
        for (size_t j = 0; j < n; j++) {
            if (f->type == PROTOBUF_C_TYPE_ENUM) {
                int v;
                memcpy(&v, (const char *)elems + j * sizeof(int), sizeof(v));
                if (!protobuf_c_enum_descriptor_get_value(f->descriptor, v))
                    return REFUSE("%s.%s: unknown value %d", d->short_name, f->name, v);
                continue;
            }
            const ProtobufCMessage *sub;
            memcpy(&sub, (const char *)elems + j * sizeof(sub), sizeof(sub));
            if (!sub) continue;
            int rc = sbxc_check_tree(sub, why, why_len);
            if (rc) return rc;
        }
    }
    return 0;
}

bool sbxc_module_id_ok(const char *id)
{
    if (!id || strlen(id) != SBX_IPC_MODULE_ID_LEN) return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

static int check_values(size_t n, Sbx__Value *const *v, const char *field, char *why,
                        size_t why_len)
{
    if (n > SBX_IPC_MAX_VALUES) return REFUSE("%s: %zu values", field, n);
    for (size_t i = 0; i < n; i++)
        if (v[i]->v_case == SBX__VALUE__V__NOT_SET) return REFUSE("%s[%zu]: no value", field, i);
    return 0;
}

static int check_trap(const Sbx__Trap *t, char *why, size_t why_len)
{
    if (t->n_frames > SBX_IPC_MAX_FRAMES) return REFUSE("trap: %zu frames", t->n_frames);
    return 0;
}

static int check_outcome(const Sbx__Outcome *o, char *why, size_t why_len)
{
    if (!o->has_worker_id || o->worker_id == 0) return REFUSE("outcome: no worker_id");
    if (o->kind_case == SBX__OUTCOME__KIND__NOT_SET) return REFUSE("outcome: no kind");
    if (o->kind_case == SBX__OUTCOME__KIND_TRAPPED) {
        int rc = check_trap(o->trapped, why, why_len);
        if (rc) return rc;
    }
    return check_values(o->n_results, o->results, "outcome.results", why, why_len);
}

static int check_extern(const Sbx__ExternType *t, const char *field, size_t i, char *why,
                        size_t why_len)
{
    if (!t || !t->has_kind || t->kind == SBX__EXTERN_KIND__EXTERN_UNSPECIFIED)
        return REFUSE("%s[%zu]: no type", field, i);
    if (t->func &&
        (t->func->n_params > SBX_IPC_MAX_VALUES || t->func->n_results > SBX_IPC_MAX_VALUES))
        return REFUSE("%s[%zu]: too many params or results", field, i);
    return 0;
}

static int check_module_loaded(const Sbx__ModuleLoaded *m, char *why, size_t why_len)
{
    if (!sbxc_module_id_ok(m->module_id)) return REFUSE("module_loaded.module_id: malformed");
    if (m->n_imports > SBX_IPC_MAX_EXTERNS || m->n_exports > SBX_IPC_MAX_EXTERNS)
        return REFUSE("module_loaded: too many imports or exports");
    for (size_t i = 0; i < m->n_imports; i++) {
        if (!m->imports[i]->module || !m->imports[i]->name)
            return REFUSE("module_loaded.imports[%zu]: no name", i);
        int rc = check_extern(m->imports[i]->type, "module_loaded.imports", i, why, why_len);
        if (rc) return rc;
    }
    for (size_t i = 0; i < m->n_exports; i++) {
        if (!m->exports[i]->name) return REFUSE("module_loaded.exports[%zu]: no name", i);
        int rc = check_extern(m->exports[i]->type, "module_loaded.exports", i, why, why_len);
        if (rc) return rc;
    }
    return 0;
}

int sbxc_check_response(const Sbx__Response *r, char *why, size_t why_len)
{
    int rc = sbxc_check_tree(&r->base, why, why_len);
    if (rc) return rc;
    uint64_t id = r->has_id ? r->id : 0;
    if ((id == 0) != (r->body_case == SBX__RESPONSE__BODY_EVENT))
        return REFUSE(id ? "an event with a request id" : "an answer with no request id");
    switch (r->body_case) {
    case SBX__RESPONSE__BODY_WELCOME:
    case SBX__RESPONSE__BODY_ACK: return 0;
    case SBX__RESPONSE__BODY_MODULE_LOADED:
        return check_module_loaded(r->module_loaded, why, why_len);
    case SBX__RESPONSE__BODY_SPAWNED:
        if (!r->spawned->has_worker_id || r->spawned->worker_id == 0)
            return REFUSE("spawned: no worker_id");
        return 0;
    case SBX__RESPONSE__BODY_OUTCOME: return check_outcome(r->outcome, why, why_len);
    case SBX__RESPONSE__BODY_CALL_RESULT:
        switch (r->call_result->result_case) {
        case SBX__CALL_RESULT__RESULT_RETURNED:
            return check_values(r->call_result->returned->n_values,
                                r->call_result->returned->values, "call_result.values", why,
                                why_len);
        case SBX__CALL_RESULT__RESULT_TRAP: return check_trap(r->call_result->trap, why, why_len);
        default: return REFUSE("call_result: empty");
        }
    case SBX__RESPONSE__BODY_STATUS:
        if (r->status->n_modules > SBX_IPC_MAX_STATUS_MODULES)
            return REFUSE("status: %zu modules in a page", r->status->n_modules);
        for (size_t i = 0; i < r->status->n_modules; i++)
            if (!sbxc_module_id_ok(r->status->modules[i]->module_id))
                return REFUSE("status.modules[%zu].module_id: malformed", i);
        return 0;
    case SBX__RESPONSE__BODY_EVENT:
        if (r->event->body_case != SBX__EVENT__BODY_OUTCOME) return REFUSE("event: empty");
        return check_outcome(r->event->outcome, why, why_len);
    case SBX__RESPONSE__BODY_ERROR:
        if (!r->error->has_code || r->error->code == SBX__ERROR_CODE__ERROR_CODE_UNSPECIFIED)
            return REFUSE("error: no code");
        return 0;
    default: return REFUSE("response: no body");
    }
}
