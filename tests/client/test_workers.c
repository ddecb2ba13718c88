/* tests/client/test_workers.c: spawning with stdio fds, argv, env, limits
 * and arguments; outcomes pushed before sbx_wait is called (kept by the
 * client) and after (waited for); several workers; timeouts; Wait requests
 * for detached workers; kill, call and status. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/client/fake_server.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* -- Spawn with stdio ------------------------------------------------------- */

/* Checks the Spawn request in detail and uses the stdio fds it received as
 * a worker would: reads stdin, writes its stream's name to stdout and
 * stderr. */
static void script_spawn_stdio(struct fake *f)
{
    if (!fake_handshake(f)) return;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    Sbx__Request *req = fake_recv(f, fds, &nfds);
    if (!req) return;
    Sbx__Spawn *s = req->spawn;
    if (req->body_case != SBX__REQUEST__BODY_SPAWN) {
        fake_failed(f, "expected Spawn");
        goto out;
    }
    f->ints[0] = (int)nfds;
    f->ints[1] = (int)s->n_stdio;
    for (size_t i = 0; i < s->n_stdio; i++) {
        static const char *names[] = {"", "stdin", "stdout", "stderr"};
        const char *name = names[s->stdio[i]->stream];
        int fd = fds[s->stdio[i]->fd_index];
        if (s->stdio[i]->stream == SBX__STDIO_STREAM__STDIO_STDIN) {
            /* The test wrote "stdin" into the pipe the worker would read. */
            ssize_t n = read(fd, f->text, sizeof(f->text) - 1);
            if (n != 5) fake_failed(f, "read from stdin: %zd", n);
        } else if (write(fd, name, strlen(name)) != (ssize_t)strlen(name)) {
            fake_failed(f, "write to %s", name);
        }
    }
    if (strcmp(s->module_id, FAKE_MODULE_ID) || strcmp(s->export_name, "add") || s->n_argv != 2 ||
        strcmp(s->argv[1], "--flag") || s->n_env != 1 || strcmp(s->env[0], "K=V"))
        fake_failed(f, "module, export, argv or env wrong");
    if (!s->limits || !s->limits->has_fuel || s->limits->fuel != 1000 ||
        !s->limits->has_timeout_ms || s->limits->timeout_ms != 250 || s->limits->has_memory_bytes ||
        s->limits->has_stack_bytes)
        fake_failed(f, "limits wrong");
    if (!s->keep_alive || s->detach) fake_failed(f, "flags wrong");
    if (s->n_args != 4 || s->args[0]->v_case != SBX__VALUE__V_I32 || s->args[0]->i32 != -5 ||
        s->args[1]->v_case != SBX__VALUE__V_I64 || s->args[1]->i64 != INT64_MIN ||
        s->args[2]->v_case != SBX__VALUE__V_F32_BITS || s->args[2]->f32_bits != 0x7fc00001u ||
        s->args[3]->v_case != SBX__VALUE__V_F64_BITS ||
        s->args[3]->f64_bits != 0x8000000000000000ull)
        fake_failed(f, "args wrong (floats must keep their bits)");
    fake_send_spawned(f, req->id, 7, 1234);
out:
    sbx_ipc_close_fds(fds, nfds);
    sbx_ipc_free(&req->base);
}

Test(spawn, passes_stdio_fds_argv_env_limits_and_args)
{
    int p[3][2];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pipe2(p[i], O_CLOEXEC), 0);
    cr_assert_eq(write(p[0][1], "stdin", 5), 5);
    int before = count_fds();
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_spawn_stdio);
    const char *argv[] = {"prog", "--flag"};
    const char *env[] = {"K=V"};
    uint32_t nan_bits = 0x7fc00001u;
    struct sbx_value args[4] = {
        {.type = SBX_VALUE_I32, .u.i32 = -5},
        {.type = SBX_VALUE_I64, .u.i64 = INT64_MIN},
        {.type = SBX_VALUE_F32},
        {.type = SBX_VALUE_F64, .u.f64 = -0.0},
    };
    memcpy(&args[2].u.f32, &nan_bits, 4);
    struct sbx_spawn_options o;
    sbx_spawn_options_init(&o);
    o.export_name = "add";
    o.args = args;
    o.nargs = 4;
    o.argv = argv;
    o.argc = 2;
    o.env = env;
    o.nenv = 1;
    o.stdin_fd = p[0][0]; /* the worker would read from it; the fake writes */
    o.stdout_fd = p[1][1];
    o.stderr_fd = p[2][1];
    o.fuel = 1000;
    o.timeout_ms = 250;
    o.keep_alive = true;
    uint64_t wid;
    int pid;
    struct sbx_client_error err;
    int rc = sbx_spawn(c, FAKE_MODULE_ID, &o, &wid, &pid, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    cr_assert_eq(wid, 7);
    cr_assert_eq(pid, 1234);
    fake_join(&f);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[0], 3, "three fds arrived");
    cr_assert_eq(f.ints[1], 3);
    cr_assert_str_eq(f.text, "stdin");
    char buf[16] = {0};
    cr_assert_eq(read(p[1][0], buf, sizeof(buf)), 6);
    cr_assert_str_eq(buf, "stdout");
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(read(p[2][0], buf, sizeof(buf)), 6);
    cr_assert_str_eq(buf, "stderr");
    sbx_disconnect(c);
    cr_assert_eq(count_fds(), before, "the client kept no duplicate of the stdio fds");
    for (int i = 0; i < 3; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
}

static void script_spawn_one_stream(struct fake *f)
{
    if (!fake_handshake(f)) return;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    Sbx__Request *req = fake_recv(f, fds, &nfds);
    if (!req) return;
    f->ints[0] = (int)nfds;
    f->ints[1] = req->spawn->n_stdio ? req->spawn->stdio[0]->stream : 0;
    f->ints[2] = req->spawn->limits != NULL;
    snprintf(f->text, sizeof(f->text), "%s", req->spawn->export_name);
    fake_send_spawned(f, req->id, 1, 99);
    sbx_ipc_close_fds(fds, nfds);
    sbx_ipc_free(&req->base);
}

Test(spawn, defaults_and_a_single_stream)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_spawn_one_stream);
    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.stderr_fd = 2;
    uint64_t wid;
    struct sbx_client_error err;
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, &o, &wid, NULL, &err), 0, "%s", err.message);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[0], 1);
    cr_assert_eq(f.ints[1], SBX__STDIO_STREAM__STDIO_STDERR);
    cr_assert_eq(f.ints[2], 0, "no limits message when none is set");
    cr_assert_str_eq(f.text, "_start");
}

Test(spawn, refused_locally)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_spawn_one_stream);
    uint64_t wid;
    struct sbx_client_error err;
    cr_assert_eq(sbx_spawn(c, "ABC", NULL, &wid, NULL, &err), -EINVAL);
    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.nargs = 1001;
    struct sbx_value v[1001] = {0};
    o.args = v;
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, &o, &wid, NULL, &err), -E2BIG);
    o.nargs = 1; /* type 0: not a value type */
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, &o, &wid, NULL, &err), -EINVAL);
    cr_assert_eq(err.code, SBX_ERROR_INVALID_ARGUMENT);
    o.nargs = 0;
    o.stdout_fd = 1000; /* not open */
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, &o, &wid, NULL, &err), -EBADF);
    /* None of these broke the connection. */
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, NULL, &wid, NULL, &err), 0, "%s", err.message);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
}

/* -- Outcomes ---------------------------------------------------------------- */

/* Spawns answered with worker ids 1, 2, ...; then `after` runs. */
static void answer_spawns(struct fake *f, int n)
{
    for (int i = 1; i <= n; i++) {
        Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_SPAWN);
        if (!req) return;
        fake_send_spawned(f, req->id, (uint64_t)i, 100 + i);
        sbx_ipc_free(&req->base);
    }
}

static void send_status(struct fake *f, uint64_t id)
{
    Sbx__Response r;
    Sbx__StatusReply s;
    Sbx__Counters k;
    sbx__response__init(&r);
    sbx__status_reply__init(&s);
    sbx__counters__init(&k);
    r.has_id = 1;
    r.id = id;
    r.body_case = SBX__RESPONSE__BODY_STATUS;
    r.status = &s;
    s.has_live_workers = 1;
    s.live_workers = 3;
    s.has_zygote_pid = 1;
    s.zygote_pid = 555;
    s.counters = &k;
    k.has_spawns = 1;
    k.spawns = 17;
    fake_send(f, &r);
}

/* The outcome is pushed right behind the Spawned; the client reads it while
 * doing a Status, and then the server goes away: sbx_wait must still
 * return it, from what the client kept. */
static void script_event_before_wait(struct fake *f)
{
    if (!fake_handshake(f)) return;
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_SPAWN);
    if (!req) return;
    fake_send_spawned(f, req->id, 1, 101);
    fake_send_exited(f, 0, 1, 3);
    sbx_ipc_free(&req->base);
    req = fake_expect(f, SBX__REQUEST__BODY_STATUS);
    if (!req) return;
    send_status(f, req->id);
    sbx_ipc_free(&req->base);
}

Test(outcome, pushed_before_wait_is_kept)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_event_before_wait);
    uint64_t wid;
    struct sbx_client_error err;
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, NULL, &wid, NULL, &err), 0, "%s", err.message);
    struct sbx_status st;
    cr_assert_eq(sbx_status(c, &st, &err), 0, "%s", err.message);
    cr_assert_eq(st.live_workers, 3);
    cr_assert_eq(st.zygote_pid, 555);
    cr_assert_eq(st.counters.spawns, 17);
    fake_join(&f); /* the server is gone now */
    struct sbx_outcome out;
    cr_assert_eq(sbx_wait(c, wid, 0, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.worker_id, 1);
    cr_assert_eq(out.kind, SBX_OUTCOME_EXITED);
    cr_assert_eq(out.exit_code, 3);
    cr_assert_eq(out.usage.wall_us, 1234);
    cr_assert_eq(out.usage.max_rss_kb, 2048);
    cr_assert_str_eq(sbx_outcome_kind_name(out.kind), "exited");
    /* Delivered once: now the worker is unknown here, so the client asks the
     * server, which has hung up. */
    cr_assert_eq(sbx_wait(c, wid, 0, &out, &err), -EPIPE);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
}

static void script_event_later(struct fake *f)
{
    if (!fake_handshake(f)) return;
    answer_spawns(f, 1);
    sleep_ms(100);
    fake_send_exited(f, 0, 1, 0);
}

Test(outcome, pushed_while_waiting)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_event_later);
    uint64_t wid;
    struct sbx_client_error err;
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, NULL, &wid, NULL, &err), 0, "%s", err.message);
    struct sbx_outcome out;
    cr_assert_eq(sbx_wait(c, wid, 0, &out, &err), -EAGAIN, "not ended yet: poll says so");
    cr_assert_eq(err.code, SBX_ERROR_TIMEOUT);
    cr_assert_eq(sbx_wait(c, wid, 10, &out, &err), -ETIMEDOUT);
    cr_assert_eq(sbx_wait(c, wid, -1, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.kind, SBX_OUTCOME_EXITED);
    cr_assert_eq(out.exit_code, 0);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
}

/* Three workers end in the order 3, 1, 2. */
static void script_three(struct fake *f)
{
    if (!fake_handshake(f)) return;
    answer_spawns(f, 3);
    fake_send_exited(f, 0, 3, 30);
    fake_send_exited(f, 0, 1, 10);
    fake_send_exited(f, 0, 2, 20);
}

Test(outcome, several_workers_in_any_order)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_three);
    uint64_t w[3];
    struct sbx_client_error err;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, NULL, &w[i], NULL, &err), 0, "%s", err.message);
    struct sbx_outcome out;
    /* Waiting for worker 2 reads (and keeps) 3's and 1's outcomes first. */
    cr_assert_eq(sbx_wait(c, 2, -1, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.exit_code, 20);
    cr_assert_eq(sbx_wait(c, SBX_ANY_WORKER, 0, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.worker_id, 3, "in arrival order");
    cr_assert_eq(sbx_wait(c, SBX_ANY_WORKER, 0, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.worker_id, 1);
    cr_assert_eq(out.exit_code, 10);
    cr_assert_eq(sbx_wait(c, SBX_ANY_WORKER, 0, &out, &err), -ECHILD);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
}

/* A detached worker: the client must ask with a Wait. */
static void script_detached(struct fake *f)
{
    if (!fake_handshake(f)) return;
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_SPAWN);
    if (!req) return;
    f->ints[0] = req->spawn->detach;
    fake_send_spawned(f, req->id, 9, 109);
    sbx_ipc_free(&req->base);
    req = fake_expect(f, SBX__REQUEST__BODY_WAIT);
    if (!req) return;
    f->u64[0] = req->wait->worker_id;
    f->ints[1] = req->wait->has_timeout_ms;
    f->ints[2] = (int)req->wait->timeout_ms;
    fake_send_error(f, req->id, SBX__ERROR_CODE__STILL_RUNNING, "worker 9 is running");
    sbx_ipc_free(&req->base);
    req = fake_expect(f, SBX__REQUEST__BODY_WAIT);
    if (!req) return;
    f->ints[3] = req->wait->has_timeout_ms;
    fake_send_exited(f, req->id, 9, 42);
    sbx_ipc_free(&req->base);
}

Test(outcome, detached_workers_are_waited_for_with_a_request)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_detached);
    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.detach = true;
    uint64_t wid;
    struct sbx_client_error err;
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, &o, &wid, NULL, &err), 0, "%s", err.message);
    struct sbx_outcome out;
    cr_assert_eq(sbx_wait(c, wid, 0, &out, &err), -EAGAIN);
    cr_assert_eq(err.code, SBX_ERROR_STILL_RUNNING);
    cr_assert_eq(sbx_wait(c, wid, -1, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.exit_code, 42);
    cr_assert_eq(sbx_wait(c, SBX_ANY_WORKER, 0, &out, &err), -ECHILD,
                 "detached workers are not this connection's to wait for");
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[0], 1);
    cr_assert_eq(f.u64[0], 9);
    cr_assert_eq(f.ints[1], 1);
    cr_assert_eq(f.ints[2], 0, "timeout 0 polls");
    cr_assert_eq(f.ints[3], 0, "no timeout: wait as long as it takes");
}

/* A trap with a backtrace, and a result list: converted field by field. */
static void script_trap(struct fake *f)
{
    if (!fake_handshake(f)) return;
    answer_spawns(f, 1);
    Sbx__Response r;
    Sbx__Event ev;
    Sbx__Outcome o;
    Sbx__Trap t;
    Sbx__Frame fr[40], *frp[40];
    sbx__response__init(&r);
    sbx__event__init(&ev);
    sbx__outcome__init(&o);
    sbx__trap__init(&t);
    r.has_id = 1; /* id 0, present */
    r.body_case = SBX__RESPONSE__BODY_EVENT;
    r.event = &ev;
    ev.body_case = SBX__EVENT__BODY_OUTCOME;
    ev.outcome = &o;
    o.has_worker_id = 1;
    o.worker_id = 1;
    o.kind_case = SBX__OUTCOME__KIND_TRAPPED;
    o.trapped = &t;
    t.has_kind = 1;
    t.kind = SBX__TRAP_KIND__TRAP_INT_DIV_ZERO;
    t.message = "integer divide by zero";
    t.n_frames = 40;
    t.frames = frp;
    for (int i = 0; i < 40; i++) {
        sbx__frame__init(&fr[i]);
        fr[i].has_function_index = 1;
        fr[i].function_index = (uint32_t)i;
        fr[i].name = i == 0 ? "divide" : NULL;
        frp[i] = &fr[i];
    }
    fake_send(f, &r);
}

Test(outcome, trap_with_frames)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_trap);
    uint64_t wid;
    struct sbx_client_error err;
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, NULL, &wid, NULL, &err), 0, "%s", err.message);
    struct sbx_outcome out;
    cr_assert_eq(sbx_wait(c, SBX_ANY_WORKER, -1, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.kind, SBX_OUTCOME_TRAPPED);
    cr_assert_eq(out.trap.kind, SBX_TRAP_KIND_INT_DIV_ZERO);
    cr_assert_str_eq(sbx_trap_kind_name(out.trap.kind), "int_div_zero");
    cr_assert_str_eq(out.trap.message, "integer divide by zero");
    cr_assert_eq(out.trap.total_frames, 40);
    cr_assert_eq(out.trap.nframes, SBX_MAX_FRAMES, "cut to what fits");
    cr_assert_str_eq(out.trap.frames[0].name, "divide");
    cr_assert_str_eq(out.trap.frames[1].name, "");
    cr_assert_eq(out.trap.frames[31].function_index, 31);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
}

/* -- Kill and call --------------------------------------------------------------- */

static void script_kill_call(struct fake *f)
{
    if (!fake_handshake(f)) return;
    answer_spawns(f, 1);
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_CALL);
    if (!req) return;
    /* Returned: the two args added, as i64, plus an f64. */
    Sbx__Response r;
    Sbx__CallResult cr;
    Sbx__Returned ret;
    Sbx__Value v[2], *vp[2] = {&v[0], &v[1]};
    sbx__response__init(&r);
    sbx__call_result__init(&cr);
    sbx__returned__init(&ret);
    sbx__value__init(&v[0]);
    sbx__value__init(&v[1]);
    r.has_id = 1;
    r.id = req->id;
    r.body_case = SBX__RESPONSE__BODY_CALL_RESULT;
    r.call_result = &cr;
    cr.result_case = SBX__CALL_RESULT__RESULT_RETURNED;
    cr.returned = &ret;
    ret.n_values = 2;
    ret.values = vp;
    v[0].v_case = SBX__VALUE__V_I64;
    v[0].i64 = (int64_t)req->call->args[0]->i32 + req->call->args[1]->i32;
    v[1].v_case = SBX__VALUE__V_F64_BITS;
    double half = 0.5;
    memcpy(&v[1].f64_bits, &half, 8);
    f->ints[0] = req->call->has_fuel ? (int)req->call->fuel : -1;
    snprintf(f->text, sizeof(f->text), "%s", req->call->export_name);
    fake_send(f, &r);
    sbx_ipc_free(&req->base);

    req = fake_expect(f, SBX__REQUEST__BODY_CALL);
    if (!req) return;
    Sbx__Trap t;
    sbx__trap__init(&t);
    t.has_kind = 1;
    t.kind = SBX__TRAP_KIND__TRAP_OUT_OF_FUEL;
    cr.result_case = SBX__CALL_RESULT__RESULT_TRAP;
    cr.trap = &t;
    r.id = req->id;
    fake_send(f, &r);
    sbx_ipc_free(&req->base);

    req = fake_expect(f, SBX__REQUEST__BODY_KILL);
    if (!req) return;
    f->u64[0] = req->kill->worker_id;
    fake_send_ack(f, req->id);
    sbx_ipc_free(&req->base);
    fake_send_exited(f, 0, 1, 137); /* stands in for killed; the kind is not the point */
}

Test(worker, call_returned_trapped_then_kill)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_kill_call);
    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.keep_alive = true;
    uint64_t wid;
    struct sbx_client_error err;
    cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, &o, &wid, NULL, &err), 0, "%s", err.message);
    struct sbx_value args[2] = {{.type = SBX_VALUE_I32, .u.i32 = 40},
                                {.type = SBX_VALUE_I32, .u.i32 = 2}};
    struct sbx_value res[1];
    size_t nres;
    bool trapped;
    struct sbx_trap trap;
    struct sbx_call_options co = {.fuel = 77};
    int rc = sbx_call(c, wid, "add", args, 2, &co, res, 1, &nres, &trapped, &trap, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert_not(trapped);
    cr_assert_eq(nres, 2, "the full count, though only one fit");
    cr_assert_eq(res[0].type, SBX_VALUE_I64);
    cr_assert_eq(res[0].u.i64, 42);
    rc = sbx_call(c, wid, "add", args, 2, NULL, res, 1, &nres, &trapped, &trap, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert(trapped);
    cr_assert_eq(trap.kind, SBX_TRAP_KIND_OUT_OF_FUEL);
    cr_assert_eq(sbx_kill(c, wid, &err), 0, "%s", err.message);
    struct sbx_outcome out;
    cr_assert_eq(sbx_wait(c, wid, 1000, &out, &err), 0, "%s", err.message);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[0], 77);
    cr_assert_str_eq(f.text, "add");
    cr_assert_eq(f.u64[0], wid);
}
