/* The local path resolver: resolves WASI paths beneath a preopened host
 * directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so `..`,
 * absolute symlinks and symlinks that lead out of the root fail with
 * ENOTCAPABLE whatever the path looks like. No lexical normalisation: the
 * kernel does the resolution, beneath the root, for every lookup.
 *
 * The functions hold no state: a root is (host dir fd, read_only), so the
 * same code serves the in-process WASI library (through
 * sbx_wasi_path_local_ops) and the supervisor's broker, which keeps the
 * roots of each worker and calls these directly.
 *
 * Read-only roots: nothing beneath them is created, removed, renamed,
 * linked, truncated or has its times changed (EROFS), and open never
 * returns a writable fd (EROFS). */
#ifndef SBX_WASI_PATH_LOCAL_H
#define SBX_WASI_PATH_LOCAL_H

#include <time.h>

#include "wasi/path_ops.h"

struct sbx_wasi_root {
    int dirfd; /* a directory fd (O_RDONLY or O_PATH, O_DIRECTORY) */
    bool read_only;
};

uint16_t sbx_wasi_local_open(const struct sbx_wasi_root *root, const char *dir, const char *path,
                             const struct sbx_wasi_open_req *req, int *fd);
uint16_t sbx_wasi_local_filestat_get(const struct sbx_wasi_root *root, const char *dir,
                                     const char *path, uint32_t lookupflags,
                                     struct sbx_wasi_filestat *out);
uint16_t sbx_wasi_local_filestat_set_times(const struct sbx_wasi_root *root, const char *dir,
                                           const char *path, uint32_t lookupflags, uint64_t atim,
                                           uint64_t mtim, uint16_t fstflags);
uint16_t sbx_wasi_local_create_directory(const struct sbx_wasi_root *root, const char *dir,
                                         const char *path);
uint16_t sbx_wasi_local_remove_directory(const struct sbx_wasi_root *root, const char *dir,
                                         const char *path);
uint16_t sbx_wasi_local_unlink_file(const struct sbx_wasi_root *root, const char *dir,
                                    const char *path);
uint16_t sbx_wasi_local_link(const struct sbx_wasi_root *old_root, const char *old_dir,
                             const char *old_path, uint32_t old_lookupflags,
                             const struct sbx_wasi_root *new_root, const char *new_dir,
                             const char *new_path);
uint16_t sbx_wasi_local_rename(const struct sbx_wasi_root *old_root, const char *old_dir,
                               const char *old_path, const struct sbx_wasi_root *new_root,
                               const char *new_dir, const char *new_path);
uint16_t sbx_wasi_local_symlink(const char *target, const struct sbx_wasi_root *root,
                                const char *dir, const char *path);
uint16_t sbx_wasi_local_readlink(const struct sbx_wasi_root *root, const char *dir,
                                 const char *path, char *buf, size_t len, size_t *used);

/* Converts a host struct stat (from fstat/fstatat) into the WASI view. */
struct stat;
void sbx_wasi_filestat_from_stat(const struct stat *st, struct sbx_wasi_filestat *out);

/* Builds utimensat's two timespecs (ts[0] atime, ts[1] mtime) from the
 * arguments of filestat_set_times. Returns 0, or -1 for contradictory or
 * unknown flags (WASI EINVAL). */
int sbx_wasi_times_to_timespec(uint64_t atim, uint64_t mtim, uint16_t fstflags,
                               struct timespec *ts);

/* The vtable over the functions above. Its ctx is a struct sbx_wasi_roots:
 * the preopen index of a location selects roots[preopen] (ENOTCAPABLE past
 * the end). */
struct sbx_wasi_roots {
    const struct sbx_wasi_root *roots;
    uint32_t count;
};
extern const struct sbx_wasi_path_ops sbx_wasi_path_local_ops;

#endif
