/* The path broker end to end: the worker's ops (wasi/path_broker.h) on one
 * end of a SOCK_SEQPACKET socketpair, sbx_broker_serve on the other (a
 * thread, standing in for the supervisor). Every answer must be the local
 * resolver's answer; escapes stay ENOTCAPABLE/ELOOP; a read-only root
 * refuses writes and never hands out a writable fd; an fd comes only with a
 * successful open; hostile requests get -EBADMSG and no reply; a broken
 * reply is EIO to the guest, with no fd leaked. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/wasi/tree.h"
#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/validate.h"
#include "supervisor/broker.h"
#include "wasi/path_broker.h"
#include "wasi/path_local.h"

static char tmp[256];
static struct sbx_broker *broker;
static int sv[2]; /* sv[0]: the worker's end, sv[1]: the broker's */
static struct sbx_wasi_path_broker client;
static pthread_t server;
static bool serving;
static int serve_rc; /* the first failure of the serving thread */
/* The local resolver over the same directories, for comparison. */
static struct sbx_wasi_root local_roots[2];
static struct sbx_wasi_roots local_ctx = {local_roots, 2};

static const struct sbx_wasi_path_ops *B = &sbx_wasi_path_broker_ops;
static const struct sbx_wasi_path_ops *L = &sbx_wasi_path_local_ops;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;
}

/* Serves until the worker's end closes, like the supervisor's loop. */
static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        ProtobufCMessage *m;
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds;
        int rc =
            sbx_ipc_recv(sv[1], &sbx__from_worker__descriptor, &m, fds, &nfds, SBX_IPC_MAX_FDS, -1);
        if (rc == -EPIPE) return NULL;
        if (!rc) {
            struct sbx_ipc_reject why;
            rc = sbx_ipc_validate_from_worker((Sbx__FromWorker *)m, nfds, &why);
            if (!rc) rc = sbx_broker_serve(broker, sv[1], (Sbx__FromWorker *)m);
            sbx_ipc_close_fds(fds, nfds);
            sbx_ipc_free(m);
        }
        if (rc && !serve_rc) serve_rc = rc;
    }
}

/* tmp/root (rw, preopen 0), tmp/ro (read-only, preopen 1), tmp/outside. */
static void setup(void)
{
    snprintf(tmp, sizeof(tmp), "/tmp/sbx-broker-test-XXXXXX");
    cr_assert(mkdtemp(tmp));
    tree_use(tmp);
    mkdir_rel("root");
    mkdir_rel("root/sub");
    mkdir_rel("ro");
    mkdir_rel("outside");
    mkfile("root/hello.txt", "hello\n");
    mkfile("root/sub/inner.txt", "inner\n");
    mkfile("ro/ro.txt", "read only\n");
    mkfile("outside/secret.txt", "secret\n");
    symlink_rel("hello.txt", "root/link_in");
    symlink_rel("../outside/secret.txt", "root/link_out");
    symlink_rel("../outside", "root/link_out_dir");
    symlink_rel("/etc/passwd", "root/link_abs");
    symlink_rel("..", "root/link_dotdot");
    symlink_rel("loop_b", "root/loop_a");
    symlink_rel("loop_a", "root/loop_b");
    symlink_rel("../ro/ro.txt", "root/link_to_ro");

    char p[2][512];
    snprintf(p[0], sizeof(p[0]), "%s/root", tmp);
    snprintf(p[1], sizeof(p[1]), "%s/ro", tmp);
    struct sbx_broker_preopen pre[2] = {{p[0], -1, "/sandbox", false}, {p[1], -1, "/ro", true}};
    cr_assert_eq(sbx_broker_new(pre, 2, &broker), 0);
    cr_assert_eq(sbx_broker_count(broker), 2);
    for (int i = 0; i < 2; i++)
        local_roots[i] = (struct sbx_wasi_root){sbx_broker_root_fd(broker, (size_t)i), i == 1};
    cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    client = (struct sbx_wasi_path_broker){.channel = sv[0], .next_id = 1};
    serve_rc = 0;
    serving = false;
}

static void start_server(void)
{
    cr_assert_eq(pthread_create(&server, NULL, serve, NULL), 0);
    serving = true;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    close(sv[0]);
    if (serving) pthread_join(server, NULL);
    close(sv[1]);
    sbx_broker_free(broker);
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define AT(p, d, s) (&(struct sbx_wasi_at){(p), (d), (s)})

static const struct sbx_wasi_open_req RD = {.read = true};

TestSuite(broker, .init = setup, .fini = teardown);

Test(broker, open_and_read)
{
    start_server();
    int fd = -1;
    cr_assert_eq(B->open(&client, AT(0, "", "hello.txt"), &RD, &fd), 0);
    cr_assert(fd >= 0);
    char buf[16] = {0};
    cr_assert_eq(read(fd, buf, sizeof(buf)), 6);
    cr_assert_str_eq(buf, "hello\n");
    int fl = fcntl(fd, F_GETFL);
    cr_assert_eq(fl & O_ACCMODE, O_RDONLY);
    cr_assert_eq(fl & O_NONBLOCK, 0, "the broker's O_NONBLOCK must not leak to the guest");
    cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    /* Through a directory capability, and asking for NONBLOCK. */
    struct sbx_wasi_open_req nb = {.read = true, .fdflags = SBX_WASI_FDFLAG_NONBLOCK};
    cr_assert_eq(B->open(&client, AT(0, "sub", "inner.txt"), &nb, &fd), 0);
    cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    close(fd);
    /* A directory. */
    struct sbx_wasi_open_req dir = {.read = true, .oflags = SBX_WASI_OFLAG_DIRECTORY};
    cr_assert_eq(B->open(&client, AT(0, "", "sub"), &dir, &fd), 0);
    close(fd);
    cr_assert_eq(B->open(&client, AT(0, "", "missing"), &RD, &fd), SBX_WASI_ENOENT);
    cr_assert_eq(fd, -1);
    cr_assert_eq(serve_rc, 0);
}

Test(broker, create_rename_unlink)
{
    start_server();
    int fd;
    struct sbx_wasi_open_req cr = {.write = true, .oflags = SBX_WASI_OFLAG_CREAT};
    cr_assert_eq(B->open(&client, AT(0, "", "new.txt"), &cr, &fd), 0);
    cr_assert_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
    cr_assert_eq(write(fd, "abc", 3), 3);
    close(fd);
    cr_assert_eq(B->create_directory(&client, AT(0, "", "d")), 0);
    cr_assert_eq(B->create_directory(&client, AT(0, "", "d")), SBX_WASI_EEXIST);
    cr_assert_eq(B->rename(&client, AT(0, "", "new.txt"), AT(0, "d", "moved.txt")), 0);
    struct sbx_wasi_filestat st;
    cr_assert_eq(B->filestat_get(&client, AT(0, "d", "moved.txt"), 0, &st), 0);
    cr_assert_eq(st.size, 3);
    cr_assert_eq(st.filetype, SBX_WASI_FILETYPE_REGULAR_FILE);
    struct sbx_wasi_filestat lst;
    cr_assert_eq(L->filestat_get(&local_ctx, AT(0, "d", "moved.txt"), 0, &lst), 0);
    cr_assert_eq(st.ino, lst.ino);
    cr_assert_eq(st.mtim, lst.mtim);
    cr_assert_eq(B->filestat_set_times(&client, AT(0, "d", "moved.txt"), 0, 5000000000ull, 0,
                                       SBX_WASI_FSTFLAG_ATIM),
                 0);
    cr_assert_eq(B->filestat_get(&client, AT(0, "d", "moved.txt"), 0, &st), 0);
    cr_assert_eq(st.atim, 5000000000ull);
    cr_assert_eq(B->link(&client, AT(0, "d", "moved.txt"), 0, AT(0, "", "hard")), 0);
    cr_assert_eq(B->filestat_get(&client, AT(0, "", "hard"), 0, &st), 0);
    cr_assert_eq(st.nlink, 2);
    cr_assert_eq(B->remove_directory(&client, AT(0, "", "d")), SBX_WASI_ENOTEMPTY);
    cr_assert_eq(B->unlink_file(&client, AT(0, "d", "moved.txt")), 0);
    cr_assert_eq(B->unlink_file(&client, AT(0, "", "hard")), 0);
    cr_assert_eq(B->remove_directory(&client, AT(0, "", "d")), 0);
    cr_assert_eq(B->filestat_get(&client, AT(0, "d", "moved.txt"), 0, &st), SBX_WASI_ENOENT);
    cr_assert(!exists("root/d") && !exists("root/hard") && !exists("root/new.txt"));
    cr_assert_eq(serve_rc, 0);
}

Test(broker, symlink_and_readlink)
{
    start_server();
    cr_assert_eq(B->symlink(&client, "hello.txt", AT(0, "", "mine")), 0);
    char buf[64];
    size_t used;
    cr_assert_eq(B->readlink(&client, AT(0, "", "mine"), buf, sizeof(buf), &used), 0);
    cr_assert_eq(used, 9);
    cr_assert(!memcmp(buf, "hello.txt", 9));
    /* Truncated like readlink(2). */
    cr_assert_eq(B->readlink(&client, AT(0, "", "link_out"), buf, 3, &used), 0);
    cr_assert_eq(used, 3);
    cr_assert(!memcmp(buf, "../", 3));
    /* A length the guest may pass is far above what a reply carries. */
    cr_assert_eq(B->readlink(&client, AT(0, "", "link_in"), buf, (size_t)1 << 31, &used), 0);
    cr_assert_eq(used, 9);
    cr_assert_eq(B->readlink(&client, AT(0, "", "hello.txt"), buf, sizeof(buf), &used),
                 SBX_WASI_EINVAL);
    cr_assert_eq(B->symlink(&client, "/etc/passwd", AT(0, "", "abs")), SBX_WASI_ENOTCAPABLE);
    cr_assert_eq(serve_rc, 0);
}

/* Each escape through the broker gives what the local resolver gives. */
Test(broker, escapes)
{
    start_server();
    static const struct {
        const char *dir, *path;
        uint32_t lookup;
        uint16_t want;
    } cases[] = {
        {"", "../outside/secret.txt", 0, SBX_WASI_ENOTCAPABLE},
        {"", "..", 0, SBX_WASI_ENOTCAPABLE},
        {"..", "outside/secret.txt", 0, SBX_WASI_ENOTCAPABLE},
        {"sub", "../../outside/secret.txt", 0, SBX_WASI_ENOTCAPABLE},
        {"sub", "../hello.txt", 0, SBX_WASI_ENOTCAPABLE}, /* the dir is the capability */
        {"", "/etc/passwd", 0, SBX_WASI_ENOTCAPABLE},
        {"/etc", "passwd", 0, SBX_WASI_ENOTCAPABLE},
        {"", "link_out", SBX_WASI_LOOKUP_SYMLINK_FOLLOW, SBX_WASI_ENOTCAPABLE},
        {"", "link_out_dir/secret.txt", 0, SBX_WASI_ENOTCAPABLE},
        {"", "link_abs", SBX_WASI_LOOKUP_SYMLINK_FOLLOW, SBX_WASI_ENOTCAPABLE},
        {"", "link_dotdot/outside/secret.txt", 0, SBX_WASI_ENOTCAPABLE},
        {"", "link_to_ro", SBX_WASI_LOOKUP_SYMLINK_FOLLOW, SBX_WASI_ENOTCAPABLE},
        {"", "loop_a", SBX_WASI_LOOKUP_SYMLINK_FOLLOW, SBX_WASI_ELOOP},
        {"", "loop_a/x", 0, SBX_WASI_ELOOP},
        {"", "link_in", 0, SBX_WASI_ELOOP}, /* O_NOFOLLOW on a last symlink */
        {"", "link_in", SBX_WASI_LOOKUP_SYMLINK_FOLLOW, 0},
    };
    int before = count_fds();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sbx_wasi_open_req req = {.read = true, .lookupflags = cases[i].lookup};
        int bfd = -1, lfd = -1;
        uint16_t b = B->open(&client, AT(0, cases[i].dir, cases[i].path), &req, &bfd);
        uint16_t l = L->open(&local_ctx, AT(0, cases[i].dir, cases[i].path), &req, &lfd);
        cr_expect_eq(b, cases[i].want, "%s / %s: broker %u", cases[i].dir, cases[i].path, b);
        cr_expect_eq(b, l, "%s / %s: broker %u, local %u", cases[i].dir, cases[i].path, b, l);
        struct sbx_wasi_filestat st;
        b = B->filestat_get(&client, AT(0, cases[i].dir, cases[i].path), cases[i].lookup, &st);
        l = L->filestat_get(&local_ctx, AT(0, cases[i].dir, cases[i].path), cases[i].lookup, &st);
        cr_expect_eq(b, l, "stat %s / %s: broker %u, local %u", cases[i].dir, cases[i].path, b, l);
        if (bfd >= 0) close(bfd);
        if (lfd >= 0) close(lfd);
    }
    /* Creating through a symlink that points out. */
    struct sbx_wasi_open_req cr = {.write = true,
                                   .oflags = SBX_WASI_OFLAG_CREAT,
                                   .lookupflags = SBX_WASI_LOOKUP_SYMLINK_FOLLOW};
    int fd = -1;
    cr_assert_eq(B->open(&client, AT(0, "", "link_out_dir/new.txt"), &cr, &fd),
                 SBX_WASI_ENOTCAPABLE);
    cr_assert_eq(B->create_directory(&client, AT(0, "", "../escaped")), SBX_WASI_ENOTCAPABLE);
    cr_assert_eq(B->rename(&client, AT(0, "", "hello.txt"), AT(0, "", "../outside/x")),
                 SBX_WASI_ENOTCAPABLE);
    cr_assert_eq(B->symlink(&client, "x", AT(0, "link_dotdot", "y")), SBX_WASI_ENOTCAPABLE);
    cr_assert_eq(count_fds(), before);
    cr_assert(!exists("escaped") && !exists("outside/x") && !exists("outside/new.txt"));
    cr_assert_eq(serve_rc, 0);
}

Test(broker, read_only_root)
{
    start_server();
    int fd = -1;
    struct sbx_wasi_open_req rw = {.read = true, .write = true};
    cr_assert_eq(B->open(&client, AT(1, "", "ro.txt"), &rw, &fd), SBX_WASI_EROFS);
    struct sbx_wasi_open_req tr = {.read = true, .oflags = SBX_WASI_OFLAG_TRUNC};
    cr_assert_eq(B->open(&client, AT(1, "", "ro.txt"), &tr, &fd), SBX_WASI_EROFS);
    struct sbx_wasi_open_req cr = {.read = true, .oflags = SBX_WASI_OFLAG_CREAT};
    cr_assert_eq(B->open(&client, AT(1, "", "new"), &cr, &fd), SBX_WASI_EROFS);
    cr_assert_eq(fd, -1);
    /* Reading is fine, and the fd is read-only whatever was asked. */
    cr_assert_eq(B->open(&client, AT(1, "", "ro.txt"), &RD, &fd), 0);
    cr_assert_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    cr_assert_eq(write(fd, "x", 1), -1);
    close(fd);
    struct sbx_wasi_open_req dir = {.read = true, .oflags = SBX_WASI_OFLAG_DIRECTORY};
    cr_assert_eq(B->open(&client, AT(1, "", "."), &dir, &fd), 0);
    cr_assert_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    close(fd);
    cr_assert_eq(B->create_directory(&client, AT(1, "", "d")), SBX_WASI_EROFS);
    cr_assert_eq(B->unlink_file(&client, AT(1, "", "ro.txt")), SBX_WASI_EROFS);
    cr_assert_eq(B->remove_directory(&client, AT(1, "", "x")), SBX_WASI_EROFS);
    cr_assert_eq(B->symlink(&client, "ro.txt", AT(1, "", "l")), SBX_WASI_EROFS);
    cr_assert_eq(
        B->filestat_set_times(&client, AT(1, "", "ro.txt"), 0, 0, 0, SBX_WASI_FSTFLAG_MTIM_NOW),
        SBX_WASI_EROFS);
    /* Out of it, into it, or a hard link from it into a writable root. */
    cr_assert_eq(B->rename(&client, AT(1, "", "ro.txt"), AT(0, "", "stolen")), SBX_WASI_EROFS);
    cr_assert_eq(B->rename(&client, AT(0, "", "hello.txt"), AT(1, "", "in")), SBX_WASI_EROFS);
    cr_assert_eq(B->link(&client, AT(1, "", "ro.txt"), 0, AT(0, "", "hard")), SBX_WASI_EROFS);
    /* Reading the metadata is allowed. */
    struct sbx_wasi_filestat st;
    cr_assert_eq(B->filestat_get(&client, AT(1, "", "ro.txt"), 0, &st), 0);
    cr_assert_eq(st.size, 10);
    cr_assert(exists("ro/ro.txt") && !exists("ro/d") && !exists("ro/new") && !exists("ro/l"));
    cr_assert(!exists("root/stolen") && !exists("root/hard"));
    cr_assert_eq(serve_rc, 0);
}

/* -- sbx_broker_serve on crafted requests, without the client -- */

/* A valid FromWorker{id 7, path{op, at{preopen 0, "", "hello.txt"}}}. */
struct req {
    Sbx__FromWorker fw;
    Sbx__PathRequest q;
    Sbx__PathLocation at, new_at;
};

static void req_init(struct req *r, Sbx__PathOp op)
{
    sbx__from_worker__init(&r->fw);
    sbx__path_request__init(&r->q);
    sbx__path_location__init(&r->at);
    sbx__path_location__init(&r->new_at);
    r->fw.has_id = 1;
    r->fw.id = 7;
    r->fw.body_case = SBX__FROM_WORKER__BODY_PATH;
    r->fw.path = &r->q;
    r->q.has_op = 1;
    r->q.op = op;
    r->q.at = &r->at;
    r->at.has_preopen = 1;
    r->at.has_dir = 1;
    r->at.dir = (ProtobufCBinaryData){0, (uint8_t *)""};
    r->at.has_path = 1;
    r->at.path = (ProtobufCBinaryData){9, (uint8_t *)"hello.txt"};
    r->new_at = r->at;
    if (op == SBX__PATH_OP__PATH_OP_READLINK) {
        r->q.has_buf_len = 1;
        r->q.buf_len = 64;
    }
}

/* Serves r and returns the reply the worker's end received (NULL: none). */
static Sbx__ToWorker *serve_one(struct req *r, int want_rc, int *fds, size_t *nfds)
{
    cr_assert_eq(sbx_broker_serve(broker, sv[1], &r->fw), want_rc);
    ProtobufCMessage *m = NULL;
    *nfds = 0;
    int rc = sbx_ipc_recv(sv[0], &sbx__to_worker__descriptor, &m, fds, nfds, SBX_IPC_MAX_FDS, 0);
    if (want_rc) {
        cr_assert_eq(rc, -EAGAIN, "no reply may follow a refused request");
        return NULL;
    }
    cr_assert_eq(rc, 0);
    Sbx__ToWorker *tw = (Sbx__ToWorker *)m;
    cr_assert_eq(tw->id, 7);
    cr_assert_eq(tw->body_case, SBX__TO_WORKER__BODY_PATH_REPLY);
    cr_assert(tw->path_reply->has_wasi_errno);
    return tw;
}

Test(broker, fd_only_for_open)
{
    int before = count_fds();
    static const Sbx__PathOp ops[] = {
        SBX__PATH_OP__PATH_OP_OPEN,        SBX__PATH_OP__PATH_OP_FILESTAT_GET,
        SBX__PATH_OP__PATH_OP_READLINK,    SBX__PATH_OP__PATH_OP_CREATE_DIRECTORY,
        SBX__PATH_OP__PATH_OP_UNLINK_FILE, SBX__PATH_OP__PATH_OP_REMOVE_DIRECTORY,
        SBX__PATH_OP__PATH_OP_SYMLINK,     SBX__PATH_OP__PATH_OP_FILESTAT_SET_TIMES,
        SBX__PATH_OP__PATH_OP_LINK,        SBX__PATH_OP__PATH_OP_RENAME,
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        struct req r;
        req_init(&r, ops[i]);
        if (ops[i] == SBX__PATH_OP__PATH_OP_LINK || ops[i] == SBX__PATH_OP__PATH_OP_RENAME) {
            r.q.new_at = &r.new_at;
            r.new_at.path = (ProtobufCBinaryData){4, (uint8_t *)"copy"};
        }
        if (ops[i] == SBX__PATH_OP__PATH_OP_SYMLINK) {
            r.q.has_target = 1;
            r.q.target = (ProtobufCBinaryData){1, (uint8_t *)"x"};
        }
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds;
        Sbx__ToWorker *tw = serve_one(&r, 0, fds, &nfds);
        bool is_open = ops[i] == SBX__PATH_OP__PATH_OP_OPEN;
        cr_assert_eq(nfds, is_open ? 1u : 0u, "op %d", ops[i]);
        cr_assert_eq(tw->path_reply->has_fd_index, is_open, "op %d", ops[i]);
        if (ops[i] == SBX__PATH_OP__PATH_OP_FILESTAT_GET)
            cr_assert_not_null(tw->path_reply->filestat);
        sbx_ipc_close_fds(fds, nfds);
        sbx_ipc_free(&tw->base);
    }
    /* A failed open brings no fd. */
    struct req r;
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.at.path = (ProtobufCBinaryData){7, (uint8_t *)"missing"};
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    Sbx__ToWorker *tw = serve_one(&r, 0, fds, &nfds);
    cr_assert_eq(tw->path_reply->wasi_errno, SBX_WASI_ENOENT);
    cr_assert_eq(nfds, 0);
    cr_assert(!tw->path_reply->has_fd_index);
    sbx_ipc_free(&tw->base);
    cr_assert_eq(count_fds(), before, "the broker keeps no copy of an fd it sent");
}

Test(broker, hostile_requests)
{
    int before = count_fds();
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    struct req r;
    /* A preopen this worker does not have: valid in shape, wrong here. */
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.at.preopen = 2;
    serve_one(&r, -EBADMSG, fds, &nfds);
    req_init(&r, SBX__PATH_OP__PATH_OP_RENAME);
    r.q.new_at = &r.new_at;
    r.new_at.preopen = 0xffffffffu;
    serve_one(&r, -EBADMSG, fds, &nfds);
    /* What the validator refuses, checked again by the broker. */
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.fw.id = 0;
    serve_one(&r, -EBADMSG, fds, &nfds);
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.q.op = 99;
    serve_one(&r, -EBADMSG, fds, &nfds);
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.at.path = (ProtobufCBinaryData){10, (uint8_t *)"hello\0/../"};
    serve_one(&r, -EBADMSG, fds, &nfds);
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.q.at = NULL;
    serve_one(&r, -EBADMSG, fds, &nfds);
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.q.has_target = 1; /* not an open's field */
    serve_one(&r, -EBADMSG, fds, &nfds);
    req_init(&r, SBX__PATH_OP__PATH_OP_READLINK);
    r.q.buf_len = SBX_IPC_MAX_READLINK + 1;
    serve_one(&r, -EBADMSG, fds, &nfds);
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.q.has_oflags = 1;
    r.q.oflags = 0x100;
    serve_one(&r, -EBADMSG, fds, &nfds);
    /* Not a path request at all: the caller's mistake. */
    req_init(&r, SBX__PATH_OP__PATH_OP_OPEN);
    r.fw.body_case = SBX__FROM_WORKER__BODY_IDLE;
    Sbx__Ack ack;
    sbx__ack__init(&ack);
    r.fw.idle = &ack;
    serve_one(&r, -EINVAL, fds, &nfds);
    cr_assert_eq(count_fds(), before);
    cr_assert(exists("root/hello.txt"));
}

/* -- The client against a broken supervisor -- */

/* Queues `tw` (with fds) on the broker's end before the client asks, so the
 * client's next call reads it as its reply. */
static void queue_reply(Sbx__ToWorker *tw, const int *fds, size_t nfds)
{
    cr_assert_eq(sbx_ipc_send(sv[1], &tw->base, fds, nfds, 0), 0);
}

static void drain_requests(void)
{
    ProtobufCMessage *m;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    while (!sbx_ipc_recv(sv[1], &sbx__from_worker__descriptor, &m, fds, &nfds, SBX_IPC_MAX_FDS, 0))
        sbx_ipc_free(m);
}

Test(broker, bad_replies_are_eio)
{
    int before = count_fds();
    Sbx__PathReply rep;
    Sbx__ToWorker tw;
    int fd = -1, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* 1. A wrong id. */
    sbx__path_reply__init(&rep);
    rep.has_wasi_errno = 1;
    sbx__to_worker__init(&tw);
    tw.has_id = 1;
    tw.id = 999;
    tw.body_case = SBX__TO_WORKER__BODY_PATH_REPLY;
    tw.path_reply = &rep;
    queue_reply(&tw, NULL, 0);
    cr_assert_eq(B->unlink_file(&client, AT(0, "", "x")), SBX_WASI_EIO);
    /* 2. Not a path reply. */
    Sbx__Ack ack;
    sbx__ack__init(&ack);
    Sbx__ToWorker stop;
    sbx__to_worker__init(&stop);
    stop.has_id = 1;
    stop.id = client.next_id;
    stop.body_case = SBX__TO_WORKER__BODY_STOP;
    stop.stop = &ack;
    queue_reply(&stop, NULL, 0);
    cr_assert_eq(B->unlink_file(&client, AT(0, "", "x")), SBX_WASI_EIO);
    /* 3. An fd with a reply that takes none. */
    tw.id = client.next_id;
    queue_reply(&tw, &devnull, 1);
    cr_assert_eq(B->unlink_file(&client, AT(0, "", "x")), SBX_WASI_EIO);
    /* 4. A successful open without its fd, then with two. */
    tw.id = client.next_id;
    queue_reply(&tw, NULL, 0);
    cr_assert_eq(B->open(&client, AT(0, "", "hello.txt"), &RD, &fd), SBX_WASI_EIO);
    cr_assert_eq(fd, -1);
    tw.id = client.next_id;
    rep.has_fd_index = 1;
    queue_reply(&tw, (int[]){devnull, devnull}, 2);
    cr_assert_eq(B->open(&client, AT(0, "", "hello.txt"), &RD, &fd), SBX_WASI_EIO);
    cr_assert_eq(fd, -1);
    /* 5. A readlink answer longer than asked for, an errno out of range. */
    rep.has_fd_index = 0;
    rep.has_link = 1;
    rep.link = (ProtobufCBinaryData){8, (uint8_t *)"too long"};
    tw.id = client.next_id;
    queue_reply(&tw, NULL, 0);
    char buf[4];
    size_t used = 99;
    cr_assert_eq(B->readlink(&client, AT(0, "", "link_in"), buf, sizeof(buf), &used), SBX_WASI_EIO);
    cr_assert_eq(used, 0);
    rep.has_link = 0;
    rep.wasi_errno = 1000;
    tw.id = client.next_id;
    queue_reply(&tw, NULL, 0);
    cr_assert_eq(B->create_directory(&client, AT(0, "", "x")), SBX_WASI_EIO);
    /* 6. A filestat success without the filestat. */
    rep.wasi_errno = 0;
    tw.id = client.next_id;
    queue_reply(&tw, NULL, 0);
    struct sbx_wasi_filestat st;
    cr_assert_eq(B->filestat_get(&client, AT(0, "", "hello.txt"), 0, &st), SBX_WASI_EIO);
    /* 7. Garbage bytes. */
    cr_assert_eq(sbx_ipc_send_raw(sv[1], "\xff\xff\xff", 3, NULL, 0, 0), 0);
    cr_assert_eq(B->unlink_file(&client, AT(0, "", "x")), SBX_WASI_EIO);
    drain_requests();
    /* 8. The supervisor is gone. */
    close(sv[1]);
    sv[1] = -1;
    cr_assert_eq(B->unlink_file(&client, AT(0, "", "x")), SBX_WASI_EIO);
    cr_assert_eq(B->open(&client, AT(0, "", "hello.txt"), &RD, &fd), SBX_WASI_EIO);
    close(devnull);
    /* sv[1] was counted in `before` and is closed now. */
    cr_assert_eq(count_fds(), before - 1, "fds that came with bad replies are closed");
    cr_assert(exists("root/hello.txt"));
}

/* Limits the validator enforces are answered locally, never sent. */
Test(broker, client_checks_before_sending)
{
    char *longp = malloc(SBX_IPC_MAX_BROKER_PATH + 2);
    memset(longp, 'a', SBX_IPC_MAX_BROKER_PATH + 1);
    longp[SBX_IPC_MAX_BROKER_PATH + 1] = '\0';
    int fd;
    cr_assert_eq(B->open(&client, AT(0, "", longp), &RD, &fd), SBX_WASI_ENAMETOOLONG);
    cr_assert_eq(B->rename(&client, AT(0, "", "a"), AT(0, longp, "b")), SBX_WASI_ENAMETOOLONG);
    cr_assert_eq(B->symlink(&client, longp, AT(0, "", "l")), SBX_WASI_ENAMETOOLONG);
    struct sbx_wasi_open_req bad = {.read = true, .oflags = 0x40};
    cr_assert_eq(B->open(&client, AT(0, "", "x"), &bad, &fd), SBX_WASI_EINVAL);
    cr_assert_eq(B->filestat_set_times(&client, AT(0, "", "x"), 0, 0, 0, 0x80), SBX_WASI_EINVAL);
    free(longp);
    /* Nothing reached the broker's end. */
    ProtobufCMessage *m;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    cr_assert_eq(
        sbx_ipc_recv(sv[1], &sbx__from_worker__descriptor, &m, fds, &nfds, SBX_IPC_MAX_FDS, 0),
        -EAGAIN);
}

Test(broker, new_from_fds)
{
    /* Preopens given as fds are duplicated; a non-directory is refused. */
    int dfd = sbx_broker_root_fd(broker, 0);
    struct sbx_broker *b2;
    cr_assert_eq(sbx_broker_new(&(struct sbx_broker_preopen){NULL, dfd, "/x", true}, 1, &b2), 0);
    cr_assert_neq(sbx_broker_root_fd(b2, 0), dfd);
    cr_assert_eq(sbx_broker_root_fd(b2, 1), -1);
    sbx_broker_free(b2);
    int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert_eq(sbx_broker_new(&(struct sbx_broker_preopen){NULL, f, "/x", false}, 1, &b2),
                 -ENOTDIR);
    close(f);
    cr_assert_eq(
        sbx_broker_new(&(struct sbx_broker_preopen){"/nonexistent-sbx", -1, "/x", false}, 1, &b2),
        -ENOENT);
    cr_assert_eq(sbx_broker_new(&(struct sbx_broker_preopen){NULL, -1, "/x", false}, 1, &b2),
                 -EINVAL);
}
