/* The worker's system-call allowlist. Everything not listed ends in
 * SECCOMP_RET_TRAP (SIGSYS, reported as a policy violation). Each row says
 * who needs it; a call joins only with a real user, found by reading the
 * runtime (jit/, memimg/, ipc/) and by strace of a worker. docs/security.md
 * lists what is deliberately absent. */
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "policy/seccomp_rules.h"

#define ALLOW(name)                                                                                \
    {                                                                                              \
        .nr = SCMP_SYS(name)                                                                       \
    }
#define ALLOW_IF(name, arg, op, a, b)                                                              \
    {                                                                                              \
        .nr = SCMP_SYS(name), .cond = { {arg, op, a, b} }                                          \
    }
#define ARG_EQ(name, arg, value) ALLOW_IF(name, arg, SCMP_CMP_EQ, value, 0)
/* Two arguments, each equal to its value. */
#define ARGS_EQ(name, arg, value, arg2, value2)                                                    \
    {                                                                                              \
        .nr = SCMP_SYS(name), .cond = {                                                            \
            {arg, SCMP_CMP_EQ, value, 0},                                                          \
            {arg2, SCMP_CMP_EQ, value2, 0}                                                         \
        }                                                                                          \
    }
/* (argument & mask) == 0 */
#define ARG_CLEAR(name, arg, mask) ALLOW_IF(name, arg, SCMP_CMP_MASKED_EQ, mask, 0)

static const struct seccomp_rule default_rules[] = {
    /* fd-based WASI (fd_read, fd_write, fd_pread, fd_pwrite, fd_seek, ...)
     * and the report channel. */
    ALLOW(read),
    ALLOW(write),
    ALLOW(readv),
    ALLOW(writev),
    ALLOW(pread64),
    ALLOW(pwrite64),
    ALLOW(preadv),
    ALLOW(pwritev),
    ALLOW(lseek),
    /* fd_filestat_get. Only fstat: glibc 2.36's fstat() is newfstatat(fd,
     * "", AT_EMPTY_PATH), which takes a path, so sbx calls SYS_fstat. */
    ALLOW(fstat),
    ALLOW(close),
    /* fd_fdstat_get / fd_fdstat_set_flags: flags only, never F_DUPFD (fd
     * games), F_SETOWN (signals to others), leases, seals or locks. */
    ARG_EQ(fcntl, 1, F_GETFD),
    ARG_EQ(fcntl, 1, F_SETFD),
    ARG_EQ(fcntl, 1, F_GETFL),
    ARG_EQ(fcntl, 1, F_SETFL),
    ALLOW(ftruncate),  /* fd_filestat_set_size */
    ALLOW(fsync),      /* fd_sync */
    ALLOW(fdatasync),  /* fd_datasync */
    ALLOW(fallocate),  /* fd_allocate */
    ALLOW(fadvise64),  /* fd_advise */
    ALLOW(getdents64), /* fd_readdir on a preopened directory fd */
    /* fd_filestat_set_times is futimens: utimensat with a NULL path. With a
     * path it would reach the file system. */
    ARG_EQ(utimensat, 1, 0),
    /* clock_time_get, clock_res_get, poll_oneoff's clock, sched_yield,
     * random_get (the vDSO serves most clock reads). */
    ALLOW(clock_gettime),
    ALLOW(clock_getres),
    ALLOW(clock_nanosleep),
    ALLOW(nanosleep),
    ALLOW(getrandom),
    ALLOW(sched_yield),
    ALLOW(poll), /* poll_oneoff; ipc/send.c waits with poll */
    ALLOW(ppoll),
    /* The report channel and the broker: SOCK_SEQPACKET with fd passing. */
    ALLOW(recvmsg),
    ALLOW(sendmsg),
    /* Ending: proc_exit, _exit, the violation handler. */
    ALLOW(exit),
    ALLOW(exit_group),
    /* The trap path: SIGSEGV/SIGBUS/SIGFPE handler on an alternate stack,
     * siglongjmp (rt_sigprocmask), the handler's return; jit/signals.c
     * installs its handler at the first call into wasm and restores SIG_DFL
     * for a fault that is not a trap (rt_sigaction: process-local). */
    ALLOW(rt_sigreturn),
    ALLOW(rt_sigprocmask),
    ALLOW(rt_sigaction),
    ALLOW(sigaltstack),
    ALLOW(restart_syscall), /* resuming a sleep a signal interrupted */
    /* Memory: malloc (brk, mmap, munmap, mremap for realloc of large
     * blocks, madvise), memory.grow and slot resets (mprotect, madvise),
     * the wasm stack's guard page (mprotect PROT_NONE). Never executable:
     * the compiled code was mapped RX before fork, and nothing may become
     * executable after it (no pkey_mprotect either). */
    ARG_CLEAR(mmap, 2, PROT_EXEC),
    ARG_CLEAR(mprotect, 2, PROT_EXEC),
    ALLOW(munmap),
    ALLOW(mremap),
    ALLOW(madvise),
    ALLOW(brk),
    ALLOW(futex), /* glibc's locks (stdio, malloc arenas) */
    /* Identity queries that reveal nothing beyond the worker itself. */
    ALLOW(getpid),
    ALLOW(gettid),
    ALLOW(getppid),
    ALLOW(getuid),
    ALLOW(geteuid),
    ALLOW(getgid),
    ALLOW(getegid),
    /* The worker's own resource use, sent with its report. */
    ARG_EQ(getrusage, 0, RUSAGE_SELF),
};

/* WASI sock_accept, sock_recv, sock_send, sock_shutdown on a socket the
 * host handed in. No socket, socketpair, connect, bind or listen: the
 * worker can use only sockets it was given (and those accept4 returns). */
static const struct seccomp_rule socket_rules[] = {
    ALLOW(accept4),
    ALLOW(recvfrom),
    ALLOW(sendto),
    ALLOW(shutdown),
};

/* A warm-worker template (zygote/worker_template.c) forks the warm workers
 * of its module and policy: these calls, exactly as it and its children
 * make them, on top of the worker's set. The template itself never runs
 * guest code; its children keep these calls (docs/security.md, "Templates
 * of warm workers", says why each is harmless to them) unless they seal
 * them off (seal_filter.c, seal_rules below). */
static const struct seccomp_rule template_rules[] = {
    /* A fork whose child is the zygote's, which reaps it. A child at
     * RLIMIT_NPROC 0 gets EAGAIN from the kernel unless it is root. */
    ARG_EQ(clone, 0, CLONE_PARENT | SIGCHLD),
    /* The child's own channel into the channel's place (fd 3). */
    ARG_EQ(dup2, 1, 3),
    /* The child dies with the zygote, like every worker, and names itself. */
    ARGS_EQ(prctl, 0, PR_SET_PDEATHSIG, 1, SIGKILL),
    ARG_EQ(prctl, 0, PR_SET_NAME),
    /* The child's RLIMIT_NPROC 0, which the template kept to fork: its own
     * (pid 0), never another process's. */
    ARGS_EQ(prlimit64, 0, 0, 1, RLIMIT_NPROC),
};

/* What a template whose children seal themselves adds: the seal, a filter
 * on top of this one (only ever narrower). */
static const struct seccomp_rule seal_rules[] = {
    ARGS_EQ(seccomp, 0, SECCOMP_SET_MODE_FILTER, 1, 0),
};

#define GROUP(rules)                                                                               \
    {                                                                                              \
        rules, sizeof rules / sizeof rules[0]                                                      \
    }

const struct seccomp_group seccomp_default_group = GROUP(default_rules);
static const struct seccomp_group socket_group = GROUP(socket_rules);
const struct seccomp_group seccomp_template_group = GROUP(template_rules);
const struct seccomp_group seccomp_seal_group = GROUP(seal_rules);

const struct seccomp_group *seccomp_opt_in_group(int group)
{
    switch (group) {
    case 1: return &socket_group; /* SBX__SYSCALL_GROUP__SYSCALL_GROUP_SOCKETS */
    default: return NULL;
    }
}
