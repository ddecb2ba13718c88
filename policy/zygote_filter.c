/* The zygote's own, reduced profile. The zygote must compile code (map it
 * executable), fork, create namespaces and reap, so it cannot live under
 * the workers' allowlist; but once started it never needs the network, a
 * program to execute, another process to trace, or a kernel extension. A
 * denylist closes those, answered with EPERM rather than a kill: the
 * workers inherit this filter, and under the kernel's precedence their own
 * filter's SIGSYS (reported, naming the call) still wins over EPERM.
 * Before the denylist, a prefix (cache_prefix.c) decides nothing new; it
 * keeps the kernel from caching the zygote's allowances, which makes every
 * worker's filter install cheaper. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy/confine_internal.h"
#include "policy/seccomp_rules.h"

static const char *const denied[] = {
    /* no program is ever executed */
    "execve", "execveat",
    /* no network: the supervisor hands every socket in. Not accept or
     * accept4: a worker whose policy has the sockets group accepts on a
     * listener the host handed in, and the workers inherit this filter. */
    "socket", "connect", "bind", "listen",
    /* no other process is inspected or driven */
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    /* no kernel extension, key or filesystem change */
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "bpf",
    "perf_event_open", "add_key", "request_key", "keyctl", "mount", "umount2", "pivot_root",
    "chroot", "swapon", "swapoff", "reboot", "open_by_handle_at", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register"};

int confine_generate_zygote_denylist(struct sock_fprog *prog, struct sbx_confine_error *err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return confine_failf(err, "zygote", "seccomp_init", ENOMEM, "seccomp_init failed");
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    for (size_t i = 0; !rc && i < sizeof denied / sizeof denied[0]; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr != __NR_SCMP_ERROR) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
    }
    if (rc) {
        seccomp_release(ctx);
        return confine_failf(err, "zygote", "seccomp_rule_add", -rc, "cannot build the filter: %s",
                             strerror(-rc));
    }
    rc = confine_export_bpf(ctx, prog, err);
    seccomp_release(ctx);
    return rc;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static bool has(const int *v, size_t n, int x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x) return true;
    return false;
}

size_t confine_worker_unconditional_calls(int *nrs, size_t cap)
{
    size_t n = 0;
    for (int g = 0; g < CONFINE_MAX_GROUP; g++) {
        const struct seccomp_group *grp = g ? seccomp_opt_in_group(g) : &seccomp_default_group;
        for (size_t i = 0; grp && i < grp->n; i++) {
            int nr = grp->rules[i].nr;
            if (grp->rules[i].cond[0].op || nr < 0 || has(nrs, n, nr)) continue;
            if (n == cap) return cap + 1;
            nrs[n++] = nr;
        }
    }
    qsort(nrs, n, sizeof nrs[0], cmp_int);
    return n;
}

int confine_generate_zygote_filter(struct sock_fprog *prog, struct sbx_confine_error *err)
{
    int calls[256];
    size_t ncalls = confine_worker_unconditional_calls(calls, 256);
    if (ncalls > 256)
        return confine_failf(err, "zygote", "filter", E2BIG, "too many worker calls to cache");
    /* The prefix allows these outright, before the denylist: none of them
     * may be on it. */
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr != __NR_SCMP_ERROR && has(calls, ncalls, nr))
            return confine_failf(err, "zygote", "filter", EINVAL,
                                 "%s is denied to the zygote but allowed to workers", denied[i]);
    }
    struct sock_fprog deny;
    if (confine_generate_zygote_denylist(&deny, err)) return -1;
    struct sock_filter head[CONFINE_PREFIX_MAX];
    int nhead = confine_cache_prefix(calls, ncalls, head, CONFINE_PREFIX_MAX);
    size_t len = nhead > 0 ? (size_t)nhead + deny.len : 0;
    prog->filter = len && len <= BPF_MAXINSNS ? malloc(len * sizeof head[0]) : NULL;
    if (!prog->filter) {
        free(deny.filter);
        return confine_failf(err, "zygote", "filter", nhead < 0 ? -nhead : ENOMEM,
                             "cannot build the cache prefix");
    }
    memcpy(prog->filter, head, (size_t)nhead * sizeof head[0]);
    memcpy(prog->filter + nhead, deny.filter, deny.len * sizeof head[0]);
    prog->len = (unsigned short)len;
    free(deny.filter);
    return 0;
}

int sbx_confine_zygote(struct sbx_confine_error *err)
{
    memset(err, 0, sizeof *err);
    /* Prebuilt with the binary (libseccomp would take a good part of a
     * millisecond of every cold `sbx run`), else generated now. */
    struct sock_fprog made = {0};
    const struct sock_fprog *prog = confine_prebuilt_zygote_filter();
    if (!prog) {
        if (confine_generate_zygote_filter(&made, err)) return -1;
        prog = &made;
    }
    /* no_new_privs first: it is what lets a process without CAP_SYS_ADMIN
     * load a filter, and the zygote never executes anything anyway. */
    int rc = 0;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        rc = confine_fail(err, "zygote", "prctl(PR_SET_NO_NEW_PRIVS)", errno);
    else if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog))
        rc = confine_fail(err, "zygote", "seccomp(SECCOMP_SET_MODE_FILTER)", errno);
    free(made.filter);
    return rc;
}
