/* tests/client/test_keep_alive.c: keep-alive instances of the real daemon
 * serving calls (issue 5, "long-lived instances for plugin hosts"): state
 * kept between calls, a reactor's _initialize, traps and fuel exhaustion
 * that end the call but not the instance, a per-call timeout that ends it,
 * one call at a time, and calls refused where they make no sense. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/client/fake_server.h"
#include "tests/client/real_daemon.h"

TestSuite(keep_alive, .init = start_daemon, .fini = stop_daemon, .timeout = 60);

static void load_reactor(struct sbx_client *c, char *id)
{
    struct sbx_client_error err;
    cr_assert_eq(sbx_load_file(c, KEEP_ALIVE_WASM, NULL, id, NULL, &err), 0, "%s", err.message);
}

static uint64_t spawn_kept(struct sbx_client *c, const char *id, uint64_t fuel, uint32_t timeout_ms)
{
    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.keep_alive = true;
    o.fuel = fuel;
    o.timeout_ms = timeout_ms;
    uint64_t wid;
    struct sbx_client_error err;
    cr_assert_eq(sbx_spawn(c, id, &o, &wid, NULL, &err), 0, "%s", err.message);
    return wid;
}

static int32_t bump(struct sbx_client *c, uint64_t wid)
{
    struct sbx_value res[1];
    size_t n;
    bool trapped;
    struct sbx_client_error err;
    int rc = sbx_call(c, wid, "bump", NULL, 0, NULL, res, 1, &n, &trapped, NULL, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    cr_assert_not(trapped);
    cr_assert_eq(n, 1);
    return res[0].u.i32;
}

static void kill_and_wait(struct sbx_client *c, uint64_t wid, enum sbx_outcome_kind want)
{
    struct sbx_client_error err;
    struct sbx_outcome out;
    if (want == SBX_OUTCOME_KILLED) cr_assert_eq(sbx_kill(c, wid, &err), 0, "%s", err.message);
    cr_assert_eq(sbx_wait(c, wid, 20000, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.kind, want, "%s", sbx_outcome_kind_name(out.kind));
}

Test(keep_alive, reactor_state_survives_between_calls)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    load_reactor(c, id);
    uint64_t wid = spawn_kept(c, id, 0, 0);
    cr_assert_eq(bump(c, wid), 42, "_initialize ran once, then the first call");
    cr_assert_eq(bump(c, wid), 43);
    struct sbx_value args[2] = {{.type = SBX_VALUE_I64, .u.i64 = -3},
                                {.type = SBX_VALUE_F64, .u.f64 = 0.5}};
    struct sbx_value res[1];
    size_t n;
    bool trapped;
    struct sbx_client_error err;
    cr_assert_eq(sbx_call(c, wid, "scale", args, 2, NULL, res, 1, &n, &trapped, NULL, &err), 0,
                 "%s", err.message);
    cr_assert_eq(res[0].type, SBX_VALUE_F64);
    cr_assert_float_eq(res[0].u.f64, -1.5, 0);
    kill_and_wait(c, wid, SBX_OUTCOME_KILLED);
    sbx_disconnect(c);
}

Test(keep_alive, fuel_is_per_call_and_exhaustion_ends_only_the_call)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    load_reactor(c, id);
    uint64_t wid = spawn_kept(c, id, 100000, 0);
    struct sbx_trap trap;
    size_t n;
    bool trapped;
    struct sbx_client_error err;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(sbx_call(c, wid, "spin", NULL, 0, NULL, NULL, 0, &n, &trapped, &trap, &err), 0,
                     "%s", err.message);
        cr_assert(trapped);
        cr_assert_eq(trap.kind, SBX_TRAP_KIND_OUT_OF_FUEL);
        cr_assert_eq(bump(c, wid), 42 + i, "the instance lives on with a fresh budget");
    }
    struct sbx_call_options co = {.fuel = 50};
    cr_assert_eq(sbx_call(c, wid, "spin", NULL, 0, &co, NULL, 0, &n, &trapped, &trap, &err), 0,
                 "%s", err.message);
    cr_assert_eq(trap.kind, SBX_TRAP_KIND_OUT_OF_FUEL);
    kill_and_wait(c, wid, SBX_OUTCOME_KILLED);
    sbx_disconnect(c);
}

Test(keep_alive, call_timeout_ends_the_instance_but_idle_time_does_not)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    load_reactor(c, id);
    uint64_t wid = spawn_kept(c, id, 0, 1000);
    usleep(1500 * 1000); /* idle for longer than the timeout: not counted */
    cr_assert_eq(bump(c, wid), 42);
    size_t n;
    bool trapped;
    struct sbx_client_error err;
    int rc = sbx_call(c, wid, "spin", NULL, 0, NULL, NULL, 0, &n, &trapped, NULL, &err);
    cr_assert_eq(rc, -EBADFD, "%d %s", rc, err.message);
    cr_assert_eq(err.code, SBX_ERROR_WRONG_STATE);
    struct sbx_outcome out;
    cr_assert_eq(sbx_wait(c, wid, 20000, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.kind, SBX_OUTCOME_TIMEOUT, "%s", sbx_outcome_kind_name(out.kind));
    cr_assert_eq(out.limit, 1000, "the outcome names the limit that was hit");
    sbx_disconnect(c);
}

struct spinner {
    uint64_t wid;
    int rc;
};

static void *spin_call(void *arg)
{
    struct spinner *s = arg;
    struct sbx_client *c = connect_or_fail();
    struct sbx_call_options co = {.timeout_ms = 3000};
    size_t n;
    bool trapped;
    struct sbx_client_error err;
    s->rc = sbx_call(c, s->wid, "spin", NULL, 0, &co, NULL, 0, &n, &trapped, NULL, &err);
    sbx_disconnect(c);
    return NULL;
}

Test(keep_alive, one_call_at_a_time)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    load_reactor(c, id);
    uint64_t wid = spawn_kept(c, id, 0, 0);
    cr_assert_eq(bump(c, wid), 42);
    struct spinner s = {.wid = wid};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, spin_call, &s), 0);
    /* Until the spinning call is in flight, a call may get through. */
    int rc = 0;
    struct sbx_client_error err;
    for (int i = 0; i < 500 && rc != -EBUSY; i++) {
        usleep(5000);
        size_t n;
        bool trapped;
        struct sbx_value res[1];
        rc = sbx_call(c, wid, "bump", NULL, 0, NULL, res, 1, &n, &trapped, NULL, &err);
    }
    cr_assert_eq(rc, -EBUSY, "%d %s", rc, err.message);
    pthread_join(t, NULL);
    cr_assert_eq(s.rc, -EBADFD, "the spinning call timed out and ended the instance");
    kill_and_wait(c, wid, SBX_OUTCOME_TIMEOUT);
    sbx_disconnect(c);
}

Test(keep_alive, calls_refused_where_they_make_no_sense)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    load_reactor(c, id);
    struct sbx_client_error err;
    size_t n;
    bool trapped;
    struct sbx_value res[1];
    uint64_t wid = spawn_kept(c, id, 0, 0);
    struct sbx_call_options co = {.fuel = 10};
    int rc = sbx_call(c, wid, "bump", NULL, 0, &co, res, 1, &n, &trapped, NULL, &err);
    cr_assert_eq(err.code, SBX_ERROR_WRONG_STATE, "%d %s: fuel on unmetered code", rc, err.message);
    rc = sbx_call(c, wid, "nope", NULL, 0, NULL, res, 1, &n, &trapped, NULL, &err);
    cr_assert_eq(err.code, SBX_ERROR_BAD_REQUEST, "%d %s", rc, err.message);
    struct sbx_value wrong = {.type = SBX_VALUE_I32, .u.i32 = 1};
    rc = sbx_call(c, wid, "bump", &wrong, 1, NULL, res, 1, &n, &trapped, NULL, &err);
    cr_assert_eq(err.code, SBX_ERROR_BAD_REQUEST, "%d %s", rc, err.message);
    struct sbx_value args[2] = {{.type = SBX_VALUE_I32, .u.i32 = 1},
                                {.type = SBX_VALUE_F64, .u.f64 = 0.5}};
    rc = sbx_call(c, wid, "scale", args, 2, NULL, res, 1, &n, &trapped, NULL, &err);
    cr_assert_eq(err.code, SBX_ERROR_BAD_REQUEST, "%d %s: an i32 where an i64 goes", rc,
                 err.message);
    cr_assert_eq(bump(c, wid), 42, "refused calls did not reach the instance");
    kill_and_wait(c, wid, SBX_OUTCOME_KILLED);

    /* A worker spawned without keep-alive takes no calls. */
    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.export_name = "spin";
    cr_assert_eq(sbx_spawn(c, id, &o, &wid, NULL, &err), 0, "%s", err.message);
    rc = sbx_call(c, wid, "bump", NULL, 0, NULL, res, 1, &n, &trapped, NULL, &err);
    cr_assert_eq(err.code, SBX_ERROR_WRONG_STATE, "%d %s", rc, err.message);
    kill_and_wait(c, wid, SBX_OUTCOME_KILLED);
    sbx_disconnect(c);
}

/* Runs `sbx --connect SOCK ARGS` and returns its exit status; stdout and
 * stderr together go to out. */
static int cli(const char *args, char *out, size_t outsz)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --connect %s %s 2>&1", SBX_BINARY, sock, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, outsz - 1, p);
    out[n] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(keep_alive, from_the_command_line)
{
    char out[4096], args[512];
    cr_assert_eq(cli("spawn --keep-alive --timeout 10000 " KEEP_ALIVE_WASM, out, sizeof out), 0,
                 "%s", out);
    char *end;
    unsigned long long wid = strtoull(out, &end, 10);
    cr_assert(wid > 0 && *end == '\n', "a worker id: %s", out);
    snprintf(args, sizeof args, "call %llu bump", wid);
    cr_assert_eq(cli(args, out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "42\n", "state kept across separate clients");
    cr_assert_eq(cli(args, out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "43\n");
    snprintf(args, sizeof args, "call %llu scale i64:4 f64:0.25", wid);
    cr_assert_eq(cli(args, out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "1\n");
    snprintf(args, sizeof args, "call %llu scale 4 f64:0.25", wid);
    cr_assert_eq(cli(args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "BAD_REQUEST"), "%s", out);
    snprintf(args, sizeof args, "kill %llu", wid);
    cr_assert_eq(cli(args, out, sizeof out), 0, "%s", out);
    snprintf(args, sizeof args, "wait %llu", wid);
    cr_assert_eq(cli(args, out, sizeof out), 128 + 9, "%s", out);
    cr_assert(strstr(out, "killed by signal 9 (on request)"), "%s", out);
}
