/* A worker: the child the zygote forks for one spawn. It takes the stdio and
 * report channel it was given, instantiates its module, gives up everything
 * else, then runs the requested export and reports how that ended. The
 * order of the set-up steps is the point of this file: each is one line of
 * sbx_worker_main. */
#include "zygote/worker.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "memimg/config.h"
#include "zygote/values.h"
#include "wasi/wasi.h"
#include "zygote/worker_report.h"
#ifdef SBX_ESCAPE_HARNESS
#include "zygote/escape_harness.h"
#endif

#define CHANNEL_FD SBX_WORKER_CHANNEL_FD

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

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Every fd but 0-3, those WASI holds and the namespaces to join goes: the zygote's control
 * channel, other workers' fds, module memfds (their mappings stay valid). */
static int close_other_fds(const struct sbx_wasi *wasi, const struct sbx_confine *conf)
{
    int keep[256];
    size_t n = 0;
    for (int fd = 0; fd <= CHANNEL_FD; fd++)
        keep[n++] = fd;
    size_t room = sizeof keep / sizeof keep[0] - n;
    n += sbx_confine_fds(conf, keep + n, room);
    if (wasi) {
        room = sizeof keep / sizeof keep[0] - n;
        size_t got = sbx_wasi_host_fds(wasi, keep + n, room);
        if (got == room) return -EMFILE;
        n += got;
    }
    qsort(keep, n, sizeof keep[0], cmp_int);
    /* Close each gap between kept fds, then everything above the last. */
    for (size_t i = 0; i + 1 < n; i++)
        if (keep[i + 1] > keep[i] + 1 &&
            syscall(SYS_close_range, keep[i] + 1, keep[i + 1] - 1, 0) != 0)
            return -errno;
    if (syscall(SYS_close_range, keep[n - 1] + 1, ~0u, 0) != 0) return -errno;
    return 0;
}

/* The zygote blocks SIGCHLD for its signalfd; the worker blocks nothing.
 * Dispositions need no reset: the zygote set them to the defaults plus the
 * trap handlers (zygote_main.c), and the worker inherits exactly that. */
static void unblock_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Bytes of memory 0 at instantiation (0 without a defined memory). */
static uint64_t initial_memory_bytes(const struct sbx_module *m)
{
    if (m->nmemories == 0 || m->nmemory_imports > 0) return 0;
    return m->memories[0].min * SBX_WASM_PAGE_SIZE;
}

static int find_export(const struct sbx_module *m, const char *name, uint32_t *func)
{
    const struct sbx_export *e = sbx_module_export(m, name);
    if (!e || e->kind != SBX_EXTERN_FUNC) return -1;
    *func = e->index;
    return 0;
}

_Noreturn void sbx_worker_main(const struct sbx_worker_spec *w)
{
    const Sbx__ForkWorker *req = w->req;

    /* 1. What the worker keeps: its stdio and its report channel. */
    if (install_fds(w->stdio, w->channel)) _exit(SBX_WORKER_EXIT_FAILED);
    /* 2. Die with the zygote; a zygote that died already means no one to
     *    report to. */
    prctl(PR_SET_NAME, w->warm_template ? "sbx-template" : "sbx-worker"); /* ps, top, perf */
    pid_t parent = getppid(); /* 0 in a pid namespace of its own */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) || (parent != w->zygote_pid && parent != 0))
        _exit(SBX_WORKER_EXIT_FAILED);
    unblock_signals();

    /* 3. WASI (for modules that import it), then the instance: code is
     *    mapped already (inherited from the zygote); this maps the memory
     *    image into a slot, before the fds close since the image is mapped
     *    from its memfd. The start function waits until the worker is confined. */
    struct sbx_linker *linker = sbx_linker_new();
    if (!linker) worker_fail("out of memory", NULL);
    struct sbx_error err;
    struct sbx_trap trap;
    memset(&trap, 0, sizeof trap);
    struct sbx_wasi *wasi;
    if (sbx_worker_wasi(w, linker, &wasi, &err)) worker_fail("cannot set up WASI", err.msg);
    const Sbx__ResourceLimits *lim = req->limits;
    struct sbx_instance_options iopts = {
        .max_memory_bytes = lim && lim->has_memory_bytes ? lim->memory_bytes : 0,
        .stack_size = lim && lim->has_stack_bytes ? (size_t)lim->stack_bytes : 0,
        .defer_start = true,
    };
    if (iopts.max_memory_bytes && initial_memory_bytes(w->module) > iopts.max_memory_bytes)
        worker_report_memory_limit(iopts.max_memory_bytes);
    struct sbx_instance *inst =
        sbx_instantiate_with(w->compiled, linker, w->pool, &iopts, &err, &trap);
    if (!inst && trap.code != SBX_TRAP_NONE) worker_report_trap(w->module, &trap);
    if (!inst) worker_fail("cannot instantiate", err.msg);

    /* 4. Give up every other fd. */
    if (close_other_fds(wasi, w->confine))
        worker_fail("cannot close inherited fds", strerror(errno));

    /* 5. Confinement, last before any untrusted code runs (policy/
     *    confine.h: dumpable, rlimits, namespaces, identity and
     *    capabilities, no_new_privs, seccomp). A forbidden system call from here on is
     *    reported by the SIGSYS hook, then the worker exits. */
    if (sbx_confine_set_violation_hook(worker_report_violation))
        worker_fail("cannot install the violation handler", strerror(errno));
    if (w->warm_template && worker_template_prepare())
        worker_fail("cannot prepare the template", strerror(errno));
    struct sbx_confine_error cerr;
    if (w->warm_template ? sbx_confine_apply_template(w->confine, &cerr)
                         : sbx_confine_apply(w->confine, &cerr)) {
        char why[640];
        worker_fail("cannot confine the worker", sbx_confine_error_text(&cerr, why, sizeof why));
    }
    int ns_fds[8];
    for (size_t i = 0, n = sbx_confine_fds(w->confine, ns_fds, 8); i < n; i++)
        close(ns_fds[i]); /* joined: no longer needed */

    /* 6. A template forks warm workers until dismissed; this returns in
     *    each of them, sealed. A warm worker was made ahead of demand: the
     *    spawn arrives now, with its args, env, stdio, export and
     *    arguments. */
    if (w->warm_template) worker_template_serve(w->zygote_pid, w->confine);
    const Sbx__ForkWorker *run_req = w->warm ? sbx_worker_await_start(wasi) : req;
#ifdef SBX_ESCAPE_HARNESS
    sbx_escape_attempt(); /* tests only: what a module with native code would try */
#endif

    /* 7. The module's start function: its first untrusted code. */
    if (sbx_instance_start(inst, &trap)) worker_end_trap(inst, &trap);

    /* 8. Run the export. A keep-alive spawn with no export to run (a
     *    reactor: the supervisor sends an empty name) runs `_initialize` if
     *    the module has one. */
    const char *name = run_req->export_name ? run_req->export_name : "_start";
    bool keep_alive = run_req->has_keep_alive && run_req->keep_alive;
    uint32_t func = 0;
    bool run = true;
    if (keep_alive && !*name) {
        name = "_initialize";
        run = !find_export(w->module, name, &func);
    } else if (find_export(w->module, name, &func)) {
        worker_fail("no exported function", name);
    }
    static const struct sbx_functype nothing;
    const struct sbx_functype *ft = run ? sbx_module_func_type(w->module, func) : &nothing;
    if (run_req->n_args != ft->nparams) worker_fail("wrong number of arguments for", name);
    union sbx_val args[ft->nparams + 1];
    union sbx_val results[ft->nresults + 1];
    for (uint32_t i = 0; i < ft->nparams; i++)
        if (sbx_value_from_proto(run_req->args[i], ft->params[i], &args[i]))
            worker_fail("argument of the wrong type for", name);
    int64_t fuel = 0;
    if (req->limits && req->limits->has_fuel && req->limits->fuel > 0)
        fuel = req->limits->fuel > INT64_MAX ? INT64_MAX : (int64_t)req->limits->fuel;
    if (fuel) sbx_instance_set_fuel(inst, fuel);

    if (!run) sbx_worker_serve_calls(inst, fuel);

    if (sbx_instance_call(inst, func, args, results, &trap)) worker_end_trap(inst, &trap);
    if (keep_alive) sbx_worker_serve_calls(inst, fuel);
    worker_report_returned(ft, results);
}
