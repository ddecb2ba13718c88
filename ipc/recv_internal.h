/* ipc/recv_internal.h (internal): receiving one packet into storage the
 * caller supplies, then handing its bytes to an unpacker. sbx_ipc_recv and
 * sbx_ipc_recv_arena are this with different storage. */
#ifndef SBX_IPC_RECV_INTERNAL_H
#define SBX_IPC_RECV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* buf holds SBX_IPC_MAX_MESSAGE bytes. unpack returns 0 or -errno; on any
 * failure every fd received is closed (sbx_ipc_recv's contract). */
int ipc_recv_into(int fd, uint8_t *buf, int *fds, size_t *nfds, size_t max_fds, int timeout_ms,
                  int (*unpack)(const void *buf, size_t len, void *ctx), void *ctx);

#endif
