/* The worker side of a spawn (worker.c). Internal to zygote/. */
#ifndef SBX_ZYGOTE_WORKER_H
#define SBX_ZYGOTE_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "jit/runtime.h"
#include "policy/confine.h"
#include "proto/sbx.pb-c.h"

/* Exit statuses of a worker. Only "reported" means the channel carries a
 * WorkerReport; the supervisor trusts a report only with that status. */
enum {
    SBX_WORKER_EXIT_REPORTED = 0,
    SBX_WORKER_EXIT_FAILED = 70, /* could not set up or report */
};

/* Did a worker end by a policy violation? Its exit status says so (the
 * violation hook's exit, or SIGSYS where no hook ran); its report, if
 * any, names the system call. */
static inline bool sbx_worker_violated(int wait_status)
{
    return (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == SBX_CONFINE_EXIT_VIOLATION) ||
           (WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGSYS);
}

/* The system call a violation report names, or -1 without one. */
static inline int sbx_worker_violation_nr(const Sbx__WorkerReport *r)
{
    return r && r->kind_case == SBX__WORKER_REPORT__KIND_POLICY_VIOLATION &&
                   r->policy_violation->has_syscall_nr
               ? r->policy_violation->syscall_nr
               : -1;
}

/* Does a report decide the outcome on its own? A normal end does (exit,
 * trap, fuel, memory limit): the clean exit that follows adds nothing, so
 * the supervisor need not wait for the worker's teardown. A violation, a
 * failure or an unexpected kind waits for the exit status. */
static inline bool sbx_worker_report_is_final(const Sbx__WorkerReport *r)
{
    switch (r->kind_case) {
    case SBX__WORKER_REPORT__KIND_EXITED:
    case SBX__WORKER_REPORT__KIND_TRAPPED:
    case SBX__WORKER_REPORT__KIND_FUEL_EXHAUSTED:
    case SBX__WORKER_REPORT__KIND_MEMORY_LIMIT: return true;
    default: return false;
    }
}

struct sbx_worker_spec {
    const struct sbx_module *module;
    const struct sbx_compiled *compiled;
    struct sbx_pool *pool;
    const Sbx__ForkWorker *req;
    int stdio[3]; /* -1 for a stream not given */
    int channel;  /* report channel to the supervisor */
    pid_t zygote_pid;
    const struct sbx_confine *confine; /* applied before any wasm runs */
    const int *preopen_fds;            /* a directory fd per req->policy->preopens */
    const int *socket_fds;             /* req->n_socket_fd_index sockets for WASI */
    bool warm; /* made ahead of demand: waits for ToWorker.start once confined */
    /* With warm: a template (worker_template.c), confined with
     * confine's template filter (sbx_confine_prepare_template done). */
    bool warm_template;
};

/* Runs in the child right after fork. Never returns. */
_Noreturn void sbx_worker_main(const struct sbx_worker_spec *w);

struct sbx_wasi;
/* If the module imports wasi_snapshot_preview1: WASI state for the spawn,
 * defined in `linker` (worker_wasi.c); *out stays NULL otherwise. 0, or -1
 * with err set. */
int sbx_worker_wasi(const struct sbx_worker_spec *w, struct sbx_linker *linker,
                    struct sbx_wasi **out, struct sbx_error *err);

/* A warm worker, confined: waits for ToWorker.start and gives its args,
 * env, stdio and sockets to `wasi` (NULL without WASI). Returns the start
 * message, whose export, args and keep_alive the worker then runs; exits
 * quietly if the supervisor closes the channel instead (worker_start.c). */
const Sbx__ForkWorker *sbx_worker_await_start(struct sbx_wasi *wasi);

/* Templates (worker_template.c). worker_template_prepare, before the
 * template confines itself: what its forks need to know (0, or -errno).
 * worker_template_serve, once confined: forks a warm worker for each
 * ToWorker.fork_warm; returns only in such a worker, set up and sealed
 * (sbx_confine_seal with the template's `conf`), which then waits for its spawn; the template
 * itself exits when its channel closes. */
int worker_template_prepare(void);
void worker_template_serve(pid_t zygote, const struct sbx_confine *conf);

/* A keep-alive worker whose start export returned: says it is idle, then
 * serves ToWorker calls until stopped (worker_calls.c). `spawn_fuel` > 0 is
 * the fuel each call starts with unless the call sets its own. */
_Noreturn void sbx_worker_serve_calls(struct sbx_instance *inst, int64_t spawn_fuel);

#endif
