/* Namespaces for workers, created once and joined by each worker.
 *
 * Creating a network namespace costs tens of milliseconds on some kernels,
 * far more than a spawn may, so the zygote makes them once per policy: a
 * helper child unshares them (the user namespace first, so the others are
 * owned by it), the zygote opens /proc/HELPER/ns/NAME and kills the helper;
 * the fds keep the namespaces alive and each worker setns()es into them.
 * The pid namespace is the exception: a process never changes its own pid
 * namespace, so sbx_confine_fork makes a fresh one for each worker. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/confine_internal.h"

static const int ns_flag[POLICY_NNS] = {CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                                        CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWNS};
static const char *const ns_proc[POLICY_NNS] = {"user", "pid", "net", "ipc", "uts", "mnt"};
static const char *const ns_setns_call[POLICY_NNS] = {"setns(user)", "setns(pid)", "setns(net)",
                                                      "setns(ipc)",  "setns(uts)", "setns(mnt)"};

static bool wanted(const Sbx__Policy *p, int i, bool *optional)
{
    const Sbx__NamespaceRequest *r = policy_ns_get(p, i);
    *optional = r && r->optional;
    return r && r->enabled;
}

static void write_full(int fd, const void *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        buf = (const char *)buf + n;
        len -= (size_t)n;
    }
}

static bool read_full(int fd, void *buf, size_t len)
{
    while (len) {
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buf = (char *)buf + n;
        len -= (size_t)n;
    }
    return true;
}

/* The helper: unshare what is asked, report each result (0 or an errno),
 * then wait to be killed. The user namespace comes first and the zygote
 * writes its id maps before the others are made inside it. */
static _Noreturn void helper(unsigned want, int report, int go)
{
    int res[POLICY_NNS];
    for (int i = 0; i < POLICY_NNS; i++)
        res[i] = -1;
    if (want & (1u << NS_USER)) res[NS_USER] = unshare(CLONE_NEWUSER) ? errno : 0;
    write_full(report, &res[NS_USER], sizeof res[NS_USER]);
    char c;
    if (!read_full(go, &c, 1)) _exit(1);
    for (int i = NS_NET; i <= NS_MOUNT; i++)
        if (want & (1u << i)) res[i] = unshare(ns_flag[i]) ? errno : 0;
    /* A private copy of the mount table: nothing a worker could mount
     * would propagate back (it cannot mount anyway: no capabilities). */
    if (res[NS_MOUNT] == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
        res[NS_MOUNT] = errno;
    write_full(report, res, sizeof res);
    read_full(go, &c, 1); /* until the zygote kills us */
    _exit(0);
}

static int write_file(pid_t pid, const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = n == (ssize_t)strlen(text) ? 0 : (n < 0 ? -errno : -EIO);
    close(fd);
    return e;
}

/* uid 0 and gid 0 inside stand for the zygote's euid and egid: the only
 * ids an unprivileged zygote may map. setgroups is denied, as the kernel
 * requires before an unprivileged gid_map. */
static int write_id_maps(pid_t pid)
{
    char map[64];
    int rc = write_file(pid, "setgroups", "deny");
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)geteuid());
    if (!rc) rc = write_file(pid, "uid_map", map);
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)getegid());
    if (!rc) rc = write_file(pid, "gid_map", map);
    return rc;
}

static const char *remedy(int i, int e)
{
    if (i == NS_USER)
        return "check that user namespaces are enabled (sysctl user.max_user_namespaces > 0, "
               "kernel.unprivileged_userns_clone=1 on Debian), or mark "
               "namespaces.user.optional";
    if (e == EPERM)
        return "run sbx as root, or enable namespaces.user so the zygote can create it "
               "unprivileged, or mark it optional";
    return "the kernel may lack it (CONFIG_*_NS); mark it optional to run without it";
}

/* Runs the helper for the namespaces in `want` and opens them. */
static int create_joinable(const Sbx__Policy *p, unsigned want, struct confine_ns *ns,
                           struct sbx_confine_error *err)
{
    int rep[2], go[2];
    if (pipe2(rep, O_CLOEXEC))
        return confine_failf(err, "namespaces", "pipe2", errno, "pipe2: %s", strerror(errno));
    if (pipe2(go, O_CLOEXEC)) {
        close(rep[0]), close(rep[1]);
        return confine_failf(err, "namespaces", "pipe2", errno, "pipe2: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(rep[0]), close(go[1]);
        helper(want, rep[1], go[0]);
    }
    close(rep[1]), close(go[0]);
    int rc = 0;
    int res[POLICY_NNS];
    if (pid < 0) {
        rc = confine_failf(err, "namespaces", "fork", errno, "cannot fork the namespace helper: %s",
                           strerror(errno));
        goto out;
    }
    if (!read_full(rep[0], &res[NS_USER], sizeof res[NS_USER])) {
        rc = confine_failf(err, "namespaces", "read", EIO, "the namespace helper died");
        goto out;
    }
    if (res[NS_USER] == 0) res[NS_USER] = -write_id_maps(pid);
    write_full(go[1], "x", 1);
    if (!read_full(rep[0], res, sizeof res)) {
        rc = confine_failf(err, "namespaces", "read", EIO, "the namespace helper died");
        goto out;
    }
    for (int i = 0; i < POLICY_NNS && !rc; i++) {
        if (!(want & (1u << i))) continue;
        bool optional;
        wanted(p, i, &optional);
        if (res[i] == 0) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns_proc[i]);
            ns->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
            if (ns->fd[i] < 0) res[i] = errno;
        }
        if (res[i] == 0) continue;
        if (optional) {
            ns->degraded |= 1u << i;
            continue;
        }
        rc = confine_failf(err, "namespaces", ns_setns_call[i], res[i],
                           "%s namespace unavailable: %s: %s; %s", policy_ns_names[i],
                           i == NS_MOUNT ? "unshare(CLONE_NEWNS) or making / private" : "unshare",
                           strerror(res[i]), remedy(i, res[i]));
    }
out:
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    close(rep[0]), close(go[1]);
    return rc;
}

/* A pid namespace is made per fork; here we only check that we may. */
static int check_pid_ns(bool optional, struct confine_ns *ns, struct sbx_confine_error *err)
{
    ns->self_pid_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (ns->self_pid_fd < 0)
        return confine_failf(err, "namespaces", "open(/proc/self/ns/pid)", errno,
                             "pid namespace unavailable: /proc/self/ns/pid: %s; mount /proc "
                             "or mark namespaces.pid.optional",
                             strerror(errno));
    int e = unshare(CLONE_NEWPID) ? errno : 0;
    if (!e && setns(ns->self_pid_fd, CLONE_NEWPID))
        return confine_failf(err, "namespaces", "setns(pid)", errno,
                             "cannot return to the zygote's pid namespace: %s", strerror(errno));
    if (!e) {
        ns->pid = true;
        return 0;
    }
    close(ns->self_pid_fd);
    ns->self_pid_fd = -1;
    if (optional) {
        ns->degraded |= 1u << NS_PID;
        return 0;
    }
    return confine_failf(err, "namespaces", "unshare(CLONE_NEWPID)", e,
                         "pid namespace unavailable: unshare(CLONE_NEWPID): %s; %s", strerror(e),
                         e == EPERM ? "the zygote needs CAP_SYS_ADMIN (run sbx as root) or mark "
                                      "namespaces.pid.optional"
                                    : "mark namespaces.pid.optional to run without it");
}

int confine_ns_prepare(const Sbx__Policy *p, struct confine_ns *ns, struct sbx_confine_error *err)
{
    for (int i = 0; i < POLICY_NNS; i++)
        ns->fd[i] = -1;
    ns->self_pid_fd = -1;
    ns->pid = false;
    ns->degraded = 0;
    unsigned want = 0;
    bool optional;
    for (int i = 0; i < POLICY_NNS; i++)
        if (i != NS_PID && wanted(p, i, &optional)) want |= 1u << i;
    int rc = want ? create_joinable(p, want, ns, err) : 0;
    if (!rc && wanted(p, NS_PID, &optional)) rc = check_pid_ns(optional, ns, err);
    if (rc) confine_ns_release(ns);
    return rc;
}

/* In the child. The user namespace first: joining it grants every
 * capability inside it, which the others (owned by it) need; the caps step
 * that follows empties them again. */
int confine_ns_join(const struct confine_ns *ns, struct sbx_confine_error *err)
{
    for (int i = 0; i < POLICY_NNS; i++)
        if (ns->fd[i] >= 0 && setns(ns->fd[i], ns_flag[i]))
            return confine_fail(err, "namespaces", ns_setns_call[i], errno);
    return 0;
}

void confine_ns_release(struct confine_ns *ns)
{
    for (int i = 0; i < POLICY_NNS; i++)
        if (ns->fd[i] >= 0) close(ns->fd[i]), ns->fd[i] = -1;
    if (ns->self_pid_fd >= 0) close(ns->self_pid_fd), ns->self_pid_fd = -1;
    ns->pid = false;
}

pid_t sbx_confine_fork(const struct sbx_confine *c, struct sbx_confine_error *err)
{
    if (!c->ns.pid) {
        pid_t pid = fork();
        if (pid < 0) confine_fail(err, "fork", "fork", errno);
        return pid;
    }
    /* unshare(CLONE_NEWPID) changes only where our next child goes; after
     * the fork the zygote points that back at its own namespace, or the
     * next unshare would fail (EINVAL). */
    if (unshare(CLONE_NEWPID)) {
        confine_fail(err, "namespaces", "unshare(CLONE_NEWPID)", errno);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) return 0;
    int e = errno;
    if (setns(c->ns.self_pid_fd, CLONE_NEWPID)) {
        confine_fail(err, "namespaces", "setns(pid)", errno);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return -1;
    }
    if (pid < 0) confine_fail(err, "fork", "fork", e);
    return pid;
}
