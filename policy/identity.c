/* Who a worker is. A worker of a root zygote would otherwise be uid 0 with
 * no capabilities: still the owner of root's files and processes as far
 * as every uid check goes, and exempt from RLIMIT_NPROC, which the kernel
 * does not apply to uid 0. So, as root, each worker becomes an
 * unprivileged user (SBX_CONFINE_WORKER_UID/GID, no supplementary group)
 * before it drops its capabilities, the way nsjail and Chromium's setuid
 * sandbox never leave untrusted code running as root.
 *
 * Its file-system ids stay 0. A worker opens nothing (its filter has no
 * call that takes a path); they matter only for the fds the host gave it,
 * opened for it by the host or the broker as root, and for one call on
 * them: futimens, which needs the file's owner. With them, a guest's
 * fd_filestat_set_times on a file it created through the broker works as
 * it did for a root worker; without capabilities they override nothing.
 * Signals, RLIMIT_NPROC and ptrace go by the real and effective ids; the
 * fs ids count besides only in access checks on /proc files and keys,
 * which a worker cannot open or call.
 *
 * A policy with a user namespace keeps the zygote's uid: inside, only uid
 * 0 is mapped (namespaces.c), and it stands for the zygote's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy/confine_internal.h"

bool confine_effective_cap(cap_value_t cap)
{
    cap_t now = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    if (now) cap_get_flag(now, cap, CAP_EFFECTIVE, &v);
    cap_free(now);
    return v == CAP_SET;
}

int confine_identity_prepare(const struct confine_ns *ns, struct confine_identity *id,
                             struct sbx_confine_error *err)
{
    /* Without CAP_SETUID and CAP_SETGID (a container that took them), the
     * change would fail in every worker: it keeps the zygote's uid, and a
     * template's children then seal themselves (confine_children_need_seal). */
    id->change = geteuid() == 0 && ns->fd[NS_USER] < 0 && confine_effective_cap(CAP_SETUID) &&
                 confine_effective_cap(CAP_SETGID);
    id->uid = SBX_CONFINE_WORKER_UID;
    id->gid = SBX_CONFINE_WORKER_GID;
    id->setid = NULL;
    if (!id->change) return 0;
    const cap_value_t both[] = {CAP_SETUID, CAP_SETGID};
    id->setid = cap_init();
    if (!id->setid || cap_set_flag(id->setid, CAP_PERMITTED, 2, both, CAP_SET) ||
        cap_set_flag(id->setid, CAP_EFFECTIVE, 2, both, CAP_SET))
        return confine_failf(err, "identity", "cap_init", ENOMEM, "out of memory");
    return 0;
}

void confine_identity_release(struct confine_identity *id)
{
    if (id->setid) cap_free(id->setid);
    id->setid = NULL;
}

/* In the initial user namespace, a uid is the kernel's uid. Anywhere else
 * (a container's) uid 0 inside may be the kernel's uid 0 outside. */
static bool in_initial_user_namespace(void)
{
    static int known = -1; /* the zygote asks once */
    if (known >= 0) return known;
    char buf[128];
    int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0) close(fd);
    unsigned inside, outside, count;
    char extra;
    known = 0;
    if (n > 0) {
        buf[n] = '\0';
        known = sscanf(buf, "%u %u %u %c", &inside, &outside, &count, &extra) == 3 && inside == 0 &&
                outside == 0 && count == 4294967295u;
    }
    return known;
}

bool confine_children_need_seal(const struct confine_identity *id)
{
    /* The real uid is what the kernel's RLIMIT_NPROC exemption looks at;
     * the capabilities it also exempts, every worker has dropped. */
    uid_t uid = id->change ? id->uid : getuid();
    return uid == 0 || !in_initial_user_namespace();
}

int confine_identity_apply(const struct confine_identity *id, struct sbx_confine_error *err)
{
    if (!id->change) return 0;
    int deathsig = 0;
    if (prctl(PR_GET_PDEATHSIG, &deathsig))
        return confine_fail(err, "identity", "prctl(PR_GET_PDEATHSIG)", errno);
    pid_t parent = getppid();
    /* Raw calls: glibc's wrappers would signal every thread to change
     * theirs too (a worker has one), and errno is all this needs. Keeping
     * the permitted capabilities across setresuid lets the fs ids go back
     * to 0 after it; the caps step empties every set right after. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
        return confine_fail(err, "identity", "prctl(PR_SET_KEEPCAPS)", errno);
    if (syscall(SYS_setgroups, 0, NULL)) return confine_fail(err, "identity", "setgroups", errno);
    if (syscall(SYS_setresgid, id->gid, id->gid, id->gid))
        return confine_fail(err, "identity", "setresgid", errno);
    if (syscall(SYS_setresuid, id->uid, id->uid, id->uid))
        return confine_fail(err, "identity", "setresuid", errno);
    if (cap_set_proc(id->setid)) return confine_fail(err, "identity", "capset", errno);
    /* setfs[ug]id return the previous id, not an error: read it back. */
    syscall(SYS_setfsuid, 0);
    syscall(SYS_setfsgid, 0);
    if (syscall(SYS_setfsuid, -1) != 0 || syscall(SYS_setfsgid, -1) != 0)
        return confine_fail(err, "identity", "setfsuid", EPERM);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
        return confine_fail(err, "identity", "prctl(PR_SET_KEEPCAPS)", errno);
    /* A new euid or fsuid resets the dumpable flag to fs.suid_dumpable
     * (never a plain "dumpable" unless an administrator set it to 1 for
     * debugging) and clears the parent-death signal: restore both. A
     * parent that died in between would never send the signal: then stop
     * here. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
        return confine_fail(err, "identity", "prctl(PR_SET_DUMPABLE)", errno);
    if (deathsig && prctl(PR_SET_PDEATHSIG, deathsig, 0, 0, 0))
        return confine_fail(err, "identity", "prctl(PR_SET_PDEATHSIG)", errno);
    if (deathsig && getppid() != parent) return confine_fail(err, "identity", "getppid", ESRCH);
    return 0;
}
