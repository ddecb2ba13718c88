/* tests/ipc/test_validate_path.c: the checks on a worker's PathRequest (the
 * WASI path broker). A valid request of each op is broken in one way per
 * row and must be refused with the expected code and a message naming the
 * field; the limits are inclusive; a request survives a pack/unpack. */
#include "tests/ipc/helpers.h"

struct fixture {
    Sbx__FromWorker fw;
    Sbx__PathRequest q;
    Sbx__PathLocation at, new_at;
    char big[SBX_IPC_MAX_BROKER_PATH + 2];
    size_t nfds;
};

static void bytes(ProtobufCBinaryData *b, protobuf_c_boolean *has, const char *s, size_t n)
{
    *has = 1;
    *b = (ProtobufCBinaryData){n, (uint8_t *)s};
}

/* A valid request of `op`: every required field, nothing else. */
static void init(struct fixture *f, Sbx__PathOp op)
{
    memset(f, 0, sizeof(*f));
    sbx__from_worker__init(&f->fw);
    sbx__path_request__init(&f->q);
    sbx__path_location__init(&f->at);
    sbx__path_location__init(&f->new_at);
    f->fw.has_id = 1;
    f->fw.id = 42;
    f->fw.body_case = SBX__FROM_WORKER__BODY_PATH;
    f->fw.path = &f->q;
    f->q.has_op = 1;
    f->q.op = op;
    f->q.at = &f->at;
    f->at.has_preopen = 1;
    bytes(&f->at.dir, &f->at.has_dir, "", 0);
    bytes(&f->at.path, &f->at.has_path, "a/b", 3);
    f->new_at = f->at;
    switch (op) {
    case SBX__PATH_OP__PATH_OP_LINK:
    case SBX__PATH_OP__PATH_OP_RENAME: f->q.new_at = &f->new_at; break;
    case SBX__PATH_OP__PATH_OP_SYMLINK: bytes(&f->q.target, &f->q.has_target, "t", 1); break;
    case SBX__PATH_OP__PATH_OP_READLINK:
        f->q.has_buf_len = 1;
        f->q.buf_len = 10;
        break;
    default: break;
    }
    memset(f->big, 'x', sizeof(f->big) - 1);
}

static int check(struct fixture *f, struct sbx_ipc_reject *why)
{
    return sbx_ipc_validate_from_worker(&f->fw, f->nfds, why);
}

static const Sbx__PathOp all_ops[] = {
    SBX__PATH_OP__PATH_OP_OPEN,
    SBX__PATH_OP__PATH_OP_FILESTAT_GET,
    SBX__PATH_OP__PATH_OP_FILESTAT_SET_TIMES,
    SBX__PATH_OP__PATH_OP_CREATE_DIRECTORY,
    SBX__PATH_OP__PATH_OP_REMOVE_DIRECTORY,
    SBX__PATH_OP__PATH_OP_UNLINK_FILE,
    SBX__PATH_OP__PATH_OP_LINK,
    SBX__PATH_OP__PATH_OP_RENAME,
    SBX__PATH_OP__PATH_OP_SYMLINK,
    SBX__PATH_OP__PATH_OP_READLINK,
};

Test(validate_path, a_valid_request_of_each_op)
{
    struct fixture f;
    struct sbx_ipc_reject why;
    for (size_t i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++) {
        init(&f, all_ops[i]);
        cr_assert_eq(check(&f, &why), 0, "op %d: %s", all_ops[i], why.message);
    }
    /* Every optional field an open takes, with every known bit. */
    init(&f, SBX__PATH_OP__PATH_OP_OPEN);
    f.q.has_lookupflags = f.q.has_oflags = f.q.has_fdflags = f.q.has_read = f.q.has_write = 1;
    f.q.lookupflags = 1;
    f.q.oflags = 0xf;
    f.q.fdflags = 0x1f;
    f.q.read = f.q.write = 1;
    cr_assert_eq(check(&f, &why), 0, "%s", why.message);
    init(&f, SBX__PATH_OP__PATH_OP_FILESTAT_SET_TIMES);
    f.q.has_atim = f.q.has_mtim = f.q.has_fstflags = f.q.has_lookupflags = 1;
    f.q.atim = f.q.mtim = UINT64_MAX;
    f.q.fstflags = 0xf;
    cr_assert_eq(check(&f, &why), 0, "%s", why.message);
}

typedef void (*breaker)(struct fixture *f);

struct row {
    const char *name;
    Sbx__PathOp op;
    breaker brk;
    Sbx__ErrorCode code;
    const char *field; /* must appear in the message */
};

#define OPEN     SBX__PATH_OP__PATH_OP_OPEN
#define RENAME   SBX__PATH_OP__PATH_OP_RENAME
#define SYMLINK  SBX__PATH_OP__PATH_OP_SYMLINK
#define READLINK SBX__PATH_OP__PATH_OP_READLINK
#define UNLINK   SBX__PATH_OP__PATH_OP_UNLINK_FILE
#define BAD      SBX__ERROR_CODE__BAD_REQUEST
#define LIMIT    SBX__ERROR_CODE__LIMIT

static void b_no_id(struct fixture *f)
{
    f->fw.has_id = 0;
}
static void b_id_zero(struct fixture *f)
{
    f->fw.id = 0;
}
static void b_no_op(struct fixture *f)
{
    f->q.has_op = 0;
}
static void b_op_zero(struct fixture *f)
{
    f->q.op = SBX__PATH_OP__PATH_OP_UNSPECIFIED;
}
static void b_op_unknown(struct fixture *f)
{
    f->q.op = (Sbx__PathOp)11;
}
static void b_op_negative(struct fixture *f)
{
    f->q.op = (Sbx__PathOp)-1;
}
static void b_no_at(struct fixture *f)
{
    f->q.at = NULL;
}
static void b_no_preopen(struct fixture *f)
{
    f->at.has_preopen = 0;
}
static void b_no_dir(struct fixture *f)
{
    f->at.has_dir = 0;
}
static void b_no_path(struct fixture *f)
{
    f->at.has_path = 0;
}
static void b_path_long(struct fixture *f)
{
    bytes(&f->at.path, &f->at.has_path, f->big, SBX_IPC_MAX_BROKER_PATH + 1);
}
static void b_dir_long(struct fixture *f)
{
    bytes(&f->at.dir, &f->at.has_dir, f->big, SBX_IPC_MAX_BROKER_PATH + 1);
}
static void b_path_nul(struct fixture *f)
{
    bytes(&f->at.path, &f->at.has_path, "a\0/../../etc", 12);
}
static void b_dir_nul(struct fixture *f)
{
    bytes(&f->at.dir, &f->at.has_dir, "\0", 1);
}
static void b_new_at_nul(struct fixture *f)
{
    bytes(&f->new_at.path, &f->new_at.has_path, "x\0", 2);
}
static void b_new_at_missing(struct fixture *f)
{
    f->q.new_at = NULL;
}
static void b_new_at_no_preopen(struct fixture *f)
{
    f->new_at.has_preopen = 0;
}
static void b_new_at_on_unlink(struct fixture *f)
{
    f->q.new_at = &f->new_at;
}
static void b_target_missing(struct fixture *f)
{
    f->q.has_target = 0;
}
static void b_target_nul(struct fixture *f)
{
    bytes(&f->q.target, &f->q.has_target, "a\0b", 3);
}
static void b_target_long(struct fixture *f)
{
    bytes(&f->q.target, &f->q.has_target, f->big, SBX_IPC_MAX_BROKER_PATH + 1);
}
static void b_target_on_open(struct fixture *f)
{
    bytes(&f->q.target, &f->q.has_target, "t", 1);
}
static void b_buf_len_missing(struct fixture *f)
{
    f->q.has_buf_len = 0;
}
static void b_buf_len_big(struct fixture *f)
{
    f->q.buf_len = SBX_IPC_MAX_READLINK + 1;
}
static void b_buf_len_huge(struct fixture *f)
{
    f->q.buf_len = UINT32_MAX;
}
static void b_buf_len_on_open(struct fixture *f)
{
    f->q.has_buf_len = 1;
}
static void b_atim_on_open(struct fixture *f)
{
    f->q.has_atim = 1;
}
static void b_write_on_unlink(struct fixture *f)
{
    f->q.has_write = 1;
    f->q.write = 1;
}
static void b_lookup_on_rename(struct fixture *f)
{
    f->q.has_lookupflags = 1;
}
static void b_lookup_bits(struct fixture *f)
{
    f->q.has_lookupflags = 1;
    f->q.lookupflags = 2;
}
static void b_oflags_bits(struct fixture *f)
{
    f->q.has_oflags = 1;
    f->q.oflags = 0x10;
}
static void b_fdflags_bits(struct fixture *f)
{
    f->q.has_fdflags = 1;
    f->q.fdflags = 0x80000000u;
}
static void b_stray_fd(struct fixture *f)
{
    f->nfds = 1;
}
static void b_fstflags_bits(struct fixture *f)
{
    f->q.op = SBX__PATH_OP__PATH_OP_FILESTAT_SET_TIMES;
    f->q.has_fstflags = 1;
    f->q.fstflags = 0x10;
}

static const struct row rows[] = {
    {"no id", OPEN, b_no_id, BAD, "path: no id"},
    {"id 0", OPEN, b_id_zero, BAD, "path: no id"},
    {"no op", OPEN, b_no_op, BAD, "path.op"},
    {"op 0", OPEN, b_op_zero, BAD, "path.op"},
    {"op unknown", OPEN, b_op_unknown, BAD, "path.op"},
    {"op negative", OPEN, b_op_negative, BAD, "path.op"},
    {"no at", OPEN, b_no_at, BAD, "path.at"},
    {"no preopen", OPEN, b_no_preopen, BAD, "path.at.preopen"},
    {"no dir", OPEN, b_no_dir, BAD, "path.at.dir"},
    {"no path", OPEN, b_no_path, BAD, "path.at.path"},
    {"path too long", OPEN, b_path_long, LIMIT, "path.at.path"},
    {"dir too long", UNLINK, b_dir_long, LIMIT, "path.at.dir"},
    {"NUL in path", OPEN, b_path_nul, BAD, "path.at.path"},
    {"NUL in dir", OPEN, b_dir_nul, BAD, "path.at.dir"},
    {"NUL in new path", RENAME, b_new_at_nul, BAD, "path.new_at.path"},
    {"rename without new_at", RENAME, b_new_at_missing, BAD, "path.new_at"},
    {"new_at without preopen", RENAME, b_new_at_no_preopen, BAD, "path.new_at.preopen"},
    {"new_at on unlink", UNLINK, b_new_at_on_unlink, BAD, "path.new_at"},
    {"symlink without target", SYMLINK, b_target_missing, BAD, "path.target"},
    {"NUL in target", SYMLINK, b_target_nul, BAD, "path.target"},
    {"target too long", SYMLINK, b_target_long, LIMIT, "path.target"},
    {"target on open", OPEN, b_target_on_open, BAD, "path.target"},
    {"readlink without buf_len", READLINK, b_buf_len_missing, BAD, "path.buf_len"},
    {"buf_len above the limit", READLINK, b_buf_len_big, LIMIT, "path.buf_len"},
    {"buf_len 4 GiB", READLINK, b_buf_len_huge, LIMIT, "path.buf_len"},
    {"buf_len on open", OPEN, b_buf_len_on_open, BAD, "path.buf_len"},
    {"atim on open", OPEN, b_atim_on_open, BAD, "path.atim"},
    {"write on unlink", UNLINK, b_write_on_unlink, BAD, "path.write"},
    {"lookupflags on rename", RENAME, b_lookup_on_rename, BAD, "path.lookupflags"},
    {"unknown lookup bit", OPEN, b_lookup_bits, BAD, "path.lookupflags"},
    {"unknown oflag", OPEN, b_oflags_bits, BAD, "path.oflags"},
    {"unknown fdflag", OPEN, b_fdflags_bits, BAD, "path.fdflags"},
    {"unknown fstflag", OPEN, b_fstflags_bits, BAD, "path.fstflags"},
    {"a stray fd", OPEN, b_stray_fd, BAD, "fds"},
};

Test(validate_path, each_rule_refuses_with_code_and_field)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fixture f;
        init(&f, rows[i].op);
        rows[i].brk(&f);
        struct sbx_ipc_reject why;
        cr_expect_eq(check(&f, &why), -EBADMSG, "%s: accepted", rows[i].name);
        cr_expect_eq(why.code, rows[i].code, "%s: code %d (%s)", rows[i].name, why.code,
                     why.message);
        cr_expect(strstr(why.message, rows[i].field), "%s: message '%s' lacks '%s'", rows[i].name,
                  why.message, rows[i].field);
    }
}

Test(validate_path, limits_are_inclusive)
{
    struct fixture f;
    struct sbx_ipc_reject why;
    init(&f, SBX__PATH_OP__PATH_OP_RENAME);
    bytes(&f.at.dir, &f.at.has_dir, f.big, SBX_IPC_MAX_BROKER_PATH);
    bytes(&f.at.path, &f.at.has_path, f.big, SBX_IPC_MAX_BROKER_PATH);
    bytes(&f.new_at.dir, &f.new_at.has_dir, f.big, SBX_IPC_MAX_BROKER_PATH);
    bytes(&f.new_at.path, &f.new_at.has_path, f.big, SBX_IPC_MAX_BROKER_PATH);
    cr_assert_eq(check(&f, &why), 0, "%s", why.message);
    init(&f, SBX__PATH_OP__PATH_OP_READLINK);
    f.q.buf_len = SBX_IPC_MAX_READLINK;
    cr_assert_eq(check(&f, &why), 0, "%s", why.message);
    f.q.buf_len = 0; /* the guest may pass an empty buffer */
    cr_assert_eq(check(&f, &why), 0, "%s", why.message);
    /* An empty path is the resolver's business (ENOENT), not a refusal. */
    init(&f, SBX__PATH_OP__PATH_OP_OPEN);
    bytes(&f.at.path, &f.at.has_path, "", 0);
    cr_assert_eq(check(&f, &why), 0, "%s", why.message);
}

/* The largest request (four paths and a target at the limit) fits a
 * message, and both messages survive a pack and unpack. */
Test(validate_path, round_trip)
{
    struct fixture f;
    init(&f, SBX__PATH_OP__PATH_OP_RENAME);
    bytes(&f.at.dir, &f.at.has_dir, f.big, SBX_IPC_MAX_BROKER_PATH);
    bytes(&f.new_at.path, &f.new_at.has_path, "n\xff", 2); /* bytes, not UTF-8 */
    size_t len = protobuf_c_message_get_packed_size(&f.fw.base);
    uint8_t *buf = malloc(len);
    cr_assert_eq(protobuf_c_message_pack(&f.fw.base, buf), len);
    ProtobufCMessage *m;
    cr_assert_eq(sbx_ipc_unpack(&sbx__from_worker__descriptor, buf, len, &m), 0);
    struct sbx_ipc_reject why;
    const Sbx__FromWorker *got = (const Sbx__FromWorker *)m;
    cr_assert_eq(sbx_ipc_validate_from_worker(got, 0, &why), 0, "%s", why.message);
    cr_assert_eq(got->path->at->dir.len, SBX_IPC_MAX_BROKER_PATH);
    cr_assert_eq(got->path->new_at->path.len, 2);
    cr_assert(got->path->at->has_dir);
    sbx_ipc_free(m);
    free(buf);
    /* An empty dir must still arrive as present. */
    init(&f, SBX__PATH_OP__PATH_OP_OPEN);
    len = protobuf_c_message_get_packed_size(&f.fw.base);
    buf = malloc(len);
    protobuf_c_message_pack(&f.fw.base, buf);
    cr_assert_eq(sbx_ipc_unpack(&sbx__from_worker__descriptor, buf, len, &m), 0);
    cr_assert_eq(sbx_ipc_validate_from_worker((Sbx__FromWorker *)m, 0, &why), 0, "%s", why.message);
    sbx_ipc_free(m);
    free(buf);
}
