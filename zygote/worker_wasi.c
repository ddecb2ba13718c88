/* WASI for a worker: the guest's args, environment and stdio come from the
 * spawn; path calls go to the supervisor's broker over the worker's channel
 * (wasi/path_broker.h) once preopens exist. Only modules that import
 * wasi_snapshot_preview1 get it. */
#include "wasi/wasi.h"
#include "zygote/worker.h"

int sbx_worker_wasi(const struct sbx_worker_spec *w, struct sbx_linker *linker,
                    struct sbx_wasi **out, struct sbx_error *err)
{
    *out = NULL;
    if (!sbx_wasi_imported_by(w->module)) return 0;
    const Sbx__ForkWorker *req = w->req;
    struct sbx_wasi_config cfg;
    sbx_wasi_config_default(&cfg);
    cfg.argv = (const char *const *)req->argv;
    cfg.argc = req->n_argv;
    cfg.env = (const char *const *)req->env;
    cfg.envc = req->n_env;
    /* The streams the spawn gave are fds 0-2 now (install_fds). */
    cfg.stdin_fd = w->stdio[0] >= 0 ? 0 : -1;
    cfg.stdout_fd = w->stdio[1] >= 0 ? 1 : -1;
    cfg.stderr_fd = w->stdio[2] >= 0 ? 2 : -1;
    struct sbx_wasi *wasi;
    if (sbx_wasi_new(&cfg, &wasi, err)) return -1;
    if (sbx_wasi_define(wasi, linker)) {
        sbx_wasi_free(wasi);
        return sbx_fail(err, 0, "out of memory");
    }
    *out = wasi;
    return 0;
}
