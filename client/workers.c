/* client/workers.c: spawning workers (stdio fds by SCM_RIGHTS), waiting for
 * their outcomes (pushed ones kept by the client, others asked for with a
 * Wait request), killing them, and calling exports of kept-alive ones. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "ipc/limits.h"
#include "ipc/msg.h"

void sbx_spawn_options_init(struct sbx_spawn_options *opts)
{
    *opts = (struct sbx_spawn_options)SBX_SPAWN_OPTIONS_INIT;
}

/* Values from the caller, checked and laid out for the wire. *vals and
 * *ptrs are to be freed by the caller (both NULL when n is 0). */
static int pack_values(const struct sbx_value *in, size_t n, Sbx__Value **vals, Sbx__Value ***ptrs,
                       const char *what, struct sbx_client_error *err)
{
    *vals = NULL;
    *ptrs = NULL;
    if (n == 0) return 0;
    if (!in) return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "%s: no args", what);
    if (n > SBX_IPC_MAX_VALUES)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -E2BIG, "%s: %zu args; at most %u", what,
                         n, SBX_IPC_MAX_VALUES);
    *vals = calloc(n, sizeof(**vals));
    *ptrs = calloc(n, sizeof(**ptrs));
    if (!*vals || !*ptrs)
        return sbxc_fail(err, SBX_ERROR_SYSTEM, -ENOMEM, "%s: out of memory", what);
    if (sbxc_values_to_proto(in, n, *vals, *ptrs))
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "%s: an arg has no valid type",
                         what);
    return 0;
}

static int check_export_name(const char *name, const char *what, struct sbx_client_error *err)
{
    if (name && (!*name || strlen(name) > SBX_IPC_MAX_EXPORT_NAME))
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                         "%s: the export name must be 1 to %u bytes", what,
                         SBX_IPC_MAX_EXPORT_NAME);
    return 0;
}

/* argv and env: counts and total bytes, as the server counts them. */
static int check_strings(const struct sbx_spawn_options *o, struct sbx_client_error *err)
{
    if (o->argc > SBX_IPC_MAX_ARGV || o->nenv > SBX_IPC_MAX_ENV)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -E2BIG,
                         "spawn: at most %u argv and %u env entries", SBX_IPC_MAX_ARGV,
                         SBX_IPC_MAX_ENV);
    if ((o->argc && !o->argv) || (o->nenv && !o->env))
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "spawn: argv or env missing");
    size_t bytes = 0;
    for (size_t i = 0; i < o->argc + o->nenv; i++) {
        const char *s = i < o->argc ? o->argv[i] : o->env[i - o->argc];
        if (!s)
            return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                             "spawn: a NULL argv or env entry");
        bytes += strnlen(s, SBX_IPC_MAX_ARG_BYTES + 1) + 1;
        if (bytes > SBX_IPC_MAX_ARG_BYTES)
            return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -E2BIG,
                             "spawn: argv and env over %u bytes", SBX_IPC_MAX_ARG_BYTES);
    }
    return 0;
}

/* Sends a Spawn built from `o` (reply_with_outcome: answered by the
 * Outcome) and returns the server's answer in *resp, within `timeout_ms`
 * (-1: no limit). */
static int spawn_request(struct sbx_client *c, const char *module_id,
                         const struct sbx_spawn_options *o, bool reply_with_outcome, int timeout_ms,
                         Sbx__Response **resp, struct sbx_client_error *err)
{
    int rc;
    *resp = NULL;
    if (!sbxc_module_id_ok(module_id))
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                         "spawn: a module id is 64 lowercase hex digits");
    if ((rc = check_export_name(o->export_name, "spawn", err))) return rc;
    if ((rc = check_strings(o, err))) return rc;

    Sbx__Request req;
    Sbx__Spawn sp;
    Sbx__ResourceLimits lim;
    Sbx__StdioFd stdio[3], *stdio_ptrs[3];
    int fds[3 + SBX_IPC_MAX_SOCKETS];
    uint32_t socket_index[SBX_IPC_MAX_SOCKETS];
    sbx__request__init(&req);
    sbx__spawn__init(&sp);
    sbx__resource_limits__init(&lim);
    req.body_case = SBX__REQUEST__BODY_SPAWN;
    req.spawn = &sp;
    sp.module_id = (char *)module_id;
    sp.argv = (char **)o->argv;
    sp.n_argv = o->argc;
    sp.env = (char **)o->env;
    sp.n_env = o->nenv;
    if (o->export_name) sp.export_name = (char *)o->export_name;
    sp.has_keep_alive = o->keep_alive;
    sp.keep_alive = o->keep_alive;
    sp.has_detach = o->detach;
    sp.detach = o->detach;
    sp.has_reply_with_outcome = reply_with_outcome;
    sp.reply_with_outcome = reply_with_outcome;

    /* Each stream given travels as an fd; the message names it by index. */
    const int want[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
    size_t nfds = 0;
    for (int s = 0; s < 3; s++) {
        if (want[s] < 0) continue;
        sbx__stdio_fd__init(&stdio[nfds]);
        stdio[nfds].has_stream = 1;
        stdio[nfds].stream = (Sbx__StdioStream)(SBX__STDIO_STREAM__STDIO_STDIN + s);
        stdio[nfds].has_fd_index = 1;
        stdio[nfds].fd_index = (uint32_t)nfds;
        stdio_ptrs[nfds] = &stdio[nfds];
        fds[nfds++] = want[s];
    }
    size_t nstdio = nfds; /* the sockets' fds come after the streams' */
    if (o->nsockets > SBX_IPC_MAX_SOCKETS)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -E2BIG, "spawn: at most %u sockets",
                         SBX_IPC_MAX_SOCKETS);
    for (size_t i = 0; i < o->nsockets; i++) {
        if (o->socket_fds[i] < 0)
            return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EBADF, "spawn: socket_fds[%zu]", i);
        socket_index[i] = (uint32_t)nfds;
        fds[nfds++] = o->socket_fds[i];
    }
    sp.socket_fd_index = o->nsockets ? socket_index : NULL;
    sp.n_socket_fd_index = o->nsockets;
    if (nfds > c->info.max_fds_per_message)
        return sbxc_fail(err, SBX_ERROR_LIMIT, -E2BIG, "spawn: the server takes at most %u fds",
                         c->info.max_fds_per_message);
    sp.stdio = nstdio ? stdio_ptrs : NULL;
    sp.n_stdio = nstdio;

    lim.has_memory_bytes = o->memory_bytes != 0;
    lim.memory_bytes = o->memory_bytes;
    lim.has_fuel = o->fuel != 0;
    lim.fuel = o->fuel;
    lim.has_stack_bytes = o->stack_bytes != 0;
    lim.stack_bytes = o->stack_bytes;
    lim.has_timeout_ms = o->timeout_ms != 0;
    lim.timeout_ms = o->timeout_ms;
    bool any_limit = o->memory_bytes || o->fuel || o->stack_bytes || o->timeout_ms;
    if (any_limit) sp.limits = &lim;

    /* Preopens ask the server's policy for less (a request policy). */
    Sbx__Policy pol;
    Sbx__Preopen pre[SBX_IPC_MAX_PREOPENS], *pre_ptrs[SBX_IPC_MAX_PREOPENS];
    if (o->npreopens > SBX_IPC_MAX_PREOPENS)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -E2BIG, "spawn: at most %u preopens",
                         SBX_IPC_MAX_PREOPENS);
    if (o->npreopens) {
        sbx__policy__init(&pol);
        for (size_t i = 0; i < o->npreopens; i++) {
            if (!o->preopens[i].host_path || !o->preopens[i].guest_path)
                return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                                 "spawn: preopens[%zu]: a host and a guest path", i);
            sbx__preopen__init(&pre[i]);
            pre[i].host_path = (char *)o->preopens[i].host_path;
            pre[i].guest_path = (char *)o->preopens[i].guest_path;
            pre[i].has_read_only = 1, pre[i].read_only = o->preopens[i].read_only;
            pre_ptrs[i] = &pre[i];
        }
        pol.preopens = pre_ptrs;
        pol.n_preopens = o->npreopens;
        sp.policy = &pol;
    }

    Sbx__Value *vals, **ptrs;
    rc = pack_values(o->args, o->nargs, &vals, &ptrs, "spawn", err);
    if (rc) goto out;
    sp.args = ptrs;
    sp.n_args = o->nargs;

    rc = sbxc_roundtrip(c, &req, fds, nfds,
                        reply_with_outcome ? SBX__RESPONSE__BODY_OUTCOME
                                           : SBX__RESPONSE__BODY_SPAWNED,
                        timeout_ms, reply_with_outcome ? "run" : "spawn", resp, err);
out:
    free(vals);
    free(ptrs);
    return rc;
}

/* A spawn request's answer: 0 if it is `want` (Spawned, or the Outcome of
 * a one-message run), else the server's error, or the other answer, which
 * breaks the protocol and the connection. */
static int expect_answer(struct sbx_client *c, const Sbx__Response *r, Sbx__Response__BodyCase want,
                         const char *what, struct sbx_client_error *err)
{
    if (r->body_case == want) return 0;
    if (r->body_case == SBX__RESPONSE__BODY_ERROR) return sbxc_server_error(r->error, what, err);
    return sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO, "%s: the server answered with %s", what,
                       want == SBX__RESPONSE__BODY_SPAWNED ? "an outcome" : "Spawned");
}

int sbx_spawn(struct sbx_client *c, const char *module_id, const struct sbx_spawn_options *opts,
              uint64_t *worker_id, int *pid, struct sbx_client_error *err)
{
    static const struct sbx_spawn_options defaults = SBX_SPAWN_OPTIONS_INIT;
    if (worker_id) *worker_id = 0;
    if (pid) *pid = 0;
    int rc = sbxc_check_usable(c, err);
    if (rc) return rc;
    const struct sbx_spawn_options *o = opts ? opts : &defaults;
    if (!worker_id)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "spawn: no worker_id output");
    Sbx__Response *r;
    rc = spawn_request(c, module_id, o, false, c->request_timeout_ms, &r, err);
    if (rc) return rc;
    rc = expect_answer(c, r, SBX__RESPONSE__BODY_SPAWNED, "spawn", err);
    if (!rc) {
        uint64_t wid = r->spawned->worker_id;
        if (sbxc_find_worker(c, wid))
            rc = sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                             "spawn: the server reused worker id %llu", (unsigned long long)wid);
        else if (!o->detach && sbxc_track_worker(c, wid, NULL))
            /* The worker runs but its outcome could not be told apart from a
             * stray one: the connection cannot go on. */
            rc = sbxc_broken(c, err, SBX_ERROR_SYSTEM, -ENOMEM, "spawn: out of memory");
        else {
            *worker_id = wid;
            if (pid) *pid = r->spawned->pid;
        }
    }
    sbx_ipc_free(&r->base);
    if (!rc) sbxc_ok(err);
    return rc;
}

int sbx_run(struct sbx_client *c, const char *module_id, const struct sbx_spawn_options *opts,
            struct sbx_outcome *out, struct sbx_client_error *err)
{
    static const struct sbx_spawn_options defaults = SBX_SPAWN_OPTIONS_INIT;
    int rc = sbxc_check_usable(c, err);
    if (rc) return rc;
    if (!out) return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "run: no output");
    memset(out, 0, sizeof(*out));
    const struct sbx_spawn_options *o = opts ? opts : &defaults;
    if (o->keep_alive || o->detach)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                         "run: not with keep_alive or detach (use sbx_spawn)");
    Sbx__Response *r;
    /* The server ends the run (its timeout); until then, no local limit. */
    rc = spawn_request(c, module_id, o, true, -1, &r, err);
    if (rc) return rc;
    rc = expect_answer(c, r, SBX__RESPONSE__BODY_OUTCOME, "run", err);
    if (!rc) {
        sbxc_outcome_from_proto(r->outcome, out);
        sbxc_ok(err);
    }
    sbx_ipc_free(&r->base);
    return rc;
}

/* Hands a kept outcome to the caller and forgets it. */
static int deliver(struct sbx_client *c, struct tracked *t, struct sbx_outcome *out,
                   struct sbx_client_error *err)
{
    const Sbx__Response *r = t->outcome;
    sbxc_outcome_from_proto(
        r->body_case == SBX__RESPONSE__BODY_EVENT ? r->event->outcome : r->outcome, out);
    sbxc_untrack(c, t);
    sbxc_ok(err);
    return 0;
}

/* The oldest kept outcome, for SBX_ANY_WORKER; *any says whether this
 * client still has a worker to wait for at all. */
static struct tracked *oldest_outcome(struct sbx_client *c, bool *any)
{
    struct tracked *best = NULL;
    *any = c->nworkers > 0;
    for (size_t i = 0; i < c->nworkers; i++)
        if (c->workers[i].outcome && (!best || c->workers[i].seq < best->seq))
            best = &c->workers[i];
    return best;
}

/* A worker whose outcome is not pushed to us: ask the server. */
static int wait_request(struct sbx_client *c, uint64_t worker_id, int timeout_ms,
                        struct sbx_outcome *out, struct sbx_client_error *err)
{
    Sbx__Request req;
    Sbx__Wait w;
    sbx__request__init(&req);
    sbx__wait__init(&w);
    req.body_case = SBX__REQUEST__BODY_WAIT;
    req.wait = &w;
    w.has_worker_id = 1;
    w.worker_id = worker_id;
    if (timeout_ms >= 0) {
        w.has_timeout_ms = 1;
        w.timeout_ms = (uint32_t)timeout_ms;
    }
    int local = timeout_ms < 0 ? -1 : timeout_ms + SBXC_WAIT_GRACE_MS;
    if (local < 0) local = -1; /* overflowed: as good as forever */
    Sbx__Response *r;
    int rc = sbxc_roundtrip(c, &req, NULL, 0, SBX__RESPONSE__BODY_OUTCOME, local, "wait", &r, err);
    if (rc) return rc;
    if (r->body_case == SBX__RESPONSE__BODY_ERROR) {
        rc = sbxc_server_error(r->error, "wait", err);
        if (rc == -ETIMEDOUT && timeout_ms == 0) rc = -EAGAIN;
    } else if (r->outcome->worker_id != worker_id) {
        rc = sbxc_broken(c, err, SBX_ERROR_PROTOCOL, -EPROTO,
                         "wait: the server answered with worker %llu's outcome",
                         (unsigned long long)r->outcome->worker_id);
    } else {
        sbxc_outcome_from_proto(r->outcome, out);
        sbxc_ok(err);
    }
    sbx_ipc_free(&r->base);
    return rc;
}

int sbx_wait(struct sbx_client *c, uint64_t worker_id, int timeout_ms, struct sbx_outcome *out,
             struct sbx_client_error *err)
{
    int rc = sbxc_check_usable(c, err);
    if (rc) return rc;
    if (!out) return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "wait: no output");
    memset(out, 0, sizeof(*out));
    struct sbxc_deadline d;
    sbxc_deadline_start(&d, timeout_ms);

    if (worker_id == SBX_ANY_WORKER) {
        for (;;) {
            bool any;
            struct tracked *t = oldest_outcome(c, &any);
            if (t) return deliver(c, t, out, err);
            if (!any)
                return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -ECHILD,
                                 "wait: this connection has no worker to wait for");
            if ((rc = sbxc_pump(c, &d, "wait", err))) return rc;
        }
    }
    if (!sbxc_find_worker(c, worker_id)) return wait_request(c, worker_id, timeout_ms, out, err);
    for (;;) {
        /* Look it up again each time: pumping may grow the array. */
        struct tracked *t = sbxc_find_worker(c, worker_id);
        if (t->outcome) return deliver(c, t, out, err);
        if ((rc = sbxc_pump(c, &d, "wait", err))) return rc;
    }
}

int sbx_kill(struct sbx_client *c, uint64_t worker_id, struct sbx_client_error *err)
{
    int rc = sbxc_check_usable(c, err);
    if (rc) return rc;
    Sbx__Request req;
    Sbx__Kill k;
    sbx__request__init(&req);
    sbx__kill__init(&k);
    k.has_worker_id = 1;
    k.worker_id = worker_id;
    req.body_case = SBX__REQUEST__BODY_KILL;
    req.kill = &k;
    Sbx__Response *r;
    rc = sbxc_roundtrip(c, &req, NULL, 0, SBX__RESPONSE__BODY_ACK, c->request_timeout_ms, "kill",
                        &r, err);
    if (rc) return rc;
    if (r->body_case == SBX__RESPONSE__BODY_ERROR) rc = sbxc_server_error(r->error, "kill", err);
    sbx_ipc_free(&r->base);
    if (!rc) sbxc_ok(err);
    return rc;
}

int sbx_call(struct sbx_client *c, uint64_t worker_id, const char *export_name,
             const struct sbx_value *args, size_t nargs, const struct sbx_call_options *opts,
             struct sbx_value *results, size_t max_results, size_t *nresults, bool *trapped,
             struct sbx_trap *trap, struct sbx_client_error *err)
{
    if (nresults) *nresults = 0;
    if (trapped) *trapped = false;
    int rc = sbxc_check_usable(c, err);
    if (rc) return rc;
    if (!export_name || !nresults || !trapped || (max_results && !results))
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "call: bad arguments");
    if ((rc = check_export_name(export_name, "call", err))) return rc;
    Sbx__Request req;
    Sbx__Call call;
    sbx__request__init(&req);
    sbx__call__init(&call);
    req.body_case = SBX__REQUEST__BODY_CALL;
    req.call = &call;
    call.has_worker_id = 1;
    call.worker_id = worker_id;
    call.export_name = (char *)export_name;
    if (opts) {
        call.has_fuel = opts->fuel != 0;
        call.fuel = opts->fuel;
        call.has_timeout_ms = opts->timeout_ms != 0;
        call.timeout_ms = opts->timeout_ms;
    }
    Sbx__Value *vals, **ptrs;
    rc = pack_values(args, nargs, &vals, &ptrs, "call", err);
    if (rc) goto out;
    call.args = ptrs;
    call.n_args = nargs;
    Sbx__Response *r;
    rc = sbxc_roundtrip(c, &req, NULL, 0, SBX__RESPONSE__BODY_CALL_RESULT, c->request_timeout_ms,
                        "call", &r, err);
    if (rc) goto out;
    if (r->body_case == SBX__RESPONSE__BODY_ERROR) {
        rc = sbxc_server_error(r->error, "call", err);
    } else if (r->call_result->result_case == SBX__CALL_RESULT__RESULT_TRAP) {
        *trapped = true;
        if (trap) sbxc_trap_from_proto(r->call_result->trap, trap);
    } else {
        const Sbx__Returned *ret = r->call_result->returned;
        size_t n = ret->n_values < max_results ? ret->n_values : max_results;
        for (size_t i = 0; i < n; i++)
            sbxc_value_from_proto(ret->values[i], &results[i]);
        *nresults = ret->n_values;
    }
    sbx_ipc_free(&r->base);
out:
    free(vals);
    free(ptrs);
    if (!rc) sbxc_ok(err);
    return rc;
}
