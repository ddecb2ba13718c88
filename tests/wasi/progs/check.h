/* Shared by the WASI test programs: raw preview1 imports (pointers and
 * lengths as plain i32, so a test can pass any address or a path with a
 * NUL inside, which wasi-libc's wrappers cannot), errno names, and the
 * reporting helpers. Each check prints one line, "LABEL -> ERRNO_NAME";
 * the expected output files are the specification. */
#ifndef WASI_TEST_CHECK_H
#define WASI_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
typedef int32_t i32;
typedef int64_t i64;

i32 raw_args_get(i32, i32) IMPORT(args_get);
i32 raw_args_sizes_get(i32, i32) IMPORT(args_sizes_get);
i32 raw_environ_get(i32, i32) IMPORT(environ_get);
i32 raw_environ_sizes_get(i32, i32) IMPORT(environ_sizes_get);
i32 raw_clock_res_get(i32, i32) IMPORT(clock_res_get);
i32 raw_clock_time_get(i32, i64, i32) IMPORT(clock_time_get);
i32 raw_fd_advise(i32, i64, i64, i32) IMPORT(fd_advise);
i32 raw_fd_allocate(i32, i64, i64) IMPORT(fd_allocate);
i32 raw_fd_close(i32) IMPORT(fd_close);
i32 raw_fd_datasync(i32) IMPORT(fd_datasync);
i32 raw_fd_fdstat_get(i32, i32) IMPORT(fd_fdstat_get);
i32 raw_fd_fdstat_set_flags(i32, i32) IMPORT(fd_fdstat_set_flags);
i32 raw_fd_fdstat_set_rights(i32, i64, i64) IMPORT(fd_fdstat_set_rights);
i32 raw_fd_filestat_get(i32, i32) IMPORT(fd_filestat_get);
i32 raw_fd_filestat_set_size(i32, i64) IMPORT(fd_filestat_set_size);
i32 raw_fd_filestat_set_times(i32, i64, i64, i32) IMPORT(fd_filestat_set_times);
i32 raw_fd_pread(i32, i32, i32, i64, i32) IMPORT(fd_pread);
i32 raw_fd_prestat_get(i32, i32) IMPORT(fd_prestat_get);
i32 raw_fd_prestat_dir_name(i32, i32, i32) IMPORT(fd_prestat_dir_name);
i32 raw_fd_pwrite(i32, i32, i32, i64, i32) IMPORT(fd_pwrite);
i32 raw_fd_read(i32, i32, i32, i32) IMPORT(fd_read);
i32 raw_fd_readdir(i32, i32, i32, i64, i32) IMPORT(fd_readdir);
i32 raw_fd_renumber(i32, i32) IMPORT(fd_renumber);
i32 raw_fd_seek(i32, i64, i32, i32) IMPORT(fd_seek);
i32 raw_fd_sync(i32) IMPORT(fd_sync);
i32 raw_fd_tell(i32, i32) IMPORT(fd_tell);
i32 raw_fd_write(i32, i32, i32, i32) IMPORT(fd_write);
i32 raw_path_create_directory(i32, i32, i32) IMPORT(path_create_directory);
i32 raw_path_filestat_get(i32, i32, i32, i32, i32) IMPORT(path_filestat_get);
i32 raw_path_filestat_set_times(i32, i32, i32, i32, i64, i64, i32) IMPORT(path_filestat_set_times);
i32 raw_path_link(i32, i32, i32, i32, i32, i32, i32) IMPORT(path_link);
i32 raw_path_open(i32, i32, i32, i32, i32, i64, i64, i32, i32) IMPORT(path_open);
i32 raw_path_readlink(i32, i32, i32, i32, i32, i32) IMPORT(path_readlink);
i32 raw_path_remove_directory(i32, i32, i32) IMPORT(path_remove_directory);
i32 raw_path_rename(i32, i32, i32, i32, i32, i32) IMPORT(path_rename);
i32 raw_path_symlink(i32, i32, i32, i32, i32) IMPORT(path_symlink);
i32 raw_path_unlink_file(i32, i32, i32) IMPORT(path_unlink_file);
i32 raw_poll_oneoff(i32, i32, i32, i32) IMPORT(poll_oneoff);
i32 raw_proc_raise(i32) IMPORT(proc_raise);
i32 raw_random_get(i32, i32) IMPORT(random_get);
i32 raw_sched_yield(void) IMPORT(sched_yield);
i32 raw_sock_accept(i32, i32, i32) IMPORT(sock_accept);
i32 raw_sock_recv(i32, i32, i32, i32, i32, i32) IMPORT(sock_recv);
i32 raw_sock_send(i32, i32, i32, i32, i32) IMPORT(sock_send);
i32 raw_sock_shutdown(i32, i32) IMPORT(sock_shutdown);

#define P(x)   ((i32)(uintptr_t)(x))
#define S(str) P(str), (i32)strlen(str)

/* The preopens every test is run with (see wasi_cases.cmake). */
#define ROOT  3 /* /sandbox, read-write */
#define RO    4 /* /ro, read-only */
#define OTHER 5 /* /other, read-write */

static const char *const errno_names[] = {
    "SUCCESS",     "2BIG",           "ACCES",       "ADDRINUSE",   "ADDRNOTAVAIL",
    "AFNOSUPPORT", "AGAIN",          "ALREADY",     "BADF",        "BADMSG",
    "BUSY",        "CANCELED",       "CHILD",       "CONNABORTED", "CONNREFUSED",
    "CONNRESET",   "DEADLK",         "DESTADDRREQ", "DOM",         "DQUOT",
    "EXIST",       "FAULT",          "FBIG",        "HOSTUNREACH", "IDRM",
    "ILSEQ",       "INPROGRESS",     "INTR",        "INVAL",       "IO",
    "ISCONN",      "ISDIR",          "LOOP",        "MFILE",       "MLINK",
    "MSGSIZE",     "MULTIHOP",       "NAMETOOLONG", "NETDOWN",     "NETRESET",
    "NETUNREACH",  "NFILE",          "NOBUFS",      "NODEV",       "NOENT",
    "NOEXEC",      "NOLCK",          "NOLINK",      "NOMEM",       "NOMSG",
    "NOPROTOOPT",  "NOSPC",          "NOSYS",       "NOTCONN",     "NOTDIR",
    "NOTEMPTY",    "NOTRECOVERABLE", "NOTSOCK",     "NOTSUP",      "NOTTY",
    "NXIO",        "OVERFLOW",       "OWNERDEAD",   "PERM",        "PIPE",
    "PROTO",       "PROTONOSUPPORT", "PROTOTYPE",   "RANGE",       "ROFS",
    "SPIPE",       "SRCH",           "STALE",       "TIMEDOUT",    "TXTBSY",
    "XDEV",        "NOTCAPABLE",
};

static inline const char *ename(i32 e)
{
    return e >= 0 && e < (i32)(sizeof(errno_names) / sizeof(errno_names[0])) ? errno_names[e] : "?";
}

/* Prints "label -> NAME" and returns e. */
static inline i32 E(const char *label, i32 e)
{
    printf("%s -> %s\n", label, ename(e));
    return e;
}

/* Prints "label: yes" / "label: NO". */
static inline int Y(const char *label, int ok)
{
    printf("%s: %s\n", label, ok ? "yes" : "NO");
    return ok;
}

/* The inheriting rights of a directory fd. */
static inline uint64_t inheriting_of(i32 dir)
{
    __wasi_fdstat_t st;
    if (raw_fd_fdstat_get(dir, P(&st))) return 0;
    return st.fs_rights_inheriting;
}

/* Opens path beneath dir (following symlinks) with every right the
 * directory hands out. */
static inline i32 open_at(i32 dir, const char *path, i32 oflags, i32 fdflags, i32 *fd)
{
    uint64_t r = inheriting_of(dir);
    return raw_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, S(path), oflags, (i64)r, (i64)r,
                         fdflags, P(fd));
}

/* Opens path beneath dir read-only (fd_read, seek, stat, readdir). */
static inline i32 open_ro(i32 dir, const char *path, i32 oflags, i32 *fd)
{
    uint64_t r = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                 __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_READDIR;
    return raw_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, S(path), oflags, (i64)r, 0, 0,
                         P(fd));
}

static inline i32 write_str(i32 fd, const char *s, uint32_t *n)
{
    __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
    return raw_fd_write(fd, P(&iov), 1, P(n));
}

static inline i32 read_buf(i32 fd, char *buf, uint32_t len, uint32_t *n)
{
    __wasi_iovec_t iov = {(uint8_t *)buf, len};
    return raw_fd_read(fd, P(&iov), 1, P(n));
}

#endif
