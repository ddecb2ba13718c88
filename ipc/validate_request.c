/* ipc/validate_request.c: the checks on a client's Request (the public
 * protocol), and the receive-decode-validate path a server runs for each. */
#include "ipc/validate_internal.h"
#include "ipc/limits.h"
#include "ipc/msg.h"

#include <errno.h>
#include <stdio.h>

#define BAD(...) v_reject(v, SBX__ERROR_CODE__BAD_REQUEST, __VA_ARGS__)

static int v_hello(struct vctx *v, const Sbx__Hello *m)
{
    if (!m->has_protocol_version || m->protocol_version == 0)
        return BAD("hello.protocol_version: missing");
    return v_string(v, m->client_name, SBX_IPC_MAX_NAME, false, "hello.client_name");
}

static int v_load(struct vctx *v, const Sbx__LoadModule *m)
{
    int rc = 0;
    switch (m->source_case) {
    case SBX__LOAD_MODULE__SOURCE_INLINE_BYTES:
        if (m->inline_bytes.len == 0) return BAD("load_module.inline_bytes: empty");
        if (m->inline_bytes.len > SBX_IPC_MAX_INLINE_MODULE)
            return v_reject(v, SBX__ERROR_CODE__LIMIT,
                            "load_module.inline_bytes: above %u bytes; send a memfd",
                            SBX_IPC_MAX_INLINE_MODULE);
        break;
    case SBX__LOAD_MODULE__SOURCE_MEMFD:
        rc = v_memfd(v, m->memfd, SBX_IPC_MAX_MODULE_BYTES, "load_module.memfd");
        break;
    case SBX__LOAD_MODULE__SOURCE_PATH:
        rc = v_string(v, m->path, SBX_IPC_MAX_PATH, true, "load_module.path");
        if (!rc && m->path[0] != '/') return BAD("load_module.path: not absolute");
        break;
    default: return BAD("load_module: no source");
    }
    if (!rc) rc = v_string(v, m->name, SBX_IPC_MAX_NAME, false, "load_module.name");
    return rc;
}

static int v_spawn(struct vctx *v, const Sbx__Spawn *m)
{
    int rc = v_module_id(v, m->module_id, "spawn.module_id");
    if (!rc) rc = v_argv_env(v, m->n_argv, m->argv, m->n_env, m->env);
    if (!rc) rc = v_stdio(v, m->n_stdio, m->stdio, "spawn.stdio");
    if (!rc) rc = v_limits(v, m->limits, "spawn.limits");
    if (!rc) rc = v_string(v, m->export_name, SBX_IPC_MAX_EXPORT_NAME, true, "spawn.export_name");
    if (!rc) rc = v_values(v, m->n_args, m->args, "spawn.args");
    if (!rc)
        rc = v_socket_fds(v, m->n_socket_fd_index, m->socket_fd_index, "spawn.socket_fd_index");
    if (!rc && m->reply_with_outcome && ((m->has_keep_alive && m->keep_alive) || m->detach))
        rc = BAD("spawn.reply_with_outcome: not with keep_alive or detach");
    return rc;
}

static int v_worker_id(struct vctx *v, bool has, uint64_t id, const char *field)
{
    return has && id ? 0 : BAD("%s: missing", field);
}

static int v_timeout(struct vctx *v, bool has, uint32_t ms, const char *field)
{
    if (has && ms > SBX_IPC_MAX_TIMEOUT_MS)
        return v_reject(v, SBX__ERROR_CODE__LIMIT, "%s: above %u", field, SBX_IPC_MAX_TIMEOUT_MS);
    return 0;
}

static int v_call(struct vctx *v, const Sbx__Call *m, const char *prefix)
{
    char field[64];
    snprintf(field, sizeof(field), "%s.export_name", prefix);
    int rc = v_string(v, m->export_name, SBX_IPC_MAX_EXPORT_NAME, true, field);
    if (!rc) {
        snprintf(field, sizeof(field), "%s.args", prefix);
        rc = v_values(v, m->n_args, m->args, field);
    }
    if (!rc) {
        snprintf(field, sizeof(field), "%s.timeout_ms", prefix);
        rc = v_timeout(v, m->has_timeout_ms, m->timeout_ms, field);
    }
    return rc;
}

int sbx_ipc_validate_request(const Sbx__Request *req, size_t nfds, struct sbx_ipc_reject *why)
{
    struct vctx vc, *v = &vc;
    v_start(v, why, nfds, req && req->has_id ? req->id : 0);
    if (!req) return BAD("no request");
    if (!req->has_id || req->id == 0) return BAD("request id: missing");
    int rc = v_no_unknown_fields(v, &req->base);
    if (rc) return rc;
    switch (req->body_case) {
    case SBX__REQUEST__BODY_HELLO: rc = v_hello(v, req->hello); break;
    case SBX__REQUEST__BODY_LOAD_MODULE: rc = v_load(v, req->load_module); break;
    case SBX__REQUEST__BODY_UNLOAD_MODULE:
        rc = v_module_id(v, req->unload_module->module_id, "unload_module.module_id");
        break;
    case SBX__REQUEST__BODY_SPAWN: rc = v_spawn(v, req->spawn); break;
    case SBX__REQUEST__BODY_WAIT:
        rc = v_worker_id(v, req->wait->has_worker_id, req->wait->worker_id, "wait.worker_id");
        if (!rc)
            rc = v_timeout(v, req->wait->has_timeout_ms, req->wait->timeout_ms, "wait.timeout_ms");
        break;
    case SBX__REQUEST__BODY_KILL:
        rc = v_worker_id(v, req->kill->has_worker_id, req->kill->worker_id, "kill.worker_id");
        break;
    case SBX__REQUEST__BODY_CALL:
        rc = v_worker_id(v, req->call->has_worker_id, req->call->worker_id, "call.worker_id");
        if (!rc) rc = v_call(v, req->call, "call");
        break;
    case SBX__REQUEST__BODY_STATUS: rc = 0; break;
    default: return BAD("request: no body, or a kind this server does not know");
    }
    if (!rc) rc = v_fds_all_used(v);
    return rc;
}

/* Fills *why for a packet that never became a message. */
static void transport_reject(int rc, struct sbx_ipc_reject *why)
{
    why->request_id = 0;
    why->code = SBX__ERROR_CODE__BAD_REQUEST;
    const char *what;
    switch (rc) {
    case -EMSGSIZE:
        why->code = SBX__ERROR_CODE__LIMIT;
        what = "message larger than the limit";
        break;
    case -ENOBUFS:
        why->code = SBX__ERROR_CODE__LIMIT;
        what = "message needs too much memory to unpack";
        break;
    case -ETOOMANYREFS: what = "too many fds with the message"; break;
    case -EBADMSG: what = "unexpected control data with the message"; break;
    case -EPROTO: what = "malformed message"; break;
    default:
        why->code = SBX__ERROR_CODE__INTERNAL;
        what = "receive failed";
        break;
    }
    snprintf(why->message, sizeof(why->message), "%s", what);
}

int sbx_ipc_decode_request(const void *buf, size_t len, size_t nfds, Sbx__Request **out,
                           struct sbx_ipc_reject *why)
{
    ProtobufCMessage *msg;
    *out = NULL;
    int rc = sbx_ipc_unpack(&sbx__request__descriptor, buf, len, &msg);
    if (rc) {
        transport_reject(rc, why);
        return rc;
    }
    Sbx__Request *req = (Sbx__Request *)msg;
    rc = sbx_ipc_validate_request(req, nfds, why);
    if (rc) {
        sbx_ipc_free(msg);
        return rc;
    }
    *out = req;
    return 0;
}

int sbx_ipc_recv_request(int fd, Sbx__Request **out, int *fds, size_t *nfds, int timeout_ms,
                         struct sbx_ipc_reject *why)
{
    ProtobufCMessage *msg;
    *out = NULL;
    int rc =
        sbx_ipc_recv(fd, &sbx__request__descriptor, &msg, fds, nfds, SBX_IPC_MAX_FDS, timeout_ms);
    if (rc) {
        transport_reject(rc, why);
        return rc;
    }
    Sbx__Request *req = (Sbx__Request *)msg;
    rc = sbx_ipc_validate_request(req, *nfds, why);
    if (rc) {
        sbx_ipc_close_fds(fds, *nfds);
        *nfds = 0;
        sbx_ipc_free(msg);
        return rc;
    }
    *out = req;
    return 0;
}
