/* A warm worker forked by a template (zygote/worker_template.c) can do
 * nothing a worker cannot with what the template's filter adds to fork it
 * (a sibling clone, dup2 onto the channel, prctl PDEATHSIG to SIGKILL and
 * NAME, prlimit64 of its own RLIMIT_NPROC; seccomp where children seal).
 * Attacked from outside: `sbx_escape serve` (the daemon with the test-only
 * escape harness in its workers) runs spawns whose worker makes one such
 * call natively just before its wasm would run, as a module that broke out
 * of the JIT would. Cold workers and the zygote's warm ones end as a
 * policy violation naming the call. The template's children:
 *   - unsealed (real uid not 0: as root, SBX_CONFINE_WORKER_UID), the
 *     calls outside the template's rows end the same way, and those inside
 *     are refused by the kernel or change nothing: a sibling clone gets
 *     EAGAIN at RLIMIT_NPROC 0, raising that limit EPERM, and dup2 onto
 *     fd 3 can only put one of the worker's own fds there;
 *   - sealed (uid 0: a root daemon whose policy has a user namespace),
 *     every one ends as a violation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "tests/daemon/daemon_harness.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(template_escape, .fini = stop, .timeout = 120);

/* How a spawn must end: a violation naming `name`, or (name NULL) with
 * the harness's exit `code` (99: it worked, 100 + errno: refused), which
 * the supervisor reports as a worker that ended without a report. */
struct end {
    const char *name;
    int code;
};

static bool ended(const Sbx__Outcome *o, struct end want)
{
    if (want.name)
        return o->kind_case == SBX__OUTCOME__KIND_POLICY_VIOLATION &&
               !strcmp(o->policy_violation->syscall_name, want.name);
    char text[64];
    snprintf(text, sizeof text, "(exit status %d) without a report", want.code);
    return o->kind_case == SBX__OUTCOME__KIND_INTERNAL_ERROR &&
           strstr(o->internal_error->message, text);
}

static const char *describe(const Sbx__Outcome *o)
{
    static char text[300];
    switch (o->kind_case) {
    case SBX__OUTCOME__KIND_POLICY_VIOLATION:
        snprintf(text, sizeof text, "a violation of %s", o->policy_violation->syscall_name);
        break;
    case SBX__OUTCOME__KIND_INTERNAL_ERROR:
        snprintf(text, sizeof text, "%s", o->internal_error->message);
        break;
    default: snprintf(text, sizeof text, "outcome %d", o->kind_case);
    }
    return text;
}

/* Spawns "get": true if it ended as `want`, false if as `or` (when
 * or.name or or.code is set); anything else fails the test. */
static bool spawn_ends(int fd, const char *id, const char *op, struct end want, struct end or,
                       int i)
{
    hd_spawn(fd, id, "get", NULL, 0, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    const Sbx__Outcome *o = r->event->outcome;
    bool first = ended(o, want), second = !first && (or.name || or.code) && ended(o, or);
    cr_assert(first || second, "%s, spawn %d: %s", op, i, describe(o));
    sbx_ipc_free(&r->base);
    return first;
}

/* `op` in workers of a daemon started with `args`: cold and zygote-warm
 * ones end as a violation of `name`, the template's children as `tmpl`. */
static void attempt_with(const char *op, const char *name, struct end tmpl, const char *const *args)
{
    struct end violation = {name, 0};
    setenv("SBX_ESCAPE_TRY", op, 1);
    hd_start(&D, SBX_ESCAPE_EXE, args);
    unsetenv("SBX_ESCAPE_TRY");
    int fd = hd_connect(&D);
    size_t len;
    uint8_t *m = hd_module(0x71, 0, &len);
    char id[65];
    hd_load(fd, m, len, id);
    free(m);
    /* Two cold spawns; then warm workers, from the zygote until the
     * template runs, from either while both have some waiting, and in the
     * end from the template alone: every refill goes to it once it runs. */
    const struct end none = {NULL, 0};
    int i = 0, violations = 0;
    for (; i < 2; i++, violations++)
        spawn_ends(fd, id, op, violation, none, i);
    struct hd_status st;
    for (int k = 0; k < 500; k++, hd_sleep_ms(10)) {
        hd_status(fd, &st);
        if (st.warm_template_forks >= 2) break;
        if (st.warm_workers == 2) violations += spawn_ends(fd, id, op, violation, tmpl, i++);
    }
    cr_assert_geq(st.warm_template_forks, 2, "%s: no warm worker from the template", op);
    for (int seen = 0; seen < 4; i++) {
        cr_assert_lt(i, 30, "%s: only %d of %d spawns ended as a template's child", op, seen, i);
        bool as_tmpl = spawn_ends(fd, id, op, tmpl, violation, i);
        seen += as_tmpl;
        violations += !as_tmpl || tmpl.name;
    }
    hd_status(fd, &st);
    cr_assert_eq(st.policy_violations, (uint64_t)violations, "%s: %llu violations, %d expected", op,
                 (unsigned long long)st.policy_violations, violations);
    hd_stop(&D);
}

/* With the daemon's default policy the template's children are unsealed
 * in the initial user namespace, as CI runs: as root they become
 * SBX_CONFINE_WORKER_UID, otherwise they keep the test's uid. */
static void attempt(const char *op, const char *name, struct end tmpl)
{
    attempt_with(op, name, tmpl, NULL);
}

static void attempt_as_worker(const char *op, const char *name)
{
    attempt(op, name, (struct end){name, 0});
}

/* As root with a user-namespace policy, a worker stays uid 0 (inside, 0 is
 * the zygote's uid), which RLIMIT_NPROC does not stop: the template's
 * children seal themselves, and every call ends as a violation. */
static void attempt_sealed(const char *op, const char *name)
{
    if (geteuid() != 0) {
        fprintf(stderr, "template_escape: sealed children not tested: needs root\n");
        return;
    }
    char path[] = "/tmp/sbx-userns-policy-XXXXXX";
    int pf = mkstemp(path);
    cr_assert_geq(pf, 0);
    const char json[] = "{\"namespaces\": {\"user\": {\"enabled\": true}}}\n";
    cr_assert_eq(write(pf, json, sizeof json - 1), (ssize_t)sizeof json - 1);
    close(pf);
    const char *args[] = {"--policy", path, NULL};
    attempt_with(op, name, (struct end){name, 0}, args);
    unlink(path);
}

Test(template_escape, clone_as_a_sibling)
{
    attempt("clone_sibling", "clone", (struct end){NULL, 100 + EAGAIN});
}

Test(template_escape, dup2_onto_the_channel)
{
    attempt("dup2_channel", "dup2", (struct end){NULL, 99});
}

Test(template_escape, dup2_elsewhere)
{
    attempt_as_worker("dup2_elsewhere", "dup2");
}

Test(template_escape, prctl_pdeathsig)
{
    attempt_as_worker("prctl_pdeathsig", "prctl");
}

Test(template_escape, prlimit_nproc_raise)
{
    attempt("prlimit_nproc_raise", "prlimit64", (struct end){NULL, 100 + EPERM});
}

Test(template_escape, prlimit_nproc_of_the_zygote)
{
    attempt_as_worker("prlimit_nproc_parent", "prlimit64");
}

Test(template_escape, seccomp_filter)
{
    attempt_as_worker("seccomp_filter", "seccomp");
}

Test(template_escape, fork)
{
    attempt_as_worker("fork", "fork");
}

Test(template_escape, sealed_clone_as_a_sibling)
{
    attempt_sealed("clone_sibling", "clone");
}

Test(template_escape, sealed_dup2_onto_the_channel)
{
    attempt_sealed("dup2_channel", "dup2");
}

Test(template_escape, sealed_prlimit_nproc_raise)
{
    attempt_sealed("prlimit_nproc_raise", "prlimit64");
}

Test(template_escape, sealed_seccomp_filter)
{
    attempt_sealed("seccomp_filter", "seccomp");
}
