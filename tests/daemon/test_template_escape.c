/* A warm worker forked by a template (zygote/worker_template.c) has
 * exactly a worker's system calls: what the template's filter adds to fork
 * it (a sibling clone, dup2 onto the channel, prctl, prlimit64 of
 * RLIMIT_NPROC, seccomp) it seals off before it runs anything. Attacked
 * from outside: `sbx_escape serve` (the daemon with the test-only escape
 * harness in its workers) runs spawns whose worker makes one such call
 * natively just before its wasm would run, as a module that broke out of
 * the JIT would. Every spawn, cold, warm from the zygote and warm from the
 * template, must end as a policy violation naming the call. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/msg.h"
#include "tests/daemon/daemon_harness.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(template_escape, .fini = stop, .timeout = 120);

/* Spawns "get" and checks it ended as a violation of `name`. */
static void spawn_violates(int fd, const char *id, const char *op, const char *name, int i)
{
    hd_spawn(fd, id, "get", NULL, 0, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    const Sbx__Outcome *o = r->event->outcome;
    cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_POLICY_VIOLATION,
                 "%s, spawn %d: outcome %d, not a policy violation", op, i, o->kind_case);
    cr_assert_str_eq(o->policy_violation->syscall_name, name, "%s, spawn %d", op, i);
    sbx_ipc_free(&r->base);
}

static void attempt(const char *op, const char *name)
{
    setenv("SBX_ESCAPE_TRY", op, 1);
    hd_start(&D, SBX_ESCAPE_EXE, NULL);
    unsetenv("SBX_ESCAPE_TRY");
    int fd = hd_connect(&D);
    size_t len;
    uint8_t *m = hd_module(0x71, 0, &len);
    char id[65];
    hd_load(fd, m, len, id);
    free(m);
    /* Two cold spawns; then warm workers, from the zygote until the
     * template runs, from the template after. */
    int i = 0;
    for (; i < 2; i++)
        spawn_violates(fd, id, op, name, i);
    struct hd_status st;
    for (int k = 0; k < 500; k++, hd_sleep_ms(10)) {
        hd_status(fd, &st);
        if (st.warm_template_forks >= 2) break;
        if (st.warm_workers == 2) spawn_violates(fd, id, op, name, i++);
    }
    cr_assert_geq(st.warm_template_forks, 2, "%s: no warm worker from the template", op);
    /* Every worker waiting from now on is the template's. */
    for (int k = 0; k < 4; k++)
        spawn_violates(fd, id, op, name, i++);
    hd_status(fd, &st);
    cr_assert_eq(st.policy_violations, (uint64_t)i, "%s: %llu violations of %d spawns", op,
                 (unsigned long long)st.policy_violations, i);
    hd_stop(&D);
}

Test(template_escape, clone_as_a_sibling)
{
    attempt("clone_sibling", "clone");
}

Test(template_escape, dup2_onto_the_channel)
{
    attempt("dup2_channel", "dup2");
}

Test(template_escape, prctl_pdeathsig)
{
    attempt("prctl_pdeathsig", "prctl");
}

Test(template_escape, prlimit_nproc)
{
    attempt("prlimit_nproc", "prlimit64");
}

Test(template_escape, seccomp_filter)
{
    attempt("seccomp_filter", "seccomp");
}

Test(template_escape, fork)
{
    attempt("fork", "fork");
}
