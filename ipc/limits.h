/* ipc/limits.h: every limit the IPC layer enforces on untrusted messages, in
 * one place. Validation (validate.h) and the framing code (msg.h) read them;
 * docs/protocol.md lists them for client authors. */
#ifndef SBX_IPC_LIMITS_H
#define SBX_IPC_LIMITS_H

/* Largest packed message, one SOCK_SEQPACKET packet. An AF_UNIX datagram
 * must fit in the sender's send buffer less 32 bytes of overhead, and the
 * default buffer (net.core.wmem_default) is 212,992 bytes, with
 * net.core.wmem_max capping what an unprivileged process may ask for at the
 * same figure on a stock Debian kernel. 128 KiB fits with room to spare
 * without touching SO_SNDBUF. Anything bigger travels as a memfd. */
#define SBX_IPC_MAX_MESSAGE (128u * 1024)

/* Preopened directories of one worker (the policy's limit too). */
#define SBX_IPC_MAX_PREOPENS 64u

/* Sockets a spawn may hand to its guest (WASI sock_*). */
#define SBX_IPC_MAX_SOCKETS 8u

/* Fds in one packet. The most any message carries is ForkWorker: stdin,
 * stdout, stderr, the worker's channel, a directory fd per preopen and the
 * guest's sockets.
 * Every validator also requires each fd received to be named by the
 * message, so a packet cannot smuggle in more than it uses. */
#define SBX_IPC_MAX_FDS (4u + SBX_IPC_MAX_PREOPENS + SBX_IPC_MAX_SOCKETS)

/* Bytes protobuf-c may allocate while unpacking one message. Unpacking
 * expands its input: a repeated submessage costs 2 bytes on the wire and
 * about 50 in memory (a pointer and the struct). A request within the limits
 * below unpacks to well under 1 MiB (1000 values x 50 bytes + 64 KiB of
 * strings + a 64 KiB inline module); a hostile packet built to expand is
 * refused at 1 MiB instead of reaching 25x its size. */
#define SBX_IPC_UNPACK_BUDGET (1024u * 1024)

/* Module bytes sent inside LoadModule; bigger modules come as a memfd. Half
 * the message size, so the rest of the message always fits. */
#define SBX_IPC_MAX_INLINE_MODULE (64u * 1024)
/* A module in a memfd or at a path: jit/limits.h's SBX_MAX_MODULE_SIZE. */
#define SBX_IPC_MAX_MODULE_BYTES (1024u * 1024 * 1024)

/* Strings. Lengths exclude the terminating NUL. */
#define SBX_IPC_MAX_NAME        256u  /* module name, client name */
#define SBX_IPC_MAX_PATH        4095u /* PATH_MAX less the NUL */
#define SBX_IPC_MAX_EXPORT_NAME 1024u /* an export longer than this cannot be invoked */
#define SBX_IPC_MAX_TEXT        4096u /* error and trap messages, server version */
#define SBX_IPC_MODULE_ID_LEN   64u   /* lowercase hex SHA-256 */

/* The WASI path broker (PathRequest). A path or directory is what the WASI
 * library sends: shorter than its 4096-byte path limit (wasi/internal.h,
 * WASI_PATH_MAX), like PATH_MAX less the NUL. A readlink asks for at most
 * PATH_MAX bytes because no symlink's contents are longer (symlink(2) caps
 * them at PATH_MAX - 1), so the reply stays a few KiB and the worker can
 * receive it on its stack. */
#define SBX_IPC_MAX_BROKER_PATH 4095u
#define SBX_IPC_MAX_READLINK    4096u

/* argv and environment of a worker. ARG_BYTES counts every entry's length
 * plus one, like the kernel's ARG_MAX accounting; 64 KiB is what a WASI
 * guest can reasonably use (wasmtime and node impose no smaller bound, but
 * they do not share a daemon between tenants). */
#define SBX_IPC_MAX_ARGV      1024u
#define SBX_IPC_MAX_ENV       1024u
#define SBX_IPC_MAX_ARG_BYTES (64u * 1024)

/* Values in args and results: the JS API's limit on parameters and results
 * of one function (jit/limits.h: SBX_MAX_PARAMS, SBX_MAX_RESULTS). */
#define SBX_IPC_MAX_VALUES 1000u
/* Backtrace frames in a Trap; the runtime records 32 (SBX_TRAP_MAX_FRAMES). */
#define SBX_IPC_MAX_FRAMES 64u
/* Modules listed in one StatusReply page: 256 x ~350 bytes fits in a message. */
#define SBX_IPC_MAX_STATUS_MODULES 256u
/* Import and export lists of ModuleLoaded: what fits in one message. A module
 * with more is still loaded; the lists are cut and the client can inspect
 * the bytes itself. */
#define SBX_IPC_MAX_EXTERNS 1000u

/* Ranges of ResourceLimits fields (each must also be >= 1). Servers apply
 * their own, usually smaller, maxima on top. */
#define SBX_IPC_MAX_MEMORY_BYTES (1ull << 32) /* 65536 pages of 64 KiB: all of wasm32 */
#define SBX_IPC_MAX_STACK_BYTES  (1ull << 30)
#define SBX_IPC_MAX_TIMEOUT_MS   (24u * 3600 * 1000) /* one day */

#endif
