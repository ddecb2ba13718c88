/* The zygote's filter: its cache prefix (policy/cache_prefix.c) changes
 * none of the zygote's decisions, and leaves exactly the calls workers may
 * make without an argument condition constant for the kernel's action
 * cache, which is what keeps a worker's filter install short.
 * The kernel's part is played by the interpreters of bpf_run.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "policy/confine_internal.h"
#include "policy/seccomp_rules.h"
#include "tests/policy/bpf_run.h"

static bool in(const int *v, size_t n, int x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x) return true;
    return false;
}

Test(zygote_filter, decides_as_the_denylist_alone)
{
    struct sbx_confine_error err;
    struct sock_fprog full, deny;
    cr_assert_eq(confine_generate_zygote_filter(&full, &err), 0, "%s", err.msg);
    cr_assert_eq(confine_generate_zygote_denylist(&deny, &err), 0, "%s", err.msg);
    const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386};
    const uint64_t args[] = {0, 1, 0xffffffffffffffffull};
    size_t denied = 0;
    for (size_t a = 0; a < 2; a++)
        for (int nr = 0; nr < NR_MAX; nr++)
            for (size_t v = 0; v < 3; v++) {
                struct seccomp_data d = {.nr = nr, .arch = arches[a]};
                for (int i = 0; i < 6; i++)
                    d.args[i] = args[v];
                uint32_t want = bpf_run(&deny, &d);
                cr_assert_eq(bpf_run(&full, &d), want, "nr %d arch 0x%x: 0x%x, the denylist 0x%x",
                             nr, arches[a], bpf_run(&full, &d), want);
                denied += want != SECCOMP_RET_ALLOW;
            }
    /* x32 numbers (bit 30) follow the denylist's rule as well. */
    struct seccomp_data x32 = {.nr = 0x40000000 | SYS_read, .arch = AUDIT_ARCH_X86_64};
    cr_assert_eq(bpf_run(&full, &x32), bpf_run(&deny, &x32));
    cr_assert_gt(denied, 0, "the denylist denies something (execve, socket...)");
    struct seccomp_data exec = {.nr = SYS_execve, .arch = AUDIT_ARCH_X86_64};
    cr_assert_eq(bpf_run(&full, &exec), SECCOMP_RET_ERRNO | EPERM);
    free(full.filter);
    free(deny.filter);
}

Test(zygote_filter, only_the_workers_unconditional_calls_are_constant)
{
    int calls[256];
    size_t n = confine_worker_unconditional_calls(calls, 256);
    cr_assert(n > 0 && n <= 256);
    cr_assert(in(calls, n, SYS_read) && in(calls, n, SYS_write) && in(calls, n, SYS_exit_group));
    cr_assert(in(calls, n, SYS_accept4), "an opt-in group's call counts");
    cr_assert(!in(calls, n, SYS_mmap), "mmap is allowed only without PROT_EXEC");
    struct sbx_confine_error err;
    struct sock_fprog full, deny;
    cr_assert_eq(confine_generate_zygote_filter(&full, &err), 0, "%s", err.msg);
    cr_assert_eq(confine_generate_zygote_denylist(&deny, &err), 0, "%s", err.msg);
    size_t constant = 0, was = 0;
    for (int nr = 0; nr < NR_MAX; nr++) {
        cr_assert_eq(bpf_constant_allow(&full, nr), in(calls, n, nr), "nr %d", nr);
        constant += bpf_constant_allow(&full, nr);
        was += bpf_constant_allow(&deny, nr);
    }
    cr_assert_eq(constant, n);
    /* What the prefix is for: without it, hundreds of numbers were
     * constant, and each worker install emulated its filter for all. */
    cr_assert_gt(was, 4 * n, "the denylist alone leaves %zu constant", was);
    free(full.filter);
    free(deny.filter);
}

/* Beneath the zygote's filter, a worker keeps every call its own filter
 * allows whatever the arguments in the action cache. */
Test(zygote_filter, workers_keep_their_cached_calls)
{
    struct sbx_confine_error err;
    struct sock_fprog zyg;
    cr_assert_eq(confine_generate_zygote_filter(&zyg, &err), 0, "%s", err.msg);
    for (unsigned m = 0; m < 1u << CONFINE_MAX_GROUP; m += 2) {
        struct sock_fprog w;
        cr_assert_eq(confine_generate_filter(m, &w, &err), 0, "%s", err.msg);
        for (int nr = 0; nr < NR_MAX; nr++)
            if (bpf_constant_allow(&w, nr))
                cr_assert(bpf_constant_allow(&zyg, nr), "groups 0x%x: nr %d no longer cached", m,
                          nr);
        free(w.filter);
    }
    free(zyg.filter);
}

Test(zygote_filter, prefix_rejects_bad_input)
{
    struct sock_filter out[CONFINE_PREFIX_MAX];
    const int unsorted[] = {3, 1}, dup[] = {1, 1};
    cr_assert_eq(confine_cache_prefix(unsorted, 2, out, CONFINE_PREFIX_MAX), -EINVAL);
    cr_assert_eq(confine_cache_prefix(dup, 2, out, CONFINE_PREFIX_MAX), -EINVAL);
    cr_assert_eq(confine_cache_prefix(dup, 0, out, CONFINE_PREFIX_MAX), -EINVAL);
    const int one[] = {0};
    cr_assert_eq(confine_cache_prefix(one, 1, out, 3), -E2BIG, "no room");
    int many[300];
    for (int i = 0; i < 300; i++)
        many[i] = i;
    cr_assert_eq(confine_cache_prefix(many, 300, out, CONFINE_PREFIX_MAX), -E2BIG,
                 "jumps beyond 255 instructions cannot be encoded");
}
