/* tests/client/test_real_daemon.c: libsbx against the real `sbx serve`,
 * started on a socket in a temporary directory for each test: handshake,
 * inline and memfd loads, an export's results, a trap, a timeout, kill, a
 * keep-alive instance serving calls, unknown module ids, status, and the
 * client's fd count back at its baseline afterwards. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/client/fake_server.h" /* count_fds */
#include "tests/client/real_daemon.h"

/* (module
 *   (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
 *   (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
 *   (func (export "spin") (loop br 0))
 *   (func (export "half") (param f64) (result f64) local.get 0 f64.const 0.5 f64.mul)) */
static const unsigned char module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x03, 0x60, 0x02, 0x7f, 0x7f,
    0x01, 0x7f, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7c, 0x01, 0x7c, 0x03, 0x05, 0x04, 0x00, 0x00,
    0x01, 0x02, 0x07, 0x1b, 0x04, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x03, 0x64, 0x69, 0x76,
    0x00, 0x01, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x02, 0x04, 0x68, 0x61, 0x6c, 0x66, 0x00,
    0x03, 0x0a, 0x28, 0x04, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x07, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x6d, 0x0b, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x0e, 0x00,
    0x20, 0x00, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0xa2, 0x0b};

TestSuite(daemon, .init = start_daemon, .fini = stop_daemon, .timeout = 60);

static void spawn_export(struct sbx_client *c, const char *id, const char *name,
                         const struct sbx_value *args, size_t nargs, uint32_t timeout_ms,
                         struct sbx_outcome *out)
{
    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.export_name = name;
    o.args = args;
    o.nargs = nargs;
    o.timeout_ms = timeout_ms;
    uint64_t wid;
    int pid;
    struct sbx_client_error err;
    int rc = sbx_spawn(c, id, &o, &wid, &pid, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    cr_assert_gt(pid, 0);
    rc = sbx_wait(c, wid, 20000, out, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    cr_assert_eq(out->worker_id, wid);
}

Test(daemon, load_spawn_results_trap_timeout)
{
    int before = count_fds();
    struct sbx_client *c = connect_or_fail();
    struct sbx_server_info info;
    sbx_server_info(c, &info);
    cr_assert_eq(info.protocol_version, 1);

    char id[SBX_MODULE_ID_SIZE];
    struct sbx_module_info *mi;
    struct sbx_client_error err;
    int rc = sbx_load(c, module, sizeof(module), NULL, id, &mi, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    cr_assert_eq(mi->nexports, 4);
    cr_assert_str_eq(mi->exports[0].name, "add");
    cr_assert_eq(mi->exports[0].nparams, 2);
    sbx_module_info_free(mi);

    struct sbx_outcome out;
    struct sbx_value add_args[2] = {{.type = SBX_VALUE_I32, .u.i32 = 40},
                                    {.type = SBX_VALUE_I32, .u.i32 = 2}};
    spawn_export(c, id, "add", add_args, 2, 0, &out);
    cr_assert_eq(out.kind, SBX_OUTCOME_EXITED, "%s %s", sbx_outcome_kind_name(out.kind),
                 out.message);
    cr_assert_eq(out.exit_code, 0);
    cr_assert_eq(out.nresults, 1);
    cr_assert_eq(out.results[0].u.i32, 42);

    struct sbx_value half = {.type = SBX_VALUE_F64, .u.f64 = 3.0};
    spawn_export(c, id, "half", &half, 1, 0, &out);
    cr_assert_eq(out.kind, SBX_OUTCOME_EXITED);
    cr_assert_eq(out.results[0].type, SBX_VALUE_F64);
    cr_assert_float_eq(out.results[0].u.f64, 1.5, 0);

    struct sbx_value div_args[2] = {{.type = SBX_VALUE_I32, .u.i32 = 1},
                                    {.type = SBX_VALUE_I32, .u.i32 = 0}};
    spawn_export(c, id, "div", div_args, 2, 0, &out);
    cr_assert_eq(out.kind, SBX_OUTCOME_TRAPPED);
    cr_assert_eq(out.trap.kind, SBX_TRAP_KIND_INT_DIV_ZERO);

    spawn_export(c, id, "spin", NULL, 0, 100, &out);
    cr_assert_eq(out.kind, SBX_OUTCOME_TIMEOUT, "%s", sbx_outcome_kind_name(out.kind));
    /* TimedOut.timeout_ms is the limit hit; the daemon leaves it out so far
     * (the client then reports 0). */
    cr_assert(out.limit == 100 || out.limit == 0, "limit %llu", (unsigned long long)out.limit);

    sbx_disconnect(c);
    cr_assert_eq(count_fds(), before);
}

/* sbx_run: one request, the outcome as its only answer (exits, traps and
 * timeouts alike), and nothing pushed afterwards. */
Test(daemon, run_in_one_request)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_client_error err;
    cr_assert_eq(sbx_load(c, module, sizeof(module), NULL, id, NULL, &err), 0, "%s", err.message);
    struct sbx_value add_args[2] = {{.type = SBX_VALUE_I32, .u.i32 = 40},
                                    {.type = SBX_VALUE_I32, .u.i32 = 2}};
    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.export_name = "add", o.args = add_args, o.nargs = 2;
    struct sbx_outcome out;
    for (int i = 0; i < 5; i++) { /* cold, then warm workers */
        cr_assert_eq(sbx_run(c, id, &o, &out, &err), 0, "%s", err.message);
        cr_assert_eq(out.kind, SBX_OUTCOME_EXITED, "%s", sbx_outcome_kind_name(out.kind));
        cr_assert_gt(out.worker_id, 0);
        cr_assert_eq(out.nresults, 1);
        cr_assert_eq(out.results[0].u.i32, 42);
    }
    struct sbx_value div_args[2] = {{.type = SBX_VALUE_I32, .u.i32 = 1},
                                    {.type = SBX_VALUE_I32, .u.i32 = 0}};
    o.export_name = "div", o.args = div_args;
    cr_assert_eq(sbx_run(c, id, &o, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.kind, SBX_OUTCOME_TRAPPED);
    cr_assert_eq(out.trap.kind, SBX_TRAP_KIND_INT_DIV_ZERO);
    o.export_name = "spin", o.args = NULL, o.nargs = 0, o.timeout_ms = 50;
    cr_assert_eq(sbx_run(c, id, &o, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.kind, SBX_OUTCOME_TIMEOUT, "%s", sbx_outcome_kind_name(out.kind));
    /* Each outcome came once, as the answer: none is left to collect. */
    cr_assert_eq(sbx_wait(c, SBX_ANY_WORKER, 200, &out, &err), -ECHILD, "%s", err.message);
    o.keep_alive = true;
    cr_assert_eq(sbx_run(c, id, &o, &out, &err), -EINVAL);
    o.keep_alive = false, o.detach = true;
    cr_assert_eq(sbx_run(c, id, &o, &out, &err), -EINVAL);
    sbx_disconnect(c);
}

Test(daemon, kill)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_client_error err;
    cr_assert_eq(sbx_load(c, module, sizeof(module), NULL, id, NULL, &err), 0, "%s", err.message);

    struct sbx_spawn_options o = SBX_SPAWN_OPTIONS_INIT;
    o.export_name = "spin";
    uint64_t wid;
    cr_assert_eq(sbx_spawn(c, id, &o, &wid, NULL, &err), 0, "%s", err.message);
    struct sbx_outcome out;
    cr_assert_eq(sbx_wait(c, wid, 50, &out, &err), -ETIMEDOUT, "%s", err.message);
    cr_assert_eq(sbx_kill(c, wid, &err), 0, "%s", err.message);
    cr_assert_eq(sbx_wait(c, wid, 10000, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.kind, SBX_OUTCOME_KILLED, "%s", sbx_outcome_kind_name(out.kind));
    cr_assert(out.by_request);

    sbx_disconnect(c);
}

Test(daemon, keep_alive_calls)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_client_error err;
    cr_assert_eq(sbx_load(c, module, sizeof(module), NULL, id, NULL, &err), 0, "%s", err.message);
    struct sbx_spawn_options o;
    uint64_t wid;
    struct sbx_outcome out;
    /* The spawn runs add once; the instance then serves calls. */
    struct sbx_value a[2] = {{.type = SBX_VALUE_I32, .u.i32 = 1},
                             {.type = SBX_VALUE_I32, .u.i32 = 2}};
    sbx_spawn_options_init(&o);
    o.export_name = "add";
    o.args = a;
    o.nargs = 2;
    o.keep_alive = true;
    int rc = sbx_spawn(c, id, &o, &wid, NULL, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    for (int i = 0; i < 3; i++) {
        a[0].u.i32 = i * 100;
        struct sbx_value res[2];
        size_t n;
        bool trapped;
        rc = sbx_call(c, wid, "add", a, 2, NULL, res, 2, &n, &trapped, NULL, &err);
        cr_assert_eq(rc, 0, "%d %s", rc, err.message);
        cr_assert_not(trapped);
        cr_assert_eq(n, 1);
        cr_assert_eq(res[0].u.i32, i * 100 + 2);
    }
    struct sbx_value d[2] = {{.type = SBX_VALUE_I32, .u.i32 = 1}, {.type = SBX_VALUE_I32}};
    struct sbx_trap trap;
    size_t n;
    bool trapped;
    cr_assert_eq(sbx_call(c, wid, "div", d, 2, NULL, NULL, 0, &n, &trapped, &trap, &err), 0, "%s",
                 err.message);
    cr_assert(trapped, "a trap in a call does not end the instance");
    cr_assert_eq(trap.kind, SBX_TRAP_KIND_INT_DIV_ZERO);
    struct sbx_value res[1];
    cr_assert_eq(sbx_call(c, wid, "add", a, 2, NULL, res, 1, &n, &trapped, NULL, &err), 0, "%s",
                 err.message);
    cr_assert_eq(sbx_kill(c, wid, &err), 0, "%s", err.message);
    cr_assert_eq(sbx_wait(c, SBX_ANY_WORKER, 10000, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.worker_id, wid);
    sbx_disconnect(c);
}

Test(daemon, errors_memfd_load_and_status)
{
    struct sbx_client *c = connect_or_fail();
    struct sbx_client_error err;
    uint64_t wid;
    int rc = sbx_spawn(c, "0000000000000000000000000000000000000000000000000000000000000000", NULL,
                       &wid, NULL, &err);
    cr_assert_eq(rc, -ENOENT, "%d %s", rc, err.message);
    cr_assert_eq(err.code, SBX_ERROR_UNKNOWN_MODULE);
    char id[SBX_MODULE_ID_SIZE];
    cr_assert_eq(sbx_load(c, "\0asm\x02\0\0\0", 8, NULL, id, NULL, &err), -ENOEXEC, "%s",
                 err.message);
    cr_assert_eq(err.code, SBX_ERROR_INVALID_MODULE);

    /* 200 KiB: the module plus a custom section, so it goes as a memfd. */
    size_t pad = 200 * 1024;
    size_t len = sizeof(module) + 1 + 3 + 2 + pad;
    unsigned char *big = malloc(len);
    cr_assert_not_null(big);
    memcpy(big, module, sizeof(module));
    unsigned char *p = big + sizeof(module);
    size_t body = 2 + pad; /* name length, name "x", payload */
    *p++ = 0x00;           /* custom section */
    *p++ = (unsigned char)(0x80 | (body & 0x7f));
    *p++ = (unsigned char)(0x80 | ((body >> 7) & 0x7f));
    *p++ = (unsigned char)(body >> 14);
    *p++ = 1;
    *p++ = 'x';
    memset(p, 0xab, pad);
    struct sbx_load_options lo = {.name = "big"};
    struct sbx_module_info *mi;
    rc = sbx_load(c, big, len, &lo, id, &mi, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    cr_assert_eq(mi->nexports, 4, "the server read the whole memfd");
    sbx_module_info_free(mi);
    free(big);
    struct sbx_outcome out;
    struct sbx_value add_args[2] = {{.type = SBX_VALUE_I32, .u.i32 = 5},
                                    {.type = SBX_VALUE_I32, .u.i32 = 6}};
    spawn_export(c, id, "add", add_args, 2, 0, &out);
    cr_assert_eq(out.results[0].u.i32, 11);

    struct sbx_status st;
    cr_assert_eq(sbx_status(c, &st, &err), 0, "%s", err.message);
    cr_assert_geq(st.total_modules, 1);
    cr_assert_gt(st.zygote_pid, 0);
    struct sbx_loaded_module mods[256];
    size_t nmods;
    uint32_t next;
    cr_assert_eq(sbx_list_modules(c, 0, mods, 256, &nmods, &next, &err), 0, "%s", err.message);
    bool found = false;
    for (size_t i = 0; i < nmods; i++)
        if (!strcmp(mods[i].module_id, id)) {
            found = true;
            cr_assert_str_eq(mods[i].name, "big");
            cr_assert_eq(mods[i].size_bytes, len);
        }
    cr_assert(found, "the memfd-loaded module is listed");
    cr_assert_eq(nmods, st.total_modules, "one page holds them all");
    cr_assert_eq(sbx_unload(c, id, false, &err), 0, "%s", err.message);
    sbx_disconnect(c);
}
