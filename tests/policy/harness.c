/* The confined-child harness of tests/policy (harness.h). */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Records sent from the child; the pipe is the only channel it keeps. */
enum { REC_VIOLATION = 1, REC_RETURNED, REC_NOTE };
struct record {
    int kind;
    int nr;
    long ret;
    int err;
    char note[128];
};

static int report_fd = -1;

static void send_record(const struct record *rec)
{
    ssize_t n = write(report_fd, rec, sizeof *rec);
    (void)n;
}

/* The violation hook: async-signal-safe, one write. */
static void on_violation(int nr)
{
    struct record rec = {.kind = REC_VIOLATION, .nr = nr};
    send_record(&rec);
}

void child_exit(int code)
{
    syscall(SYS_exit_group, code);
    __builtin_unreachable();
}

void probe_note(const char *text)
{
    struct record rec = {.kind = REC_NOTE};
    strncpy(rec.note, text, sizeof rec.note - 1);
    send_record(&rec);
}

void run_probe(const Sbx__Policy *policy, void (*before)(void *), probe_fn fn, void *arg,
               struct probe_result *r)
{
    memset(r, 0, sizeof *r);
    r->violation = -2;
    Sbx__Policy *def = NULL;
    if (!policy) policy = def = sbx_policy_default();
    struct sbx_confine *c;
    struct sbx_confine_error err;
    char text[600];
    if (sbx_confine_prepare(policy, &c, &err))
        cr_assert_fail("prepare: %s", sbx_confine_error_text(&err, text, sizeof text));
    sbx_policy_free(def);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = sbx_confine_fork(c, &err);
    cr_assert_geq(pid, 0, "fork: %s", sbx_confine_error_text(&err, text, sizeof text));
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        if (before) before(arg);
        if (sbx_confine_set_violation_hook(on_violation)) child_exit(90);
        if (sbx_confine_apply(c, &err)) {
            probe_note(sbx_confine_error_text(&err, text, sizeof text));
            child_exit(91);
        }
        errno = 0;
        long ret = fn(arg);
        struct record rec = {.kind = REC_RETURNED, .ret = ret, .err = errno};
        send_record(&rec);
        child_exit(0);
    }
    close(p[1]);
    struct record rec;
    while (read(p[0], &rec, sizeof rec) == (ssize_t)sizeof rec) {
        if (rec.kind == REC_VIOLATION) r->violation = rec.nr;
        if (rec.kind == REC_RETURNED) r->returned = true, r->ret = rec.ret, r->err = rec.err;
        if (rec.kind == REC_NOTE) memcpy(r->note, rec.note, sizeof r->note);
    }
    close(p[0]);
    cr_assert_eq(waitpid(pid, &r->status, 0), pid);
    sbx_confine_free(c);
    if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 91)
        cr_assert_fail("apply failed in the child: %s", r->note);
}

void expect_violation(const struct probe_result *r, int nr)
{
    cr_assert(!r->returned, "the call returned %ld (errno %d): not stopped", r->ret, r->err);
    cr_assert(WIFEXITED(r->status) && WEXITSTATUS(r->status) == SBX_CONFINE_EXIT_VIOLATION,
              "wait status 0x%x, expected exit %d", r->status, SBX_CONFINE_EXIT_VIOLATION);
    cr_assert_eq(r->violation, nr, "hook reported %d (%s), expected %d (%s)", r->violation,
                 sbx_syscall_name(r->violation) ? sbx_syscall_name(r->violation) : "?", nr,
                 sbx_syscall_name(nr));
}
