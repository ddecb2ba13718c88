/* ipc/validate_path.c: the checks on a worker's PathRequest (the WASI path
 * broker). The worker runs untrusted code, and the WASI library it is built
 * on never sends anything these checks refuse, so a refusal means a hostile
 * or broken worker: the supervisor kills it rather than answering.
 *
 * What is checked here is the shape: a known op, the fields that op takes
 * and no others, flag words with known bits only, and paths that are
 * bounded and free of NUL bytes. Whether the preopen index names one of the
 * worker's preopens is the broker's check (it alone knows how many there
 * are); where a path leads is the resolver's (beneath the root, always). */
#include "ipc/validate_internal.h"
#include "ipc/limits.h"
#include "wasi/abi.h"

#include <stdio.h>
#include <string.h>

#define BAD(...)   v_reject(v, SBX__ERROR_CODE__BAD_REQUEST, __VA_ARGS__)
#define LIMIT(...) v_reject(v, SBX__ERROR_CODE__LIMIT, __VA_ARGS__)

/* Optional fields of PathRequest, one bit each. */
enum {
    F_NEW_AT = 1u << 0,
    F_LOOKUP = 1u << 1,
    F_OFLAGS = 1u << 2,
    F_FDFLAGS = 1u << 3,
    F_READ = 1u << 4,
    F_WRITE = 1u << 5,
    F_ATIM = 1u << 6,
    F_MTIM = 1u << 7,
    F_FST = 1u << 8,
    F_TARGET = 1u << 9,
    F_BUF_LEN = 1u << 10,
};

struct op_fields {
    unsigned allowed;  /* fields the op takes (at is always required) */
    unsigned required; /* of those, the ones that must be present */
};

/* Indexed by Sbx__PathOp; mirrors the table in sbx.proto. */
static const struct op_fields op_table[] = {
    [SBX__PATH_OP__PATH_OP_OPEN] = {F_LOOKUP | F_OFLAGS | F_FDFLAGS | F_READ | F_WRITE, 0},
    [SBX__PATH_OP__PATH_OP_FILESTAT_GET] = {F_LOOKUP, 0},
    [SBX__PATH_OP__PATH_OP_FILESTAT_SET_TIMES] = {F_LOOKUP | F_ATIM | F_MTIM | F_FST, 0},
    [SBX__PATH_OP__PATH_OP_CREATE_DIRECTORY] = {0, 0},
    [SBX__PATH_OP__PATH_OP_REMOVE_DIRECTORY] = {0, 0},
    [SBX__PATH_OP__PATH_OP_UNLINK_FILE] = {0, 0},
    [SBX__PATH_OP__PATH_OP_LINK] = {F_NEW_AT | F_LOOKUP, F_NEW_AT},
    [SBX__PATH_OP__PATH_OP_RENAME] = {F_NEW_AT, F_NEW_AT},
    [SBX__PATH_OP__PATH_OP_SYMLINK] = {F_TARGET, F_TARGET},
    [SBX__PATH_OP__PATH_OP_READLINK] = {F_BUF_LEN, F_BUF_LEN},
};

static const char *const field_names[] = {
    "new_at", "lookupflags", "oflags",   "fdflags", "read",    "write",
    "atim",   "mtim",        "fstflags", "target",  "buf_len",
};

static unsigned present(const Sbx__PathRequest *m)
{
    unsigned f = 0;
    if (m->new_at) f |= F_NEW_AT;
    if (m->has_lookupflags) f |= F_LOOKUP;
    if (m->has_oflags) f |= F_OFLAGS;
    if (m->has_fdflags) f |= F_FDFLAGS;
    if (m->has_read) f |= F_READ;
    if (m->has_write) f |= F_WRITE;
    if (m->has_atim) f |= F_ATIM;
    if (m->has_mtim) f |= F_MTIM;
    if (m->has_fstflags) f |= F_FST;
    if (m->has_target) f |= F_TARGET;
    if (m->has_buf_len) f |= F_BUF_LEN;
    return f;
}

/* A path as bytes: bounded, no NUL (the broker makes a C string of it). */
static int v_path_bytes(struct vctx *v, bool has, ProtobufCBinaryData b, bool required,
                        const char *field)
{
    if (!has || !b.len) return required && !has ? BAD("path.%s: missing", field) : 0;
    if (b.len > SBX_IPC_MAX_BROKER_PATH)
        return LIMIT("path.%s: longer than %u bytes", field, SBX_IPC_MAX_BROKER_PATH);
    if (memchr(b.data, 0, b.len)) return BAD("path.%s: NUL byte inside", field);
    return 0;
}

static int v_location(struct vctx *v, const Sbx__PathLocation *l, const char *field)
{
    char sub[32];
    if (!l) return BAD("path.%s: missing", field);
    if (!l->has_preopen) return BAD("path.%s.preopen: missing", field);
    snprintf(sub, sizeof(sub), "%s.dir", field);
    int rc = v_path_bytes(v, l->has_dir, l->dir, true, sub);
    snprintf(sub, sizeof(sub), "%s.path", field);
    if (!rc) rc = v_path_bytes(v, l->has_path, l->path, true, sub);
    return rc;
}

static int v_flags(struct vctx *v, bool has, uint32_t value, uint32_t known, const char *field)
{
    return has && (value & ~known) ? BAD("path.%s: unknown bits 0x%x", field, value & ~known) : 0;
}

int v_path_request(struct vctx *v, const Sbx__PathRequest *m)
{
    int rc = v_enum(v, &sbx__path_op__descriptor, m->has_op, m->op, "path.op");
    if (rc) return rc;
    if ((size_t)m->op >= sizeof(op_table) / sizeof(op_table[0]))
        return BAD("path.op: unknown value %d", m->op);
    const struct op_fields *ops = &op_table[m->op];
    unsigned have = present(m);
    for (unsigned i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++) {
        if ((have & (1u << i)) && !(ops->allowed & (1u << i)))
            return BAD("path.%s: not taken by op %d", field_names[i], m->op);
        if (!(have & (1u << i)) && (ops->required & (1u << i)))
            return BAD("path.%s: missing", field_names[i]);
    }
    rc = v_location(v, m->at, "at");
    if (!rc && m->new_at) rc = v_location(v, m->new_at, "new_at");
    if (!rc)
        rc = v_flags(v, m->has_lookupflags, m->lookupflags, SBX_WASI_LOOKUP_SYMLINK_FOLLOW,
                     "lookupflags");
    if (!rc)
        rc = v_flags(v, m->has_oflags, m->oflags,
                     SBX_WASI_OFLAG_CREAT | SBX_WASI_OFLAG_DIRECTORY | SBX_WASI_OFLAG_EXCL |
                         SBX_WASI_OFLAG_TRUNC,
                     "oflags");
    if (!rc)
        rc = v_flags(v, m->has_fdflags, m->fdflags,
                     SBX_WASI_FDFLAG_APPEND | SBX_WASI_FDFLAG_DSYNC | SBX_WASI_FDFLAG_NONBLOCK |
                         SBX_WASI_FDFLAG_RSYNC | SBX_WASI_FDFLAG_SYNC,
                     "fdflags");
    if (!rc)
        rc = v_flags(v, m->has_fstflags, m->fstflags,
                     SBX_WASI_FSTFLAG_ATIM | SBX_WASI_FSTFLAG_ATIM_NOW | SBX_WASI_FSTFLAG_MTIM |
                         SBX_WASI_FSTFLAG_MTIM_NOW,
                     "fstflags");
    if (!rc && m->has_target) rc = v_path_bytes(v, true, m->target, false, "target");
    if (!rc && m->has_buf_len && m->buf_len > SBX_IPC_MAX_READLINK)
        rc = LIMIT("path.buf_len: above %u", SBX_IPC_MAX_READLINK);
    return rc;
}
