/* client/modules.c: loading (inline bytes, a sealed memfd, or a path the
 * server opens), unloading, and the server's status and module list. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client_internal.h"
#include "ipc/limits.h"
#include "ipc/memfd.h"
#include "ipc/msg.h"

static int check_load_options(const struct sbx_load_options *opts, const char *what,
                              struct sbx_client_error *err)
{
    if (opts && opts->name && strlen(opts->name) > SBX_IPC_MAX_NAME)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                         "%s: module name longer than %u bytes", what, SBX_IPC_MAX_NAME);
    return 0;
}

/* Sends a prepared LoadModule and turns the answer into module_id/info. */
static int load_request(struct sbx_client *c, Sbx__LoadModule *lm,
                        const struct sbx_load_options *opts, const int *fds, size_t nfds,
                        char module_id[SBX_MODULE_ID_SIZE], struct sbx_module_info **info,
                        const char *what, struct sbx_client_error *err)
{
    if (opts) {
        lm->name = (char *)opts->name;
        lm->has_detach = opts->detach;
        lm->detach = opts->detach;
    }
    Sbx__Request req;
    sbx__request__init(&req);
    req.body_case = SBX__REQUEST__BODY_LOAD_MODULE;
    req.load_module = lm;
    Sbx__Response *r;
    int rc = sbxc_roundtrip(c, &req, fds, nfds, SBX__RESPONSE__BODY_MODULE_LOADED,
                            c->request_timeout_ms, what, &r, err);
    if (rc) return rc;
    if (r->body_case == SBX__RESPONSE__BODY_ERROR) {
        rc = sbxc_server_error(r->error, what, err);
    } else {
        if (info && sbxc_module_info_from_proto(r->module_loaded, info))
            /* The module is loaded and its reference taken: report it. */
            rc = sbxc_fail(err, SBX_ERROR_SYSTEM, -ENOMEM,
                           "%s: out of memory for the module's description", what);
        sbxc_copy_string(module_id, SBX_MODULE_ID_SIZE, r->module_loaded->module_id);
    }
    sbx_ipc_free(&r->base);
    if (!rc) sbxc_ok(err);
    return rc;
}

static int load_prologue(struct sbx_client *c, char *module_id, struct sbx_module_info **info,
                         const struct sbx_load_options *opts, const char *what,
                         struct sbx_client_error *err)
{
    if (info) *info = NULL;
    if (module_id) module_id[0] = '\0';
    int rc = sbxc_check_usable(c, err);
    if (rc) return rc;
    if (!module_id)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "%s: no module_id buffer", what);
    return check_load_options(opts, what, err);
}

/* Loads from a sealed memfd of `size` bytes; the fd stays the caller's. */
static int load_memfd(struct sbx_client *c, int fd, uint64_t size,
                      const struct sbx_load_options *opts, char *module_id,
                      struct sbx_module_info **info, const char *what, struct sbx_client_error *err)
{
    if (c->info.max_fds_per_message < 1)
        return sbxc_fail(err, SBX_ERROR_LIMIT, -E2BIG,
                         "%s: the module is too big to send inline and the server takes no fds",
                         what);
    Sbx__LoadModule lm;
    Sbx__MemfdRef ref;
    sbx__load_module__init(&lm);
    sbx__memfd_ref__init(&ref);
    ref.has_fd_index = 1;
    ref.fd_index = 0;
    ref.has_size = 1;
    ref.size = size;
    lm.source_case = SBX__LOAD_MODULE__SOURCE_MEMFD;
    lm.memfd = &ref;
    return load_request(c, &lm, opts, &fd, 1, module_id, info, what, err);
}

int sbx_load(struct sbx_client *c, const void *bytes, size_t len,
             const struct sbx_load_options *opts, char module_id[SBX_MODULE_ID_SIZE],
             struct sbx_module_info **info, struct sbx_client_error *err)
{
    int rc = load_prologue(c, module_id, info, opts, "load", err);
    if (rc) return rc;
    if (!bytes || len == 0)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "load: no bytes");
    if (len > SBX_IPC_MAX_MODULE_BYTES)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -E2BIG,
                         "load: %zu bytes is over the %u-byte module limit", len,
                         SBX_IPC_MAX_MODULE_BYTES);
    if (len <= c->info.max_inline_module_bytes) {
        Sbx__LoadModule lm;
        sbx__load_module__init(&lm);
        lm.source_case = SBX__LOAD_MODULE__SOURCE_INLINE_BYTES;
        lm.inline_bytes.data = (uint8_t *)bytes;
        lm.inline_bytes.len = len;
        return load_request(c, &lm, opts, NULL, 0, module_id, info, "load", err);
    }
    /* Too big for a message: a sealed copy the server can map without it
     * changing or shrinking underneath (docs/protocol.md, Memfds). */
    int fd = sbx_memfd_from_bytes("sbx-module", bytes, len);
    if (fd < 0)
        return sbxc_fail(err, SBX_ERROR_SYSTEM, fd, "load: memfd for %zu bytes: %s", len,
                         strerror(-fd));
    rc = load_memfd(c, fd, len, opts, module_id, info, "load", err);
    close(fd);
    return rc;
}

/* Copies fd's `size` bytes into a new sealed memfd, with read() rather than
 * a mapping, so a file truncated meanwhile gives -EIO, not SIGBUS. */
static int memfd_from_file(int fd, uint64_t size)
{
    int mfd = memfd_create("sbx-module", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0) return -errno;
    int rc = 0;
    char *buf = malloc(1u << 16);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buf, 1u << 16);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            goto out;
        }
        for (ssize_t w = 0; w < n;) {
            ssize_t m = write(mfd, buf + w, (size_t)(n - w));
            if (m < 0 && errno == EINTR) continue;
            if (m <= 0) {
                rc = m < 0 ? -errno : -EIO;
                goto out;
            }
            w += m;
        }
        done += (uint64_t)n;
    }
    if (done != size)
        rc = -EIO; /* the file grew while it was read */
    else if (fcntl(mfd, F_ADD_SEALS, SBX_MEMFD_REQUIRED_SEALS | F_SEAL_SEAL) != 0)
        rc = -errno;
out:
    free(buf);
    if (rc) {
        close(mfd);
        return rc;
    }
    return mfd;
}

int sbx_load_file(struct sbx_client *c, const char *path, const struct sbx_load_options *opts,
                  char module_id[SBX_MODULE_ID_SIZE], struct sbx_module_info **info,
                  struct sbx_client_error *err)
{
    int rc = load_prologue(c, module_id, info, opts, "load", err);
    if (rc) return rc;
    if (!path) return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "load: no path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sbxc_fail(err, SBX_ERROR_SYSTEM, -errno, "load: %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = sbxc_fail(err, SBX_ERROR_SYSTEM, -errno, "load: %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
        rc = sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                       "load: %s: not a regular file with content", path);
        goto out;
    }
    if ((uint64_t)st.st_size > SBX_IPC_MAX_MODULE_BYTES) {
        rc = sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -E2BIG, "load: %s: over %u bytes", path,
                       SBX_IPC_MAX_MODULE_BYTES);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    if (size <= c->info.max_inline_module_bytes) {
        char *buf = malloc(size);
        if (!buf) {
            rc = sbxc_fail(err, SBX_ERROR_SYSTEM, -ENOMEM, "load: out of memory");
            goto out;
        }
        size_t got = 0;
        while (got < size) {
            ssize_t n = read(fd, buf + got, size - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        if (got == size)
            rc = sbx_load(c, buf, size, opts, module_id, info, err);
        else
            rc = sbxc_fail(err, SBX_ERROR_SYSTEM, -EIO, "load: %s: short read", path);
        free(buf);
        goto out;
    }
    int mfd = memfd_from_file(fd, size);
    if (mfd < 0) {
        rc = sbxc_fail(err, SBX_ERROR_SYSTEM, mfd, "load: %s: %s", path, strerror(-mfd));
        goto out;
    }
    rc = load_memfd(c, mfd, size, opts, module_id, info, "load", err);
    close(mfd);
out:
    close(fd);
    return rc;
}

int sbx_load_path(struct sbx_client *c, const char *path, const struct sbx_load_options *opts,
                  char module_id[SBX_MODULE_ID_SIZE], struct sbx_module_info **info,
                  struct sbx_client_error *err)
{
    int rc = load_prologue(c, module_id, info, opts, "load", err);
    if (rc) return rc;
    if (!path || path[0] != '/' || strlen(path) > SBX_IPC_MAX_PATH)
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                         "load: the path must be absolute and at most %u bytes", SBX_IPC_MAX_PATH);
    Sbx__LoadModule lm;
    sbx__load_module__init(&lm);
    lm.source_case = SBX__LOAD_MODULE__SOURCE_PATH;
    lm.path = (char *)path;
    return load_request(c, &lm, opts, NULL, 0, module_id, info, "load", err);
}

int sbx_unload(struct sbx_client *c, const char *module_id, bool detached,
               struct sbx_client_error *err)
{
    int rc = sbxc_check_usable(c, err);
    if (rc) return rc;
    if (!sbxc_module_id_ok(module_id))
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL,
                         "unload: a module id is 64 lowercase hex digits");
    Sbx__Request req;
    Sbx__UnloadModule um;
    sbx__request__init(&req);
    sbx__unload_module__init(&um);
    um.module_id = (char *)module_id;
    um.has_detached = detached;
    um.detached = detached;
    req.body_case = SBX__REQUEST__BODY_UNLOAD_MODULE;
    req.unload_module = &um;
    Sbx__Response *r;
    rc = sbxc_roundtrip(c, &req, NULL, 0, SBX__RESPONSE__BODY_ACK, c->request_timeout_ms, "unload",
                        &r, err);
    if (rc) return rc;
    if (r->body_case == SBX__RESPONSE__BODY_ERROR) rc = sbxc_server_error(r->error, "unload", err);
    sbx_ipc_free(&r->base);
    if (!rc) sbxc_ok(err);
    return rc;
}

/* -- Status ---------------------------------------------------------------- */

static int status_request(struct sbx_client *c, uint32_t first, const char *what, Sbx__Response **r,
                          struct sbx_client_error *err)
{
    Sbx__Request req;
    Sbx__Status st;
    sbx__request__init(&req);
    sbx__status__init(&st);
    if (first) {
        st.has_first_module_index = 1;
        st.first_module_index = first;
    }
    req.body_case = SBX__REQUEST__BODY_STATUS;
    req.status = &st;
    int rc = sbxc_roundtrip(c, &req, NULL, 0, SBX__RESPONSE__BODY_STATUS, c->request_timeout_ms,
                            what, r, err);
    if (rc) return rc;
    if ((*r)->body_case == SBX__RESPONSE__BODY_ERROR) {
        rc = sbxc_server_error((*r)->error, what, err);
        sbx_ipc_free(&(*r)->base);
        *r = NULL;
    }
    return rc;
}

int sbx_status(struct sbx_client *c, struct sbx_status *out, struct sbx_client_error *err)
{
    if (!out) return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "status: no output");
    memset(out, 0, sizeof(*out));
    Sbx__Response *r;
    int rc = status_request(c, 0, "status", &r, err);
    if (rc) return rc;
    const Sbx__StatusReply *s = r->status;
    out->total_modules = s->total_modules;
    out->slots_in_use = s->slots_in_use;
    out->slots_total = s->slots_total;
    out->live_workers = s->live_workers;
    out->warm_workers = s->warm_workers;
    out->max_workers = s->max_workers;
    out->zygote_pid = s->zygote_pid;
    out->uptime_ms = s->uptime_ms;
    const Sbx__Counters *k = s->counters;
    if (k) {
        struct sbx_counters *o = &out->counters;
        o->requests = k->requests;
        o->bad_requests = k->bad_requests;
        o->loads = k->loads;
        o->unloads = k->unloads;
        o->spawns = k->spawns;
        o->refused_busy = k->refused_busy;
        o->exited = k->exited;
        o->trapped = k->trapped;
        o->timeouts = k->timeouts;
        o->fuel_exhausted = k->fuel_exhausted;
        o->memory_limit = k->memory_limit;
        o->killed = k->killed;
        o->policy_violations = k->policy_violations;
        o->internal_errors = k->internal_errors;
        o->zygote_restarts = k->zygote_restarts;
        o->zygote_rotations = k->zygote_rotations;
        o->warm_spawns = k->warm_spawns;
        o->warm_template_forks = k->warm_template_forks;
    }
    sbx_ipc_free(&r->base);
    sbxc_ok(err);
    return 0;
}

int sbx_list_modules(struct sbx_client *c, uint32_t first, struct sbx_loaded_module *mods,
                     size_t max, size_t *nmods, uint32_t *next, struct sbx_client_error *err)
{
    if (nmods) *nmods = 0;
    if (next) *next = 0;
    if (!nmods || (max && !mods))
        return sbxc_fail(err, SBX_ERROR_INVALID_ARGUMENT, -EINVAL, "list modules: no output");
    Sbx__Response *r;
    int rc = status_request(c, first, "list modules", &r, err);
    if (rc) return rc;
    const Sbx__StatusReply *s = r->status;
    size_t n = s->n_modules < max ? s->n_modules : max;
    for (size_t i = 0; i < n; i++) {
        const Sbx__ModuleInfo *m = s->modules[i];
        sbxc_copy_string(mods[i].module_id, sizeof(mods[i].module_id), m->module_id);
        sbxc_copy_string(mods[i].name, sizeof(mods[i].name), m->name);
        mods[i].size_bytes = m->size_bytes;
        mods[i].references = m->references;
        mods[i].live_workers = m->live_workers;
    }
    *nmods = n;
    /* A page cut short by `max` continues right after what was kept. */
    if (next) *next = n < s->n_modules ? first + (uint32_t)n : s->next_module_index;
    sbx_ipc_free(&r->base);
    sbxc_ok(err);
    return 0;
}
