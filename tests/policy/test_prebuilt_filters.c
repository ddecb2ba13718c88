/* The seccomp filters prebuilt at build time (policy/gen_filters.c) are
 * what libseccomp makes on this machine, instruction for instruction, and
 * they are what sbx installs. A stale or mis-generated table would give
 * workers or the zygote a filter that no longer matches the rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/confine_internal.h"

static void assert_same(const struct sock_fprog *pre, const struct sock_fprog *made,
                        const char *what)
{
    cr_assert_not_null(pre, "%s: not prebuilt", what);
    cr_assert_eq(pre->len, made->len, "%s: %u prebuilt instructions, libseccomp makes %u", what,
                 pre->len, made->len);
    for (unsigned i = 0; i < made->len; i++)
        cr_assert(!memcmp(&pre->filter[i], &made->filter[i], sizeof made->filter[i]),
                  "%s: instruction %u differs", what, i);
}

Test(prebuilt_filters, worker_filter_for_every_group_set)
{
    struct sbx_confine_error err;
    for (unsigned m = 0; m < 1u << CONFINE_MAX_GROUP; m += 2) {
        struct sock_fprog made;
        cr_assert_eq(confine_generate_filter(m, &made, &err), 0);
        char what[32];
        snprintf(what, sizeof what, "worker filter, groups 0x%x", m);
        assert_same(confine_prebuilt_worker_filter(m), &made, what);
        free(made.filter);
    }
    cr_assert_null(confine_prebuilt_worker_filter(1), "bit 0 is no group");
    cr_assert_null(confine_prebuilt_worker_filter(1u << CONFINE_MAX_GROUP));
}

Test(prebuilt_filters, zygote_filter)
{
    struct sbx_confine_error err;
    struct sock_fprog made;
    cr_assert_eq(confine_generate_zygote_filter(&made, &err), 0);
    assert_same(confine_prebuilt_zygote_filter(), &made, "zygote filter");
    free(made.filter);
}

/* confine_build_filter gives each policy the program of its group set: the
 * default one without groups, the sockets one when the policy opts in (a
 * wrong group mask would give the other). */
Test(prebuilt_filters, each_policy_gets_its_group_sets_program)
{
    Sbx__Policy p = SBX__POLICY__INIT;
    Sbx__SyscallPolicy sc = SBX__SYSCALL_POLICY__INIT;
    Sbx__SyscallGroup sockets = SBX__SYSCALL_GROUP__SYSCALL_GROUP_SOCKETS;
    struct sbx_confine_error err;
    for (int with_sockets = 0; with_sockets < 2; with_sockets++) {
        if (with_sockets) sc.n_allow = 1, sc.allow = &sockets, p.syscalls = &sc;
        struct sock_fprog got;
        cr_assert_eq(confine_build_filter(&p, &got, &err), 0);
        assert_same(confine_prebuilt_worker_filter(with_sockets ? 1u << sockets : 0), &got,
                    with_sockets ? "built, sockets" : "built, default");
        free(got.filter);
    }
}
