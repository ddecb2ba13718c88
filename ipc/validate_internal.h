/* ipc/validate_internal.h (internal): the checks shared by the validators of
 * each channel. Every helper returns 0 or -EBADMSG after recording, once,
 * the first reason a message was refused. */
#ifndef SBX_IPC_VALIDATE_INTERNAL_H
#define SBX_IPC_VALIDATE_INTERNAL_H

#include "ipc/validate.h"

#include <stdbool.h>

#include "ipc/limits.h"

struct vctx {
    struct sbx_ipc_reject *why;
    size_t nfds;                    /* fds that came with the message */
    bool fds_used[SBX_IPC_MAX_FDS]; /* fd_index i referenced */
};

void v_start(struct vctx *v, struct sbx_ipc_reject *why, size_t nfds, uint64_t id);
int v_reject(struct vctx *v, Sbx__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* After the body: every fd received was referenced. */
int v_fds_all_used(struct vctx *v);

/* Refuses a message with unknown fields anywhere in its tree. The protocol
 * is versioned by the handshake, so a field this side does not know was sent
 * by a peer that did not follow it; ignoring it could mean ignoring a
 * restriction the peer asked for. */
int v_no_unknown_fields(struct vctx *v, const ProtobufCMessage *m);
int v_string(struct vctx *v, const char *s, size_t max, bool required, const char *field);
int v_module_id(struct vctx *v, const char *s, const char *field);
int v_fd_index(struct vctx *v, bool has, uint32_t index, const char *field);
/* At most SBX_IPC_MAX_SOCKETS fd indices, each valid and used once. */
int v_socket_fds(struct vctx *v, size_t n, const uint32_t *index, const char *field);
int v_memfd(struct vctx *v, const Sbx__MemfdRef *m, uint64_t max_size, const char *field);
int v_enum(struct vctx *v, const ProtobufCEnumDescriptor *desc, bool has, int value,
           const char *field);
int v_values(struct vctx *v, size_t n, Sbx__Value *const *vals, const char *field);
int v_argv_env(struct vctx *v, size_t nargv, char *const *argv, size_t nenv, char *const *env);
int v_stdio(struct vctx *v, size_t n, Sbx__StdioFd *const *stdio, const char *field);
int v_limits(struct vctx *v, const Sbx__ResourceLimits *l, const char *field);
int v_trap(struct vctx *v, const Sbx__Trap *t, const char *field);
int v_error(struct vctx *v, const Sbx__Error *e, const char *field);
/* A worker's PathRequest (validate_path.c); the id is checked by the caller. */
int v_path_request(struct vctx *v, const Sbx__PathRequest *m);

#endif
