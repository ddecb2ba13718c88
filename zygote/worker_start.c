/* A warm worker (ForkWorker.warm) learns its spawn only after it is
 * instantiated and confined: it blocks on its channel until the supervisor
 * sends ToWorker.start, with the spawn's stdio and sockets attached. Those
 * fds become WASI's as they arrive, not moved into 0-2: the confined
 * worker may not duplicate fds, and WASI does not care which host numbers
 * it holds. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "wasi/wasi.h"
#include "zygote/worker.h"
#include "zygote/worker_report.h"

/* The supervisor is trusted, but a bad index must not become a stray fd. */
static bool start_is_sane(const Sbx__ForkWorker *s, size_t nfds)
{
    if (s->n_stdio > 3 || s->n_socket_fd_index > SBX_IPC_MAX_SOCKETS) return false;
    for (size_t i = 0; i < s->n_stdio; i++) {
        int stream = s->stdio[i]->stream - SBX__STDIO_STREAM__STDIO_STDIN;
        if (stream < 0 || stream > 2 || s->stdio[i]->fd_index >= nfds) return false;
    }
    for (size_t i = 0; i < s->n_socket_fd_index; i++)
        if (s->socket_fd_index[i] >= nfds) return false;
    return true;
}

/* Where the start message is received and unpacked: its bytes and its
 * unpacked form share a page (a large start spills into the next pages,
 * and past the arena into malloc). Received with malloc, a 128 KiB buffer
 * made the allocator consolidate its free chunks, which wrote a dozen heap
 * pages the worker shares with its template: each a copy-on-write fault. */
static struct {
    _Alignas(4096) uint8_t mem[3072];
    uint8_t packet[SBX_IPC_MAX_MESSAGE];
} start_rx;

/* While it waits, a warm worker makes the first touches its run would
 * make: each is a page fault (a copy-on-write fault costs 3-4 us on the
 * development VM, a fresh page about 2), which is better taken before the
 * spawn arrives. Only what the run touches anyway, so that no CPU is
 * added. */
static void rehearse(bool clocks)
{
    /* The stack, two pages down: as deep as the run goes below this frame
     * (measured: 32 KiB touched six pages the run never uses, which made
     * each worker's life eight faults dearer). One volatile store per page,
     * which the compiler must keep. */
    volatile char deep[8192];
    for (size_t i = 0; i < sizeof deep; i += 4096)
        deep[i] = 0;
    /* The page the start message lands on. */
    *(volatile uint8_t *)start_rx.mem = 0;
    /* The vDSO's clock, for WASI's clocks: nothing else in a worker reads
     * it (ipc/ reads it only to wait), and its first read is a fault. */
    if (clocks) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
    }
    worker_rehearse_report();
    sbx_runtime_touch_thread_stack();
}

const Sbx__ForkWorker *sbx_worker_await_start(struct sbx_wasi *wasi)
{
    rehearse(wasi != NULL);
    Sbx__ToWorker *msg = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    struct sbx_ipc_arena arena = {
        .packet = start_rx.packet, .mem = start_rx.mem, .size = sizeof start_rx.mem};
    int rc = sbx_ipc_recv_arena(SBX_WORKER_CHANNEL_FD, &sbx__to_worker__descriptor, &arena,
                                (ProtobufCMessage **)&msg, fds, &nfds, SBX_IPC_MAX_FDS, -1);
    /* The supervisor dismissed this worker (module unloaded, zygote
     * replaced, shutting down): nothing ran, nothing to report. */
    if (rc == -EPIPE || rc == -ECONNRESET) _exit(0);
    if (rc) worker_fail("cannot read the start message", NULL);
    if (msg->body_case != SBX__TO_WORKER__BODY_START || !start_is_sane(msg->start, nfds))
        worker_fail("expected a start message", NULL);
    const Sbx__ForkWorker *s = msg->start;
    if (!wasi) { /* no WASI import: stdio and sockets have no use */
        sbx_ipc_close_fds(fds, nfds);
        return s;
    }
    int sockets[SBX_IPC_MAX_SOCKETS];
    struct sbx_wasi_late late = {
        .argv = (const char *const *)s->argv,
        .argc = s->n_argv,
        .env = (const char *const *)s->env,
        .envc = s->n_env,
        .stdio = {-1, -1, -1},
        .socket_fds = sockets,
        .nsockets = s->n_socket_fd_index,
    };
    for (size_t i = 0; i < s->n_stdio; i++) {
        int stream = s->stdio[i]->stream - SBX__STDIO_STREAM__STDIO_STDIN;
        late.stdio[stream] = fds[s->stdio[i]->fd_index];
        fds[s->stdio[i]->fd_index] = -1;
    }
    for (size_t i = 0; i < s->n_socket_fd_index; i++) {
        sockets[i] = fds[s->socket_fd_index[i]];
        fds[s->socket_fd_index[i]] = -1;
    }
    sbx_ipc_close_fds(fds, nfds); /* anything not claimed */
    struct sbx_error err;
    if (sbx_wasi_begin(wasi, &late, &err)) worker_fail("cannot set up WASI", err.msg);
    return s; /* kept for the worker's life */
}
