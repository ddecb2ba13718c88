/* A template of warm workers (ForkWorker.warm_template): a warm worker that
 * never runs a spawn. It instantiated its module and confined itself like
 * any warm worker, with a filter that also lets it fork
 * (sbx_confine_prepare_template); then, for each ToWorker.fork_warm, it
 * forks a warm worker of its module and policy. The child inherits the
 * instance and the whole confinement, so a warm worker costs a fork and a
 * few system calls instead of an instantiation, a confinement and a
 * seccomp filter built into the kernel: the filter's install and release
 * alone were about 45 us of CPU per spawn on the development VM.
 *
 * The child is made the zygote's (CLONE_PARENT), which reaps it like its
 * own, and dies with it (PR_SET_PDEATHSIG). Before anything else it seals
 * itself (sbx_confine_seal): RLIMIT_NPROC 0, and where that would not stop
 * its clone, a filter that leaves it exactly a worker's system calls.
 * Then it tells the supervisor its pid on its own channel
 * (no pidfd: the supervisor has the zygote, its parent, kill it if need
 * be: KillWorker) and waits for its spawn like any warm worker. The
 * template holds no spawn's data: it receives nothing but channels. */
#include <alloca.h>
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "zygote/worker.h"
#include "zygote/worker_report.h"

/* Exactly the flags the template's filter allows (policy/seccomp_rules.c).
 * Not fork()'s CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID: the kernel would
 * write the child's thread id into glibc's thread block at its start and
 * clear it (with a futex wake) at its exit, and that block's page is one
 * the child shares with its template, so the first write is a
 * copy-on-write fault (~8 us on the development VM). glibc's cached id then
 * stays the template's; glibc 2.34+ asks the kernel for the real one where
 * it matters (raise, abort), and a worker uses no call that reads it. */
#define FORK_WARM_FLAGS (CLONE_PARENT | SIGCHLD)

/* Where a template receives: after each fork, every page it writes again
 * is a copy-on-write fault while its live children share them. Received
 * with malloc, a fork_warm wrote five pages of heap and allocator state;
 * here the message's bytes and its unpacked form share pages that are not
 * shared at all: wiped on fork (the child has no use for them), they stay
 * the template's alone. */
static struct {
    _Alignas(4096) uint8_t mem[512];
    uint8_t packet[SBX_IPC_MAX_MESSAGE];
} rx;

int worker_template_prepare(void)
{
    /* Instantiating freed heap that the template holds for nothing: each
     * fork copies a page-table entry for every page of it, and each
     * child's exit tears them down again. */
    malloc_trim(0);
    return madvise(&rx, sizeof rx, MADV_WIPEONFORK) ? -errno : 0;
}

/* In the child: its channel, its parent's death, the seal, then its pid
 * to the supervisor. Any failure ends it before it has run anything: the
 * supervisor sees its channel close. Out of line, so that its locals (a
 * confinement error's text) do not deepen the template's loop frame. */
static __attribute__((noinline)) void become_warm_worker(int channel, pid_t zygote,
                                                         const struct sbx_confine *conf)
{
    if (dup2(channel, SBX_WORKER_CHANNEL_FD) != SBX_WORKER_CHANNEL_FD)
        _exit(SBX_WORKER_EXIT_FAILED);
    close(channel);
    prctl(PR_SET_NAME, "sbx-worker");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != zygote) _exit(SBX_WORKER_EXIT_FAILED);
    struct sbx_confine_error cerr;
    if (sbx_confine_seal(conf, &cerr)) _exit(SBX_WORKER_EXIT_FAILED);
    Sbx__WorkerStarted started;
    sbx__worker_started__init(&started);
    started.has_pid = 1, started.pid = getpid();
    Sbx__FromWorker msg;
    sbx__from_worker__init(&msg);
    msg.body_case = SBX__FROM_WORKER__BODY_STARTED;
    msg.started = &started;
    if (sbx_ipc_send(SBX_WORKER_CHANNEL_FD, &msg.base, NULL, 0, 5000))
        _exit(SBX_WORKER_EXIT_FAILED);
}

/* The loop: returns in each child. */
static __attribute__((noinline)) void serve(pid_t zygote, const struct sbx_confine *conf)
{
    struct sbx_ipc_arena arena = {.packet = rx.packet, .mem = rx.mem, .size = sizeof rx.mem};
    for (;;) {
        Sbx__ToWorker *msg = NULL;
        int fds[1]; /* a fork_warm brings one; more is refused (-ETOOMANYREFS) */
        size_t nfds = 0;
        int rc = sbx_ipc_recv_arena(SBX_WORKER_CHANNEL_FD, &sbx__to_worker__descriptor, &arena,
                                    (ProtobufCMessage **)&msg, fds, &nfds, 1, -1);
        if (rc == -EPIPE || rc == -ECONNRESET) _exit(0); /* dismissed */
        if (rc) continue;                                /* consumed, its fds closed */
        bool ok = msg->body_case == SBX__TO_WORKER__BODY_FORK_WARM && nfds == 1 &&
                  msg->fork_warm->channel_fd_index == 0;
        sbx_ipc_arena_free(&arena, &msg->base);
        if (!ok) { /* the supervisor is trusted: a bug, not an attack */
            sbx_ipc_close_fds(fds, nfds);
            continue;
        }
        /* Not fork(): the child is made the zygote's, which reaps workers
         * and reports their exits. The template reaps nothing (it blocks
         * on its channel), and a child of its own would die with it
         * (PR_SET_PDEATHSIG) when it is dismissed. */
        pid_t pid = (pid_t)syscall(SYS_clone, FORK_WARM_FLAGS, 0, NULL, NULL, 0);
        if (pid == 0) {
            become_warm_worker(fds[0], zygote, conf);
            return;
        }
        /* The child has its copy; if there is none, the supervisor sees the
         * channel close. */
        close(fds[0]);
    }
}

void worker_template_serve(pid_t zygote, const struct sbx_confine *conf)
{
    /* The loop's frames (receive, unpack, clone: about 2 KiB) start just
     * below a page boundary, so that each fork's writes to the stack fall
     * on one page rather than on the two they straddled: one copy-on-write
     * fault less per warm worker. Frames deeper than the page spill over,
     * as before. */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    char *pad = alloca((here & 4095) + 256);
    __asm__ volatile("" : : "r"(pad) : "memory"); /* keep the alloca */
    serve(zygote, conf);
}
