/* The numbers of the wasi_snapshot_preview1 ABI that both sides of the path
 * resolver need: errno values, rights bits, file types and the flag words of
 * path_open and friends. They are written down here from the preview1 witx
 * definitions, rather than taken from wasi-libc's <wasi/api.h>, because host
 * code cannot include a wasm32 header, and the broker (a different process)
 * must agree with the worker on the same values. */
#ifndef SBX_WASI_ABI_H
#define SBX_WASI_ABI_H

#include <stdint.h>

/* errno: the result of every preview1 call. */
enum sbx_wasi_errno {
    SBX_WASI_ESUCCESS = 0,
    SBX_WASI_E2BIG = 1,
    SBX_WASI_EACCES = 2,
    SBX_WASI_EADDRINUSE = 3,
    SBX_WASI_EADDRNOTAVAIL = 4,
    SBX_WASI_EAFNOSUPPORT = 5,
    SBX_WASI_EAGAIN = 6,
    SBX_WASI_EALREADY = 7,
    SBX_WASI_EBADF = 8,
    SBX_WASI_EBADMSG = 9,
    SBX_WASI_EBUSY = 10,
    SBX_WASI_ECANCELED = 11,
    SBX_WASI_ECHILD = 12,
    SBX_WASI_ECONNABORTED = 13,
    SBX_WASI_ECONNREFUSED = 14,
    SBX_WASI_ECONNRESET = 15,
    SBX_WASI_EDEADLK = 16,
    SBX_WASI_EDESTADDRREQ = 17,
    SBX_WASI_EDOM = 18,
    SBX_WASI_EDQUOT = 19,
    SBX_WASI_EEXIST = 20,
    SBX_WASI_EFAULT = 21,
    SBX_WASI_EFBIG = 22,
    SBX_WASI_EHOSTUNREACH = 23,
    SBX_WASI_EIDRM = 24,
    SBX_WASI_EILSEQ = 25,
    SBX_WASI_EINPROGRESS = 26,
    SBX_WASI_EINTR = 27,
    SBX_WASI_EINVAL = 28,
    SBX_WASI_EIO = 29,
    SBX_WASI_EISCONN = 30,
    SBX_WASI_EISDIR = 31,
    SBX_WASI_ELOOP = 32,
    SBX_WASI_EMFILE = 33,
    SBX_WASI_EMLINK = 34,
    SBX_WASI_EMSGSIZE = 35,
    SBX_WASI_EMULTIHOP = 36,
    SBX_WASI_ENAMETOOLONG = 37,
    SBX_WASI_ENETDOWN = 38,
    SBX_WASI_ENETRESET = 39,
    SBX_WASI_ENETUNREACH = 40,
    SBX_WASI_ENFILE = 41,
    SBX_WASI_ENOBUFS = 42,
    SBX_WASI_ENODEV = 43,
    SBX_WASI_ENOENT = 44,
    SBX_WASI_ENOEXEC = 45,
    SBX_WASI_ENOLCK = 46,
    SBX_WASI_ENOLINK = 47,
    SBX_WASI_ENOMEM = 48,
    SBX_WASI_ENOMSG = 49,
    SBX_WASI_ENOPROTOOPT = 50,
    SBX_WASI_ENOSPC = 51,
    SBX_WASI_ENOSYS = 52,
    SBX_WASI_ENOTCONN = 53,
    SBX_WASI_ENOTDIR = 54,
    SBX_WASI_ENOTEMPTY = 55,
    SBX_WASI_ENOTRECOVERABLE = 56,
    SBX_WASI_ENOTSOCK = 57,
    SBX_WASI_ENOTSUP = 58,
    SBX_WASI_ENOTTY = 59,
    SBX_WASI_ENXIO = 60,
    SBX_WASI_EOVERFLOW = 61,
    SBX_WASI_EOWNERDEAD = 62,
    SBX_WASI_EPERM = 63,
    SBX_WASI_EPIPE = 64,
    SBX_WASI_EPROTO = 65,
    SBX_WASI_EPROTONOSUPPORT = 66,
    SBX_WASI_EPROTOTYPE = 67,
    SBX_WASI_ERANGE = 68,
    SBX_WASI_EROFS = 69,
    SBX_WASI_ESPIPE = 70,
    SBX_WASI_ESRCH = 71,
    SBX_WASI_ESTALE = 72,
    SBX_WASI_ETIMEDOUT = 73,
    SBX_WASI_ETXTBSY = 74,
    SBX_WASI_EXDEV = 75,
    SBX_WASI_ENOTCAPABLE = 76,
};

/* Rights: bit i of a 64-bit word. */
#define SBX_WASI_RIGHT(i)                      ((uint64_t)1 << (i))
#define SBX_WASI_RIGHT_FD_DATASYNC             SBX_WASI_RIGHT(0)
#define SBX_WASI_RIGHT_FD_READ                 SBX_WASI_RIGHT(1)
#define SBX_WASI_RIGHT_FD_SEEK                 SBX_WASI_RIGHT(2)
#define SBX_WASI_RIGHT_FD_FDSTAT_SET_FLAGS     SBX_WASI_RIGHT(3)
#define SBX_WASI_RIGHT_FD_SYNC                 SBX_WASI_RIGHT(4)
#define SBX_WASI_RIGHT_FD_TELL                 SBX_WASI_RIGHT(5)
#define SBX_WASI_RIGHT_FD_WRITE                SBX_WASI_RIGHT(6)
#define SBX_WASI_RIGHT_FD_ADVISE               SBX_WASI_RIGHT(7)
#define SBX_WASI_RIGHT_FD_ALLOCATE             SBX_WASI_RIGHT(8)
#define SBX_WASI_RIGHT_PATH_CREATE_DIRECTORY   SBX_WASI_RIGHT(9)
#define SBX_WASI_RIGHT_PATH_CREATE_FILE        SBX_WASI_RIGHT(10)
#define SBX_WASI_RIGHT_PATH_LINK_SOURCE        SBX_WASI_RIGHT(11)
#define SBX_WASI_RIGHT_PATH_LINK_TARGET        SBX_WASI_RIGHT(12)
#define SBX_WASI_RIGHT_PATH_OPEN               SBX_WASI_RIGHT(13)
#define SBX_WASI_RIGHT_FD_READDIR              SBX_WASI_RIGHT(14)
#define SBX_WASI_RIGHT_PATH_READLINK           SBX_WASI_RIGHT(15)
#define SBX_WASI_RIGHT_PATH_RENAME_SOURCE      SBX_WASI_RIGHT(16)
#define SBX_WASI_RIGHT_PATH_RENAME_TARGET      SBX_WASI_RIGHT(17)
#define SBX_WASI_RIGHT_PATH_FILESTAT_GET       SBX_WASI_RIGHT(18)
#define SBX_WASI_RIGHT_PATH_FILESTAT_SET_SIZE  SBX_WASI_RIGHT(19)
#define SBX_WASI_RIGHT_PATH_FILESTAT_SET_TIMES SBX_WASI_RIGHT(20)
#define SBX_WASI_RIGHT_FD_FILESTAT_GET         SBX_WASI_RIGHT(21)
#define SBX_WASI_RIGHT_FD_FILESTAT_SET_SIZE    SBX_WASI_RIGHT(22)
#define SBX_WASI_RIGHT_FD_FILESTAT_SET_TIMES   SBX_WASI_RIGHT(23)
#define SBX_WASI_RIGHT_PATH_SYMLINK            SBX_WASI_RIGHT(24)
#define SBX_WASI_RIGHT_PATH_REMOVE_DIRECTORY   SBX_WASI_RIGHT(25)
#define SBX_WASI_RIGHT_PATH_UNLINK_FILE        SBX_WASI_RIGHT(26)
#define SBX_WASI_RIGHT_POLL_FD_READWRITE       SBX_WASI_RIGHT(27)
#define SBX_WASI_RIGHT_SOCK_SHUTDOWN           SBX_WASI_RIGHT(28)
#define SBX_WASI_RIGHT_SOCK_ACCEPT             SBX_WASI_RIGHT(29)
#define SBX_WASI_RIGHTS_ALL                    (SBX_WASI_RIGHT(30) - 1)

enum sbx_wasi_filetype {
    SBX_WASI_FILETYPE_UNKNOWN = 0,
    SBX_WASI_FILETYPE_BLOCK_DEVICE = 1,
    SBX_WASI_FILETYPE_CHARACTER_DEVICE = 2,
    SBX_WASI_FILETYPE_DIRECTORY = 3,
    SBX_WASI_FILETYPE_REGULAR_FILE = 4,
    SBX_WASI_FILETYPE_SOCKET_DGRAM = 5,
    SBX_WASI_FILETYPE_SOCKET_STREAM = 6,
    SBX_WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

/* fdflags (fd_fdstat_get/set_flags, path_open). */
#define SBX_WASI_FDFLAG_APPEND   0x1u
#define SBX_WASI_FDFLAG_DSYNC    0x2u
#define SBX_WASI_FDFLAG_NONBLOCK 0x4u
#define SBX_WASI_FDFLAG_RSYNC    0x8u
#define SBX_WASI_FDFLAG_SYNC     0x10u

/* oflags (path_open). */
#define SBX_WASI_OFLAG_CREAT     0x1u
#define SBX_WASI_OFLAG_DIRECTORY 0x2u
#define SBX_WASI_OFLAG_EXCL      0x4u
#define SBX_WASI_OFLAG_TRUNC     0x8u

/* lookupflags (path_* calls). */
#define SBX_WASI_LOOKUP_SYMLINK_FOLLOW 0x1u

/* fstflags (filestat_set_times). */
#define SBX_WASI_FSTFLAG_ATIM     0x1u
#define SBX_WASI_FSTFLAG_ATIM_NOW 0x2u
#define SBX_WASI_FSTFLAG_MTIM     0x4u
#define SBX_WASI_FSTFLAG_MTIM_NOW 0x8u

enum sbx_wasi_clockid {
    SBX_WASI_CLOCK_REALTIME = 0,
    SBX_WASI_CLOCK_MONOTONIC = 1,
    SBX_WASI_CLOCK_PROCESS_CPUTIME = 2,
    SBX_WASI_CLOCK_THREAD_CPUTIME = 3,
};

enum sbx_wasi_whence { SBX_WASI_WHENCE_SET = 0, SBX_WASI_WHENCE_CUR = 1, SBX_WASI_WHENCE_END = 2 };

enum sbx_wasi_eventtype {
    SBX_WASI_EVENT_CLOCK = 0,
    SBX_WASI_EVENT_FD_READ = 1,
    SBX_WASI_EVENT_FD_WRITE = 2,
};
#define SBX_WASI_SUBCLOCK_ABSTIME 0x1u
#define SBX_WASI_EVENTRW_HANGUP   0x1u

/* Socket flags. */
#define SBX_WASI_RIFLAG_RECV_PEEK      0x1u
#define SBX_WASI_RIFLAG_RECV_WAITALL   0x2u
#define SBX_WASI_ROFLAG_DATA_TRUNCATED 0x1u
#define SBX_WASI_SDFLAG_RD             0x1u
#define SBX_WASI_SDFLAG_WR             0x2u

/* The WASI view of a file's metadata (filestat), host-endian. */
struct sbx_wasi_filestat {
    uint64_t dev;
    uint64_t ino;
    uint8_t filetype; /* enum sbx_wasi_filetype */
    uint64_t nlink;
    uint64_t size;
    uint64_t atim; /* nanoseconds since the epoch */
    uint64_t mtim;
    uint64_t ctim;
};

#endif
