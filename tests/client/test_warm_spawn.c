/* Warm workers through libsbx (sbx serve --warm, on by default): a worker
 * made before its spawn still gets that spawn's argv, environment and
 * stdout, each spawn its own, and the daemon's counters say a warm worker
 * ran it. args.wasm prints its argv and environ (tests/wasi/progs). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/client/real_daemon.h"

TestSuite(warm_spawn, .init = start_daemon, .fini = stop_daemon, .timeout = 60);

/* Runs args.wasm with argv and env; returns its stdout (caller frees). */
static char *run_args(struct sbx_client *c, const char *id, const char *const *argv, size_t argc,
                      const char *const *env, size_t nenv)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    struct sbx_spawn_options so = SBX_SPAWN_OPTIONS_INIT;
    so.argv = argv, so.argc = argc;
    so.env = env, so.nenv = nenv;
    so.stdout_fd = pipefd[1];
    struct sbx_client_error err;
    struct sbx_outcome o;
    uint64_t w;
    cr_assert_eq(sbx_spawn(c, id, &so, &w, NULL, &err), 0, "%s", err.message);
    close(pipefd[1]);
    cr_assert_eq(sbx_wait(c, w, 20000, &o, &err), 0, "%s", err.message);
    cr_assert_eq(o.kind, SBX_OUTCOME_EXITED, "outcome %d: %s", o.kind, o.message);
    cr_assert_eq(o.exit_code, 0);
    char *out = calloc(1, 8192);
    size_t n = 0;
    ssize_t r;
    while (n < 8191 && (r = read(pipefd[0], out + n, 8191 - n)) > 0)
        n += (size_t)r;
    close(pipefd[0]);
    return out;
}

static struct sbx_status status(struct sbx_client *c)
{
    struct sbx_status st;
    struct sbx_client_error err;
    cr_assert_eq(sbx_status(c, &st, &err), 0, "%s", err.message);
    return st;
}

/* Until a warm worker waits (made after the previous spawn ended). */
static void await_warm(struct sbx_client *c)
{
    for (int i = 0; i < 500; i++) {
        if (status(c).warm_workers > 0) return;
        usleep(10000);
    }
    cr_assert_fail("no warm worker after 5 s");
}

Test(warm_spawn, each_spawn_gets_its_own_argv_env_and_stdout)
{
    FILE *f = fopen(WASI_EXPECTED "/args.stdout", "r");
    cr_assert_not_null(f);
    char want[4096] = {0};
    size_t wn = fread(want, 1, sizeof want - 1, f);
    fclose(f);
    cr_assert_gt(wn, 0);

    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_client_error err;
    cr_assert_eq(sbx_load_file(c, WASI_PROGS "/args.wasm", NULL, id, NULL, &err), 0, "%s",
                 err.message);
    const char *argv[] = {"args.wasm", "a", "bc"}, *env[] = {"K=V"};
    const char *argv2[] = {"args.wasm", "x"}, *env2[] = {"A=1", "B=2"};
    uint64_t warm0 = status(c).counters.warm_spawns;
    for (int round = 0; round < 3; round++) {
        /* The module's first two spawns are cold (warm workers come after
         * its second); each later one finds a warm worker made after the
         * one before it. */
        if (round) await_warm(c);
        char *out = run_args(c, id, argv, 3, env, 1);
        cr_assert_str_eq(out, want, "round %d", round);
        free(out);
        if (round) await_warm(c);
        /* Another spawn with other argv and env: nothing of the last one. */
        out = run_args(c, id, argv2, 2, env2, 2);
        cr_assert_not_null(strstr(out, "argc 2 size 12\n"), "%s", out);
        cr_assert_not_null(strstr(out, "arg 1 'x' at +10\n"), "%s", out);
        cr_assert_not_null(strstr(out, "envc 2 size 8\n"), "%s", out);
        cr_assert_not_null(strstr(out, "env 1 'B=2'\n"), "%s", out);
        cr_assert_null(strstr(out, "'bc'"), "%s", out);
        free(out);
    }
    struct sbx_status st = status(c);
    cr_assert_geq(st.counters.warm_spawns - warm0, 4, "warm spawns: %llu of %llu",
                  (unsigned long long)(st.counters.warm_spawns - warm0),
                  (unsigned long long)st.counters.spawns);
    sbx_disconnect(c);
}
