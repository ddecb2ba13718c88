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

/* Packs and unpacks a message shaped like a start. */
static void rehearse_unpack(void)
{
    static char arg0[] = "module.wasm";
    char *argv[] = {arg0};
    Sbx__ForkWorker start;
    sbx__fork_worker__init(&start);
    start.n_argv = 1, start.argv = argv;
    start.export_name = arg0;
    Sbx__ToWorker msg;
    sbx__to_worker__init(&msg);
    msg.body_case = SBX__TO_WORKER__BODY_START;
    msg.start = &start;
    uint8_t packed[256];
    if (protobuf_c_message_get_packed_size(&msg.base) > sizeof packed) return;
    size_t len = protobuf_c_message_pack(&msg.base, packed);
    ProtobufCMessage *back = NULL;
    if (!sbx_ipc_unpack(&sbx__to_worker__descriptor, packed, len, &back)) sbx_ipc_free(back);
}

/* While it waits, a warm worker makes the first touches its run would
 * make: each is a page fault (a copy-on-write fault costs 3-4 us on the
 * development VM, a fresh page about 2), and a warm spawn's path took 11-12
 * of them (2 now). Only what the run touches anyway, so little CPU is added:
 * a worker's faults over its life went from 37.6 to about 40. */
static void rehearse(void)
{
    /* The stack, two pages down: as deep as the run goes below this frame
     * (measured: 32 KiB touched six pages the run never uses, which made
     * each worker's life eight faults dearer). One volatile store per page,
     * which the compiler must keep. */
    volatile char deep[8192];
    for (size_t i = 0; i < sizeof deep; i += 4096)
        deep[i] = 0;
    /* The allocator, as receiving a start message uses it: the receive
     * buffer, then the unpacked message's small blocks (the same sizes
     * land in the same chunks and in the per-thread cache). */
    char *buf = malloc(SBX_IPC_MAX_MESSAGE);
    if (buf) buf[0] = 0;
    rehearse_unpack();
    free(buf);
    /* The vDSO's clock (WASI clocks, usage). */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    worker_rehearse_report();
    sbx_runtime_touch_thread_stack();
}

const Sbx__ForkWorker *sbx_worker_await_start(struct sbx_wasi *wasi)
{
    rehearse();
    Sbx__ToWorker *msg = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    int rc = sbx_ipc_recv(SBX_WORKER_CHANNEL_FD, &sbx__to_worker__descriptor,
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
