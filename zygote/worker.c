/* A worker: the child the zygote forks for one spawn. It takes the stdio and
 * report channel it was given, instantiates its module, gives up everything
 * else, then runs the requested export and reports how that ended. The
 * order of the set-up steps is the point of this file: each is one line of
 * sbx_worker_main. */
#include "zygote/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "zygote/values.h"

/* The worker's fds: 0-2 stdio, 3 the report channel, nothing else. */
#define CHANNEL_FD 3

/* Moves the given fds to 0..3 without clobbering one another: first above
 * everything in use, then into place. A missing stdio stream gets no fd. */
static int install_fds(const int stdio[3], int channel)
{
    int high[4];
    const int want[4] = {stdio[0], stdio[1], stdio[2], channel};
    for (int i = 0; i < 4; i++) {
        high[i] = -1;
        if (want[i] < 0) continue;
        high[i] = fcntl(want[i], F_DUPFD_CLOEXEC, 64);
        if (high[i] < 0) return -errno;
    }
    for (int i = 0; i < 4; i++) {
        if (high[i] < 0) {
            close(i);
            continue;
        }
        if (dup2(high[i], i) < 0) return -errno; /* dup2 clears close-on-exec */
    }
    return 0;
}

/* Every fd but 0-3 goes: the zygote's control channel, other workers'
 * fds, module memfds (their mappings stay valid). */
static int close_other_fds(void)
{
    if (syscall(SYS_close_range, CHANNEL_FD + 1, ~0u, 0) == 0) return 0;
    return -errno;
}

/* Dispositions and the signal mask come back to their defaults; the trap
 * handler is installed again by the first call into wasm. */
static void reset_signals(void)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void send_report(Sbx__WorkerReport *report)
{
    Sbx__FromWorker msg;
    sbx__from_worker__init(&msg);
    msg.body_case = SBX__FROM_WORKER__BODY_REPORT;
    msg.report = report;
    sbx_ipc_send(CHANNEL_FD, &msg.base, NULL, 0, 5000);
}

static _Noreturn void fail(const char *what, const char *detail)
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
    send_report(&report);
    _exit(SBX_WORKER_EXIT_FAILED);
}

static int find_export(const struct sbx_module *m, const char *name, uint32_t *func)
{
    const struct sbx_export *e = sbx_module_export(m, name);
    if (!e || e->kind != SBX_EXTERN_FUNC) return -1;
    *func = e->index;
    return 0;
}

/* Reports a returned call with its results. */
static _Noreturn void report_returned(const struct sbx_functype *ft, const union sbx_val *res)
{
    Sbx__Exited exited;
    sbx__exited__init(&exited);
    exited.has_code = 1;
    exited.code = 0;
    Sbx__Value vals[ft->nresults + 1];
    Sbx__Value *ptrs[ft->nresults + 1];
    for (uint32_t i = 0; i < ft->nresults; i++) {
        sbx_value_to_proto(ft->results[i], &res[i], &vals[i]);
        ptrs[i] = &vals[i];
    }
    Sbx__WorkerReport report;
    sbx__worker_report__init(&report);
    report.kind_case = SBX__WORKER_REPORT__KIND_EXITED;
    report.exited = &exited;
    report.n_results = ft->nresults;
    report.results = ptrs;
    send_report(&report);
    _exit(SBX_WORKER_EXIT_REPORTED);
}

static _Noreturn void report_trap(const struct sbx_module *m, const struct sbx_trap *t)
{
    Sbx__WorkerReport report;
    sbx__worker_report__init(&report);
    if (t->code == SBX_TRAP_EXIT) {
        Sbx__Exited exited;
        sbx__exited__init(&exited);
        exited.has_code = 1;
        exited.code = t->exit_code;
        report.kind_case = SBX__WORKER_REPORT__KIND_EXITED;
        report.exited = &exited;
        send_report(&report);
        _exit(SBX_WORKER_EXIT_REPORTED);
    }
    Sbx__Trap trap;
    sbx__trap__init(&trap);
    trap.has_kind = 1;
    trap.kind = sbx_trap_kind_to_proto(t->code);
    trap.message = (char *)t->message;
    Sbx__Frame frames[SBX_TRAP_MAX_FRAMES];
    Sbx__Frame *ptrs[SBX_TRAP_MAX_FRAMES];
    char names[SBX_TRAP_MAX_FRAMES][128];
    for (uint32_t i = 0; i < t->nframes; i++) {
        sbx__frame__init(&frames[i]);
        frames[i].has_function_index = 1;
        frames[i].function_index = t->frames[i];
        struct sbx_name n;
        if (sbx_module_func_name(m, t->frames[i], &n)) {
            snprintf(names[i], sizeof names[i], "%.*s", (int)n.len, n.ptr);
            frames[i].name = names[i];
        }
        ptrs[i] = &frames[i];
    }
    trap.n_frames = t->nframes;
    trap.frames = ptrs;
    Sbx__FuelExhausted fuel;
    if (t->code == SBX_TRAP_OUT_OF_FUEL) {
        sbx__fuel_exhausted__init(&fuel);
        report.kind_case = SBX__WORKER_REPORT__KIND_FUEL_EXHAUSTED;
        report.fuel_exhausted = &fuel;
    } else {
        report.kind_case = SBX__WORKER_REPORT__KIND_TRAPPED;
        report.trapped = &trap;
    }
    send_report(&report);
    _exit(SBX_WORKER_EXIT_REPORTED);
}

_Noreturn void sbx_worker_main(const struct sbx_worker_spec *w)
{
    const Sbx__ForkWorker *req = w->req;

    /* 1. What the worker keeps: its stdio and its report channel. */
    if (install_fds(w->stdio, w->channel)) _exit(SBX_WORKER_EXIT_FAILED);
    /* 2. Die with the zygote; a zygote that died already means no one to
     *    report to. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != w->zygote_pid)
        _exit(SBX_WORKER_EXIT_FAILED);
    reset_signals();

    /* 3. The instance: code is mapped already (inherited from the zygote);
     *    this maps the memory image into a slot. Done before the fds close,
     *    since the image is mapped from its memfd. */
    struct sbx_linker *linker = sbx_linker_new();
    if (!linker) fail("out of memory", NULL);
    struct sbx_error err;
    struct sbx_trap trap;
    memset(&trap, 0, sizeof trap);
    struct sbx_instance *inst = sbx_instantiate(w->compiled, linker, w->pool, &err, &trap);
    if (!inst && trap.code != SBX_TRAP_NONE) report_trap(w->module, &trap);
    if (!inst) fail("cannot instantiate", err.msg);

    /* 4. Give up every other fd. */
    if (close_other_fds()) fail("cannot close inherited fds", strerror(errno));

    /* ---- CONFINEMENT SEAM ---------------------------------------------
     * The confinement issue puts its steps here, in this order, before any
     * untrusted code runs: PR_SET_DUMPABLE 0, rlimits, drop capabilities,
     * PR_SET_NO_NEW_PRIVS, namespaces, then the seccomp filter last.
     * (The start function ran inside sbx_instantiate above; that issue must
     * split instantiation from the start call so it runs after this seam.)
     * ------------------------------------------------------------------ */

    /* 5. Run the export. */
    const char *name = req->export_name ? req->export_name : "_start";
    uint32_t func;
    if (find_export(w->module, name, &func)) fail("no exported function", name);
    const struct sbx_functype *ft = sbx_module_func_type(w->module, func);
    if (req->n_args != ft->nparams) fail("wrong number of arguments for", name);
    union sbx_val args[ft->nparams + 1];
    union sbx_val results[ft->nresults + 1];
    for (uint32_t i = 0; i < ft->nparams; i++)
        if (sbx_value_from_proto(req->args[i], ft->params[i], &args[i]))
            fail("argument of the wrong type for", name);
    if (req->limits && req->limits->has_fuel && req->limits->fuel > 0)
        sbx_instance_set_fuel(
            inst, (int64_t)(req->limits->fuel > INT64_MAX ? INT64_MAX : req->limits->fuel));

    Sbx__FromWorker running;
    sbx__from_worker__init(&running);
    Sbx__Ack ack;
    sbx__ack__init(&ack);
    running.body_case = SBX__FROM_WORKER__BODY_RUNNING;
    running.running = &ack;
    sbx_ipc_send(CHANNEL_FD, &running.base, NULL, 0, 5000);

    if (sbx_instance_call(inst, func, args, results, &trap)) report_trap(w->module, &trap);
    report_returned(ft, results);
}
