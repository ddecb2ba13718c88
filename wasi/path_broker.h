/* The worker's path ops: each path-based WASI call becomes one PathRequest
 * on the worker's channel to the supervisor, whose broker
 * (supervisor/broker.h) runs it with the local resolver beneath the preopen
 * and answers with a PathReply of the same id (and, for an open, the fd).
 * The worker itself never makes a path system call, so its seccomp filter
 * can refuse all of them.
 *
 *   struct sbx_wasi_path_broker b = {.channel = channel_fd, .next_id = 1};
 *   cfg.ops = &sbx_wasi_path_broker_ops;
 *   cfg.ops_ctx = &b;  // must outlive the struct sbx_wasi
 *
 * A call blocks until its reply arrives (the supervisor's timeout bounds the
 * worker). Anything but the expected reply (another message, a wrong id, an
 * fd where none belongs, the channel closed) is WASI EIO to the guest, never
 * a crash; fds that came with it are closed. Only sendmsg and recvmsg are
 * called (and poll if the channel is non-blocking), plus the small
 * allocations of unpacking the reply. Not thread-safe: one context per
 * instance. */
#ifndef SBX_WASI_PATH_BROKER_H
#define SBX_WASI_PATH_BROKER_H

#include <stdint.h>

#include "wasi/path_ops.h"

struct sbx_wasi_path_broker {
    int channel;      /* SOCK_SEQPACKET to the supervisor (FromWorker out, ToWorker in) */
    uint64_t next_id; /* id of the next request; 0 is skipped (ids are nonzero) */
};

extern const struct sbx_wasi_path_ops sbx_wasi_path_broker_ops;

#endif
