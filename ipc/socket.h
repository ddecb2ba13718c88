/* ipc/socket.h: AF_UNIX SOCK_SEQPACKET sockets: a listening socket created
 * with safe permissions, accept, connect, the supervisor<->zygote pair and
 * the peer's credentials. 0 or an fd on success, -errno on failure. */
#ifndef SBX_IPC_SOCKET_H
#define SBX_IPC_SOCKET_H

#include <sys/types.h>
#include <sys/socket.h>

/* Creates a listening socket at `path` whose file has mode `mode` (0600, or
 * 0660 with a group) and, if `gid` is not (gid_t)-1, that group. The file
 * never has a wider mode than `mode`: it is bound under a umask of 0177 and
 * widened after the group is set. Because umask is per process, call this
 * before starting threads.
 *
 * An existing path is handled so that a live server is never displaced:
 *   - not a socket: -EEXIST, nothing is touched;
 *   - a socket someone listens on: -EADDRINUSE;
 *   - a socket nobody listens on (connect gives ECONNREFUSED): removed as
 *     stale, then bound.
 * The directory should not be writable by others, or someone could swap the
 * path between the checks and the bind. Returns the fd, close-on-exec and
 * non-blocking (for sbx_ipc_accept and an event loop). */
int sbx_ipc_listen(const char *path, mode_t mode, gid_t gid, int backlog);

/* Accepts one connection on a listener from sbx_ipc_listen (close-on-exec,
 * blocking): the fd, or -EAGAIN / -ETIMEDOUT
 * per `timeout_ms` (as in msg.h), or accept4's error. */
int sbx_ipc_accept(int listen_fd, int timeout_ms);

/* Connects to the socket at `path`: the fd (close-on-exec) or -errno
 * (-ENAMETOOLONG, -ECONNREFUSED, -ENOENT, ...). */
int sbx_ipc_connect(const char *path);

/* A connected SOCK_SEQPACKET pair, both close-on-exec (supervisor<->zygote,
 * supervisor<->worker). */
int sbx_ipc_pair(int fds[2]);

/* struct ucred is defined by <sys/socket.h> under _GNU_SOURCE (the build
 * defines it); declared here so this header compiles without it. */
struct ucred;

/* The pid, uid and gid of the process at the other end, as the kernel
 * recorded them at connect (or socketpair) time. */
int sbx_ipc_peer_cred(int fd, struct ucred *out);

#endif
