/* A keep-alive worker: once its start export has returned it serves Call
 * requests from the supervisor on its channel, one at a time, until told to
 * stop or the channel closes. A trap ends the call, not the instance (wasm
 * semantics, and what embedders of other runtimes expect); proc_exit and
 * any fatal condition end the instance, and the final report follows. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "zygote/values.h"
#include "zygote/worker.h"
#include "zygote/worker_report.h"

/* The supervisor checked the export and the argument types against the
 * module before forwarding the call; a mismatch here means it is broken. */
static void serve_call(struct sbx_instance *inst, uint64_t id, const Sbx__Call *call,
                       int64_t spawn_fuel)
{
    const struct sbx_module *m = sbx_instance_module(inst);
    const struct sbx_export *e = sbx_module_export(m, call->export_name);
    if (!e || e->kind != SBX_EXTERN_FUNC)
        worker_fail("call: no exported function", call->export_name);
    const struct sbx_functype *ft = sbx_module_func_type(m, e->index);
    if (call->n_args != ft->nparams)
        worker_fail("call: wrong number of arguments for", call->export_name);
    union sbx_val args[ft->nparams + 1];
    union sbx_val results[ft->nresults + 1];
    for (uint32_t i = 0; i < ft->nparams; i++)
        if (sbx_value_from_proto(call->args[i], ft->params[i], &args[i]))
            worker_fail("call: argument of the wrong type for", call->export_name);
    /* Each call starts with its own fuel budget: the call's, else the spawn's. */
    if (call->has_fuel && call->fuel > 0)
        sbx_instance_set_fuel(inst, call->fuel > INT64_MAX ? INT64_MAX : (int64_t)call->fuel);
    else if (spawn_fuel > 0)
        sbx_instance_set_fuel(inst, spawn_fuel);

    struct sbx_trap trap;
    memset(&trap, 0, sizeof trap);
    Sbx__CallResult result;
    sbx__call_result__init(&result);
    Sbx__Returned returned;
    Sbx__Value vals[ft->nresults + 1];
    Sbx__Value *ptrs[ft->nresults + 1];
    struct worker_trap_proto tp;
    if (sbx_instance_call(inst, e->index, args, results, &trap)) {
        if (trap.code == SBX_TRAP_EXIT) worker_report_trap(m, &trap); /* proc_exit: ends it */
        worker_trap_to_proto(m, &trap, &tp);
        result.result_case = SBX__CALL_RESULT__RESULT_TRAP;
        result.trap = &tp.trap;
    } else {
        sbx__returned__init(&returned);
        worker_results_to_proto(ft, results, vals, ptrs);
        returned.n_values = ft->nresults;
        returned.values = ptrs;
        result.result_case = SBX__CALL_RESULT__RESULT_RETURNED;
        result.returned = &returned;
    }
    Sbx__FromWorker msg;
    sbx__from_worker__init(&msg);
    msg.has_id = 1, msg.id = id;
    msg.body_case = SBX__FROM_WORKER__BODY_CALL_RESULT;
    msg.call_result = &result;
    worker_send(&msg);
}

_Noreturn void sbx_worker_serve_calls(struct sbx_instance *inst, int64_t spawn_fuel)
{
    Sbx__FromWorker idle;
    Sbx__Ack ack;
    sbx__from_worker__init(&idle);
    sbx__ack__init(&ack);
    idle.body_case = SBX__FROM_WORKER__BODY_IDLE;
    idle.idle = &ack;
    worker_send(&idle);
    for (;;) {
        Sbx__ToWorker *msg = NULL;
        int fds[1];
        size_t nfds = 0;
        int rc = sbx_ipc_recv(SBX_WORKER_CHANNEL_FD, &sbx__to_worker__descriptor,
                              (ProtobufCMessage **)&msg, fds, &nfds, 0, -1);
        if (rc == -EPIPE || rc == -ECONNRESET) _exit(SBX_WORKER_EXIT_FAILED); /* no supervisor */
        if (rc) worker_fail("unreadable message from the supervisor", strerror(-rc));
        if (msg->body_case == SBX__TO_WORKER__BODY_STOP) {
            static const struct sbx_functype nothing;
            worker_report_returned(&nothing, NULL);
        }
        if (msg->body_case != SBX__TO_WORKER__BODY_CALL || !msg->has_id || !msg->id)
            worker_fail("unexpected message from the supervisor", NULL);
        serve_call(inst, msg->id, msg->call, spawn_fuel);
        sbx_ipc_free(&msg->base);
    }
}
