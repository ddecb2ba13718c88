/* The prepared confinement: what sbx_confine_prepare computes in the
 * zygote and sbx_confine_apply only reads in the child. Internal. */
#ifndef SBX_POLICY_CONFINE_INTERNAL_H
#define SBX_POLICY_CONFINE_INTERNAL_H

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "policy/confine.h"
#include "policy/internal.h"

/* Indices into the namespace arrays: the proto's order (policy_ns_names). */
enum { NS_USER, NS_PID, NS_NET, NS_IPC, NS_UTS, NS_MOUNT };

struct confine_ns {
    int fd[POLICY_NNS]; /* namespace to join, -1 if none (never for pid) */
    bool pid;           /* sbx_confine_fork makes a pid namespace per worker */
    int self_pid_fd;    /* the zygote's own pid namespace, to return to */
    unsigned degraded;  /* optional namespaces skipped */
};

struct confine_rlimit {
    int resource;
    const char *call; /* "setrlimit(RLIMIT_NOFILE)" */
    struct rlimit lim;
};

#define CONFINE_NRLIMITS 5

/* identity.c: who the worker becomes (step 4 of apply). */
struct confine_identity {
    bool change; /* as root: become uid/gid, with no supplementary group */
    uid_t uid;
    gid_t gid;
    cap_t setid; /* CAP_SETUID and CAP_SETGID alone, for the fs ids */
};

struct sbx_confine {
    struct sock_fprog prog;          /* filter owned here */
    unsigned groups;                 /* the policy's opt-in syscall groups */
    struct sock_fprog template_prog; /* sbx_confine_prepare_template; len 0 until then */
    struct confine_rlimit rlimits[CONFINE_NRLIMITS];
    cap_t no_caps;      /* an empty capability state, for cap_set_proc */
    int cap_last;       /* highest capability the kernel knows */
    bool drop_bounding; /* we hold CAP_SETPCAP, so PR_CAPBSET_DROP works */
    struct confine_ns ns;
    struct confine_identity id;
    bool children_seal; /* a template's children install the seal (identity.c) */
};

/* seccomp_filter.c: the filter of a policy as raw BPF (prog->filter is
 * malloc'd): the prebuilt one for its syscall groups if the binary has it,
 * else generated now. */
int confine_build_filter(const Sbx__Policy *p, struct sock_fprog *prog,
                         struct sbx_confine_error *err);

/* ctx's program as raw BPF (prog->filter is malloc'd). libseccomp 2.5.4
 * has no export to memory: the program goes through a memfd. */
int confine_export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog, struct sbx_confine_error *err);

/* Opt-in syscall groups are bits 1 << g of a mask, g < CONFINE_MAX_GROUP
 * (the proto's SyscallGroup values; 0 is unspecified). */
#define CONFINE_MAX_GROUP 2

/* The worker filter for a group mask, generated with libseccomp now
 * (prog->filter is malloc'd); _with adds the rows of the nextra groups of
 * `extra`. */
int confine_generate_filter(unsigned groups, struct sock_fprog *prog,
                            struct sbx_confine_error *err);
struct seccomp_group;
int confine_generate_filter_with(unsigned groups, const struct seccomp_group *const *extra,
                                 size_t nextra, struct sock_fprog *prog,
                                 struct sbx_confine_error *err);

/* The policy's opt-in groups as a mask; -1 (err filled) for an unknown one. */
int confine_policy_groups(const Sbx__Policy *p, unsigned *groups, struct sbx_confine_error *err);

/* seal_filter.c: the program sbx_confine_seal installs. */
const struct sock_fprog *confine_seal_filter(void);

/* zygote_filter.c: the zygote's own filter, generated with libseccomp now
 * (prog->filter is malloc'd): the cache prefix (cache_prefix.c) for the
 * calls confine_worker_unconditional_calls lists, then the denylist, which
 * confine_generate_zygote_denylist makes alone. */
int confine_generate_zygote_filter(struct sock_fprog *prog, struct sbx_confine_error *err);
int confine_generate_zygote_denylist(struct sock_fprog *prog, struct sbx_confine_error *err);

/* The calls some worker policy allows whatever their arguments (every
 * group's rows without a condition), sorted: how many (cap + 1 if more
 * than cap). */
size_t confine_worker_unconditional_calls(int *nrs, size_t cap);

/* cache_prefix.c: writes to out (room for cap) a program head that allows
 * the sorted, distinct nrs outright on x86-64 and otherwise falls through,
 * past a load the kernel's action-cache emulation cannot follow, to the
 * program appended after it. Returns its length, or -EINVAL / -E2BIG. */
#define CONFINE_PREFIX_MAX 512 /* instructions (8-bit jumps bound it to some 200 calls) */
int confine_cache_prefix(const int *nrs, size_t n, struct sock_filter *out, size_t cap);

/* Filters generated at build time by policy/gen_filters.c from the
 * functions above (prebuilt_filters.c in the build tree): NULL for a mask
 * or filter the build did not make. The generator itself links
 * prebuilt_none.c, which has none. */
const struct sock_fprog *confine_prebuilt_worker_filter(unsigned groups);
const struct sock_fprog *confine_prebuilt_zygote_filter(void);

/* identity.c. prepare: as root, outside a user namespace of the policy's,
 * and able to (CAP_SETUID, CAP_SETGID), the worker becomes
 * SBX_CONFINE_WORKER_UID/GID. apply: that change, with what it resets
 * restored. children_need_seal: whether a template's children must seal
 * themselves, because RLIMIT_NPROC 0 would not stop their clone (the
 * kernel exempts uid 0, and sbx cannot see its uid as the kernel does
 * outside the initial user namespace). */
int confine_identity_prepare(const struct confine_ns *ns, struct confine_identity *id,
                             struct sbx_confine_error *err);
void confine_identity_release(struct confine_identity *id);
int confine_identity_apply(const struct confine_identity *id, struct sbx_confine_error *err);
bool confine_children_need_seal(const struct confine_identity *id);

/* Whether this process holds `cap` in its effective set. */
bool confine_effective_cap(cap_value_t cap);

/* namespaces.c */
int confine_ns_prepare(const Sbx__Policy *p, struct confine_ns *ns, struct sbx_confine_error *err);
int confine_ns_join(const struct confine_ns *ns, struct sbx_confine_error *err);
void confine_ns_release(struct confine_ns *ns);

/* Fills err for a failed system call in the child (no formatting). */
static inline int confine_fail(struct sbx_confine_error *err, const char *step, const char *call,
                               int errnum)
{
    if (err) {
        err->step = step;
        err->call = call;
        err->errnum = errnum;
        err->msg[0] = '\0';
    }
    return -1;
}

/* Fills err for a failure in prepare, with a formatted message. */
int confine_failf(struct sbx_confine_error *err, const char *step, const char *call, int errnum,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
