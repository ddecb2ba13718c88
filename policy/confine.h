/* Confining a worker: everything a forked worker gives up before any wasm
 * runs, in this order (sbx_confine_apply):
 *
 *   1. PR_SET_DUMPABLE 0    no core dump, no ptrace attach by its own uid,
 *                           /proc/PID owned by root
 *   2. rlimits              NOFILE, NPROC 0, CORE 0, FSIZE, CPU; never AS
 *   3. namespaces           setns into those prepared by the zygote (while
 *                           setns is still permitted: it needs CAP_SYS_ADMIN)
 *   4. identity and         the bounding and ambient sets emptied; then, as
 *      capabilities         root, the unprivileged SBX_CONFINE_WORKER_UID/
 *                           GID with no supplementary group (identity.c);
 *                           then inheritable, permitted and effective
 *                           emptied (also what a user namespace granted in
 *                           step 3)
 *   5. PR_SET_NO_NEW_PRIVS  nothing can grant privileges again
 *   6. seccomp              the filter, last, so that steps 1-5 may use
 *                           system calls the filter forbids
 *
 * The work is split around fork. sbx_confine_prepare runs in the zygote
 * before fork: it builds the seccomp filter with libseccomp and keeps it as
 * raw BPF, computes the rlimits, allocates the capability state and creates
 * the namespaces. sbx_confine_apply runs in the child and only makes system
 * calls: no allocation, no file opened. The worker must already have closed
 * every fd it does not keep and installed its signal handlers (SIGSEGV,
 * SIGBUS, and the SIGSYS handler of sbx_confine_set_violation_hook).
 *
 * Contract: 0 or -1 (pid_t -1 for sbx_confine_fork) with `err` filled. */
#ifndef SBX_POLICY_CONFINE_H
#define SBX_POLICY_CONFINE_H

#include <linux/filter.h>
#include <sys/types.h>

#include "proto/sbx.pb-c.h"

/* Exit status of a worker stopped by the seccomp filter after its violation
 * hook ran: 128 + SIGSYS, what a shell shows for a death by SIGSYS. */
#define SBX_CONFINE_EXIT_VIOLATION 159

/* Who a worker of a root zygote becomes (step 4): the kernel's overflow
 * ids, "nobody" and "nogroup" on Debian, owners of nothing. Not for a
 * policy with a user namespace, whose uid 0 stands for the zygote's. */
#define SBX_CONFINE_WORKER_UID 65534
#define SBX_CONFINE_WORKER_GID 65534

/* The steps of sbx_confine_apply, for sbx_confine_apply_steps (the bench
 * times them one at a time). Whatever the mask, they run in this order. */
enum sbx_confine_step {
    SBX_CONFINE_DUMPABLE = 1u << 0,
    SBX_CONFINE_RLIMITS = 1u << 1,
    SBX_CONFINE_NAMESPACES = 1u << 2,
    SBX_CONFINE_CAPS = 1u << 3,
    SBX_CONFINE_NO_NEW_PRIVS = 1u << 4,
    SBX_CONFINE_SECCOMP = 1u << 5,
    SBX_CONFINE_IDENTITY = 1u << 6, /* step 4, between the two halves of CAPS */
    SBX_CONFINE_ALL = (1u << 7) - 1,
};

struct sbx_confine_error {
    const char *step; /* "seccomp", "namespaces", ...; static */
    const char *call; /* the failing call, e.g. "setns(net)"; static */
    int errnum;       /* errno of that call, 0 if none */
    char msg[512];    /* sbx_confine_prepare only: what failed and what to do */
};

struct sbx_confine;

/* In the zygote, before fork: everything the child's steps need. With
 * namespaces this forks a short-lived helper that creates them, so prepare
 * once per policy and reuse the result for every fork. An unavailable
 * namespace fails with a message naming it and the remedy, unless the
 * policy marks it optional: then it is skipped (sbx_confine_degraded). */
int sbx_confine_prepare(const Sbx__Policy *policy, struct sbx_confine **out,
                        struct sbx_confine_error *err);

/* Empties the calling process's capability bounding set, for a process
 * that forks workers and never executes anything (the zygote): they
 * inherit the empty set, and sbx_confine_apply then skips that step, its
 * most expensive one. The effective and permitted sets are untouched.
 * 0, or -errno. A process without CAP_SETPCAP has nothing to do: 0. */
int sbx_confine_drop_bounding(void);

/* The zygote's own reduced seccomp profile (zygote_filter.c): everything
 * but program execution, sockets, ptrace and kernel extensions, which fail
 * with EPERM; also sets no_new_privs. For the zygote once it is set up;
 * its workers inherit the filter under their own. 0, or -1 with err. */
int sbx_confine_zygote(struct sbx_confine_error *err);

/* fork(), plus the pid namespace when the policy wants one: each worker is
 * pid 1 of a namespace of its own, which has to be chosen before the fork.
 * In such a worker getpid() is 1 and getppid() is 0. */
pid_t sbx_confine_fork(const struct sbx_confine *c, struct sbx_confine_error *err);

/* In the forked child: every step. Makes no allocation. */
int sbx_confine_apply(const struct sbx_confine *c, struct sbx_confine_error *err);

/* The steps of `steps` (enum sbx_confine_step), in the order above. */
int sbx_confine_apply_steps(const struct sbx_confine *c, unsigned steps,
                            struct sbx_confine_error *err);

/* The fds the child needs until apply has run (the namespaces it joins),
 * at most max into out; returns how many. A child that closes every fd it
 * does not need keeps these, and may close them after apply. */
size_t sbx_confine_fds(const struct sbx_confine *c, int *out, size_t max);

/* Namespaces the policy marked optional and prepare could not create, as
 * bits 1 << i in the proto's order (user, pid, net, ipc, uts, mount). */
unsigned sbx_confine_degraded(const struct sbx_confine *c);

/* The seccomp program apply installs (for tests and inspection). */
const struct sock_fprog *sbx_confine_filter(const struct sbx_confine *c);

/* Warm-worker templates (zygote/worker_template.c). A template is a worker
 * that never runs guest code: it forks the warm workers of its module and
 * policy, which so inherit its instance and its whole confinement instead
 * of each building and installing their own.
 *
 * sbx_confine_prepare_template, in the zygote: the template's filter, the
 * policy's plus exactly the calls the template and its children use to
 * fork (seccomp_rules.c: clone as a sibling, dup2 onto the channel fd,
 * prctl PDEATHSIG to SIGKILL and NAME, prlimit64 of its own RLIMIT_NPROC);
 * once per confinement. EINVAL for a policy with a pid namespace: its
 * worker is pid 1 there and cannot fork a sibling.
 * sbx_confine_apply_template, in the template: sbx_confine_apply with that
 * filter, keeping RLIMIT_NPROC (it forks). sbx_confine_seal, in each of its
 * children before anything else: RLIMIT_NPROC 0, which makes the kernel
 * refuse its clone (EAGAIN), so that the calls it keeps are harmless to it
 * (docs/security.md). Where that does not hold, because the child's uid is
 * 0 (a root zygote with a user-namespace policy, or one without
 * CAP_SETUID) or sbx cannot tell (outside the initial user namespace), the
 * template's filter also allows seccomp, and the child installs a filter
 * that takes those calls away again (policy/seal_filter.c; SIGSYS, like
 * any other forbidden call): it then has exactly a worker's calls. */
int sbx_confine_prepare_template(struct sbx_confine *c, struct sbx_confine_error *err);
int sbx_confine_apply_template(const struct sbx_confine *c, struct sbx_confine_error *err);
int sbx_confine_seal(const struct sbx_confine *c, struct sbx_confine_error *err);

/* Releases the filter and the namespace fds (the zygote's copy; children
 * keep their own). NULL is fine. */
void sbx_confine_free(struct sbx_confine *c);

/* "step: call: strerror" or the prepare message, into buf. */
const char *sbx_confine_error_text(const struct sbx_confine_error *err, char *buf, size_t size);

/* -- Violations -- */

/* Installs a SIGSYS handler (SA_SIGINFO, on the alternate stack if one is
 * set) for the filter's SECCOMP_RET_TRAP: it calls hook(si_syscall), -1 for
 * a SIGSYS that did not come from the filter, then _exit(
 * SBX_CONFINE_EXIT_VIOLATION). The hook runs in a signal handler: it must
 * be async-signal-safe and may only use allowed system calls (write or
 * sendmsg a pre-built report). hook may be NULL. Call before apply. */
int sbx_confine_set_violation_hook(void (*hook)(int syscall_nr));

/* The x86-64 name of a system call ("openat"), or NULL if it has none.
 * Not for signal handlers: the first call builds a table. */
const char *sbx_syscall_name(int nr);

#endif
