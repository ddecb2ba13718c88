/* Host errno -> WASI errno. The preview1 errno list is POSIX's, so almost
 * every Linux value has a namesake; Linux-only values (ECHRNG, EUCLEAN, ...)
 * become EIO, as in wasmtime. Aliases (EWOULDBLOCK = EAGAIN, EOPNOTSUPP =
 * ENOTSUP, EDEADLOCK = EDEADLK) are the same numbers on Linux and need no
 * row of their own. */
#include "wasi/errno_map.h"

#include <errno.h>

#include "wasi/abi.h"

uint16_t sbx_wasi_errno_from_host(int e)
{
    switch (e) {
    case 0: return SBX_WASI_ESUCCESS;
    case E2BIG: return SBX_WASI_E2BIG;
    case EACCES: return SBX_WASI_EACCES;
    case EADDRINUSE: return SBX_WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return SBX_WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return SBX_WASI_EAFNOSUPPORT;
    case EAGAIN: return SBX_WASI_EAGAIN;
    case EALREADY: return SBX_WASI_EALREADY;
    case EBADF: return SBX_WASI_EBADF;
    case EBADMSG: return SBX_WASI_EBADMSG;
    case EBUSY: return SBX_WASI_EBUSY;
    case ECANCELED: return SBX_WASI_ECANCELED;
    case ECHILD: return SBX_WASI_ECHILD;
    case ECONNABORTED: return SBX_WASI_ECONNABORTED;
    case ECONNREFUSED: return SBX_WASI_ECONNREFUSED;
    case ECONNRESET: return SBX_WASI_ECONNRESET;
    case EDEADLK: return SBX_WASI_EDEADLK;
    case EDESTADDRREQ: return SBX_WASI_EDESTADDRREQ;
    case EDOM: return SBX_WASI_EDOM;
    case EDQUOT: return SBX_WASI_EDQUOT;
    case EEXIST: return SBX_WASI_EEXIST;
    case EFAULT: return SBX_WASI_EFAULT;
    case EFBIG: return SBX_WASI_EFBIG;
    case EHOSTUNREACH: return SBX_WASI_EHOSTUNREACH;
    case EIDRM: return SBX_WASI_EIDRM;
    case EILSEQ: return SBX_WASI_EILSEQ;
    case EINPROGRESS: return SBX_WASI_EINPROGRESS;
    case EINTR: return SBX_WASI_EINTR;
    case EINVAL: return SBX_WASI_EINVAL;
    case EIO: return SBX_WASI_EIO;
    case EISCONN: return SBX_WASI_EISCONN;
    case EISDIR: return SBX_WASI_EISDIR;
    case ELOOP: return SBX_WASI_ELOOP;
    case EMFILE: return SBX_WASI_EMFILE;
    case EMLINK: return SBX_WASI_EMLINK;
    case EMSGSIZE: return SBX_WASI_EMSGSIZE;
    case EMULTIHOP: return SBX_WASI_EMULTIHOP;
    case ENAMETOOLONG: return SBX_WASI_ENAMETOOLONG;
    case ENETDOWN: return SBX_WASI_ENETDOWN;
    case ENETRESET: return SBX_WASI_ENETRESET;
    case ENETUNREACH: return SBX_WASI_ENETUNREACH;
    case ENFILE: return SBX_WASI_ENFILE;
    case ENOBUFS: return SBX_WASI_ENOBUFS;
    case ENODEV: return SBX_WASI_ENODEV;
    case ENOENT: return SBX_WASI_ENOENT;
    case ENOEXEC: return SBX_WASI_ENOEXEC;
    case ENOLCK: return SBX_WASI_ENOLCK;
    case ENOLINK: return SBX_WASI_ENOLINK;
    case ENOMEM: return SBX_WASI_ENOMEM;
    case ENOMSG: return SBX_WASI_ENOMSG;
    case ENOPROTOOPT: return SBX_WASI_ENOPROTOOPT;
    case ENOSPC: return SBX_WASI_ENOSPC;
    case ENOSYS: return SBX_WASI_ENOSYS;
    case ENOTCONN: return SBX_WASI_ENOTCONN;
    case ENOTDIR: return SBX_WASI_ENOTDIR;
    case ENOTEMPTY: return SBX_WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return SBX_WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return SBX_WASI_ENOTSOCK;
    case ENOTSUP: return SBX_WASI_ENOTSUP;
    case ENOTTY: return SBX_WASI_ENOTTY;
    case ENXIO: return SBX_WASI_ENXIO;
    case EOVERFLOW: return SBX_WASI_EOVERFLOW;
    case EOWNERDEAD: return SBX_WASI_EOWNERDEAD;
    case EPERM: return SBX_WASI_EPERM;
    case EPIPE: return SBX_WASI_EPIPE;
    case EPROTO: return SBX_WASI_EPROTO;
    case EPROTONOSUPPORT: return SBX_WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return SBX_WASI_EPROTOTYPE;
    case ERANGE: return SBX_WASI_ERANGE;
    case EROFS: return SBX_WASI_EROFS;
    case ESPIPE: return SBX_WASI_ESPIPE;
    case ESRCH: return SBX_WASI_ESRCH;
    case ESTALE: return SBX_WASI_ESTALE;
    case ETIMEDOUT: return SBX_WASI_ETIMEDOUT;
    case ETXTBSY: return SBX_WASI_ETXTBSY;
    case EXDEV: return SBX_WASI_EXDEV;
    /* Linux-only values with an obvious WASI meaning. */
    case ENOTBLK: return SBX_WASI_ENOTSUP;
    case ENOKEY:
    case EKEYREJECTED:
    case EKEYREVOKED:
    case EKEYEXPIRED: return SBX_WASI_EACCES;
    case ENOMEDIUM:
    case EMEDIUMTYPE: return SBX_WASI_ENODEV;
    case ESHUTDOWN: return SBX_WASI_EPIPE;
    case ETIME: return SBX_WASI_ETIMEDOUT;
    case ENONET: return SBX_WASI_ENETUNREACH;
    case ESOCKTNOSUPPORT: return SBX_WASI_EPROTONOSUPPORT;
    case EPFNOSUPPORT: return SBX_WASI_EAFNOSUPPORT;
    case EHOSTDOWN: return SBX_WASI_EHOSTUNREACH;
    case ERESTART: return SBX_WASI_EINTR;
    default: return SBX_WASI_EIO;
    }
}
