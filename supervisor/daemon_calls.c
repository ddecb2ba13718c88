/* Calls into keep-alive workers: a plugin host spawns an instance once and
 * calls its exports many times. The supervisor checks each Call against the
 * module (export, argument count and types) before forwarding it, allows
 * one call in flight per worker, times each call out like a spawn, and
 * trusts the worker's answer only if it answers the call in flight. */
#include <stdio.h>

#include "ipc/msg.h"
#include "supervisor/daemon.h"
#include "zygote/values.h"

/* Checks the call against the export's signature; 0 or an error sent. */
static int check_call(struct daemon *d, struct conn *c, uint64_t request_id, struct worker *w,
                      const Sbx__Call *call)
{
    const struct sbx_module *m = w->module->decoded;
    const struct sbx_export *e = sbx_module_export(m, call->export_name);
    if (!e || e->kind != SBX_EXTERN_FUNC) {
        send_error(d, c, request_id, SBX__ERROR_CODE__BAD_REQUEST, "no exported function \"%s\"",
                   call->export_name);
        return -1;
    }
    const struct sbx_functype *ft = sbx_module_func_type(m, e->index);
    if (call->n_args != ft->nparams) {
        send_error(d, c, request_id, SBX__ERROR_CODE__BAD_REQUEST,
                   "\"%s\" takes %u arguments, %zu given", call->export_name, ft->nparams,
                   call->n_args);
        return -1;
    }
    for (uint32_t i = 0; i < ft->nparams; i++) {
        union sbx_val v;
        if (sbx_value_from_proto(call->args[i], ft->params[i], &v)) {
            send_error(d, c, request_id, SBX__ERROR_CODE__BAD_REQUEST,
                       "call.args[%u]: \"%s\" takes a %s there", i, call->export_name,
                       sbx_valtype_name(ft->params[i]));
            return -1;
        }
    }
    if (call->has_fuel && call->fuel > 0 && !w->metered) {
        send_error(d, c, request_id, SBX__ERROR_CODE__WRONG_STATE,
                   "call.fuel: worker %llu was spawned without a fuel limit, so its code is "
                   "not metered",
                   (unsigned long long)w->id);
        return -1;
    }
    return 0;
}

void worker_call(struct daemon *d, struct conn *c, uint64_t request_id, struct worker *w,
                 const Sbx__Call *call)
{
    if (!w->keep_alive) {
        send_error(d, c, request_id, SBX__ERROR_CODE__WRONG_STATE,
                   "worker %llu was not spawned keep-alive", (unsigned long long)w->id);
        return;
    }
    if (w->state != W_RUNNING || w->channel < 0) {
        send_error(d, c, request_id, SBX__ERROR_CODE__WRONG_STATE, "worker %llu is not running",
                   (unsigned long long)w->id);
        return;
    }
    if (w->calling) {
        send_error(d, c, request_id, SBX__ERROR_CODE__BUSY, "a call to worker %llu is in flight",
                   (unsigned long long)w->id);
        return;
    }
    if (check_call(d, c, request_id, w, call)) return;

    Sbx__ToWorker msg;
    Sbx__Call fwd = *call;
    sbx__to_worker__init(&msg);
    fwd.has_worker_id = 0;
    msg.has_id = 1, msg.id = ++w->call_id;
    msg.body_case = SBX__TO_WORKER__BODY_CALL;
    msg.call = &fwd;
    if (sbx_ipc_send(w->channel, &msg.base, NULL, 0, 1000)) {
        send_error(d, c, request_id, SBX__ERROR_CODE__INTERNAL, "cannot reach worker %llu",
                   (unsigned long long)w->id);
        return;
    }
    w->calling = true;
    w->caller = c;
    w->call_request = request_id;
    w->call_timeout_ms = call->has_timeout_ms ? call->timeout_ms : w->timeout_ms;
    /* Before it is idle the spawn's own timeout is still running. */
    if (w->idle) worker_arm_timeout(d, w, w->call_timeout_ms);
}

void worker_idle(struct daemon *d, struct worker *w)
{
    if (w->idle) return;
    w->idle = true;
    worker_arm_timeout(d, w, w->calling ? w->call_timeout_ms : 0);
}

void worker_call_result(struct daemon *d, struct worker *w, Sbx__FromWorker *msg)
{
    if (!w->calling || msg->id != w->call_id) {
        /* An answer to nothing: the worker is not behaving; end it. */
        worker_kill(d, w, false);
        return;
    }
    w->calling = false;
    worker_arm_timeout(d, w, 0);
    struct conn *to = w->caller;
    w->caller = NULL;
    if (!to) return;
    Sbx__Response r;
    sbx__response__init(&r);
    r.has_id = 1, r.id = w->call_request;
    r.body_case = SBX__RESPONSE__BODY_CALL_RESULT;
    r.call_result = msg->call_result;
    send_response(d, to, &r);
}

void worker_call_abandoned(struct daemon *d, struct worker *w, const char *why)
{
    if (!w->calling) return;
    w->calling = false;
    if (w->caller)
        send_error(d, w->caller, w->call_request, SBX__ERROR_CODE__WRONG_STATE,
                   "worker %llu %s during the call", (unsigned long long)w->id, why);
    w->caller = NULL;
}
