/* ipc/validate_internal.c: the checks on the internal channels: what the
 * zygote accepts from the supervisor, and what the supervisor accepts from
 * the zygote and from workers (which run untrusted code). */
#include "ipc/validate_internal.h"
#include "ipc/limits.h"

#include <errno.h>

#define BAD(...) v_reject(v, SBX__ERROR_CODE__BAD_REQUEST, __VA_ARGS__)

static int v_id(struct vctx *v, bool has, uint64_t id, const char *field)
{
    return has && id ? 0 : BAD("%s: missing", field);
}

static int v_fork(struct vctx *v, const Sbx__ForkWorker *m)
{
    int rc = v_id(v, m->has_worker_id, m->worker_id, "fork.worker_id");
    if (!rc) rc = v_module_id(v, m->module_id, "fork.module_id");
    if (!rc) rc = v_argv_env(v, m->n_argv, m->argv, m->n_env, m->env);
    if (!rc) rc = v_stdio(v, m->n_stdio, m->stdio, "fork.stdio");
    if (!rc) rc = v_limits(v, m->limits, "fork.limits");
    /* Empty only for a keep-alive reactor: nothing but _initialize to run. */
    bool reactor = m->has_keep_alive && m->keep_alive && m->export_name && !*m->export_name;
    /* A warm worker learns its spawn later (ToWorker.start): none here. */
    bool warm = m->has_warm && m->warm;
    if (!rc && warm &&
        (m->n_argv || m->n_env || m->n_stdio || m->export_name || m->n_args ||
         m->n_socket_fd_index || m->has_keep_alive))
        rc = BAD("fork.warm: a warm fork carries no argv, env, stdio, export, args, keep_alive "
                 "or sockets");
    if (!rc && m->has_warm_template && m->warm_template && !warm)
        rc = BAD("fork.warm_template: only with warm");
    if (!rc && !reactor && !warm)
        rc = v_string(v, m->export_name, SBX_IPC_MAX_EXPORT_NAME, true, "fork.export_name");
    if (!rc) rc = v_values(v, m->n_args, m->args, "fork.args");
    if (!rc)
        rc = v_fd_index(v, m->has_channel_fd_index, m->channel_fd_index, "fork.channel_fd_index");
    size_t npre = m->policy ? m->policy->n_preopens : 0;
    if (!rc && m->n_preopen_fd_index != npre)
        rc = BAD("fork.preopen_fd_index: %zu for %zu preopens", m->n_preopen_fd_index, npre);
    for (size_t i = 0; !rc && i < m->n_preopen_fd_index; i++)
        rc = v_fd_index(v, true, m->preopen_fd_index[i], "fork.preopen_fd_index");
    if (!rc) rc = v_socket_fds(v, m->n_socket_fd_index, m->socket_fd_index, "fork.socket_fd_index");
    return rc;
}

int sbx_ipc_validate_control_request(const Sbx__ControlRequest *req, size_t nfds,
                                     struct sbx_ipc_reject *why)
{
    struct vctx vc, *v = &vc;
    v_start(v, why, nfds, req && req->has_id ? req->id : 0);
    if (!req || !req->has_id || req->id == 0) return BAD("control request id: missing");
    int rc = v_no_unknown_fields(v, &req->base);
    if (rc) return rc;
    switch (req->body_case) {
    case SBX__CONTROL_REQUEST__BODY_LOAD: {
        const Sbx__LoadIntoZygote *m = req->load;
        rc = v_module_id(v, m->module_id, "load.module_id");
        if (!rc) rc = v_memfd(v, m->module, SBX_IPC_MAX_MODULE_BYTES, "load.module");
        /* Compiled code and the memory image: optional, no larger than what
         * a module may describe (code) or a 32-bit memory can hold (image). */
        if (!rc && m->code) rc = v_memfd(v, m->code, SBX_IPC_MAX_MEMORY_BYTES, "load.code");
        if (!rc && m->image) rc = v_memfd(v, m->image, SBX_IPC_MAX_MEMORY_BYTES, "load.image");
        if (!rc) rc = v_string(v, m->name, SBX_IPC_MAX_NAME, false, "load.name");
        break;
    }
    case SBX__CONTROL_REQUEST__BODY_UNLOAD:
        rc = v_module_id(v, req->unload->module_id, "unload.module_id");
        break;
    case SBX__CONTROL_REQUEST__BODY_FORK: rc = v_fork(v, req->fork); break;
    case SBX__CONTROL_REQUEST__BODY_PING: rc = 0; break;
    case SBX__CONTROL_REQUEST__BODY_KILL:
        rc = v_id(v, req->kill->has_worker_id, req->kill->worker_id, "kill.worker_id");
        if (!rc && !(req->kill->has_pid && req->kill->pid > 0)) rc = BAD("kill.pid: missing");
        break;
    default: return BAD("control request: no body");
    }
    if (!rc) rc = v_fds_all_used(v);
    return rc;
}

int sbx_ipc_validate_control_reply(const Sbx__ControlReply *rep, size_t nfds,
                                   struct sbx_ipc_reject *why)
{
    struct vctx vc, *v = &vc;
    v_start(v, why, nfds, rep && rep->has_id ? rep->id : 0);
    if (!rep) return BAD("no control reply");
    int rc = v_no_unknown_fields(v, &rep->base);
    if (rc) return rc;
    switch (rep->body_case) {
    case SBX__CONTROL_REPLY__BODY_READY:
        rc = rep->ready->has_pid && rep->ready->pid > 0 ? 0 : BAD("ready.pid: missing");
        break;
    case SBX__CONTROL_REPLY__BODY_ACK: rc = 0; break;
    case SBX__CONTROL_REPLY__BODY_STARTED: {
        const Sbx__WorkerStarted *m = rep->started;
        rc = v_id(v, m->has_worker_id, m->worker_id, "started.worker_id");
        if (!rc && !(m->has_pid && m->pid > 0)) rc = BAD("started.pid: missing");
        if (!rc)
            rc = v_fd_index(v, m->has_pidfd_fd_index, m->pidfd_fd_index, "started.pidfd_fd_index");
        break;
    }
    case SBX__CONTROL_REPLY__BODY_EXITED: {
        const Sbx__WorkerExited *m = rep->exited;
        /* worker_id 0: a template's child, known by its pid. */
        rc = m->has_worker_id ? 0 : BAD("exited.worker_id: missing");
        if (!rc && !(m->has_pid && m->pid > 0)) rc = BAD("exited.pid: missing");
        if (!rc && !m->has_wait_status) rc = BAD("exited.wait_status: missing");
        break;
    }
    case SBX__CONTROL_REPLY__BODY_ERROR: rc = v_error(v, rep->error, "error"); break;
    default: return BAD("control reply: no body");
    }
    if (!rc) rc = v_fds_all_used(v);
    return rc;
}

static int v_text(struct vctx *v, const char *s, const char *field)
{
    return v_string(v, s, SBX_IPC_MAX_TEXT, false, field);
}

static int v_report(struct vctx *v, const Sbx__WorkerReport *m)
{
    int rc;
    switch (m->kind_case) {
    case SBX__WORKER_REPORT__KIND_EXITED:
        rc = m->exited->has_code ? 0 : BAD("report.exited.code: missing");
        break;
    case SBX__WORKER_REPORT__KIND_TRAPPED: rc = v_trap(v, m->trapped, "report.trapped"); break;
    case SBX__WORKER_REPORT__KIND_FUEL_EXHAUSTED:
    case SBX__WORKER_REPORT__KIND_MEMORY_LIMIT:
    case SBX__WORKER_REPORT__KIND_TIMEOUT: rc = 0; break;
    case SBX__WORKER_REPORT__KIND_INTERNAL_ERROR:
        rc = v_text(v, m->internal_error->message, "report.internal_error.message");
        break;
    case SBX__WORKER_REPORT__KIND_POLICY_VIOLATION: {
        /* Only the number: the supervisor names it, never the worker. */
        const Sbx__PolicyViolation *p = m->policy_violation;
        rc = p->syscall_name ? BAD("report.policy_violation.syscall_name: the worker's to omit")
             : p->has_syscall_nr && (p->syscall_nr < 0 || p->syscall_nr > 4095)
                 ? BAD("report.policy_violation.syscall_nr: out of range")
                 : 0;
        break;
    }
    default: return BAD("report: no kind");
    }
    if (!rc) rc = v_values(v, m->n_results, m->results, "report.results");
    return rc;
}

int sbx_ipc_validate_from_worker(const Sbx__FromWorker *msg, size_t nfds,
                                 struct sbx_ipc_reject *why)
{
    struct vctx vc, *v = &vc;
    v_start(v, why, nfds, msg && msg->has_id ? msg->id : 0);
    if (!msg) return BAD("no worker message");
    int rc = v_no_unknown_fields(v, &msg->base);
    if (rc) return rc;
    switch (msg->body_case) {
    case SBX__FROM_WORKER__BODY_IDLE: rc = 0; break;
    case SBX__FROM_WORKER__BODY_REPORT: rc = v_report(v, msg->report); break;
    case SBX__FROM_WORKER__BODY_CALL_RESULT: {
        const Sbx__CallResult *r = msg->call_result;
        if (!msg->has_id || msg->id == 0) return BAD("call_result: no id");
        if (r->result_case == SBX__CALL_RESULT__RESULT_RETURNED)
            rc = v_values(v, r->returned->n_values, r->returned->values,
                          "call_result.returned.values");
        else if (r->result_case == SBX__CALL_RESULT__RESULT_TRAP)
            rc = v_trap(v, r->trap, "call_result.trap");
        else
            rc = BAD("call_result: no result");
        break;
    }
    case SBX__FROM_WORKER__BODY_STARTED: {
        const Sbx__WorkerStarted *m = msg->started;
        if (m->has_worker_id || m->has_pidfd_fd_index)
            return BAD("started: a pid alone (the rest comes from the zygote)");
        rc = m->has_pid && m->pid > 0 ? 0 : BAD("started.pid: missing");
        break;
    }
    case SBX__FROM_WORKER__BODY_PATH:
        /* The reply is matched by id, so a request must carry one. */
        if (!msg->has_id || msg->id == 0) return BAD("path: no id");
        rc = v_path_request(v, msg->path);
        break;
    default: return BAD("worker message: no body");
    }
    if (!rc) rc = v_fds_all_used(v);
    return rc;
}
