/* The filters of warm-worker templates (policy/confine.h): the template's
 * adds to a worker's exactly the calls it and its children use to fork and
 * seal, with their arguments; the seal takes those away again; and a
 * child, with both stacked, decides every call exactly as a worker does.
 * The kernel's part is played by the interpreters of bpf_run.h. */
#include <criterion/criterion.h>
#include <linux/audit.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "policy/confine_internal.h"
#include "policy/seccomp_rules.h"
#include "tests/policy/bpf_run.h"

#define FORK_FLAGS (CLONE_PARENT | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)

struct filters {
    struct sock_fprog worker, tmpl;
};

static struct filters make(unsigned groups)
{
    struct filters f;
    struct sbx_confine_error err;
    cr_assert_eq(confine_generate_filter(groups, &f.worker, &err), 0, "%s", err.msg);
    cr_assert_eq(confine_generate_filter_with(groups, &seccomp_template_group, &f.tmpl, &err), 0,
                 "%s", err.msg);
    return f;
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
        bool allowed;
    } cases[] = {
        {SYS_clone, FORK_FLAGS, 0, true},
        {SYS_clone, SIGCHLD, 0, false}, /* a plain fork */
        {SYS_clone, FORK_FLAGS | CLONE_VM, 0, false},
        {SYS_dup2, 7, 3, true},
        {SYS_dup2, 7, 4, false},
        {SYS_prctl, PR_SET_PDEATHSIG, 0, true},
        {SYS_prctl, PR_SET_NAME, 0, true},
        {SYS_prctl, PR_SET_DUMPABLE, 1, false},
        {SYS_prlimit64, 0, RLIMIT_NPROC, true},
        {SYS_prlimit64, 0, RLIMIT_NOFILE, false},
        {SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, true},
        {SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, false},
        {SYS_clone3, 0, 0, false},
        {SYS_fork, 0, 0, false},
        {SYS_execve, 0, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got = decide(&f.tmpl, cases[i].nr, cases[i].a0, cases[i].a1);
        cr_assert_eq(got == SECCOMP_RET_ALLOW, cases[i].allowed, "case %zu (nr %d): 0x%x", i,
                     cases[i].nr, got);
        cr_assert_eq(decide(&f.worker, cases[i].nr, cases[i].a0, cases[i].a1), SECCOMP_RET_TRAP,
                     "case %zu: a worker may make it", i);
    }
    free(f.worker.filter);
    free(f.tmpl.filter);
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

/* The property the design rests on: template filter and seal stacked
 * decide every call, with arguments that meet each condition of either,
 * exactly as the worker's filter alone. For each group set. */
Test(template_filter, sealed_is_exactly_a_worker)
{
    const uint64_t values[] = {0,
                               1,
                               3,
                               4,
                               SIGCHLD,
                               FORK_FLAGS,
                               RLIMIT_NPROC,
                               PR_SET_PDEATHSIG,
                               PR_SET_NAME,
                               SECCOMP_SET_MODE_FILTER,
                               0xffffffffffffffffull};
    const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386};
    for (unsigned groups = 0; groups < 1u << CONFINE_MAX_GROUP; groups += 2) {
        struct filters f = make(groups);
        for (size_t a = 0; a < 2; a++)
            for (int nr = 0; nr < NR_MAX; nr++)
                for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
                    for (size_t j = 0; j < sizeof values / sizeof values[0]; j++) {
                        struct seccomp_data d = {.nr = nr, .arch = arches[a]};
                        for (int k = 0; k < 6; k++)
                            d.args[k] = k % 2 ? values[j] : values[i];
                        uint32_t want = bpf_run(&f.worker, &d);
                        uint32_t got =
                            bpf_stacked(bpf_run(&f.tmpl, &d), bpf_run(confine_seal_filter(), &d));
                        cr_assert_eq(got, want, "groups %u arch 0x%x nr %d args 0x%llx 0x%llx",
                                     groups, arches[a], nr, (unsigned long long)values[i],
                                     (unsigned long long)values[j]);
                    }
        free(f.worker.filter);
        free(f.tmpl.filter);
    }
}
