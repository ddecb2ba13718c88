/* The path resolver interface: every WASI call that names a file by path
 * goes through this vtable, never through a path system call of the process
 * that runs the guest. The confined worker has no path syscalls at all; its
 * implementation of these ops forwards each call to the supervisor's broker,
 * which runs the local resolver (path_local.h) beneath the preopened
 * directory. In-process users (tests, `sbx run --in-process`) use the local
 * resolver directly.
 *
 * A location is (preopen index, dir, path):
 *   - preopen: index into the config's preopens (the resolver's roots);
 *   - dir: the directory the guest's fd refers to, relative to that root
 *     ("" for the root itself), exactly as the guest spelt it when it opened
 *     the directory (not normalised);
 *   - path: the guest's path, relative to dir.
 * The resolver resolves dir beneath the root, then path beneath dir, so a
 * directory fd is a capability for what lies beneath it (like wasmtime's
 * cap-std), and neither step can leave the preopen.
 *
 * Every op returns a WASI errno (wasi/abi.h). Ops that the caller's rights
 * already forbid are never called, but a resolver must not rely on that:
 * the broker does not trust the worker, so read-only roots are enforced
 * again by the resolver. */
#ifndef SBX_WASI_PATH_OPS_H
#define SBX_WASI_PATH_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasi/abi.h"

struct sbx_wasi_at {
    uint32_t preopen;
    const char *dir;  /* relative to the preopen root; "" = the root */
    const char *path; /* relative to dir; never absolute (rejected before) */
};

/* What path_open asks for, besides the location. */
struct sbx_wasi_open_req {
    uint32_t lookupflags; /* SBX_WASI_LOOKUP_* */
    uint16_t oflags;      /* SBX_WASI_OFLAG_* */
    uint16_t fdflags;     /* SBX_WASI_FDFLAG_* */
    bool read;            /* open for reading (also used for directories) */
    bool write;           /* open for writing */
};

struct sbx_wasi_path_ops {
    /* path_open: on success *fd is a new host fd (O_CLOEXEC) the caller owns. */
    uint16_t (*open)(void *ctx, const struct sbx_wasi_at *at, const struct sbx_wasi_open_req *req,
                     int *fd);
    uint16_t (*filestat_get)(void *ctx, const struct sbx_wasi_at *at, uint32_t lookupflags,
                             struct sbx_wasi_filestat *out);
    /* atim/mtim in nanoseconds; fstflags as the WASI call (already checked
     * for contradictory bits by the caller, checked again here). */
    uint16_t (*filestat_set_times)(void *ctx, const struct sbx_wasi_at *at, uint32_t lookupflags,
                                   uint64_t atim, uint64_t mtim, uint16_t fstflags);
    uint16_t (*create_directory)(void *ctx, const struct sbx_wasi_at *at);
    uint16_t (*remove_directory)(void *ctx, const struct sbx_wasi_at *at);
    uint16_t (*unlink_file)(void *ctx, const struct sbx_wasi_at *at);
    uint16_t (*link)(void *ctx, const struct sbx_wasi_at *old_at, uint32_t old_lookupflags,
                     const struct sbx_wasi_at *new_at);
    uint16_t (*rename)(void *ctx, const struct sbx_wasi_at *old_at,
                       const struct sbx_wasi_at *new_at);
    /* Creates a symlink at `at` whose contents are `target`. */
    uint16_t (*symlink)(void *ctx, const char *target, const struct sbx_wasi_at *at);
    /* Copies at most `len` bytes of the link's contents to buf (no NUL);
     * *used is the number copied (truncated silently, like readlink(2)). */
    uint16_t (*readlink)(void *ctx, const struct sbx_wasi_at *at, char *buf, size_t len,
                         size_t *used);
};

#endif
