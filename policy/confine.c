/* sbx_confine_prepare and sbx_confine_apply: the worker's privilege drop,
 * prepared in the zygote and applied in the child. The steps of apply are
 * listed in confine.h; each is one function here, each gives something up
 * and says why. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "policy/confine_internal.h"
#include "policy/seccomp_rules.h"

int confine_failf(struct sbx_confine_error *err, const char *step, const char *call, int errnum,
                  const char *fmt, ...)
{
    if (!err) return -1;
    err->step = step;
    err->call = call;
    err->errnum = errnum;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

const char *sbx_confine_error_text(const struct sbx_confine_error *err, char *buf, size_t size)
{
    if (err->msg[0])
        snprintf(buf, size, "%s: %s", err->step, err->msg);
    else
        snprintf(buf, size, "%s: %s: %s", err->step, err->call,
                 err->errnum ? strerror(err->errnum) : "failed");
    return buf;
}

/* -- Prepare (zygote, before fork) -- */

/* A limit never above the current hard limit: lowering needs no privilege,
 * raising would need CAP_SYS_RESOURCE and is not what a policy is for. */
static void set_rlimit(struct confine_rlimit *r, int resource, const char *call, rlim_t soft,
                       rlim_t hard)
{
    struct rlimit cur;
    if (getrlimit(resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
        if (hard > cur.rlim_max) hard = cur.rlim_max;
        if (soft > hard) soft = hard;
    }
    r->resource = resource;
    r->call = call;
    r->lim.rlim_cur = soft;
    r->lim.rlim_max = hard;
}

static void prepare_rlimits(const Sbx__PolicyLimits *l, struct sbx_confine *c)
{
    set_rlimit(&c->rlimits[0], RLIMIT_NOFILE, "setrlimit(RLIMIT_NOFILE)", l->max_open_fds,
               l->max_open_fds);
    /* No new processes: fork is also forbidden by seccomp; this holds even
     * for a call the filter lets through by mistake. */
    set_rlimit(&c->rlimits[1], RLIMIT_NPROC, "setrlimit(RLIMIT_NPROC)", 0, 0);
    set_rlimit(&c->rlimits[2], RLIMIT_CORE, "setrlimit(RLIMIT_CORE)", 0, 0);
    set_rlimit(&c->rlimits[3], RLIMIT_FSIZE, "setrlimit(RLIMIT_FSIZE)", l->max_output_bytes,
               l->max_output_bytes);
    /* SIGXCPU at the soft limit, SIGKILL a second later at the hard one. */
    set_rlimit(&c->rlimits[4], RLIMIT_CPU, "setrlimit(RLIMIT_CPU)", l->cpu_seconds,
               l->cpu_seconds + 1);
    /* Never RLIMIT_AS: every memory slot reserves 6 GiB of address space. */
}

/* The bounding set is inherited by fork: once the zygote has emptied its
 * own (sbx_confine_drop_bounding), a child has nothing to drop. */
static bool bounding_set_empty(int cap_last)
{
    for (int cap = 0; cap <= cap_last; cap++)
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0) return false;
    return true;
}

int sbx_confine_drop_bounding(void)
{
    if (!confine_effective_cap(CAP_SETPCAP))
        return 0; /* cannot, and holds nothing the set would grant */
    int last = (int)cap_max_bits() - 1;
    for (int cap = 0; cap <= last; cap++)
        if (cap_drop_bound((cap_value_t)cap)) return -errno;
    return 0;
}

static int prepare_caps(struct sbx_confine *c, struct sbx_confine_error *err)
{
    c->no_caps = cap_init(); /* every flag of every capability clear */
    if (!c->no_caps) return confine_failf(err, "caps", "cap_init", errno, "cap_init failed");
    c->cap_last = (int)cap_max_bits() - 1;
    /* PR_CAPBSET_DROP needs CAP_SETPCAP. A zygote without it (not root)
     * cannot shrink the bounding set; it then holds no capability to lose,
     * and no_new_privs with no execve keeps the bounding set from mattering. */
    c->drop_bounding = confine_effective_cap(CAP_SETPCAP) && !bounding_set_empty(c->cap_last);
    return 0;
}

int sbx_confine_prepare(const Sbx__Policy *policy, struct sbx_confine **out,
                        struct sbx_confine_error *err)
{
    *out = NULL;
    Sbx__Policy *p = NULL;
    struct sbx_policy_error perr;
    /* The policy is completed here so that an absent field can never mean
     * "unlimited" in the child. */
    if (sbx_policy_resolve(policy, &p, &perr))
        return confine_failf(err, "policy", "validate", EINVAL, "%s", perr.msg);
    struct sbx_confine *c = calloc(1, sizeof *c);
    if (!c) {
        sbx_policy_free(p);
        return confine_failf(err, "prepare", "calloc", ENOMEM, "out of memory");
    }
    for (int i = 0; i < POLICY_NNS; i++)
        c->ns.fd[i] = -1;
    c->ns.self_pid_fd = -1;
    prepare_rlimits(p->limits, c);
    int rc = prepare_caps(c, err);
    if (!rc) rc = confine_policy_groups(p, &c->groups, err);
    if (!rc) rc = confine_build_filter(p, &c->prog, err);
    if (!rc) rc = confine_ns_prepare(p, &c->ns, err);
    if (!rc) rc = confine_identity_prepare(&c->ns, &c->id, err);
    sbx_policy_free(p);
    if (rc) {
        sbx_confine_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void sbx_confine_free(struct sbx_confine *c)
{
    if (!c) return;
    free(c->prog.filter);
    free(c->template_prog.filter);
    if (c->no_caps) cap_free(c->no_caps);
    confine_identity_release(&c->id);
    confine_ns_release(&c->ns);
    free(c);
}

size_t sbx_confine_fds(const struct sbx_confine *c, int *out, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < POLICY_NNS; i++)
        if (c->ns.fd[i] >= 0 && n < max) out[n++] = c->ns.fd[i];
    return n;
}

unsigned sbx_confine_degraded(const struct sbx_confine *c)
{
    return c->ns.degraded;
}

const struct sock_fprog *sbx_confine_filter(const struct sbx_confine *c)
{
    return &c->prog;
}

int sbx_confine_prepare_template(struct sbx_confine *c, struct sbx_confine_error *err)
{
    if (c->ns.pid)
        return confine_failf(err, "template", "clone(CLONE_PARENT)", EINVAL,
                             "a worker that is pid 1 of its namespace cannot fork a sibling");
    if (c->template_prog.len) return 0;
    c->children_seal = confine_children_need_seal(&c->id);
    /* Generated here, once per policy, not built into the binary: only a
     * daemon's templates use it. */
    const struct seccomp_group *extra[] = {&seccomp_template_group, &seccomp_seal_group};
    return confine_generate_filter_with(c->groups, extra, c->children_seal ? 2 : 1,
                                        &c->template_prog, err);
}

/* -- Apply (the forked child): system calls only -- */

/* No core dump of the guest's memory, no ptrace attach by another process
 * of the same uid, and /proc/PID/{mem,environ,...} owned by root. */
static int step_dumpable(struct sbx_confine_error *err)
{
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
        return confine_fail(err, "dumpable", "prctl(PR_SET_DUMPABLE)", errno);
    return 0;
}

/* A template (sbx_confine_apply_template) keeps its RLIMIT_NPROC: it
 * forks, and only root is exempt from a limit of 0. Its children set it
 * when they seal themselves. */
static int step_rlimits(const struct sbx_confine *c, bool template, struct sbx_confine_error *err)
{
    for (int i = 0; i < CONFINE_NRLIMITS; i++)
        if (!(template && c->rlimits[i].resource == RLIMIT_NPROC) &&
            setrlimit(c->rlimits[i].resource, &c->rlimits[i].lim))
            return confine_fail(err, "rlimits", c->rlimits[i].call, errno);
    return 0;
}

/* Bounding set first (dropping it needs CAP_SETPCAP, which the identity
 * change and the last call remove), then ambient. The bounding set costs
 * one prctl per capability, each a credential commit: about 35 us of the
 * step's 40 on a 6.x kernel (bench/confine). */
static int step_caps_bounding(const struct sbx_confine *c, struct sbx_confine_error *err)
{
    if (c->drop_bounding)
        for (int cap = 0; cap <= c->cap_last; cap++)
            if (cap_drop_bound((cap_value_t)cap))
                return confine_fail(err, "caps", "prctl(PR_CAPBSET_DROP)", errno);
    /* One prctl, not libcap's cap_reset_ambient, which probes every
     * capability first (10 us). EINVAL: a kernel without ambient caps. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
        return confine_fail(err, "caps", "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", errno);
    return 0;
}

/* Permitted, effective and inheritable at once, after the identity change
 * (which needs CAP_SETUID and CAP_SETGID). */
static int step_caps_rest(const struct sbx_confine *c, struct sbx_confine_error *err)
{
    if (cap_set_proc(c->no_caps)) return confine_fail(err, "caps", "capset", errno);
    return 0;
}

/* From here on execve cannot grant anything (setuid bits, file caps), and
 * an unprivileged process may install a seccomp filter. */
static int step_no_new_privs(struct sbx_confine_error *err)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return confine_fail(err, "no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS)", errno);
    return 0;
}

/* Last: after this, only the allowlist. */
static int step_seccomp(const struct sock_fprog *prog, struct sbx_confine_error *err)
{
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog))
        return confine_fail(err, "seccomp", "seccomp(SECCOMP_SET_MODE_FILTER)", errno);
    return 0;
}

/* The steps in `steps`, with the template's filter and rlimits or the
 * worker's. */
static int apply(const struct sbx_confine *c, bool template, unsigned steps,
                 struct sbx_confine_error *err)
{
    const struct sock_fprog *prog = template ? &c->template_prog : &c->prog;
    if ((steps & SBX_CONFINE_DUMPABLE) && step_dumpable(err)) return -1;
    if ((steps & SBX_CONFINE_RLIMITS) && step_rlimits(c, template, err)) return -1;
    if ((steps & SBX_CONFINE_NAMESPACES) && confine_ns_join(&c->ns, err)) return -1;
    if ((steps & SBX_CONFINE_CAPS) && step_caps_bounding(c, err)) return -1;
    if ((steps & SBX_CONFINE_IDENTITY) && confine_identity_apply(&c->id, err)) return -1;
    if ((steps & SBX_CONFINE_CAPS) && step_caps_rest(c, err)) return -1;
    if ((steps & SBX_CONFINE_NO_NEW_PRIVS) && step_no_new_privs(err)) return -1;
    if ((steps & SBX_CONFINE_SECCOMP) && step_seccomp(prog, err)) return -1;
    return 0;
}

int sbx_confine_apply_steps(const struct sbx_confine *c, unsigned steps,
                            struct sbx_confine_error *err)
{
    return apply(c, false, steps, err);
}

int sbx_confine_apply(const struct sbx_confine *c, struct sbx_confine_error *err)
{
    return apply(c, false, SBX_CONFINE_ALL, err);
}

int sbx_confine_apply_template(const struct sbx_confine *c, struct sbx_confine_error *err)
{
    if (!c->template_prog.len)
        return confine_fail(err, "seccomp", "sbx_confine_prepare_template", EINVAL);
    return apply(c, true, SBX_CONFINE_ALL, err);
}

int sbx_confine_seal(const struct sbx_confine *c, struct sbx_confine_error *err)
{
    /* The limit the template kept: no new process, as for every worker. */
    const struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_NPROC, &none))
        return confine_fail(err, "rlimits", "setrlimit(RLIMIT_NPROC)", errno);
    return c->children_seal ? step_seccomp(confine_seal_filter(), err) : 0;
}
