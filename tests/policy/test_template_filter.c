/* The filters of warm-worker templates (policy/confine.h): the template's
 * adds to a worker's exactly the calls it and its children use to fork
 * (and, where the children seal themselves, to seal), with their
 * arguments, and nothing else; the seal takes those away again; and a
 * sealed child, with both stacked, decides every call exactly as a worker
 * does. The kernel's part is played by the interpreters of bpf_run.h. */
#include <criterion/criterion.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "policy/confine_internal.h"
#include "policy/seccomp_rules.h"
#include "tests/policy/bpf_run.h"

#define FORK_FLAGS (CLONE_PARENT | SIGCHLD)

/* A worker's filter; a template's whose children do not seal themselves;
 * and one whose children do. */
struct filters {
    struct sock_fprog worker, tmpl, sealing;
};

static struct filters make(unsigned groups)
{
    struct filters f;
    struct sbx_confine_error err;
    const struct seccomp_group *extra[] = {&seccomp_template_group, &seccomp_seal_group};
    cr_assert_eq(confine_generate_filter(groups, &f.worker, &err), 0, "%s", err.msg);
    cr_assert_eq(confine_generate_filter_with(groups, extra, 1, &f.tmpl, &err), 0, "%s", err.msg);
    cr_assert_eq(confine_generate_filter_with(groups, extra, 2, &f.sealing, &err), 0, "%s",
                 err.msg);
    return f;
}

static void release(struct filters *f)
{
    free(f->worker.filter);
    free(f->tmpl.filter);
    free(f->sealing.filter);
}

static uint32_t decide(const struct sock_fprog *p, int nr, uint64_t a0, uint64_t a1)
{
    struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64, .args = {a0, a1}};
    return bpf_run(p, &d);
}

Test(template_filter, adds_the_forking_calls_with_their_arguments_only)
{
    struct filters f = make(0);
    const struct {
        int nr;
        uint64_t a0, a1;
        bool allowed, sealing_allowed;
    } cases[] = {
        {SYS_clone, FORK_FLAGS, 0, true, true},
        {SYS_clone, SIGCHLD, 0, false, false}, /* a plain fork */
        {SYS_clone, FORK_FLAGS | CLONE_VM, 0, false, false},
        {SYS_dup2, 7, 3, true, true},
        {SYS_dup2, 7, 4, false, false},
        {SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, true, true},
        {SYS_prctl, PR_SET_PDEATHSIG, 0, false, false}, /* outliving the zygote */
        {SYS_prctl, PR_SET_PDEATHSIG, SIGTERM, false, false},
        {SYS_prctl, PR_SET_NAME, 0, true, true},
        {SYS_prctl, PR_SET_DUMPABLE, 1, false, false},
        {SYS_prlimit64, 0, RLIMIT_NPROC, true, true},
        {SYS_prlimit64, 1, RLIMIT_NPROC, false, false}, /* another process's */
        {SYS_prlimit64, 0, RLIMIT_NOFILE, false, false},
        {SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, false, true},
        {SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, false, false},
        {SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, false, false},
        {SYS_clone3, 0, 0, false, false},
        {SYS_fork, 0, 0, false, false},
        {SYS_execve, 0, 0, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got = decide(&f.tmpl, cases[i].nr, cases[i].a0, cases[i].a1);
        cr_assert_eq(got == SECCOMP_RET_ALLOW, cases[i].allowed, "case %zu (nr %d): 0x%x", i,
                     cases[i].nr, got);
        got = decide(&f.sealing, cases[i].nr, cases[i].a0, cases[i].a1);
        cr_assert_eq(got == SECCOMP_RET_ALLOW, cases[i].sealing_allowed,
                     "sealing, case %zu (nr %d): 0x%x", i, cases[i].nr, got);
        cr_assert_eq(decide(&f.worker, cases[i].nr, cases[i].a0, cases[i].a1), SECCOMP_RET_TRAP,
                     "case %zu: a worker may make it", i);
    }
    release(&f);
}

/* Whether one of the group's rows allows the call (its conditions are all
 * equalities). */
static bool group_allows(const struct seccomp_group *g, const struct seccomp_data *d)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct seccomp_rule *r = &g->rules[i];
        bool all = r->nr == (int)d->nr && d->arch == AUDIT_ARCH_X86_64;
        for (int k = 0; k < 2 && r->cond[k].op; k++) {
            cr_assert_eq(r->cond[k].op, SCMP_CMP_EQ, "nr %d: a condition this test cannot read",
                         r->nr);
            all = all && d->args[r->cond[k].arg] == r->cond[k].a;
        }
        if (all) return true;
    }
    return false;
}

static const uint64_t values[] = {0,
                                  1,
                                  3,
                                  4,
                                  SIGCHLD,
                                  SIGKILL,
                                  FORK_FLAGS,
                                  RLIMIT_NPROC,
                                  PR_SET_PDEATHSIG,
                                  PR_SET_NAME,
                                  SECCOMP_SET_MODE_FILTER,
                                  0xffffffffffffffffull};
#define NVALUES (sizeof values / sizeof values[0])
static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386};

/* Runs check on every call number, on both architectures, with arguments
 * that meet each condition of any filter here, for each group set. */
static void for_every_call(void (*check)(const struct filters *f, const struct seccomp_data *d))
{
    for (unsigned groups = 0; groups < 1u << CONFINE_MAX_GROUP; groups += 2) {
        struct filters f = make(groups);
        for (size_t a = 0; a < 2; a++)
            for (int nr = 0; nr < NR_MAX; nr++)
                for (size_t i = 0; i < NVALUES; i++)
                    for (size_t j = 0; j < NVALUES; j++) {
                        struct seccomp_data d = {.nr = nr, .arch = arches[a]};
                        for (int k = 0; k < 6; k++)
                            d.args[k] = k % 2 ? values[j] : values[i];
                        check(&f, &d);
                    }
        release(&f);
    }
}

#define CALL_FMT "arch 0x%x nr %d args 0x%llx 0x%llx"
#define CALL_ARGS(d)                                                                               \
    (d)->arch, (d)->nr, (unsigned long long)(d)->args[0], (unsigned long long)(d)->args[1]

static void unsealed_check(const struct filters *f, const struct seccomp_data *d)
{
    uint32_t want =
        group_allows(&seccomp_template_group, d) ? SECCOMP_RET_ALLOW : bpf_run(&f->worker, d);
    cr_assert_eq(bpf_run(&f->tmpl, d), want, CALL_FMT, CALL_ARGS(d));
}

/* What an unsealed child keeps: the template's filter decides every call
 * as the worker's does, except exactly the template's rows, which it
 * allows. */
Test(template_filter, unsealed_is_a_worker_plus_the_template_rows)
{
    for_every_call(unsealed_check);
}

Test(template_filter, the_seal_traps_exactly_its_calls)
{
    const struct sock_fprog *seal = confine_seal_filter();
    const int sealed[] = {SYS_clone, SYS_clone3, SYS_fork,    SYS_vfork,
                          SYS_dup2,  SYS_prctl,  SYS_seccomp, SYS_prlimit64};
    for (int nr = 0; nr < NR_MAX; nr++) {
        bool is_sealed = false;
        for (size_t i = 0; i < sizeof sealed / sizeof sealed[0]; i++)
            is_sealed |= sealed[i] == nr;
        struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64};
        cr_assert_eq(bpf_run(seal, &d), is_sealed ? SECCOMP_RET_TRAP : SECCOMP_RET_ALLOW, "nr %d",
                     nr);
        d.arch = AUDIT_ARCH_I386;
        cr_assert_eq(bpf_run(seal, &d), SECCOMP_RET_KILL_PROCESS, "i386 nr %d", nr);
    }
}

static void sealed_check(const struct filters *f, const struct seccomp_data *d)
{
    uint32_t got = bpf_stacked(bpf_run(&f->sealing, d), bpf_run(confine_seal_filter(), d));
    cr_assert_eq(got, bpf_run(&f->worker, d), CALL_FMT, CALL_ARGS(d));
}

/* The property the sealing design rests on: the sealing template's filter
 * and the seal stacked decide every call exactly as the worker's filter
 * alone. */
Test(template_filter, sealed_is_exactly_a_worker)
{
    for_every_call(sealed_check);
}
