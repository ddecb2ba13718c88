/* The escape harness, compiled only into the test build of the zygote
 * (sbx_zygote_escape, linked into sbx_escape): once the worker is confined
 * and has its spawn (a warm one: its start), just before any wasm runs, it
 * makes one forbidden system call natively, the way a module that gained
 * native code execution would.
 * Which one comes from the SBX_ESCAPE_TRY environment variable of the
 * process that started the zygote: neither a module nor a message can
 * reach it. The expected end is the seccomp filter's SIGSYS: the violation
 * hook reports the call and the worker exits 159. Should the call return
 * instead, the harness says so and exits 99 (it worked), 100 + errno
 * (refused with that error: the kernel's answer to a call the filter let
 * through, as for a template's child) or 98 (no such attempt). */
#include "zygote/escape_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <unistd.h>

static long try_op(const char *op)
{
    static char page[8192] __attribute__((aligned(4096)));
    if (!strcmp(op, "open")) return open("/etc/passwd", O_RDONLY);
    if (!strcmp(op, "openat_preopen")) return openat(4, "x", O_RDONLY); /* a preopen's fd */
    if (!strcmp(op, "socket")) return socket(AF_INET, SOCK_STREAM, 0);
    if (!strcmp(op, "connect")) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
        return connect(3, (struct sockaddr *)&a, sizeof a);
    }
    if (!strcmp(op, "execve")) {
        char *argv[] = {"/bin/sh", NULL};
        return execve("/bin/sh", argv, NULL);
    }
    if (!strcmp(op, "fork")) return syscall(SYS_fork);
    if (!strcmp(op, "clone")) return syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (!strcmp(op, "ptrace")) return ptrace(PTRACE_TRACEME, 0, 0, 0);
    if (!strcmp(op, "mprotect_exec"))
        return mprotect(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    if (!strcmp(op, "mmap_exec")) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? -1 : 0;
    }
    if (!strcmp(op, "memfd_create")) return syscall(SYS_memfd_create, "x", 0);
    if (!strcmp(op, "prctl")) return prctl(PR_SET_DUMPABLE, 1);
    if (!strcmp(op, "setuid")) return setuid(0);
    if (!strcmp(op, "mount")) return mount("none", "/tmp", "tmpfs", 0, NULL);
    if (!strcmp(op, "kill_parent")) return kill(getppid(), SIGKILL);
    if (!strcmp(op, "unshare")) return unshare(CLONE_NEWNET);
    /* What a template's filter allows it (policy/seccomp_rules.c), which a
     * worker it forked must have sealed off. */
    if (!strcmp(op, "clone_sibling"))
        return syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
    if (!strcmp(op, "dup2_channel")) return dup2(3, 3); /* fds 0-2 may be closed */
    if (!strcmp(op, "dup2_elsewhere")) return dup2(3, 4);
    if (!strcmp(op, "prctl_pdeathsig")) return prctl(PR_SET_PDEATHSIG, 0);
    if (!strcmp(op, "prlimit_nproc_raise")) {
        struct rlimit one = {1, 1};
        return setrlimit(RLIMIT_NPROC, &one);
    }
    if (!strcmp(op, "prlimit_nproc_parent")) {
        struct rlimit none = {0, 0};
        return syscall(SYS_prlimit64, getppid(), RLIMIT_NPROC, &none, NULL);
    }
    if (!strcmp(op, "seccomp_filter")) {
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog prog = {1, &allow};
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    }
    errno = EINVAL;
    return -2;
}

void sbx_escape_attempt(void)
{
    const char *op = getenv("SBX_ESCAPE_TRY");
    if (!op) return;
    long rc = try_op(op);
    int e = errno; /* before the report below can change it */
    char msg[160];
    int n = snprintf(msg, sizeof msg, "escape %s: returned %ld (%s)\n", op, rc,
                     rc < 0 ? strerror(e) : "success");
    if (write(2, msg, (size_t)n) < 0) {
        /* no stderr (a spawn without stdio): the exit status says it all */
    }
    syscall(SYS_exit_group, rc >= 0 ? 99 : rc == -1 ? 100 + e : 98);
}
