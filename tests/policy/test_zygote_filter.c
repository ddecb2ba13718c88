/* The zygote's filter: its cache prefix (policy/cache_prefix.c) changes
 * none of the zygote's decisions, and leaves exactly the calls workers may
 * make without an argument condition constant for the kernel's action
 * cache, which is what keeps a worker's filter install short.
 *
 * Two small interpreters of classic BPF stand in for the kernel: `run`
 * executes a program on given syscall data; `constant_allow` follows
 * seccomp_is_const_allow (kernel/seccomp.c), which emulates a program with
 * only the number and the architecture known and gives up at any other
 * load. Both fail the test on an instruction they do not know, so a
 * program that uses one cannot pass unexamined. */
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

#define NR_MAX 512 /* beyond every x86-64 call number */

static uint32_t load(const struct seccomp_data *d, uint32_t off)
{
    uint32_t v;
    cr_assert(off % 4 == 0 && off + 4 <= sizeof *d, "load at %u", off);
    memcpy(&v, (const char *)d + off, 4);
    return v;
}

/* A conditional jump's outcome, or -1 for an instruction that is not one. */
static int cond(uint16_t code, uint32_t a, uint32_t k)
{
    switch (code) {
    case BPF_JMP | BPF_JEQ | BPF_K: return a == k;
    case BPF_JMP | BPF_JGE | BPF_K: return a >= k;
    case BPF_JMP | BPF_JGT | BPF_K: return a > k;
    case BPF_JMP | BPF_JSET | BPF_K: return (a & k) != 0;
    default: return -1;
    }
}

static uint32_t run(const struct sock_fprog *p, const struct seccomp_data *d)
{
    uint32_t a = 0;
    for (unsigned pc = 0; pc < p->len; pc++) {
        const struct sock_filter *f = &p->filter[pc];
        int c = cond(f->code, a, f->k);
        if (c >= 0)
            pc += c ? f->jt : f->jf;
        else if (f->code == (BPF_LD | BPF_W | BPF_ABS))
            a = load(d, f->k);
        else if (f->code == (BPF_JMP | BPF_JA))
            pc += f->k;
        else if (f->code == (BPF_ALU | BPF_AND | BPF_K))
            a &= f->k;
        else if (f->code == (BPF_RET | BPF_K))
            return f->k;
        else
            cr_assert_fail("instruction %u: unknown code 0x%x", pc, f->code);
    }
    cr_assert_fail("the program runs off its end");
    return 0;
}

static bool constant_allow(const struct sock_fprog *p, int nr)
{
    uint32_t a = 0;
    for (unsigned pc = 0; pc < p->len; pc++) {
        const struct sock_filter *f = &p->filter[pc];
        int c = cond(f->code, a, f->k);
        if (c >= 0) {
            pc += c ? f->jt : f->jf;
        } else if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
            if (f->k == offsetof(struct seccomp_data, nr))
                a = (uint32_t)nr;
            else if (f->k == offsetof(struct seccomp_data, arch))
                a = AUDIT_ARCH_X86_64;
            else
                return false; /* an argument: not constant */
        } else if (f->code == (BPF_JMP | BPF_JA)) {
            pc += f->k;
        } else if (f->code == (BPF_ALU | BPF_AND | BPF_K)) {
            a &= f->k;
        } else if (f->code == (BPF_RET | BPF_K)) {
            return f->k == SECCOMP_RET_ALLOW;
        } else {
            return false; /* the kernel gives up too */
        }
    }
    cr_assert_fail("the program runs off its end");
    return false;
}

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
                uint32_t want = run(&deny, &d);
                cr_assert_eq(run(&full, &d), want, "nr %d arch 0x%x: 0x%x, the denylist 0x%x", nr,
                             arches[a], run(&full, &d), want);
                denied += want != SECCOMP_RET_ALLOW;
            }
    /* x32 numbers (bit 30) follow the denylist's rule as well. */
    struct seccomp_data x32 = {.nr = 0x40000000 | SYS_read, .arch = AUDIT_ARCH_X86_64};
    cr_assert_eq(run(&full, &x32), run(&deny, &x32));
    cr_assert_gt(denied, 0, "the denylist denies something (execve, socket...)");
    struct seccomp_data exec = {.nr = SYS_execve, .arch = AUDIT_ARCH_X86_64};
    cr_assert_eq(run(&full, &exec), SECCOMP_RET_ERRNO | EPERM);
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
        cr_assert_eq(constant_allow(&full, nr), in(calls, n, nr), "nr %d", nr);
        constant += constant_allow(&full, nr);
        was += constant_allow(&deny, nr);
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
            if (constant_allow(&w, nr))
                cr_assert(constant_allow(&zyg, nr), "groups 0x%x: nr %d no longer cached", m, nr);
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
