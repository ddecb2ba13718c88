/* A confined child, seen from outside and from inside: /proc shows every
 * layer in place (seccomp mode 2, no_new_privs, no capability in any set,
 * the rlimits), the allowed set is enough for what a worker does (pipes,
 * memory, the signal trap path, clocks, randomness), and the namespaces a
 * policy asks for are really entered. Namespace tests skip with the reason
 * when the kernel or the environment does not provide them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <poll.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* -- The live child, seen through /proc -- */

struct live {
    pid_t pid;
    int release; /* write end: closing it lets the child exit */
    struct sbx_confine *c;
};

/* Forks a child confined by `p` that blocks in read() until released. */
static int start_live(const Sbx__Policy *p, struct live *l, char *why, size_t whylen)
{
    struct sbx_confine_error err;
    if (sbx_confine_prepare(p, &l->c, &err)) {
        sbx_confine_error_text(&err, why, whylen);
        return -1;
    }
    int ready[2], hold[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(hold), 0);
    l->pid = sbx_confine_fork(l->c, &err);
    cr_assert_geq(l->pid, 0);
    if (l->pid == 0) {
        close(ready[0]), close(hold[1]);
        char ok = sbx_confine_apply(l->c, &err) ? 'F' : 'R';
        if (write(ready[1], &ok, 1) != 1) child_exit(1);
        char c;
        ssize_t n = read(hold[0], &c, 1);
        child_exit(n == 0 ? 0 : 1);
    }
    close(ready[1]), close(hold[0]);
    char c = 0;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    cr_assert_eq(c, 'R', "apply failed in the child");
    l->release = hold[1];
    return 0;
}

static void stop_live(struct live *l)
{
    close(l->release);
    int status;
    cr_assert_eq(waitpid(l->pid, &status, 0), l->pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
    sbx_confine_free(l->c);
}

/* The value after "Key:" in /proc/PID/status, or "" if absent. */
static void status_field(pid_t pid, const char *key, char *out, size_t size)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    out[0] = '\0';
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            char *v = line + klen + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(out, size, "%s", v);
        }
    fclose(f);
}

Test(confined, proc_status_shows_every_layer)
{
    struct live l;
    char why[600], v[128];
    Sbx__Policy *p = sbx_policy_default();
    cr_assert_eq(start_live(p, &l, why, sizeof why), 0, "%s", why);
    sbx_policy_free(p);
    status_field(l.pid, "Seccomp", v, sizeof v);
    cr_expect_str_eq(v, "2", "Seccomp");
    status_field(l.pid, "Seccomp_filters", v, sizeof v);
    cr_expect_str_eq(v, "1", "Seccomp_filters");
    status_field(l.pid, "NoNewPrivs", v, sizeof v);
    cr_expect_str_eq(v, "1", "NoNewPrivs");
    static const char *const caps[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
    for (size_t i = 0; i < 5; i++) {
        status_field(l.pid, caps[i], v, sizeof v);
        cr_expect_str_eq(v, "0000000000000000", "%s", caps[i]);
    }
    stop_live(&l);
}

/* As root, a worker is nobody's: real, effective and saved ids are
 * SBX_CONFINE_WORKER_UID/GID, with no supplementary group; only its
 * file-system ids stay 0, for the fds it was given (policy/identity.c). */
Test(confined, as_root_the_worker_is_unprivileged)
{
    if (geteuid() != 0) cr_skip_test("needs root: a worker keeps a non-root zygote's uid");
    struct live l;
    char why[600], v[128], want[128];
    Sbx__Policy *p = sbx_policy_default();
    cr_assert_eq(start_live(p, &l, why, sizeof why), 0, "%s", why);
    sbx_policy_free(p);
    snprintf(want, sizeof want, "%d\t%d\t%d\t0", SBX_CONFINE_WORKER_UID, SBX_CONFINE_WORKER_UID,
             SBX_CONFINE_WORKER_UID);
    status_field(l.pid, "Uid", v, sizeof v);
    cr_expect_str_eq(v, want, "Uid (real, effective, saved, fs)");
    snprintf(want, sizeof want, "%d\t%d\t%d\t0", SBX_CONFINE_WORKER_GID, SBX_CONFINE_WORKER_GID,
             SBX_CONFINE_WORKER_GID);
    status_field(l.pid, "Gid", v, sizeof v);
    cr_expect_str_eq(v, want, "Gid (real, effective, saved, fs)");
    status_field(l.pid, "Groups", v, sizeof v);
    cr_expect_str_eq(v, "", "Groups");
    status_field(l.pid, "CapEff", v, sizeof v);
    cr_expect_str_eq(v, "0000000000000000", "CapEff (a zero fsuid raises none)");
    stop_live(&l);
}

/* Changing the uid clears the parent-death signal; the identity step sets
 * it again: a confined worker still dies with the process that forked it
 * (the zygote). */
Test(confined, dies_with_its_parent_after_the_identity_change)
{
    Sbx__Policy *p = sbx_policy_default();
    struct sbx_confine *c;
    struct sbx_confine_error err;
    cr_assert_eq(sbx_confine_prepare(p, &c, &err), 0);
    sbx_policy_free(p);
    /* The orphan comes to us, unreaped, whatever happens to it. */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int up[2], out[2], block[2]; /* block: never written, held open by us */
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(pipe(block), 0);
    pid_t parent = fork();
    if (parent == 0) {
        pid_t child = fork();
        if (child == 0) {
            char ok = prctl(PR_SET_PDEATHSIG, SIGKILL) || sbx_confine_apply(c, &err) ? 'F' : 'R';
            if (write(up[1], &ok, 1) != 1) child_exit(1);
            char x;
            for (;;) /* until its parent's death kills it (read: pause is not allowed) */
                if (read(block[0], &x, 1) < 0) child_exit(2);
        }
        struct {
            pid_t pid;
            char ok;
        } m = {child, 0};
        if (read(up[0], &m.ok, 1) != 1 || write(out[1], &m, sizeof m) != sizeof m) child_exit(1);
        child_exit(0); /* the parent dies */
    }
    struct {
        pid_t pid;
        char ok;
    } m;
    cr_assert_eq(read(out[0], &m, sizeof m), (ssize_t)sizeof m);
    cr_assert_eq(m.ok, 'R', "apply failed in the child");
    int status;
    cr_assert_eq(waitpid(parent, &status, 0), parent);
    int pidfd = (int)syscall(SYS_pidfd_open, m.pid, 0);
    cr_assert_geq(pidfd, 0, "pidfd_open: %s", strerror(errno));
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    if (poll(&pfd, 1, 5000) != 1) {
        kill(m.pid, SIGKILL);
        waitpid(m.pid, NULL, 0);
        cr_assert_fail("the worker outlived its parent by 5 s");
    }
    cr_assert_eq(waitpid(m.pid, &status, 0), m.pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status 0x%x", status);
    close(pidfd);
    sbx_confine_free(c);
}

/* "Max open files            64                   64                   files" */
static void expect_limit(const char *limits, const char *name, const char *soft, const char *hard)
{
    const char *line = strstr(limits, name);
    cr_assert_not_null(line, "no %s line", name);
    char s[32], h[32];
    cr_assert_eq(sscanf(line + strlen(name), "%31s %31s", s, h), 2);
    cr_expect_str_eq(s, soft, "%s soft", name);
    cr_expect_str_eq(h, hard, "%s hard", name);
}

Test(confined, proc_limits_show_the_rlimits)
{
    struct sbx_policy_error perr;
    Sbx__Policy *p;
    const char *json = "{\"limits\": {\"max_open_fds\": 16, \"cpu_seconds\": 7, "
                       "\"max_output_bytes\": 4096}}";
    cr_assert_eq(sbx_policy_from_json(json, strlen(json), &p, &perr), 0, "%s", perr.msg);
    struct live l;
    char why[600];
    cr_assert_eq(start_live(p, &l, why, sizeof why), 0, "%s", why);
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/limits", (int)l.pid);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    expect_limit(buf, "Max open files", "16", "16");
    expect_limit(buf, "Max processes", "0", "0");
    expect_limit(buf, "Max core file size", "0", "0");
    expect_limit(buf, "Max file size", "4096", "4096");
    expect_limit(buf, "Max cpu time", "7", "8");
    /* Never RLIMIT_AS: slots reserve 6 GiB of address space each. */
    expect_limit(buf, "Max address space", "unlimited", "unlimited");
    stop_live(&l);
    sbx_policy_free(p);
}

/* PR_GET_DUMPABLE is a prctl, which the filter forbids: check it with
 * every step but the filter. */
Test(confined, not_dumpable)
{
    Sbx__Policy *p = sbx_policy_default();
    struct sbx_confine *c;
    struct sbx_confine_error err;
    cr_assert_eq(sbx_confine_prepare(p, &c, &err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (sbx_confine_apply_steps(c, SBX_CONFINE_ALL & ~SBX_CONFINE_SECCOMP, &err)) child_exit(2);
        child_exit(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 &&
                           prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1
                       ? 0
                       : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
    sbx_confine_free(c);
    sbx_policy_free(p);
}

/* -- The allowed set is enough -- */

static long p_pipe_write(void *a)
{
    probe_note("written through the pipe");
    return 0;
}
Test(allowed, write_to_pipe)
{
    struct probe_result r;
    run_probe(NULL, NULL, p_pipe_write, NULL, &r);
    cr_assert(r.returned);
    cr_assert_str_eq(r.note, "written through the pipe");
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
}

static long p_memory(void *a)
{
    /* The slot pattern: reserve PROT_NONE, open up RW (memory.grow), use,
     * reset with madvise, and malloc large and small. */
    size_t len = 1 << 20;
    char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -1;
    if (mprotect(p, len / 2, PROT_READ | PROT_WRITE)) return -2;
    memset(p, 7, len / 2);
    if (madvise(p, len / 2, MADV_DONTNEED) || p[100] != 0) return -3;
    char *big = malloc(8 << 20), *small = malloc(100);
    if (!big || !small) return -4;
    memset(big, 1, 8 << 20);
    big = realloc(big, 16 << 20); /* mremap */
    if (!big) return -5;
    free(big), free(small);
    return munmap(p, len);
}
Test(allowed, memory_rw)
{
    struct probe_result r;
    run_probe(NULL, NULL, p_memory, NULL, &r);
    cr_assert(r.returned, "violation %d", r.violation);
    cr_assert_eq(r.ret, 0);
}

/* The wasm trap path: a fault on a guard page, a handler on the alternate
 * stack, siglongjmp out (rt_sigprocmask), and again, and then the handler
 * reset to SIG_DFL the way jit/signals.c does for a fault that is not ours. */
static sigjmp_buf trap_jmp;
static void on_segv(int sig, siginfo_t *si, void *uc)
{
    siglongjmp(trap_jmp, 1);
}
static void install_trap_handler(void *a)
{
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {.sa_sigaction = on_segv,
                           .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER};
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}
static long p_trap(void *a)
{
    volatile char *guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile int traps = 0;
    for (int i = 0; i < 3; i++)
        if (sigsetjmp(trap_jmp, 1) == 0)
            guard[0] = 1;
        else
            traps++;
    signal(SIGSEGV, SIG_DFL);
    return traps;
}
Test(allowed, sigsegv_and_siglongjmp)
{
    SKIP_IF_ASAN_SIGLONGJMP();
    struct probe_result r;
    run_probe(NULL, install_trap_handler, p_trap, NULL, &r);
    cr_assert(r.returned, "violation %d", r.violation);
    cr_assert_eq(r.ret, 3);
}

static long p_time_random(void *a)
{
    struct timespec t, res;
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t)) return -1; /* not the vDSO */
    if (clock_gettime(CLOCK_REALTIME, &t) || clock_getres(CLOCK_MONOTONIC, &res)) return -2;
    struct timespec nap = {0, 1000};
    if (nanosleep(&nap, NULL) || clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL)) return -3;
    char buf[32];
    if (getrandom(buf, sizeof buf, 0) != (ssize_t)sizeof buf) return -4;
    sched_yield();
    return getpid() > 0 ? 0 : -5;
}
Test(allowed, clocks_random_yield)
{
    struct probe_result r;
    run_probe(NULL, NULL, p_time_random, NULL, &r);
    cr_assert(r.returned, "violation %d", r.violation);
    cr_assert_eq(r.ret, 0);
}

static long p_fd_calls(void *a)
{
    struct stat st;
    if (syscall(SYS_fstat, 1, &st)) return -1; /* what sbx calls, not glibc's fstat */
    int fl = fcntl(1, F_GETFL);
    if (fl < 0 || fcntl(1, F_SETFL, fl) || fcntl(1, F_GETFD) < 0) return -2;
    struct iovec iov = {"", 0};
    if (writev(1, &iov, 1) < 0) return -3;
    if (futimens(-1, NULL) == 0 || errno != EBADF) return -4; /* utimensat(fd, NULL) allowed */
    return close(0);
}
Test(allowed, fd_calls)
{
    struct probe_result r;
    run_probe(NULL, NULL, p_fd_calls, NULL, &r);
    cr_assert(r.returned, "violation %d (%s)", r.violation,
              r.violation >= 0 ? sbx_syscall_name(r.violation) : "");
    cr_assert_eq(r.ret, 0);
}

/* The sockets group opens exactly its four calls, and only when asked. */
static long p_shutdown(void *a)
{
    return syscall(SYS_shutdown, 1, SHUT_RDWR) == 0 || errno == ENOTSOCK ? 0 : -1;
}
Test(allowed, sockets_group_opt_in)
{
    struct probe_result r;
    run_probe(NULL, NULL, p_shutdown, NULL, &r);
    expect_violation(&r, SYS_shutdown);
    struct sbx_policy_error perr;
    Sbx__Policy *p;
    const char *json = "{\"syscalls\": {\"allow\": [\"SYSCALL_GROUP_SOCKETS\"]}}";
    cr_assert_eq(sbx_policy_from_json(json, strlen(json), &p, &perr), 0, "%s", perr.msg);
    run_probe(p, NULL, p_shutdown, NULL, &r);
    cr_assert(r.returned, "violation %d", r.violation);
    cr_assert_eq(r.ret, 0);
    sbx_policy_free(p);
}

/* -- Namespaces -- */

static Sbx__Policy *ns_policy(const char *names[], size_t n, bool optional)
{
    char json[512] = "{\"namespaces\": {";
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(json);
        snprintf(json + len, sizeof json - len, "%s\"%s\": {\"enabled\": true%s}", i ? ", " : "",
                 names[i], optional ? ", \"optional\": true" : "");
    }
    strcat(json, "}}");
    struct sbx_policy_error perr;
    Sbx__Policy *p;
    cr_assert_eq(sbx_policy_from_json(json, strlen(json), &p, &perr), 0, "%s", perr.msg);
    return p;
}

static ino_t ns_inode(pid_t pid, const char *name)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, name);
    cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
    return st.st_ino;
}

Test(namespaces, all_six_entered)
{
    const char *names[] = {"user", "pid", "net", "ipc", "uts", "mount"};
    const char *proc[] = {"user", "pid", "net", "ipc", "uts", "mnt"};
    Sbx__Policy *p = ns_policy(names, 6, false);
    struct live l;
    char why[600];
    if (start_live(p, &l, why, sizeof why)) {
        sbx_policy_free(p);
        cr_skip_test("namespaces unavailable here: %s", why);
    }
    for (int i = 0; i < 6; i++)
        cr_expect_neq(ns_inode(l.pid, proc[i]), ns_inode(getpid(), proc[i]),
                      "the worker shares the %s namespace", proc[i]);
    char v[128];
    status_field(l.pid, "NSpid", v, sizeof v); /* "OUTER 1": pid 1 inside */
    cr_expect(strstr(v, "\t1") || strstr(v, " 1"), "NSpid %s", v);
    status_field(l.pid, "CapEff", v, sizeof v);
    cr_expect_str_eq(v, "0000000000000000", "CapEff after joining a user namespace");
    status_field(l.pid, "CapBnd", v, sizeof v);
    cr_expect_str_eq(v, "0000000000000000");
    status_field(l.pid, "Seccomp", v, sizeof v);
    cr_expect_str_eq(v, "2");
    stop_live(&l);
    sbx_policy_free(p);
}

/* Created once in prepare: two workers of one prepared policy share the
 * network namespace; each gets its own pid namespace. */
Test(namespaces, net_created_once_pid_per_worker)
{
    const char *names[] = {"net", "pid"};
    Sbx__Policy *p = ns_policy(names, 2, false);
    struct sbx_confine *c;
    struct sbx_confine_error err;
    char why[600];
    if (sbx_confine_prepare(p, &c, &err)) {
        sbx_policy_free(p);
        cr_skip_test("net/pid namespaces unavailable here: %s",
                     sbx_confine_error_text(&err, why, sizeof why));
    }
    pid_t kids[2];
    int hold[2];
    cr_assert_eq(pipe(hold), 0);
    for (int i = 0; i < 2; i++) {
        kids[i] = sbx_confine_fork(c, &err);
        cr_assert_geq(kids[i], 0);
        if (kids[i] == 0) {
            close(hold[1]);
            if (sbx_confine_apply(c, &err)) child_exit(3);
            char b;
            child_exit(read(hold[0], &b, 1) == 0 && getpid() == 1 ? 0 : 4);
        }
    }
    close(hold[0]);
    usleep(100000); /* both joined (or exited) */
    cr_expect_eq(ns_inode(kids[0], "net"), ns_inode(kids[1], "net"));
    cr_expect_neq(ns_inode(kids[0], "net"), ns_inode(getpid(), "net"));
    cr_expect_neq(ns_inode(kids[0], "pid"), ns_inode(kids[1], "pid"));
    close(hold[1]);
    for (int i = 0; i < 2; i++) {
        int status;
        cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d status 0x%x", i,
                  status);
    }
    /* The zygote itself stays where it was. */
    char self[64], kids_ns[64];
    snprintf(self, sizeof self, "/proc/self/ns/pid_for_children");
    ssize_t n = readlink(self, kids_ns, sizeof kids_ns - 1);
    cr_assert_gt(n, 0);
    kids_ns[n] = '\0';
    char mine[64];
    n = readlink("/proc/self/ns/pid", mine, sizeof mine - 1);
    mine[n] = '\0';
    cr_expect_str_eq(kids_ns, mine, "the zygote's pid_for_children was not restored");
    sbx_confine_free(c);
    sbx_policy_free(p);
}

/* Unavailable namespaces: an unprivileged process (uid 65534, no
 * capabilities) cannot create a network namespace outside a user
 * namespace. Required: an error naming it and the remedy. Optional: it is
 * skipped and reported as degraded. Runs in a child that drops root. */
Test(namespaces, unavailable_required_fails_optional_degrades)
{
    if (geteuid() != 0) cr_skip_test("needs root to become an unprivileged user");
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) child_exit(5);
        const char *names[] = {"net"};
        struct sbx_confine *c;
        struct sbx_confine_error err;
        char text[700], msg[600] = "";
        Sbx__Policy *req = ns_policy(names, 1, false);
        int rc = sbx_confine_prepare(req, &c, &err);
        if (rc) sbx_confine_error_text(&err, msg, sizeof msg);
        snprintf(text, sizeof text, "%d|%s", rc, msg);
        Sbx__Policy *opt = ns_policy(names, 1, true);
        int rc2 = sbx_confine_prepare(opt, &c, &err);
        size_t len = strlen(text);
        snprintf(text + len, sizeof text - len, "|%d|%u", rc2, rc2 ? 99u : sbx_confine_degraded(c));
        if (write(p[1], text, strlen(text) + 1) < 0) child_exit(6);
        child_exit(0);
    }
    close(p[1]);
    char buf[700] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert_gt(n, 0, "child status 0x%x", status);
    cr_expect(strncmp(buf, "-1|", 3) == 0, "required net namespace did not fail: %s", buf);
    cr_expect(strstr(buf, "net namespace unavailable"), "%s", buf);
    cr_expect(strstr(buf, "mark it optional"), "no remedy given: %s", buf);
    cr_expect(strstr(buf, "|0|4"), "optional net namespace not degraded (bit 2): %s", buf);
}
