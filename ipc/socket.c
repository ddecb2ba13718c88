/* ipc/socket.c: AF_UNIX SOCK_SEQPACKET endpoints: the daemon's listening
 * socket with its permissions, accept, connect, socketpairs, SO_PEERCRED. */
#include "ipc/socket.h"
#include "ipc/wait_internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int make_addr(const char *path, struct sockaddr_un *sa)
{
    if (!path || !*path) return -EINVAL;
    size_t len = strlen(path);
    if (len >= sizeof(sa->sun_path)) return -ENAMETOOLONG;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, len + 1);
    return 0;
}

static int new_socket(void)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

/* connect(2) retried on EINTR. An interrupted connect on a Unix socket may
 * have completed; EISCONN then means success. */
static int connect_addr(int fd, const struct sockaddr_un *sa)
{
    for (;;) {
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) return 0;
        if (errno == EISCONN) return 0;
        if (errno != EINTR) return -errno;
    }
}

int sbx_ipc_connect(const char *path)
{
    struct sockaddr_un sa;
    int rc = make_addr(path, &sa);
    if (rc) return rc;
    int fd = new_socket();
    if (fd < 0) return fd;
    rc = connect_addr(fd, &sa);
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}

/* Decides what to do with whatever is at `path` before binding: 0 when the
 * path is free (or was a stale socket, now removed), -errno otherwise. */
static int clear_path(const char *path, const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST; /* never remove something that is not ours to remove */
    int probe = new_socket();
    if (probe < 0) return probe;
    int rc = connect_addr(probe, sa);
    close(probe);
    if (rc == 0) return -EADDRINUSE; /* a live server owns it */
    if (rc != -ECONNREFUSED) return rc;
    if (unlink(path) != 0 && errno != ENOENT) return -errno;
    return 0;
}

int sbx_ipc_listen(const char *path, mode_t mode, gid_t gid, int backlog)
{
    struct sockaddr_un sa;
    int rc = make_addr(path, &sa);
    if (rc) return rc;
    if (mode & ~(mode_t)0777) return -EINVAL;
    rc = clear_path(path, &sa);
    if (rc) return rc;
    /* Non-blocking, so that sbx_ipc_accept never blocks past its timeout
     * when a connection vanishes between poll and accept. */
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;

    /* The file is created by bind with 0777 & ~umask. Binding under 0177
     * makes it 0600 from its first instant; it is widened (to 0660 for a
     * group) only after its group is set, so no other user ever has a
     * window to connect. */
    mode_t old = umask(0177);
    rc = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
    umask(old);
    if (rc) goto fail;
    if (gid != (gid_t)-1 && lchown(path, (uid_t)-1, gid) != 0) {
        rc = -errno;
        goto fail_bound;
    }
    if ((mode & 0777) != 0600 && chmod(path, mode) != 0) {
        rc = -errno;
        goto fail_bound;
    }
    if (listen(fd, backlog > 0 ? backlog : SOMAXCONN) != 0) {
        rc = -errno;
        goto fail_bound;
    }
    return fd;

fail_bound:
    unlink(path);
fail:
    close(fd);
    return rc;
}

int sbx_ipc_accept(int listen_fd, int timeout_ms)
{
    struct ipc_deadline d;
    ipc_deadline_start(&d, timeout_ms);
    for (;;) {
        /* The accepted socket is blocking (Linux does not inherit
         * O_NONBLOCK); send and recv choose per call with MSG_DONTWAIT. */
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) return fd;
        /* A connection that was reset before we took it is not our error. */
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN) return -errno;
        int rc = ipc_wait_fd(listen_fd, POLLIN, &d);
        if (rc) return rc;
    }
}

int sbx_ipc_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return -errno;
    return 0;
}

int sbx_ipc_peer_cred(int fd, struct ucred *out)
{
    socklen_t len = sizeof(*out);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, out, &len) != 0) return -errno;
    return len == sizeof(*out) ? 0 : -EPROTO;
}
