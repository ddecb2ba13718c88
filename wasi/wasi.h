/* The WASI preview1 host-function library: every function of
 * `wasi_snapshot_preview1`, as host functions for the jit runtime.
 *
 *   struct sbx_wasi *w;
 *   sbx_wasi_new(&config, &w, &err);     // fd table, args, env, preopens
 *   sbx_wasi_define(w, linker);          // before sbx_instantiate
 *   ... sbx_instance_call(inst, _start) ...
 *   // proc_exit(n) ends the call with SBX_TRAP_EXIT and trap.exit_code = n
 *   sbx_wasi_free(w);                    // after the instance is freed
 *
 * One struct sbx_wasi serves one instance (it is that instance's fd table).
 * fd-based calls run here with fd system calls only; path-based calls go
 * through config->ops (wasi/path_ops.h), by default the local openat2
 * resolver (wasi/path_local.h). Library code never prints: failures are
 * returned (struct sbx_error, or a WASI errno to the guest). */
#ifndef SBX_WASI_WASI_H
#define SBX_WASI_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"
#include "jit/runtime.h"
#include "wasi/path_ops.h"

/* A directory the guest sees at `guest_path` (e.g. "/data" or "."). */
struct sbx_wasi_preopen {
    /* A directory fd (O_RDONLY | O_DIRECTORY) for the fd calls on it
     * (fd_readdir, fd_filestat_get, ...). With the default (local) ops it
     * is also the resolver's root. sbx_wasi_new duplicates it: the caller
     * keeps its own fd. */
    int host_fd;
    const char *guest_path;
    bool read_only; /* the guest gets no right that modifies anything beneath */
};

struct sbx_wasi_config {
    const char *const *argv; /* argc strings (argv[0] is the program name) */
    size_t argc;
    const char *const *env; /* envc "KEY=VALUE" strings */
    size_t envc;
    /* Host fds for guest fds 0, 1, 2; -1 leaves that guest fd closed.
     * Duplicated by sbx_wasi_new. */
    int stdin_fd, stdout_fd, stderr_fd;
    /* Guest fds 3, 4, ... in this order. */
    const struct sbx_wasi_preopen *preopens;
    size_t npreopens;
    /* Connected or listening sockets for sock_* (guest fds after the
     * preopens). Duplicated. None by default. */
    const int *socket_fds;
    size_t nsockets;
    /* The path resolver; NULL = sbx_wasi_path_local_ops over the preopens'
     * host fds (duplicated again, so a guest fd_close of a preopen does not
     * close the resolver's root). ops_ctx is passed to every op. */
    const struct sbx_wasi_path_ops *ops;
    void *ops_ctx;
};

/* Does the module import anything from wasi_snapshot_preview1? */
bool sbx_wasi_imported_by(const struct sbx_module *m);

/* A config with no args, no env, stdio 0/1/2 passed through, no preopens. */
void sbx_wasi_config_default(struct sbx_wasi_config *cfg);

struct sbx_wasi;

/* Builds the WASI state from cfg (strings and fds are copied/duplicated;
 * cfg need not outlive it). Returns 0, or -1 with err->msg set. */
int sbx_wasi_new(const struct sbx_wasi_config *cfg, struct sbx_wasi **out, struct sbx_error *err);

/* Defines every wasi_snapshot_preview1 function in `linker`. The host
 * functions belong to w: free w only after every instance linked with them.
 * Returns 0 or -ENOMEM. */
int sbx_wasi_define(struct sbx_wasi *w, struct sbx_linker *linker);

/* Calls the WASI function `name` as the guest would (args and results typed
 * as in preview1: i32 and i64 values), against `memory` (NULL: no memory).
 * For tests and for hosts that drive WASI from C. Returns 0 (results[0] is
 * the errno, except for proc_exit), -ENOENT for an unknown name, or -1 if
 * the call ended the instance (proc_exit, proc_raise): *exit_code is set. */
int sbx_wasi_invoke(struct sbx_wasi *w, const char *name, struct sbx_memory *memory,
                    const union sbx_val *args, union sbx_val *results, int *exit_code);

/* What a worker made ahead of its spawn learns only when the spawn comes:
 * the guest's args and environment, its stdio and its sockets. */
struct sbx_wasi_late {
    const char *const *argv;
    size_t argc;
    const char *const *env;
    size_t envc;
    int stdio[3]; /* host fds for guest fds 0, 1, 2; -1 leaves one closed */
    const int *socket_fds;
    size_t nsockets;
};

/* Adds `late` to a WASI made with no args, env, stdio or sockets (only its
 * preopens): the args and env replace the empty ones, the fds take guest
 * fds 0-2 and those after the preopens. The fds are adopted, not
 * duplicated (a confined worker may not duplicate fds): w closes them.
 * 0, or -1 with err set (then a caller should end: fds after the one that
 * failed were not adopted). */
int sbx_wasi_begin(struct sbx_wasi *w, const struct sbx_wasi_late *late, struct sbx_error *err);

/* The host fds w holds (guest fds and resolver roots), at most max of them
 * into out; returns how many. For a process that closes every fd it does
 * not need (the worker) after setting WASI up. */
size_t sbx_wasi_host_fds(const struct sbx_wasi *w, int *out, size_t max);

/* Closes every host fd the guest still holds and frees w. NULL is ignored. */
void sbx_wasi_free(struct sbx_wasi *w);

#endif
