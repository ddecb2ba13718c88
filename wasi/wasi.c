/* The library's entry points: building the WASI state from a config,
 * binding every preview1 function into a linker, the call wrapper that turns
 * a host call into a WASI function's (args, errno), and freeing. The table
 * below is the single list of preview1 functions and their wasm types. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wasi/internal.h"

/* One preview1 function: its name, its parameter types ('i' i32, 'I' i64)
 * and whether it returns an errno (all but proc_exit). */
struct wasi_fn {
    const char *name;
    const char *params;
    bool returns;
    wasi_impl impl;
};

static const struct wasi_fn wasi_fns[] = {
    {"args_get", "ii", true, wasi_args_get},
    {"args_sizes_get", "ii", true, wasi_args_sizes_get},
    {"environ_get", "ii", true, wasi_environ_get},
    {"environ_sizes_get", "ii", true, wasi_environ_sizes_get},
    {"clock_res_get", "ii", true, wasi_clock_res_get},
    {"clock_time_get", "iIi", true, wasi_clock_time_get},
    {"fd_advise", "iIIi", true, wasi_fd_advise},
    {"fd_allocate", "iII", true, wasi_fd_allocate},
    {"fd_close", "i", true, wasi_fd_close},
    {"fd_datasync", "i", true, wasi_fd_datasync},
    {"fd_fdstat_get", "ii", true, wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", true, wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", true, wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", true, wasi_fd_filestat_get},
    {"fd_filestat_set_size", "iI", true, wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", true, wasi_fd_filestat_set_times},
    {"fd_pread", "iiiIi", true, wasi_fd_pread},
    {"fd_prestat_get", "ii", true, wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", true, wasi_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", true, wasi_fd_pwrite},
    {"fd_read", "iiii", true, wasi_fd_read},
    {"fd_readdir", "iiiIi", true, wasi_fd_readdir},
    {"fd_renumber", "ii", true, wasi_fd_renumber},
    {"fd_seek", "iIii", true, wasi_fd_seek},
    {"fd_sync", "i", true, wasi_fd_sync},
    {"fd_tell", "ii", true, wasi_fd_tell},
    {"fd_write", "iiii", true, wasi_fd_write},
    {"path_create_directory", "iii", true, wasi_path_create_directory},
    {"path_filestat_get", "iiiii", true, wasi_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", true, wasi_path_filestat_set_times},
    {"path_link", "iiiiiii", true, wasi_path_link},
    {"path_open", "iiiiiIIii", true, wasi_path_open},
    {"path_readlink", "iiiiii", true, wasi_path_readlink},
    {"path_remove_directory", "iii", true, wasi_path_remove_directory},
    {"path_rename", "iiiiii", true, wasi_path_rename},
    {"path_symlink", "iiiii", true, wasi_path_symlink},
    {"path_unlink_file", "iii", true, wasi_path_unlink_file},
    {"poll_oneoff", "iiii", true, wasi_poll_oneoff},
    {"proc_exit", "i", false, wasi_proc_exit},
    {"proc_raise", "i", true, wasi_proc_raise},
    {"random_get", "ii", true, wasi_random_get},
    {"sched_yield", "", true, wasi_sched_yield},
    {"sock_accept", "iii", true, wasi_sock_accept},
    {"sock_recv", "iiiiii", true, wasi_sock_recv},
    {"sock_send", "iiiii", true, wasi_sock_send},
    {"sock_shutdown", "ii", true, wasi_sock_shutdown},
};
#define WASI_NFNS (sizeof(wasi_fns) / sizeof(wasi_fns[0]))

/* The env of each host function: which WASI function, on which state. */
struct wasi_binding {
    struct sbx_wasi *w;
    const struct wasi_fn *fn;
    struct sbx_host_func *host;
};

int wasi_exit(struct wasi_call *c, int code)
{
    c->exited = true;
    c->exit_code = code;
    return -1;
}

static void call_setup(struct wasi_call *c, struct sbx_wasi *w, struct sbx_caller *caller,
                       struct sbx_memory *mem)
{
    memset(c, 0, sizeof(*c));
    c->w = w;
    c->caller = caller;
    if (mem && mem->base) c->mem = (struct guest_mem){.base = mem->base, .size = mem->size};
}

static int wasi_host_call(void *env, struct sbx_caller *caller, const union sbx_val *args,
                          union sbx_val *results)
{
    struct wasi_binding *b = env;
    struct wasi_call c;
    call_setup(&c, b->w, caller, caller ? caller->memory : NULL);
    int r = b->fn->impl(&c, args);
    if (c.exited) return sbx_host_exit(caller, c.exit_code);
    if (b->fn->returns) results[0].i32 = (uint32_t)r;
    return 0;
}

int sbx_wasi_invoke(struct sbx_wasi *w, const char *name, struct sbx_memory *memory,
                    const union sbx_val *args, union sbx_val *results, int *exit_code)
{
    for (size_t i = 0; i < WASI_NFNS; i++) {
        if (strcmp(wasi_fns[i].name, name)) continue;
        struct sbx_caller caller = {.instance = NULL, .memory = memory};
        struct wasi_call c;
        call_setup(&c, w, &caller, memory);
        int r = wasi_fns[i].impl(&c, args);
        if (c.exited) {
            if (exit_code) *exit_code = c.exit_code;
            return -1;
        }
        if (wasi_fns[i].returns) results[0].i32 = (uint32_t)r;
        return 0;
    }
    return -ENOENT;
}

int sbx_wasi_define(struct sbx_wasi *w, struct sbx_linker *linker)
{
    for (size_t i = 0; i < WASI_NFNS; i++) {
        struct wasi_binding *b = &w->bindings[i];
        if (!b->host) {
            const struct wasi_fn *fn = &wasi_fns[i];
            uint8_t params[16];
            uint32_t n = (uint32_t)strlen(fn->params);
            for (uint32_t k = 0; k < n; k++)
                params[k] = fn->params[k] == 'I' ? SBX_I64 : SBX_I32;
            const uint8_t result = SBX_I32;
            b->host = sbx_host_func_new(params, n, &result, fn->returns ? 1 : 0, wasi_host_call, b);
            if (!b->host) return -ENOMEM;
        }
        struct sbx_extern ext = {.kind = SBX_EXTERN_FUNC, .u.func.host = b->host};
        int r = sbx_linker_define(linker, "wasi_snapshot_preview1", wasi_fns[i].name, &ext);
        if (r) return r;
    }
    return 0;
}

void sbx_wasi_config_default(struct sbx_wasi_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->stdin_fd = 0;
    cfg->stdout_fd = 1;
    cfg->stderr_fd = 2;
}

/* Lays out argv or env strings as args_get/environ_get write them. */
static int strings_init(struct wasi_strings *s, const char *const *v, size_t n,
                        struct sbx_error *err, const char *what)
{
    uint64_t size = 0;
    if (n > UINT32_MAX / 4) return sbx_fail(err, 0, "too many %s", what);
    for (size_t i = 0; i < n; i++) {
        if (!v[i]) return sbx_fail(err, 0, "%s %zu is NULL", what, i);
        size += strlen(v[i]) + 1;
        if (size > UINT32_MAX) return sbx_fail(err, 0, "%s are too large", what);
    }
    s->count = (uint32_t)n;
    s->size = (uint32_t)size;
    s->buf = malloc(size ? size : 1);
    s->offsets = malloc((n ? n : 1) * sizeof(uint32_t));
    if (!s->buf || !s->offsets) return sbx_fail(err, 0, "out of memory");
    uint32_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        memcpy(s->buf + off, v[i], len);
        s->offsets[i] = off;
        off += (uint32_t)len;
    }
    return 0;
}

static void strings_free(struct wasi_strings *s)
{
    free(s->buf);
    free(s->offsets);
}

/* Duplicates a caller's fd above the stdio range, close-on-exec. */
static int dup_fd(int fd)
{
    return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* Puts host fd `d` at guest fd `guest`; w owns d from here on, even on
 * failure. */
static int place_host_fd(struct sbx_wasi *w, uint32_t guest, int d, uint64_t mask,
                         struct wasi_fd **out, struct sbx_error *err, const char *what)
{
    uint16_t e;
    struct wasi_fd *f = wasi_fd_from_host(d, mask, &e);
    if (!f) {
        close(d);
        return sbx_fail(err, 0, "%s: fd %d: WASI errno %u", what, d, e);
    }
    e = wasi_fd_place(w, guest, f);
    if (e) return sbx_fail(err, 0, "%s: WASI errno %u", what, e);
    if (out) *out = f;
    return 0;
}

/* Puts (a duplicate of) host fd `fd` at guest fd `guest`. */
static int add_host_fd(struct sbx_wasi *w, uint32_t guest, int fd, uint64_t mask,
                       struct wasi_fd **out, struct sbx_error *err, const char *what)
{
    int d = dup_fd(fd);
    if (d < 0) return sbx_fail(err, 0, "%s: cannot duplicate fd %d: %s", what, fd, strerror(errno));
    return place_host_fd(w, guest, d, mask, out, err, what);
}

/* Guest fds 0..2; a closed one (-1) leaves its number free, and the
 * preopens still start at 3 as wasi-libc expects. */
static int add_stdio(struct sbx_wasi *w, const struct sbx_wasi_config *cfg, struct sbx_error *err)
{
    const int fds[3] = {cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd};
    for (uint32_t i = 0; i < 3; i++)
        if (fds[i] >= 0 && add_host_fd(w, i, fds[i], SBX_WASI_RIGHTS_ALL, NULL, err, "stdio"))
            return -1;
    return 0;
}

static int add_preopens(struct sbx_wasi *w, const struct sbx_wasi_config *cfg,
                        struct sbx_error *err)
{
    if (cfg->npreopens + cfg->nsockets > WASI_MAX_FDS - 3)
        return sbx_fail(err, 0, "too many preopens and sockets");
    w->npreopens = (uint32_t)cfg->npreopens;
    if (!cfg->ops) {
        w->roots = calloc(cfg->npreopens + 1, sizeof(*w->roots));
        if (!w->roots) return sbx_fail(err, 0, "out of memory");
        for (size_t i = 0; i < cfg->npreopens; i++)
            w->roots[i].dirfd = -1;
        w->roots_ctx = (struct sbx_wasi_roots){.roots = w->roots, .count = w->npreopens};
        w->ops = &sbx_wasi_path_local_ops;
        w->ops_ctx = &w->roots_ctx;
    } else {
        w->ops = cfg->ops;
        w->ops_ctx = cfg->ops_ctx;
    }
    for (size_t i = 0; i < cfg->npreopens; i++) {
        const struct sbx_wasi_preopen *p = &cfg->preopens[i];
        if (!p->guest_path) return sbx_fail(err, 0, "preopen %zu has no guest path", i);
        struct wasi_fd *f = NULL;
        if (add_host_fd(w, 3 + (uint32_t)i, p->host_fd, SBX_WASI_RIGHTS_ALL, &f, err,
                        p->guest_path))
            return -1;
        if (f->filetype != SBX_WASI_FILETYPE_DIRECTORY)
            return sbx_fail(err, 0, "preopen %s: not a directory", p->guest_path);
        f->base = WASI_RIGHTS_DIR;
        f->inheriting = WASI_RIGHTS_DIR | WASI_RIGHTS_REGULAR;
        if (p->read_only) {
            f->base &= ~WASI_RIGHTS_DIR_MUTATE;
            f->inheriting &= ~(WASI_RIGHTS_DIR_MUTATE | WASI_RIGHTS_FILE_MUTATE);
        }
        f->preopen = (int32_t)i;
        f->dir = strdup("");
        f->prestat = strdup(p->guest_path);
        if (!f->dir || !f->prestat) return sbx_fail(err, 0, "out of memory");
        if (w->roots) {
            w->roots[i].dirfd = dup_fd(f->host);
            w->roots[i].read_only = p->read_only;
            if (w->roots[i].dirfd < 0)
                return sbx_fail(err, 0, "preopen %s: cannot duplicate: %s", p->guest_path,
                                strerror(errno));
        }
    }
    return 0;
}

/* Socket i at its guest fd, after the preopens: a duplicate of fd, or fd
 * itself (adopt). */
static int add_socket(struct sbx_wasi *w, size_t i, int fd, bool adopt, struct sbx_error *err)
{
    struct wasi_fd *f = NULL;
    uint32_t guest = 3 + w->npreopens + (uint32_t)i;
    if (adopt ? place_host_fd(w, guest, fd, WASI_RIGHTS_SOCKET, &f, err, "socket")
              : add_host_fd(w, guest, fd, WASI_RIGHTS_SOCKET, &f, err, "socket"))
        return -1;
    if (f->filetype != SBX_WASI_FILETYPE_SOCKET_STREAM &&
        f->filetype != SBX_WASI_FILETYPE_SOCKET_DGRAM)
        return sbx_fail(err, 0, "socket fd %d is not a socket", fd);
    return 0;
}

static int add_sockets(struct sbx_wasi *w, const struct sbx_wasi_config *cfg, struct sbx_error *err)
{
    for (size_t i = 0; i < cfg->nsockets; i++)
        if (add_socket(w, i, cfg->socket_fds[i], false, err)) return -1;
    return 0;
}

static int check_env(const char *const *env, size_t envc, struct sbx_error *err)
{
    for (size_t i = 0; i < envc; i++)
        if (!strchr(env[i], '='))
            return sbx_fail(err, 0, "environment entry \"%s\" is not KEY=VALUE", env[i]);
    return 0;
}

int sbx_wasi_new(const struct sbx_wasi_config *cfg, struct sbx_wasi **out, struct sbx_error *err)
{
    *out = NULL;
    struct sbx_wasi *w = calloc(1, sizeof(*w));
    if (!w) return sbx_fail(err, 0, "out of memory");
    w->bindings = calloc(WASI_NFNS, sizeof(*w->bindings));
    if (!w->bindings) {
        free(w);
        return sbx_fail(err, 0, "out of memory");
    }
    for (size_t i = 0; i < WASI_NFNS; i++)
        w->bindings[i] = (struct wasi_binding){.w = w, .fn = &wasi_fns[i]};
    if (strings_init(&w->args, cfg->argv, cfg->argc, err, "arguments") ||
        strings_init(&w->env, cfg->env, cfg->envc, err, "environment variables") ||
        add_stdio(w, cfg, err) || add_preopens(w, cfg, err) || add_sockets(w, cfg, err)) {
        sbx_wasi_free(w);
        return -1;
    }
    if (check_env(cfg->env, cfg->envc, err)) {
        sbx_wasi_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

int sbx_wasi_begin(struct sbx_wasi *w, const struct sbx_wasi_late *late, struct sbx_error *err)
{
    /* The fds first: each adopted one is w's to close. */
    for (uint32_t i = 0; i < 3; i++)
        if (late->stdio[i] >= 0 &&
            place_host_fd(w, i, late->stdio[i], SBX_WASI_RIGHTS_ALL, NULL, err, "stdio"))
            return -1;
    for (size_t i = 0; i < late->nsockets; i++)
        if (add_socket(w, i, late->socket_fds[i], true, err)) return -1;
    strings_free(&w->args);
    strings_free(&w->env);
    memset(&w->args, 0, sizeof w->args);
    memset(&w->env, 0, sizeof w->env);
    if (strings_init(&w->args, late->argv, late->argc, err, "arguments") ||
        strings_init(&w->env, late->env, late->envc, err, "environment variables"))
        return -1;
    return check_env(late->env, late->envc, err);
}

bool sbx_wasi_imported_by(const struct sbx_module *m)
{
    static const char name[] = "wasi_snapshot_preview1";
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].module.len == sizeof name - 1 &&
            !memcmp(m->imports[i].module.ptr, name, sizeof name - 1))
            return true;
    return false;
}

size_t sbx_wasi_host_fds(const struct sbx_wasi *w, int *out, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < w->nfds; i++)
        if (w->fds[i] && w->fds[i]->host >= 0 && n < max) out[n++] = w->fds[i]->host;
    for (uint32_t i = 0; w->roots && i < w->npreopens; i++)
        if (w->roots[i].dirfd >= 0 && n < max) out[n++] = w->roots[i].dirfd;
    return n;
}

void sbx_wasi_free(struct sbx_wasi *w)
{
    if (!w) return;
    for (uint32_t i = 0; i < w->nfds; i++)
        wasi_fd_free(w->fds[i]);
    free(w->fds);
    if (w->roots) {
        for (uint32_t i = 0; i < w->npreopens; i++)
            if (w->roots[i].dirfd >= 0) close(w->roots[i].dirfd);
        free(w->roots);
    }
    for (size_t i = 0; w->bindings && i < WASI_NFNS; i++)
        sbx_host_func_free(w->bindings[i].host);
    free(w->bindings);
    strings_free(&w->args);
    strings_free(&w->env);
    free(w->dirent_buf);
    free(w);
}
