/* fuzz/fuzz_broker.c: structure-aware libFuzzer target for the supervisor's
 * WASI path broker (supervisor/broker.h), which runs the path requests of a
 * worker that may have native code execution, so every field is hostile.
 *
 * Random bytes almost never unpack as a PathRequest, so the input is not a
 * protobuf: it is decoded into up to MAX_REQUESTS requests built in C (op,
 * preopen index, dir/path/target strings from a dictionary of components
 * that matter to a resolver, flag words, times, readlink length), with now
 * and then a field the validator must refuse. Each one is validated as the
 * supervisor does and then served on one end of a socketpair anyway (the
 * broker validates again); the reply is drained from the other end.
 *
 * The fixture, made once in a fresh temp dir: rw/ (preopen 0, writable) and
 * ro/ (preopen 1, read-only), each holding files, directories, a FIFO and
 * symlinks that stay inside, climb out with `../`, are absolute, loop or
 * dangle; and outside/, beneath neither root, with a sentinel file. It
 * aborts when
 *   - outside/, the sentinel (content, mode, times), the temp dir or
 *     /etc/passwd changed;
 *   - anything in ro/ changed (every entry's inode, mode, size, links,
 *     mtime and ctime);
 *   - an fd leaked (the lowest free fd number moved, as in fuzz_ipc);
 *   - an opened fd, or the dev/ino of a filestat, is not something beneath
 *     one of the roots (a walk of both trees that follows no symlink), or an
 *     fd from ro/ is writable;
 *   - the broker's answer breaks its contract: a request the validator
 *     refuses or with a preopen index past the end must get -EBADMSG and
 *     no reply; any other gets 0 and one reply with its id; an fd comes
 *     with a successful open and nothing else; readlink returns at most
 *     buf_len bytes.
 * rw/ is rebuilt after every input that could have changed it, so each
 * input starts from the same tree: a crash reproduces from its input alone,
 * and the fuzzer never wanders into a tree it emptied. The fixture is
 * removed at exit, but left in place (and named) on a failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "ipc/validate.h"
#include "supervisor/broker.h"
#include "wasi/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQUESTS 8
#define RW           0u /* preopen indexes */
#define RO           1u
#define NROOTS       2u
#define STRBUF       16384 /* 4 pieces of at most 3,000 bytes, separators */

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_broker: " __VA_ARGS__);                                              \
        fprintf(stderr, " (fixture left in %s)\n", base);                                          \
        abort();                                                                                   \
    } while (0)

/* -- The fixture -- */

/* One entry of the tree made in each root. NULL target: the other root's
 * file, through `..` (a relative symlink that leaves the root sideways). */
struct node {
    const char *rel;
    char kind; /* 'd' directory, 'f' file, 'l' symlink, 'p' FIFO */
    const char *arg;
};

static const struct node tree[] = {
    {"file", 'f', "hello\n"},
    {"a", 'd', NULL},
    {"a/file", 'f', "a\n"},
    {"a/b", 'd', NULL},
    {"sub", 'd', NULL},
    {"sub/file", 'f', "sub\n"},
    {"sub/link_up", 'l', "../file"},
    {"sub/out_dir", 'l', "../../outside"},
    {"empty", 'd', NULL},
    {"fifo", 'p', NULL},
    {"link_in", 'l', "file"},
    {"link_out", 'l', "../outside/sentinel"},
    {"link_abs", 'l', "/etc/passwd"},
    {"abs_dir", 'l', "/"},
    {"loop_a", 'l', "loop_b"},
    {"loop_b", 'l', "loop_a"},
    {"dangling", 'l', "nonexistent"},
    {"out_new", 'l', "../outside/created"}, /* O_CREAT through it would escape */
    {"ro_link", 'l', NULL},
    {"dir_link", 'l', "sub"},
};
#define NTREE (sizeof(tree) / sizeof(tree[0]))

static char base[PATH_MAX]; /* the temp dir: rw/, ro/, outside/ */
static int base_fd = -1, rw_fd = -1, ro_fd = -1;
static struct sbx_broker *broker;
static int sv[2] = {-1, -1}; /* sv[0]: the worker's end, sv[1]: the broker's */

/* What must never change: lstat of each entry (and the sentinel's bytes). */
struct snap {
    int dirfd;
    const char *rel;
    struct stat st;
};
static struct snap outside_snap[5];
static struct snap ro_snap[NTREE + 1];
static const char sentinel_text[] = "secret: never beneath a root\n";

static void write_file(int dirfd, const char *rel, const char *text, mode_t mode)
{
    int fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    size_t n = strlen(text);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n) FAIL("fixture: %s: %s", rel, strerror(errno));
    close(fd);
}

static void build_tree(int dirfd, const char *other_root)
{
    char other[64];
    snprintf(other, sizeof(other), "../%s/file", other_root);
    for (size_t i = 0; i < NTREE; i++) {
        const struct node *n = &tree[i];
        int rc = 0;
        switch (n->kind) {
        case 'd': rc = mkdirat(dirfd, n->rel, 0755); break;
        case 'f': write_file(dirfd, n->rel, n->arg, 0644); break;
        case 'l': rc = symlinkat(n->arg ? n->arg : other, dirfd, n->rel); break;
        default: rc = mkfifoat(dirfd, n->rel, 0644); break;
        }
        if (rc) FAIL("fixture: %s: %s", n->rel, strerror(errno));
    }
}

/* Removes everything beneath dirfd (which it closes), following no
 * symlink: rw/ holds links out of it. */
static void clear_dir(int dirfd)
{
    DIR *d = fdopendir(dirfd);
    if (!d) FAIL("clear: fdopendir: %s", strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW)) continue;
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) FAIL("clear: %s: %s", e->d_name, strerror(errno));
            clear_dir(sub);
        }
        if (unlinkat(dirfd, e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0))
            FAIL("clear: %s: %s", e->d_name, strerror(errno));
    }
    closedir(d);
}

static int open_dir_at(int dirfd, const char *rel)
{
    int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) FAIL("fixture: open %s: %s", rel, strerror(errno));
    return fd;
}

static void reset_rw(void)
{
    clear_dir(open_dir_at(rw_fd, "."));
    build_tree(rw_fd, "ro");
}

static void take(struct snap *s, int dirfd, const char *rel)
{
    s->dirfd = dirfd;
    s->rel = rel;
    if (fstatat(dirfd, rel, &s->st, AT_SYMLINK_NOFOLLOW))
        FAIL("snapshot %s: %s", rel, strerror(errno));
}

static bool same_ts(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static void check_snaps(const struct snap *s, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        struct stat now;
        if (fstatat(s[i].dirfd, s[i].rel, &now, AT_SYMLINK_NOFOLLOW))
            FAIL("%s: %s is gone (%s)", what, s[i].rel, strerror(errno));
        const struct stat *was = &s[i].st;
        if (now.st_ino != was->st_ino || now.st_mode != was->st_mode ||
            now.st_nlink != was->st_nlink || now.st_size != was->st_size ||
            !same_ts(&now.st_mtim, &was->st_mtim) || !same_ts(&now.st_ctim, &was->st_ctim))
            FAIL("%s: %s changed", what, s[i].rel);
    }
}

static void check_sentinel(void)
{
    char buf[sizeof(sentinel_text) + 8];
    int fd = openat(base_fd, "outside/sentinel", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    if (fd >= 0) close(fd);
    if (n != (ssize_t)strlen(sentinel_text) || memcmp(buf, sentinel_text, (size_t)n))
        FAIL("outside: the sentinel's content changed");
}

static void cleanup(void)
{
    if (base_fd < 0) return;
    clear_dir(open_dir_at(base_fd, "."));
    rmdir(base);
}

static void init_once(void)
{
    if (broker) return;
    /* rw/ is rebuilt after most inputs: on tmpfs that is several times
     * cheaper than on a journaling disk file system. */
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) tmpdir = access("/dev/shm", W_OK | X_OK) ? "/tmp" : "/dev/shm";
    snprintf(base, sizeof(base), "%s/sbx-fuzz-broker-XXXXXX", tmpdir);
    if (!mkdtemp(base)) FAIL("mkdtemp %s: %s", base, strerror(errno));
    base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (base_fd < 0 || mkdirat(base_fd, "rw", 0755) || mkdirat(base_fd, "ro", 0755) ||
        mkdirat(base_fd, "outside", 0755) || mkdirat(base_fd, "outside/inner", 0755))
        FAIL("fixture %s: %s", base, strerror(errno));
    write_file(base_fd, "outside/sentinel", sentinel_text, 0600);
    rw_fd = open_dir_at(base_fd, "rw");
    ro_fd = open_dir_at(base_fd, "ro");
    build_tree(rw_fd, "ro");
    build_tree(ro_fd, "rw");
    atexit(cleanup);

    take(&outside_snap[0], base_fd, ".");
    take(&outside_snap[1], base_fd, "outside");
    take(&outside_snap[2], base_fd, "outside/sentinel");
    take(&outside_snap[3], base_fd, "outside/inner");
    take(&outside_snap[4], AT_FDCWD, "/etc/passwd");
    take(&ro_snap[0], ro_fd, ".");
    for (size_t i = 0; i < NTREE; i++)
        take(&ro_snap[i + 1], ro_fd, tree[i].rel);
    /* File times come from a coarse clock: let it tick, so that a change
     * made right after the snapshot cannot keep the same ctime. */
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);

    struct sbx_broker_preopen pre[NROOTS] = {
        [RW] = {.host_fd = rw_fd, .guest_path = "/rw", .read_only = false},
        [RO] = {.host_fd = ro_fd, .guest_path = "/ro", .read_only = true},
    };
    if (sbx_broker_new(pre, NROOTS, &broker) || sbx_ipc_pair(sv)) FAIL("broker set-up");
}

/* -- Is it beneath a root? -- */

/* Whether (dev, ino) is dirfd (closed here) or anything beneath it. Opens
 * only directories, with O_NOFOLLOW: what is reachable beneath a root by
 * any resolution that stays beneath it is physically there. */
static bool beneath(int dirfd, dev_t dev, ino_t ino, unsigned depth)
{
    DIR *d = fdopendir(dirfd);
    if (!d) FAIL("walk: fdopendir: %s", strerror(errno));
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW)) continue;
        found = st.st_dev == dev && st.st_ino == ino;
        if (!found && S_ISDIR(st.st_mode) && depth < 4096) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) found = beneath(sub, dev, ino, depth + 1);
        }
    }
    closedir(d);
    return found;
}

static void check_inside(dev_t dev, ino_t ino, const char *what)
{
    for (size_t i = 0; i < sizeof(outside_snap) / sizeof(outside_snap[0]); i++)
        if (outside_snap[i].st.st_dev == dev && outside_snap[i].st.st_ino == ino)
            FAIL("%s: got %s, outside both roots", what, outside_snap[i].rel);
    for (size_t r = 0; r < NROOTS; r++) {
        int root = sbx_broker_root_fd(broker, r);
        struct stat st;
        if (fstat(root, &st)) FAIL("fstat root: %s", strerror(errno));
        if (st.st_dev == dev && st.st_ino == ino) return;
        if (beneath(open_dir_at(root, "."), dev, ino, 0)) return;
    }
    FAIL("%s: dev %lu ino %lu is beneath neither root", what, (unsigned long)dev,
         (unsigned long)ino);
}

/* -- Decoding the input -- */

struct in {
    const uint8_t *p;
    size_t n;
};

/* Past the end every byte is 0: the shortest input is the simplest. */
static uint8_t u8(struct in *in)
{
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static uint64_t uN(struct in *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v = v << 8 | u8(in);
    return v;
}

static char name_max[NAME_MAX]; /* the longest name */
static char name_too_long[NAME_MAX + 1];
static char dots[3000]; /* "./" x 1500: a few of them pass 4,095 bytes */

struct piece {
    const char *s;
    size_t len;
};
#define P(str)                                                                                     \
    {                                                                                              \
        str, sizeof(str) - 1                                                                       \
    }
static const struct piece pieces[] = {
    P(""),
    P("."),
    P(".."),
    P("/"),
    P("//"),
    P("a"),
    P("b"),
    P("sub"),
    P("file"),
    P("empty"),
    P("fifo"),
    P("link_in"),
    P("link_up"),
    P("link_out"),
    P("link_abs"),
    P("abs_dir"),
    P("out_dir"),
    P("loop_a"),
    P("dangling"),
    P("out_new"),
    P("ro_link"),
    P("dir_link"),
    P("new"),
    P("outside"),
    P("sentinel"),
    P("rw"),
    P("ro"),
    P("../outside/sentinel"),
    P("/etc/passwd"),
    P("a\0b"), /* a NUL inside: the validator refuses it */
    {name_max, sizeof(name_max)},
    {name_too_long, sizeof(name_too_long)},
    {dots, sizeof(dots)},
};
#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))

static void init_pieces(void)
{
    memset(name_max, 'n', sizeof(name_max));
    memset(name_too_long, 'm', sizeof(name_too_long));
    for (size_t i = 0; i < sizeof(dots); i += 2)
        memcpy(dots + i, "./", 2);
}

/* Up to 4 pieces (or raw bytes from the input), joined by "/" or "//".
 * A quarter of the paths get a leading slash, a quarter a trailing one:
 * more, and few requests would reach anything but the first check. */
static ProtobufCBinaryData build_path(struct in *in, char *buf)
{
    static const uint8_t counts[8] = {0, 1, 1, 1, 2, 2, 3, 4};
    uint8_t h = u8(in);
    size_t n = 0;
    if ((h & 0x30) == 0x30) buf[n++] = '/';
    for (unsigned i = 0; i < counts[h & 7]; i++) {
        if (i) {
            buf[n++] = '/';
            if (h & 0x40) buf[n++] = '/';
        }
        uint8_t k = u8(in);
        if (k >= 0xf8) {
            for (unsigned raw = u8(in) % 16u; raw; raw--)
                buf[n++] = (char)u8(in);
        } else {
            const struct piece *p = &pieces[k % NPIECES];
            memcpy(buf + n, p->s, p->len);
            n += p->len;
        }
    }
    if ((h & 0x88) == 0x88) buf[n++] = '/';
    return (ProtobufCBinaryData){n, (uint8_t *)buf};
}

/* A location's directory: mostly the root itself, as most guest calls. */
static ProtobufCBinaryData build_dir(struct in *in, char *buf)
{
    if (u8(in) < 0xa0) return (ProtobufCBinaryData){0, (uint8_t *)buf};
    return build_path(in, buf);
}

/* Mostly the two roots; now and then an index the broker must refuse. */
static uint32_t pick_preopen(struct in *in)
{
    uint8_t b = u8(in);
    if (b % 16u < 10) return RW;
    if (b % 16u < 15) return RO;
    return b & 0x10 ? NROOTS : UINT32_MAX;
}

static uint64_t pick_time(struct in *in)
{
    switch (u8(in) % 5u) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 1700000000ull * 1000000000ull;
    case 3: return UINT64_MAX;
    default: return uN(in, 8);
    }
}

static uint32_t pick_buf_len(struct in *in)
{
    switch (u8(in) % 6u) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 7;
    case 3: return SBX_IPC_MAX_READLINK;
    case 4: return SBX_IPC_MAX_READLINK + 1; /* refused */
    default: return (uint32_t)uN(in, 4);
    }
}

static int pick_op(struct in *in)
{
    uint8_t b = u8(in);
    if (b < 0xf0) return SBX__PATH_OP__PATH_OP_OPEN + b % 10; /* the ten ops */
    switch (b & 3) {
    case 0: return SBX__PATH_OP__PATH_OP_UNSPECIFIED;
    case 1: return SBX__PATH_OP__PATH_OP_READLINK + 1;
    case 2: return -1;
    default: return (int)uN(in, 4);
    }
}

/* One request and the storage it points into. */
struct req {
    Sbx__FromWorker fw;
    Sbx__PathRequest q;
    Sbx__PathLocation at, new_at;
    char at_dir[STRBUF], at_path[STRBUF], new_dir[STRBUF], new_path[STRBUF], target[STRBUF];
};
static struct req R;

static void build_location(struct in *in, Sbx__PathLocation *l, char *dir, char *path)
{
    sbx__path_location__init(l);
    l->has_preopen = l->has_dir = l->has_path = 1;
    l->preopen = pick_preopen(in);
    l->dir = build_dir(in, dir);
    l->path = build_path(in, path);
}

/* Fills the fields op takes, from the input; then, if the input says so,
 * breaks the shape in one way the validator must catch. */
static void build_request(struct in *in, uint64_t id)
{
    struct req *r = &R;
    sbx__from_worker__init(&r->fw);
    sbx__path_request__init(&r->q);
    r->fw.has_id = 1;
    r->fw.id = id;
    r->fw.body_case = SBX__FROM_WORKER__BODY_PATH;
    r->fw.path = &r->q;
    Sbx__PathRequest *q = &r->q;
    q->has_op = 1;
    q->op = pick_op(in);
    uint8_t mangle = u8(in);
    uint8_t f = u8(in);
    build_location(in, &r->at, r->at_dir, r->at_path);
    q->at = &r->at;
    bool follow = f & 1;
    switch (q->op) {
    case SBX__PATH_OP__PATH_OP_OPEN: {
        uint8_t g = u8(in);
        q->has_lookupflags = q->has_oflags = q->has_fdflags = q->has_read = q->has_write = 1;
        q->lookupflags = follow ? SBX_WASI_LOOKUP_SYMLINK_FOLLOW : 0;
        q->read = (f >> 1) & 1;
        q->write = (f >> 2) & 1;
        q->oflags = (f >> 3) & 0xf; /* CREAT DIRECTORY EXCL TRUNC */
        q->fdflags = g & 0x1f;      /* APPEND DSYNC NONBLOCK RSYNC SYNC */
        break;
    }
    case SBX__PATH_OP__PATH_OP_FILESTAT_GET:
        q->has_lookupflags = 1;
        q->lookupflags = follow ? SBX_WASI_LOOKUP_SYMLINK_FOLLOW : 0;
        break;
    case SBX__PATH_OP__PATH_OP_FILESTAT_SET_TIMES:
        q->has_lookupflags = q->has_atim = q->has_mtim = q->has_fstflags = 1;
        q->lookupflags = follow ? SBX_WASI_LOOKUP_SYMLINK_FOLLOW : 0;
        q->fstflags = (f >> 1) & 0xf; /* contradictory pairs included */
        q->atim = pick_time(in);
        q->mtim = pick_time(in);
        break;
    case SBX__PATH_OP__PATH_OP_LINK:
    case SBX__PATH_OP__PATH_OP_RENAME:
        if (q->op == SBX__PATH_OP__PATH_OP_LINK) {
            q->has_lookupflags = 1;
            q->lookupflags = follow ? SBX_WASI_LOOKUP_SYMLINK_FOLLOW : 0;
        }
        build_location(in, &r->new_at, r->new_dir, r->new_path);
        q->new_at = &r->new_at;
        break;
    case SBX__PATH_OP__PATH_OP_SYMLINK:
        q->has_target = 1;
        q->target = build_path(in, r->target);
        break;
    case SBX__PATH_OP__PATH_OP_READLINK:
        q->has_buf_len = 1;
        q->buf_len = pick_buf_len(in);
        break;
    default: break;
    }
    if (mangle < 0xe0) return;
    switch (mangle & 7) {
    case 0: r->fw.id = 0; break;
    case 1: q->at->has_preopen = 0; break;
    case 2: q->at->has_path = 0; break;
    case 3: /* a field no op but symlink takes, or symlink without it */
        q->has_target = !q->has_target;
        q->target = (ProtobufCBinaryData){1, (uint8_t *)"x"};
        break;
    case 4: /* new_at where the op takes none, or none where it must */
        if (q->new_at) {
            q->new_at = NULL;
        } else {
            build_location(in, &r->new_at, r->new_dir, r->new_path);
            q->new_at = &r->new_at;
        }
        break;
    case 5: /* an unknown flag bit */
        q->has_lookupflags = 1;
        q->lookupflags |= 2;
        break;
    case 6:
        q->has_fdflags = 1;
        q->fdflags |= 0x20;
        break;
    default:
        q->has_buf_len = 1;
        q->buf_len = 1;
        break;
    }
}

/* -- Serving and checking -- */

static int probe_lowest_free(void)
{
    int fd = dup(0);
    if (fd >= 0) close(fd);
    return fd;
}

/* Whether a well-formed request of this op may change the tree it names. */
static bool may_modify(const Sbx__PathRequest *q)
{
    switch (q->op) {
    case SBX__PATH_OP__PATH_OP_FILESTAT_GET:
    case SBX__PATH_OP__PATH_OP_READLINK: return false;
    case SBX__PATH_OP__PATH_OP_OPEN:
        return q->oflags & (SBX_WASI_OFLAG_CREAT | SBX_WASI_OFLAG_TRUNC);
    default: return true;
    }
}

static void check_open_fd(int fd, const Sbx__PathRequest *q)
{
    struct stat st;
    if (fstat(fd, &st)) FAIL("open: fstat of the fd: %s", strerror(errno));
    check_inside(st.st_dev, st.st_ino, "open");
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) FAIL("open: F_GETFL: %s", strerror(errno));
    int want = q->write ? (q->read ? O_RDWR : O_WRONLY) : O_RDONLY;
    if ((fl & O_ACCMODE) != want) FAIL("open: access mode 0%o, asked 0%o", fl & O_ACCMODE, want);
    if (q->at->preopen == RO && (fl & O_ACCMODE) != O_RDONLY)
        FAIL("open: a writable fd from the read-only root");
    if (!(fl & O_NONBLOCK) != !(q->fdflags & SBX_WASI_FDFLAG_NONBLOCK))
        FAIL("open: O_NONBLOCK is not what the guest asked for");
}

/* The reply to a request the broker had to answer. */
static void check_reply(const Sbx__PathRequest *q, uint64_t id)
{
    ProtobufCMessage *m;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    int rc = sbx_ipc_recv(sv[0], &sbx__to_worker__descriptor, &m, fds, &nfds, SBX_IPC_MAX_FDS, 0);
    if (rc) FAIL("no reply (%s)", strerror(-rc));
    const Sbx__ToWorker *tw = (const Sbx__ToWorker *)m;
    if (!tw->has_id || tw->id != id)
        FAIL("reply id %llu, want %llu", (unsigned long long)tw->id, (unsigned long long)id);
    if (tw->body_case != SBX__TO_WORKER__BODY_PATH_REPLY) FAIL("not a path reply");
    const Sbx__PathReply *p = tw->path_reply;
    if (!p->has_wasi_errno || p->wasi_errno > SBX_WASI_ENOTCAPABLE)
        FAIL("reply errno missing or out of range (%u)", p->wasi_errno);
    bool ok = p->wasi_errno == 0;
    bool opened = ok && q->op == SBX__PATH_OP__PATH_OP_OPEN;
    if (nfds != (opened ? 1u : 0u) || p->has_fd_index != opened || (opened && p->fd_index != 0))
        FAIL("op %d, errno %u: %zu fds, fd_index %d", q->op, p->wasi_errno, nfds,
             p->has_fd_index ? (int)p->fd_index : -1);
    if (opened) check_open_fd(fds[0], q);
    bool stat_ok = ok && q->op == SBX__PATH_OP__PATH_OP_FILESTAT_GET;
    if (!!p->filestat != stat_ok) FAIL("filestat with errno %u or op %d", p->wasi_errno, q->op);
    if (stat_ok) {
        if (!p->filestat->has_dev || !p->filestat->has_ino) FAIL("filestat without dev/ino");
        check_inside((dev_t)p->filestat->dev, (ino_t)p->filestat->ino, "filestat_get");
    }
    bool link_ok = ok && q->op == SBX__PATH_OP__PATH_OP_READLINK;
    if (p->has_link != link_ok) FAIL("link with errno %u or op %d", p->wasi_errno, q->op);
    if (link_ok && p->link.len > q->buf_len)
        FAIL("readlink: %zu bytes for buf_len %u", p->link.len, q->buf_len);
    sbx_ipc_close_fds(fds, nfds);
    sbx_ipc_free(m);
}

static void check_no_reply(const char *why)
{
    ProtobufCMessage *m;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    int rc = sbx_ipc_recv(sv[0], &sbx__to_worker__descriptor, &m, fds, &nfds, SBX_IPC_MAX_FDS, 0);
    if (rc != -EAGAIN) FAIL("a reply (recv %d) to a request refused: %s", rc, why);
}

/* Serves R as the supervisor would; returns whether it may have changed rw/. */
static bool serve_one(uint64_t id)
{
    const Sbx__PathRequest *q = &R.q;
    struct sbx_ipc_reject why;
    int valid = sbx_ipc_validate_from_worker(&R.fw, 0, &why) == 0;
    if (!valid && !why.message[0]) FAIL("a refusal must say why");
    /* The supervisor would kill the worker here; the broker must refuse
     * the message on its own too. */
    int rc = sbx_broker_serve(broker, sv[1], &R.fw);
    if (!valid) {
        if (rc != -EBADMSG)
            FAIL("served a request the validator refuses (%s): %d", why.message, rc);
        check_no_reply(why.message);
        return false;
    }
    bool in_range = q->at->preopen < NROOTS && (!q->new_at || q->new_at->preopen < NROOTS);
    if (!in_range) {
        if (rc != -EBADMSG) FAIL("served a preopen index past the end: %d", rc);
        check_no_reply("preopen index");
        return false;
    }
    if (rc) FAIL("serve: %d for a valid request", rc);
    check_reply(q, id);
    return may_modify(q) && (q->at->preopen == RW || (q->new_at && q->new_at->preopen == RW));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!broker) {
        init_pieces();
        init_once();
    }
    struct in in = {data, size};
    int lowest_free = probe_lowest_free();
    bool dirty = false;
    for (uint64_t i = 0; i < MAX_REQUESTS && in.n; i++) {
        build_request(&in, i + 1);
        dirty |= serve_one(i + 1);
    }
    if (probe_lowest_free() != lowest_free) FAIL("an fd leaked");
    check_snaps(outside_snap, sizeof(outside_snap) / sizeof(outside_snap[0]), "outside");
    check_sentinel();
    check_snaps(ro_snap, sizeof(ro_snap) / sizeof(ro_snap[0]), "read-only root");
    if (dirty) reset_rw();
    return 0;
}
