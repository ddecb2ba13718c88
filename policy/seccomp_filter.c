/* Building a worker's seccomp filter with libseccomp and keeping it as raw
 * BPF, so that the forked child installs it with one system call and no
 * allocation. libseccomp 2.5.4 has no export to memory: the program goes
 * through a memfd. */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/confine_internal.h"
#include "policy/seccomp_rules.h"

#if !defined(__x86_64__) || defined(__ILP32__)
#error "the seccomp filter is written for x86-64 (LP64) only"
#endif

static int add_group(scmp_filter_ctx ctx, const struct seccomp_group *g,
                     struct sbx_confine_error *err)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct seccomp_rule *r = &g->rules[i];
        struct scmp_arg_cmp cmp[2];
        unsigned n = 0;
        for (unsigned k = 0; k < 2 && r->cond[k].op; k++, n++)
            cmp[k] = (struct scmp_arg_cmp){r->cond[k].arg, (enum scmp_compare)r->cond[k].op,
                                           r->cond[k].a, r->cond[k].b};
        int rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, r->nr, n, cmp);
        if (rc)
            return confine_failf(err, "seccomp", "seccomp_rule_add", -rc,
                                 "cannot add the rule for system call %d: %s", r->nr,
                                 strerror(-rc));
    }
    return 0;
}

int confine_export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog, struct sbx_confine_error *err)
{
    int fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return confine_failf(err, "seccomp", "memfd_create", errno,
                             "cannot export the filter: memfd_create: %s", strerror(errno));
    int rc = seccomp_export_bpf(ctx, fd);
    off_t size = rc ? -1 : lseek(fd, 0, SEEK_END);
    if (rc || size <= 0 || size % sizeof(struct sock_filter) ||
        size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter))) {
        close(fd);
        return confine_failf(err, "seccomp", "seccomp_export_bpf", rc ? -rc : EINVAL,
                             "cannot export the filter as BPF (%lld bytes)", (long long)size);
    }
    struct sock_filter *insns = malloc((size_t)size);
    ssize_t n = insns ? pread(fd, insns, (size_t)size, 0) : -1;
    close(fd);
    if (n != size) {
        free(insns);
        return confine_failf(err, "seccomp", "pread", insns ? EIO : ENOMEM,
                             "cannot read the exported filter back");
    }
    prog->filter = insns;
    prog->len = (unsigned short)(size / sizeof(struct sock_filter));
    return 0;
}

int confine_generate_filter(unsigned groups, struct sock_fprog *prog, struct sbx_confine_error *err)
{
    return confine_generate_filter_with(groups, NULL, 0, prog, err);
}

int confine_generate_filter_with(unsigned groups, const struct seccomp_group *const *extra,
                                 size_t nextra, struct sock_fprog *prog,
                                 struct sbx_confine_error *err)
{
    /* Unlisted calls trap (SIGSYS with si_syscall) so the worker can report
     * which; another architecture's calls (i386 via int 0x80) kill at once.
     * libseccomp's x86_64 filter also sends x32 numbers (bit 30) to the
     * bad-architecture action (tests/policy checks it). */
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) return confine_failf(err, "seccomp", "seccomp_init", ENOMEM, "seccomp_init failed");
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    /* A binary search over syscall numbers instead of a linear chain. */
    if (!rc) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc) {
        seccomp_release(ctx);
        return confine_failf(err, "seccomp", "seccomp_attr_set", -rc,
                             "cannot configure the filter: %s", strerror(-rc));
    }
    rc = add_group(ctx, &seccomp_default_group, err);
    for (int g = 1; !rc && g < CONFINE_MAX_GROUP; g++)
        if (groups & (1u << g)) rc = add_group(ctx, seccomp_opt_in_group(g), err);
    for (size_t i = 0; !rc && i < nextra; i++)
        rc = add_group(ctx, extra[i], err);
    if (!rc) rc = confine_export_bpf(ctx, prog, err);
    seccomp_release(ctx);
    return rc;
}

int confine_policy_groups(const Sbx__Policy *p, unsigned *groups, struct sbx_confine_error *err)
{
    *groups = 0;
    for (size_t i = 0; p->syscalls && i < p->syscalls->n_allow; i++) {
        int g = (int)p->syscalls->allow[i];
        if (g <= 0 || g >= CONFINE_MAX_GROUP || !seccomp_opt_in_group(g))
            return confine_failf(err, "seccomp", "policy", EINVAL,
                                 "syscalls.allow[%zu]: unknown group", i);
        *groups |= 1u << g;
    }
    return 0;
}

int confine_build_filter(const Sbx__Policy *p, struct sock_fprog *prog,
                         struct sbx_confine_error *err)
{
    unsigned groups;
    if (confine_policy_groups(p, &groups, err)) return -1;
    /* Built with the binary for every group set: libseccomp takes most of a
     * millisecond to build one, which a cold `sbx run` would pay. */
    const struct sock_fprog *pre = confine_prebuilt_worker_filter(groups);
    if (pre) {
        size_t bytes = pre->len * sizeof(struct sock_filter);
        prog->filter = malloc(bytes);
        if (!prog->filter) return confine_failf(err, "seccomp", "malloc", ENOMEM, "out of memory");
        memcpy(prog->filter, pre->filter, bytes);
        prog->len = pre->len;
        return 0;
    }
    return confine_generate_filter(groups, prog, err);
}
