/* What the files of wasi/ share: the state behind struct sbx_wasi (the fd
 * table, args and environment), the per-call context, and the functions of
 * each concern's file. Not a public header. */
#ifndef SBX_WASI_INTERNAL_H
#define SBX_WASI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "jit/runtime.h"
#include "wasi/abi.h"
#include "wasi/guest_mem.h"
#include "wasi/path_local.h"
#include "wasi/wasi.h"

/* Most guest fds an instance can hold at once (EMFILE beyond). */
#define WASI_MAX_FDS 65536u
/* Longest path the guest may pass, and the longest directory path an fd
 * may record (ENAMETOOLONG beyond). */
#define WASI_PATH_MAX 4096u

/* Rights by kind of file: the most an fd of that kind can hold. */
#define WASI_RIGHTS_REGULAR                                                                        \
    (SBX_WASI_RIGHT_FD_DATASYNC | SBX_WASI_RIGHT_FD_READ | SBX_WASI_RIGHT_FD_SEEK |                \
     SBX_WASI_RIGHT_FD_FDSTAT_SET_FLAGS | SBX_WASI_RIGHT_FD_SYNC | SBX_WASI_RIGHT_FD_TELL |        \
     SBX_WASI_RIGHT_FD_WRITE | SBX_WASI_RIGHT_FD_ADVISE | SBX_WASI_RIGHT_FD_ALLOCATE |             \
     SBX_WASI_RIGHT_FD_FILESTAT_GET | SBX_WASI_RIGHT_FD_FILESTAT_SET_SIZE |                        \
     SBX_WASI_RIGHT_FD_FILESTAT_SET_TIMES | SBX_WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_DIR_MUTATE                                                                     \
    (SBX_WASI_RIGHT_PATH_CREATE_DIRECTORY | SBX_WASI_RIGHT_PATH_CREATE_FILE |                      \
     SBX_WASI_RIGHT_PATH_LINK_SOURCE | SBX_WASI_RIGHT_PATH_LINK_TARGET |                           \
     SBX_WASI_RIGHT_PATH_RENAME_SOURCE | SBX_WASI_RIGHT_PATH_RENAME_TARGET |                       \
     SBX_WASI_RIGHT_PATH_FILESTAT_SET_SIZE | SBX_WASI_RIGHT_PATH_FILESTAT_SET_TIMES |              \
     SBX_WASI_RIGHT_FD_FILESTAT_SET_TIMES | SBX_WASI_RIGHT_PATH_SYMLINK |                          \
     SBX_WASI_RIGHT_PATH_REMOVE_DIRECTORY | SBX_WASI_RIGHT_PATH_UNLINK_FILE)
#define WASI_RIGHTS_DIR                                                                            \
    (WASI_RIGHTS_DIR_MUTATE | SBX_WASI_RIGHT_FD_FDSTAT_SET_FLAGS | SBX_WASI_RIGHT_FD_SYNC |        \
     SBX_WASI_RIGHT_FD_DATASYNC | SBX_WASI_RIGHT_PATH_OPEN | SBX_WASI_RIGHT_FD_READDIR |           \
     SBX_WASI_RIGHT_PATH_READLINK | SBX_WASI_RIGHT_PATH_FILESTAT_GET |                             \
     SBX_WASI_RIGHT_FD_FILESTAT_GET)
#define WASI_RIGHTS_FILE_MUTATE                                                                    \
    (SBX_WASI_RIGHT_FD_WRITE | SBX_WASI_RIGHT_FD_ALLOCATE | SBX_WASI_RIGHT_FD_FILESTAT_SET_SIZE |  \
     SBX_WASI_RIGHT_FD_FILESTAT_SET_TIMES)
/* ttys, pipes, character devices: no seek, no size. */
#define WASI_RIGHTS_STREAM                                                                         \
    (SBX_WASI_RIGHT_FD_READ | SBX_WASI_RIGHT_FD_WRITE | SBX_WASI_RIGHT_FD_FDSTAT_SET_FLAGS |       \
     SBX_WASI_RIGHT_FD_FILESTAT_GET | SBX_WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_SOCKET                                                                         \
    (WASI_RIGHTS_STREAM | SBX_WASI_RIGHT_SOCK_SHUTDOWN | SBX_WASI_RIGHT_SOCK_ACCEPT)

/* One guest fd. */
struct wasi_fd {
    int host; /* host fd this guest fd owns */
    uint8_t filetype;
    uint64_t base;       /* rights */
    uint64_t inheriting; /* rights of fds opened through this one */
    /* Directories only: the resolver root (preopen index) and the path of
     * this directory relative to it, as spelt by the guest ("" = root). */
    int32_t preopen;
    char *dir;
    char *prestat; /* preopens only: the guest path fd_prestat_dir_name reports */
};

/* A list of NUL-terminated strings laid out as args_get/environ_get write
 * them. */
struct wasi_strings {
    uint32_t count;
    uint32_t size; /* bytes of buf, NULs included */
    char *buf;
    uint32_t *offsets; /* count entries */
};

struct wasi_binding;

struct sbx_wasi {
    struct wasi_strings args, env;
    struct wasi_fd **fds; /* index = guest fd; NULL = free */
    uint32_t nfds;        /* length of fds */
    const struct sbx_wasi_path_ops *ops;
    void *ops_ctx;
    struct sbx_wasi_root *roots; /* the local resolver's roots when cfg->ops is NULL */
    struct sbx_wasi_roots roots_ctx;
    uint32_t npreopens;
    struct wasi_binding *bindings;
    uint8_t *dirent_buf; /* fd_readdir's getdents64 buffer, allocated on first use */
};

/* The context of one call from the guest. */
struct wasi_call {
    struct sbx_wasi *w;
    struct guest_mem mem;
    struct sbx_caller *caller;
    bool exited; /* the call ended the instance */
    int exit_code;
};

/* A WASI function: returns its errno, or -1 once it has ended the instance
 * (wasi_exit). Arguments are the preview1 ones, in order. */
typedef int (*wasi_impl)(struct wasi_call *c, const union sbx_val *a);

/* Ends the instance with `code` (proc_exit, proc_raise). */
int wasi_exit(struct wasi_call *c, int code);

/* -- fd table (fd_table.c) -- */

/* Looks up guest fd `fd` and checks it holds every right in `rights`:
 * EBADF, ENOTCAPABLE or 0. */
uint16_t wasi_fd_get(struct sbx_wasi *w, uint32_t fd, uint64_t rights, struct wasi_fd **out);
/* Takes ownership of f (and its host fd) and gives it the lowest free
 * guest fd. On EMFILE/ENOMEM, f is freed (its host fd closed). */
uint16_t wasi_fd_insert(struct sbx_wasi *w, struct wasi_fd *f, uint32_t *fd);
/* A new entry for host fd `host`: its file type from fstat, its rights the
 * most its type and access mode allow, masked by `mask`. NULL on ENOMEM
 * (host is not closed then). */
/* Takes ownership of f and puts it at guest fd `fd`, which must be free. */
uint16_t wasi_fd_place(struct sbx_wasi *w, uint32_t fd, struct wasi_fd *f);
struct wasi_fd *wasi_fd_from_host(int host, uint64_t mask, uint16_t *err);
void wasi_fd_free(struct wasi_fd *f);
/* The rights an fd of this type and host access mode can have. */
uint64_t wasi_rights_for(uint8_t filetype, int host_flags);
/* The WASI file type of an open host fd (0 on failure, with *err set). */
uint8_t wasi_filetype_of(int host, uint16_t *err);

/* -- The WASI functions, one file per concern -- */

int wasi_args_get(struct wasi_call *c, const union sbx_val *a);
int wasi_args_sizes_get(struct wasi_call *c, const union sbx_val *a);
int wasi_environ_get(struct wasi_call *c, const union sbx_val *a);
int wasi_environ_sizes_get(struct wasi_call *c, const union sbx_val *a);

int wasi_clock_res_get(struct wasi_call *c, const union sbx_val *a);
int wasi_clock_time_get(struct wasi_call *c, const union sbx_val *a);
/* The host clock of a WASI clock id, or -1 for an unknown id. */
int wasi_host_clock(uint32_t id);

int wasi_fd_read(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_write(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_pread(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_pwrite(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_seek(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_tell(struct wasi_call *c, const union sbx_val *a);
/* Reads or writes the guest's iovec array on host fd `host` (readv/writev,
 * or at `offset` when `positional`), looping over chunks; *done is the
 * byte count. Shared with sock_recv/sock_send through `sock_flags` >= 0
 * (recvmsg/sendmsg then). */
uint16_t wasi_iov_io(struct wasi_call *c, int host, bool write, uint32_t iovs, uint32_t iovs_len,
                     bool positional, uint64_t offset, int sock_flags, uint32_t *done,
                     int *msg_flags_out);

int wasi_fd_advise(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_allocate(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_close(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_datasync(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_sync(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_fdstat_get(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_fdstat_set_flags(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_fdstat_set_rights(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_filestat_get(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_filestat_set_size(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_filestat_set_times(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_prestat_get(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_prestat_dir_name(struct wasi_call *c, const union sbx_val *a);
int wasi_fd_renumber(struct wasi_call *c, const union sbx_val *a);
/* Writes a filestat (64 bytes) at guest address ptr: 0 or EFAULT. */
uint16_t wasi_put_filestat(const struct guest_mem *m, uint32_t ptr,
                           const struct sbx_wasi_filestat *st);

int wasi_fd_readdir(struct wasi_call *c, const union sbx_val *a);

int wasi_path_create_directory(struct wasi_call *c, const union sbx_val *a);
int wasi_path_filestat_get(struct wasi_call *c, const union sbx_val *a);
int wasi_path_filestat_set_times(struct wasi_call *c, const union sbx_val *a);
int wasi_path_link(struct wasi_call *c, const union sbx_val *a);
int wasi_path_open(struct wasi_call *c, const union sbx_val *a);
int wasi_path_readlink(struct wasi_call *c, const union sbx_val *a);
int wasi_path_remove_directory(struct wasi_call *c, const union sbx_val *a);
int wasi_path_rename(struct wasi_call *c, const union sbx_val *a);
int wasi_path_symlink(struct wasi_call *c, const union sbx_val *a);
int wasi_path_unlink_file(struct wasi_call *c, const union sbx_val *a);

int wasi_poll_oneoff(struct wasi_call *c, const union sbx_val *a);

int wasi_proc_exit(struct wasi_call *c, const union sbx_val *a);
int wasi_proc_raise(struct wasi_call *c, const union sbx_val *a);
int wasi_sched_yield(struct wasi_call *c, const union sbx_val *a);
int wasi_random_get(struct wasi_call *c, const union sbx_val *a);

int wasi_sock_accept(struct wasi_call *c, const union sbx_val *a);
int wasi_sock_recv(struct wasi_call *c, const union sbx_val *a);
int wasi_sock_send(struct wasi_call *c, const union sbx_val *a);
int wasi_sock_shutdown(struct wasi_call *c, const union sbx_val *a);

#endif
