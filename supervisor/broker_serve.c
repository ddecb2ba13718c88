/* supervisor/broker_serve.c: one PathRequest in, one PathReply out (see
 * broker.h). The request is validated again here, so the broker is safe
 * even if a caller forgot to; then its byte strings become C strings (the
 * validator guarantees no NUL inside and a bounded length), its preopen
 * index is checked against this worker's roots, and the local resolver
 * does the rest beneath the root.
 *
 * The broker runs inside the supervisor, which serves every worker: an open
 * that would block it is made non-blocking. Opens use O_NONBLOCK, cleared
 * again afterwards unless the guest asked for it, so a FIFO without a peer
 * or a device cannot stall the supervisor in open(2). */
#include "supervisor/broker_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/validate.h"

/* A location as the resolver takes it. */
struct loc {
    const struct sbx_wasi_root *root;
    char dir[SBX_IPC_MAX_BROKER_PATH + 1];
    char path[SBX_IPC_MAX_BROKER_PATH + 1];
};

static void cstr(char *dst, ProtobufCBinaryData b)
{
    size_t n = b.len <= SBX_IPC_MAX_BROKER_PATH ? b.len : SBX_IPC_MAX_BROKER_PATH;
    if (n) memcpy(dst, b.data, n);
    dst[n] = '\0';
}

static int loc_get(const struct sbx_broker *b, const Sbx__PathLocation *l, struct loc *out)
{
    if (!l || l->preopen >= b->count) return -EBADMSG;
    out->root = &b->roots[l->preopen];
    cstr(out->dir, l->dir);
    cstr(out->path, l->path);
    return 0;
}

/* Opens as asked, without blocking the supervisor, and makes sure a
 * read-only root never yields a writable fd (the resolver refuses one
 * already; this checks the fd itself). */
static uint16_t do_open(const struct loc *at, const Sbx__PathRequest *q, int *fd)
{
    struct sbx_wasi_open_req req = {
        .lookupflags = q->lookupflags,
        .oflags = (uint16_t)q->oflags,
        .fdflags = (uint16_t)(q->fdflags | SBX_WASI_FDFLAG_NONBLOCK),
        .read = q->read,
        .write = q->write,
    };
    uint16_t e = sbx_wasi_local_open(at->root, at->dir, at->path, &req, fd);
    if (e) return e;
    int fl = fcntl(*fd, F_GETFL);
    if (fl >= 0 && at->root->read_only && (fl & O_ACCMODE) != O_RDONLY) fl = -1;
    if (fl >= 0 && !(q->fdflags & SBX_WASI_FDFLAG_NONBLOCK))
        fl = fcntl(*fd, F_SETFL, fl & ~O_NONBLOCK);
    if (fl < 0) {
        close(*fd);
        *fd = -1;
        return SBX_WASI_EIO;
    }
    return 0;
}

static void put_filestat(Sbx__WasiFilestat *out, const struct sbx_wasi_filestat *st)
{
    sbx__wasi_filestat__init(out);
    out->has_dev = out->has_ino = out->has_filetype = out->has_nlink = 1;
    out->has_size = out->has_atim = out->has_mtim = out->has_ctim = 1;
    out->dev = st->dev;
    out->ino = st->ino;
    out->filetype = st->filetype;
    out->nlink = st->nlink;
    out->size = st->size;
    out->atim = st->atim;
    out->mtim = st->mtim;
    out->ctim = st->ctim;
}

int sbx_broker_serve(struct sbx_broker *b, int channel, const Sbx__FromWorker *msg)
{
    if (!b || !msg || msg->body_case != SBX__FROM_WORKER__BODY_PATH) return -EINVAL;
    struct sbx_ipc_reject why;
    if (sbx_ipc_validate_from_worker(msg, 0, &why)) return -EBADMSG;
    const Sbx__PathRequest *q = msg->path;
    struct loc at, nat;
    if (loc_get(b, q->at, &at)) return -EBADMSG;
    if (q->new_at && loc_get(b, q->new_at, &nat)) return -EBADMSG;

    Sbx__PathReply rep;
    sbx__path_reply__init(&rep);
    Sbx__WasiFilestat fs;
    struct sbx_wasi_filestat st;
    char target[SBX_IPC_MAX_BROKER_PATH + 1];
    char link[SBX_IPC_MAX_READLINK];
    size_t used = 0;
    int fd = -1;
    uint16_t e;
    switch (q->op) {
    case SBX__PATH_OP__PATH_OP_OPEN: e = do_open(&at, q, &fd); break;
    case SBX__PATH_OP__PATH_OP_FILESTAT_GET:
        e = sbx_wasi_local_filestat_get(at.root, at.dir, at.path, q->lookupflags, &st);
        if (!e) {
            put_filestat(&fs, &st);
            rep.filestat = &fs;
        }
        break;
    case SBX__PATH_OP__PATH_OP_FILESTAT_SET_TIMES:
        e = sbx_wasi_local_filestat_set_times(at.root, at.dir, at.path, q->lookupflags, q->atim,
                                              q->mtim, (uint16_t)q->fstflags);
        break;
    case SBX__PATH_OP__PATH_OP_CREATE_DIRECTORY:
        e = sbx_wasi_local_create_directory(at.root, at.dir, at.path);
        break;
    case SBX__PATH_OP__PATH_OP_REMOVE_DIRECTORY:
        e = sbx_wasi_local_remove_directory(at.root, at.dir, at.path);
        break;
    case SBX__PATH_OP__PATH_OP_UNLINK_FILE:
        e = sbx_wasi_local_unlink_file(at.root, at.dir, at.path);
        break;
    case SBX__PATH_OP__PATH_OP_LINK:
        e = sbx_wasi_local_link(at.root, at.dir, at.path, q->lookupflags, nat.root, nat.dir,
                                nat.path);
        break;
    case SBX__PATH_OP__PATH_OP_RENAME:
        e = sbx_wasi_local_rename(at.root, at.dir, at.path, nat.root, nat.dir, nat.path);
        break;
    case SBX__PATH_OP__PATH_OP_SYMLINK:
        cstr(target, q->target);
        e = sbx_wasi_local_symlink(target, at.root, at.dir, at.path);
        break;
    case SBX__PATH_OP__PATH_OP_READLINK:
        e = sbx_wasi_local_readlink(at.root, at.dir, at.path, link, q->buf_len, &used);
        if (!e) {
            rep.has_link = 1;
            rep.link = (ProtobufCBinaryData){used, (uint8_t *)link};
        }
        break;
    default: return -EBADMSG; /* the validator knows every op */
    }
    rep.has_wasi_errno = 1;
    rep.wasi_errno = e;
    if (fd >= 0) {
        rep.has_fd_index = 1;
        rep.fd_index = 0;
    }
    Sbx__ToWorker tw;
    sbx__to_worker__init(&tw);
    tw.has_id = 1;
    tw.id = msg->id;
    tw.body_case = SBX__TO_WORKER__BODY_PATH_REPLY;
    tw.path_reply = &rep;
    int rc = sbx_ipc_send(channel, &tw.base, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, 0);
    if (fd >= 0) close(fd);
    return rc;
}
