/* The worker's side of reporting: every way a run ends becomes one
 * WorkerReport on the channel, then an exit status that says whether a
 * report was sent (the supervisor trusts a report only with that status). */
#include "zygote/worker_report.h"

#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "zygote/values.h"
#include "zygote/worker.h"

void worker_send(Sbx__FromWorker *msg)
{
    sbx_ipc_send(SBX_WORKER_CHANNEL_FD, &msg->base, NULL, 0, 5000);
}

static uint64_t tv_us(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* What the worker used up to its report: the supervisor delivers the
 * outcome with this, without waiting for the exit. */
static void fill_usage(Sbx__WorkerReport *report, Sbx__Usage *usage)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return;
    sbx__usage__init(usage);
    usage->has_user_us = 1, usage->user_us = tv_us(ru.ru_utime);
    usage->has_sys_us = 1, usage->sys_us = tv_us(ru.ru_stime);
    usage->has_max_rss_kb = 1, usage->max_rss_kb = (uint64_t)ru.ru_maxrss;
    report->usage = usage;
}

void worker_rehearse_report(void)
{
    Sbx__Exited exited;
    sbx__exited__init(&exited);
    exited.has_code = 1, exited.code = 0;
    Sbx__WorkerReport report;
    sbx__worker_report__init(&report);
    report.kind_case = SBX__WORKER_REPORT__KIND_EXITED;
    report.exited = &exited;
    Sbx__Usage usage;
    fill_usage(&report, &usage);
    Sbx__FromWorker msg;
    sbx__from_worker__init(&msg);
    msg.body_case = SBX__FROM_WORKER__BODY_REPORT;
    msg.report = &report;
    uint8_t buf[256];
    if (protobuf_c_message_get_packed_size(&msg.base) <= sizeof buf)
        protobuf_c_message_pack(&msg.base, buf);
}

static _Noreturn void send_report(Sbx__WorkerReport *report)
{
    Sbx__Usage usage;
    fill_usage(report, &usage);
    Sbx__FromWorker msg;
    sbx__from_worker__init(&msg);
    msg.body_case = SBX__FROM_WORKER__BODY_REPORT;
    msg.report = report;
    worker_send(&msg);
    _exit(SBX_WORKER_EXIT_REPORTED);
}

_Noreturn void worker_fail(const char *what, const char *detail)
{
    char text[512];
    snprintf(text, sizeof text, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    Sbx__InternalError ie;
    sbx__internal_error__init(&ie);
    ie.message = text;
    Sbx__WorkerReport report;
    sbx__worker_report__init(&report);
    report.kind_case = SBX__WORKER_REPORT__KIND_INTERNAL_ERROR;
    report.internal_error = &ie;
    Sbx__FromWorker msg;
    sbx__from_worker__init(&msg);
    msg.body_case = SBX__FROM_WORKER__BODY_REPORT;
    msg.report = &report;
    worker_send(&msg);
    _exit(SBX_WORKER_EXIT_FAILED);
}

void worker_results_to_proto(const struct sbx_functype *ft, const union sbx_val *res,
                             Sbx__Value *vals, Sbx__Value **ptrs)
{
    for (uint32_t i = 0; i < ft->nresults; i++) {
        sbx_value_to_proto(ft->results[i], &res[i], &vals[i]);
        ptrs[i] = &vals[i];
    }
}

_Noreturn void worker_report_returned(const struct sbx_functype *ft, const union sbx_val *res)
{
    Sbx__Exited exited;
    sbx__exited__init(&exited);
    exited.has_code = 1;
    exited.code = 0;
    Sbx__Value vals[ft->nresults + 1];
    Sbx__Value *ptrs[ft->nresults + 1];
    worker_results_to_proto(ft, res, vals, ptrs);
    Sbx__WorkerReport report;
    sbx__worker_report__init(&report);
    report.kind_case = SBX__WORKER_REPORT__KIND_EXITED;
    report.exited = &exited;
    report.n_results = ft->nresults;
    report.results = ptrs;
    send_report(&report);
}

void worker_trap_to_proto(const struct sbx_module *m, const struct sbx_trap *t,
                          struct worker_trap_proto *out)
{
    sbx__trap__init(&out->trap);
    out->trap.has_kind = 1;
    out->trap.kind = sbx_trap_kind_to_proto(t->code);
    out->trap.message = (char *)t->message;
    for (uint32_t i = 0; i < t->nframes; i++) {
        Sbx__Frame *f = &out->frames[i];
        sbx__frame__init(f);
        f->has_function_index = 1;
        f->function_index = t->frames[i];
        struct sbx_name n;
        if (sbx_module_func_name(m, t->frames[i], &n)) {
            snprintf(out->names[i], sizeof out->names[i], "%.*s", (int)n.len, n.ptr);
            f->name = out->names[i];
        }
        out->ptrs[i] = f;
    }
    out->trap.n_frames = t->nframes;
    out->trap.frames = out->ptrs;
}

_Noreturn void worker_report_memory_limit(uint64_t limit_bytes)
{
    Sbx__MemoryLimit ml;
    sbx__memory_limit__init(&ml);
    ml.has_limit_bytes = 1, ml.limit_bytes = limit_bytes;
    Sbx__WorkerReport report;
    sbx__worker_report__init(&report);
    report.kind_case = SBX__WORKER_REPORT__KIND_MEMORY_LIMIT;
    report.memory_limit = &ml;
    send_report(&report);
}

void worker_report_violation(int syscall_nr)
{
    Sbx__PolicyViolation pv = SBX__POLICY_VIOLATION__INIT;
    pv.has_syscall_nr = syscall_nr >= 0, pv.syscall_nr = syscall_nr;
    Sbx__WorkerReport report = SBX__WORKER_REPORT__INIT;
    report.kind_case = SBX__WORKER_REPORT__KIND_POLICY_VIOLATION;
    report.policy_violation = &pv;
    Sbx__FromWorker msg = SBX__FROM_WORKER__INIT;
    msg.body_case = SBX__FROM_WORKER__BODY_REPORT;
    msg.report = &report;
    /* protobuf-c packs into a flat buffer without allocating. */
    uint8_t buf[64];
    if (sbx__from_worker__get_packed_size(&msg) > sizeof buf) return;
    struct iovec iov = {.iov_base = buf, .iov_len = sbx__from_worker__pack(&msg, buf)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    sendmsg(SBX_WORKER_CHANNEL_FD, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

_Noreturn void worker_end_trap(const struct sbx_instance *inst, const struct sbx_trap *t)
{
    const struct sbx_memory *mem = sbx_instance_memory((struct sbx_instance *)inst);
    if (t->code != SBX_TRAP_EXIT && sbx_instance_memory_limited(inst) && mem)
        worker_report_memory_limit((uint64_t)mem->max_pages * 65536);
    worker_report_trap(sbx_instance_module(inst), t);
}

_Noreturn void worker_report_trap(const struct sbx_module *m, const struct sbx_trap *t)
{
    Sbx__WorkerReport report;
    sbx__worker_report__init(&report);
    if (t->code == SBX_TRAP_EXIT) { /* proc_exit: an exit, not a trap */
        Sbx__Exited exited;
        sbx__exited__init(&exited);
        exited.has_code = 1;
        exited.code = t->exit_code;
        report.kind_case = SBX__WORKER_REPORT__KIND_EXITED;
        report.exited = &exited;
        send_report(&report);
    }
    if (t->code == SBX_TRAP_OUT_OF_FUEL) {
        Sbx__FuelExhausted fuel;
        sbx__fuel_exhausted__init(&fuel);
        report.kind_case = SBX__WORKER_REPORT__KIND_FUEL_EXHAUSTED;
        report.fuel_exhausted = &fuel;
        send_report(&report);
    }
    struct worker_trap_proto tp;
    worker_trap_to_proto(m, t, &tp);
    report.kind_case = SBX__WORKER_REPORT__KIND_TRAPPED;
    report.trapped = &tp.trap;
    send_report(&report);
}
