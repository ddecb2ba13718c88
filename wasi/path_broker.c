/* The broker client (see path_broker.h): packs each op as a PathRequest,
 * sends it, and waits for the matching PathReply. Requests are checked here
 * against the limits the supervisor's validator applies (ipc/limits.h), so
 * that no guest input can make the worker send something that gets it
 * killed: a path too long is ENAMETOOLONG, an unknown flag EINVAL, locally.
 *
 * Buffers live on the stack (host functions run with 128 KiB of stack
 * reserved, jit/invoke.c): a request is at most five paths of 4095 bytes,
 * a reply at most one readlink of 4096 bytes. */
#include "wasi/path_broker.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "proto/sbx.pb-c.h"

/* Five byte strings (dir and path twice, a target) with their tags and
 * lengths, plus the scalars and envelopes. */
#define REQUEST_MAX (5 * (SBX_IPC_MAX_BROKER_PATH + 8) + 256)
/* One readlink's bytes plus a filestat, the errno and the envelope. */
#define REPLY_MAX (SBX_IPC_MAX_READLINK + 512)
/* Room for more fds than a reply may carry, so extra ones are seen (and
 * closed) rather than cut off. The kernel fills the whole buffer, padding
 * included, so up to GOT_MAX fds may arrive: all of them are collected. */
#define CONTROL_FDS (SBX_IPC_MAX_FDS + 1)
#define CONTROL_LEN CMSG_SPACE(sizeof(int) * CONTROL_FDS)
#define GOT_MAX     (CONTROL_LEN / sizeof(int))

/* The flag bits the validator accepts (ipc/validate_path.c). */
#define OFLAGS_KNOWN                                                                               \
    (SBX_WASI_OFLAG_CREAT | SBX_WASI_OFLAG_DIRECTORY | SBX_WASI_OFLAG_EXCL | SBX_WASI_OFLAG_TRUNC)
#define FDFLAGS_KNOWN                                                                              \
    (SBX_WASI_FDFLAG_APPEND | SBX_WASI_FDFLAG_DSYNC | SBX_WASI_FDFLAG_NONBLOCK |                   \
     SBX_WASI_FDFLAG_RSYNC | SBX_WASI_FDFLAG_SYNC)
#define FSTFLAGS_KNOWN                                                                             \
    (SBX_WASI_FSTFLAG_ATIM | SBX_WASI_FSTFLAG_ATIM_NOW | SBX_WASI_FSTFLAG_MTIM |                   \
     SBX_WASI_FSTFLAG_MTIM_NOW)

struct reply {
    Sbx__ToWorker *msg;
    const Sbx__PathReply *r;
    int fd; /* the attached fd, or -1 */
};

static void reply_free(struct reply *rp)
{
    if (rp->fd >= 0) close(rp->fd);
    rp->fd = -1;
    sbx_ipc_free((ProtobufCMessage *)rp->msg);
    rp->msg = NULL;
}

static int send_request(int channel, const Sbx__FromWorker *fw)
{
    uint8_t buf[REQUEST_MAX];
    size_t len = protobuf_c_message_get_packed_size(&fw->base);
    if (len == 0 || len > sizeof(buf)) return -EMSGSIZE;
    if (protobuf_c_message_pack(&fw->base, buf) != len) return -EIO;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    for (;;) {
        ssize_t n = sendmsg(channel, &mh, MSG_NOSIGNAL);
        if (n >= 0) return (size_t)n == len ? 0 : -EIO;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -errno;
        struct pollfd p = {.fd = channel, .events = POLLOUT};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) return -errno;
    }
}

/* Receives one packet into buf; the fds that came with it are in
 * fds[0..*nfds) (room for GOT_MAX) whatever the result, for the caller to
 * keep or close. */
static ssize_t recv_packet(int channel, uint8_t *buf, size_t cap, int *fds, size_t *nfds)
{
    union {
        struct cmsghdr align;
        char buf[CONTROL_LEN];
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh;
    ssize_t len;
    *nfds = 0;
    for (;;) {
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        len = recvmsg(channel, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC);
        if (len >= 0) break;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -errno;
        struct pollfd p = {.fd = channel, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) return -errno;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n && *nfds < GOT_MAX; i++)
            memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    if (mh.msg_flags & MSG_CTRUNC) return -ETOOMANYREFS;
    if (len == 0) return -EPIPE;
    if ((size_t)len > cap) return -EMSGSIZE;
    return len;
}

/* Sends `req` and waits for its reply. Returns 0 with *rp filled (the
 * reply's shape checked: the right id, an errno, at most one fd and only for
 * a successful open), or the WASI errno the guest gets instead: EMFILE when
 * the worker could not receive the fd, else EIO. */
static int call(struct sbx_wasi_path_broker *b, Sbx__PathRequest *req, struct reply *rp)
{
    rp->msg = NULL;
    rp->r = NULL;
    rp->fd = -1;
    if (!b || b->channel < 0) return SBX_WASI_EIO;
    if (b->next_id == 0) b->next_id = 1;
    uint64_t id = b->next_id++;
    Sbx__FromWorker fw;
    sbx__from_worker__init(&fw);
    fw.has_id = 1;
    fw.id = id;
    fw.body_case = SBX__FROM_WORKER__BODY_PATH;
    fw.path = req;
    if (send_request(b->channel, &fw)) return SBX_WASI_EIO;

    uint8_t buf[REPLY_MAX];
    int fds[GOT_MAX];
    size_t nfds = 0;
    ssize_t len = recv_packet(b->channel, buf, sizeof(buf), fds, &nfds);
    if (len == -ETOOMANYREFS) {
        /* The kernel dropped the reply's fd: the worker is at its open
         * files limit (RLIMIT_NOFILE), which is what the guest hears. */
        sbx_ipc_close_fds(fds, nfds);
        return SBX_WASI_EMFILE;
    }
    ProtobufCMessage *m = NULL;
    if (len > 0 && sbx_ipc_unpack(&sbx__to_worker__descriptor, buf, (size_t)len, &m)) m = NULL;
    Sbx__ToWorker *tw = (Sbx__ToWorker *)m;
    const Sbx__PathReply *r =
        tw && tw->body_case == SBX__TO_WORKER__BODY_PATH_REPLY ? tw->path_reply : NULL;
    bool ok = r && tw->has_id && tw->id == id && r->has_wasi_errno &&
              r->wasi_errno <= SBX_WASI_ENOTCAPABLE;
    bool want_fd = ok && req->op == SBX__PATH_OP__PATH_OP_OPEN && r->wasi_errno == 0;
    if (ok && want_fd) ok = nfds == 1 && r->has_fd_index && r->fd_index == 0;
    if (ok && !want_fd) ok = nfds == 0 && !r->has_fd_index;
    if (!ok) {
        sbx_ipc_close_fds(fds, nfds);
        sbx_ipc_free(m);
        return SBX_WASI_EIO;
    }
    rp->msg = tw;
    rp->r = r;
    rp->fd = nfds ? fds[0] : -1;
    return 0;
}

/* The errno of a reply, or call's when there was none. */
static uint16_t finish(int rc, struct reply *rp)
{
    uint16_t e = rc ? (uint16_t)rc : (uint16_t)rp->r->wasi_errno;
    if (!rc) reply_free(rp);
    return e;
}

static bool too_long(const char *s)
{
    return strnlen(s, SBX_IPC_MAX_BROKER_PATH + 1) > SBX_IPC_MAX_BROKER_PATH;
}

/* Fills a location; false if a string is longer than the broker takes. */
static bool location(Sbx__PathLocation *l, const struct sbx_wasi_at *at)
{
    sbx__path_location__init(l);
    if (!at || !at->dir || !at->path || too_long(at->dir) || too_long(at->path)) return false;
    l->has_preopen = 1;
    l->preopen = at->preopen;
    l->has_dir = 1;
    l->dir = (ProtobufCBinaryData){strlen(at->dir), (uint8_t *)at->dir};
    l->has_path = 1;
    l->path = (ProtobufCBinaryData){strlen(at->path), (uint8_t *)at->path};
    return true;
}

/* A request for `op` at `at`; false (ENAMETOOLONG) if a path is too long. */
static bool request(Sbx__PathRequest *req, Sbx__PathLocation *l, Sbx__PathOp op,
                    const struct sbx_wasi_at *at)
{
    sbx__path_request__init(req);
    req->has_op = 1;
    req->op = op;
    req->at = l;
    return location(l, at);
}

static uint16_t b_open(void *ctx, const struct sbx_wasi_at *at, const struct sbx_wasi_open_req *o,
                       int *fd)
{
    *fd = -1;
    if ((o->lookupflags & ~SBX_WASI_LOOKUP_SYMLINK_FOLLOW) || (o->oflags & ~OFLAGS_KNOWN) ||
        (o->fdflags & ~FDFLAGS_KNOWN))
        return SBX_WASI_EINVAL;
    Sbx__PathRequest req;
    Sbx__PathLocation l;
    if (!request(&req, &l, SBX__PATH_OP__PATH_OP_OPEN, at)) return SBX_WASI_ENAMETOOLONG;
    req.has_lookupflags = 1;
    req.lookupflags = o->lookupflags;
    req.has_oflags = 1;
    req.oflags = o->oflags;
    req.has_fdflags = 1;
    req.fdflags = o->fdflags;
    req.has_read = 1;
    req.read = o->read;
    req.has_write = 1;
    req.write = o->write;
    struct reply rp;
    int rc = call(ctx, &req, &rp);
    if (!rc && rp.fd >= 0) {
        *fd = rp.fd; /* the caller's now */
        rp.fd = -1;
    }
    return finish(rc, &rp);
}

static uint16_t b_filestat_get(void *ctx, const struct sbx_wasi_at *at, uint32_t lookupflags,
                               struct sbx_wasi_filestat *out)
{
    if (lookupflags & ~SBX_WASI_LOOKUP_SYMLINK_FOLLOW) return SBX_WASI_EINVAL;
    Sbx__PathRequest req;
    Sbx__PathLocation l;
    if (!request(&req, &l, SBX__PATH_OP__PATH_OP_FILESTAT_GET, at)) return SBX_WASI_ENAMETOOLONG;
    req.has_lookupflags = 1;
    req.lookupflags = lookupflags;
    struct reply rp;
    int rc = call(ctx, &req, &rp);
    if (!rc && rp.r->wasi_errno == 0) {
        const Sbx__WasiFilestat *s = rp.r->filestat;
        if (!s) {
            reply_free(&rp);
            return SBX_WASI_EIO;
        }
        *out = (struct sbx_wasi_filestat){.dev = s->dev,
                                          .ino = s->ino,
                                          .filetype = (uint8_t)s->filetype,
                                          .nlink = s->nlink,
                                          .size = s->size,
                                          .atim = s->atim,
                                          .mtim = s->mtim,
                                          .ctim = s->ctim};
    }
    return finish(rc, &rp);
}

static uint16_t b_filestat_set_times(void *ctx, const struct sbx_wasi_at *at, uint32_t lookupflags,
                                     uint64_t atim, uint64_t mtim, uint16_t fstflags)
{
    if ((lookupflags & ~SBX_WASI_LOOKUP_SYMLINK_FOLLOW) || (fstflags & ~FSTFLAGS_KNOWN))
        return SBX_WASI_EINVAL;
    Sbx__PathRequest req;
    Sbx__PathLocation l;
    if (!request(&req, &l, SBX__PATH_OP__PATH_OP_FILESTAT_SET_TIMES, at))
        return SBX_WASI_ENAMETOOLONG;
    req.has_lookupflags = 1;
    req.lookupflags = lookupflags;
    req.has_atim = 1;
    req.atim = atim;
    req.has_mtim = 1;
    req.mtim = mtim;
    req.has_fstflags = 1;
    req.fstflags = fstflags;
    struct reply rp;
    return finish(call(ctx, &req, &rp), &rp);
}

/* The ops that take a location and nothing else. */
static uint16_t at_only(void *ctx, Sbx__PathOp op, const struct sbx_wasi_at *at)
{
    Sbx__PathRequest req;
    Sbx__PathLocation l;
    if (!request(&req, &l, op, at)) return SBX_WASI_ENAMETOOLONG;
    struct reply rp;
    return finish(call(ctx, &req, &rp), &rp);
}

static uint16_t b_create_directory(void *ctx, const struct sbx_wasi_at *at)
{
    return at_only(ctx, SBX__PATH_OP__PATH_OP_CREATE_DIRECTORY, at);
}

static uint16_t b_remove_directory(void *ctx, const struct sbx_wasi_at *at)
{
    return at_only(ctx, SBX__PATH_OP__PATH_OP_REMOVE_DIRECTORY, at);
}

static uint16_t b_unlink_file(void *ctx, const struct sbx_wasi_at *at)
{
    return at_only(ctx, SBX__PATH_OP__PATH_OP_UNLINK_FILE, at);
}

static uint16_t two_at(void *ctx, Sbx__PathOp op, const struct sbx_wasi_at *o, bool has_lookup,
                       uint32_t lookupflags, const struct sbx_wasi_at *n)
{
    if (lookupflags & ~SBX_WASI_LOOKUP_SYMLINK_FOLLOW) return SBX_WASI_EINVAL;
    Sbx__PathRequest req;
    Sbx__PathLocation lo, ln;
    if (!request(&req, &lo, op, o) || !location(&ln, n)) return SBX_WASI_ENAMETOOLONG;
    req.new_at = &ln;
    req.has_lookupflags = has_lookup;
    req.lookupflags = lookupflags;
    struct reply rp;
    return finish(call(ctx, &req, &rp), &rp);
}

static uint16_t b_link(void *ctx, const struct sbx_wasi_at *o, uint32_t lookupflags,
                       const struct sbx_wasi_at *n)
{
    return two_at(ctx, SBX__PATH_OP__PATH_OP_LINK, o, true, lookupflags, n);
}

static uint16_t b_rename(void *ctx, const struct sbx_wasi_at *o, const struct sbx_wasi_at *n)
{
    return two_at(ctx, SBX__PATH_OP__PATH_OP_RENAME, o, false, 0, n);
}

static uint16_t b_symlink(void *ctx, const char *target, const struct sbx_wasi_at *at)
{
    if (!target || too_long(target)) return SBX_WASI_ENAMETOOLONG;
    Sbx__PathRequest req;
    Sbx__PathLocation l;
    if (!request(&req, &l, SBX__PATH_OP__PATH_OP_SYMLINK, at)) return SBX_WASI_ENAMETOOLONG;
    req.has_target = 1;
    req.target = (ProtobufCBinaryData){strlen(target), (uint8_t *)target};
    struct reply rp;
    return finish(call(ctx, &req, &rp), &rp);
}

static uint16_t b_readlink(void *ctx, const struct sbx_wasi_at *at, char *buf, size_t len,
                           size_t *used)
{
    *used = 0;
    /* No symlink holds more than SBX_IPC_MAX_READLINK bytes: asking for
     * fewer changes nothing the guest can see. */
    uint32_t want = len < SBX_IPC_MAX_READLINK ? (uint32_t)len : SBX_IPC_MAX_READLINK;
    Sbx__PathRequest req;
    Sbx__PathLocation l;
    if (!request(&req, &l, SBX__PATH_OP__PATH_OP_READLINK, at)) return SBX_WASI_ENAMETOOLONG;
    req.has_buf_len = 1;
    req.buf_len = want;
    struct reply rp;
    int rc = call(ctx, &req, &rp);
    if (!rc && rp.r->wasi_errno == 0) {
        const Sbx__PathReply *r = rp.r;
        size_t n = r->has_link ? r->link.len : 0;
        if (n > want) {
            reply_free(&rp);
            return SBX_WASI_EIO;
        }
        if (n) memcpy(buf, r->link.data, n);
        *used = n;
    }
    return finish(rc, &rp);
}

const struct sbx_wasi_path_ops sbx_wasi_path_broker_ops = {
    .open = b_open,
    .filestat_get = b_filestat_get,
    .filestat_set_times = b_filestat_set_times,
    .create_directory = b_create_directory,
    .remove_directory = b_remove_directory,
    .unlink_file = b_unlink_file,
    .link = b_link,
    .rename = b_rename,
    .symlink = b_symlink,
    .readlink = b_readlink,
};
