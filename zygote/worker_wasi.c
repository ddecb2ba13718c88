/* WASI for a worker: the guest's args, environment and stdio come from the
 * spawn, its preopens from the policy; every path call goes to the
 * supervisor's broker over the worker's channel (wasi/path_broker.h), since
 * the confined worker has no path system call. Only modules that import
 * wasi_snapshot_preview1 get it. */
#include "wasi/path_broker.h"
#include "wasi/wasi.h"
#include "zygote/worker_report.h"
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
    const Sbx__Policy *policy = req->policy;
    size_t n = policy ? policy->n_preopens : 0;
    struct sbx_wasi_preopen pre[n + 1];
    for (size_t i = 0; i < n; i++)
        pre[i] = (struct sbx_wasi_preopen){.host_fd = w->preopen_fds[i],
                                           .guest_path = policy->preopens[i]->guest_path,
                                           .read_only = policy->preopens[i]->has_read_only &&
                                                        policy->preopens[i]->read_only};
    cfg.preopens = pre;
    cfg.npreopens = n;
    cfg.socket_fds = w->socket_fds;
    cfg.nsockets = req->n_socket_fd_index;
    /* The broker's context lives as long as the worker. */
    static struct sbx_wasi_path_broker broker;
    broker = (struct sbx_wasi_path_broker){.channel = SBX_WORKER_CHANNEL_FD, .next_id = 1};
    cfg.ops = &sbx_wasi_path_broker_ops;
    cfg.ops_ctx = &broker;
    struct sbx_wasi *wasi;
    if (sbx_wasi_new(&cfg, &wasi, err)) return -1;
    if (sbx_wasi_define(wasi, linker)) {
        sbx_wasi_free(wasi);
        return sbx_fail(err, 0, "out of memory");
    }
    *out = wasi;
    return 0;
}
