/* supervisor/broker_internal.h (internal): the broker's state, shared by
 * broker.c (the roots) and broker_serve.c (the requests). */
#ifndef SBX_SUPERVISOR_BROKER_INTERNAL_H
#define SBX_SUPERVISOR_BROKER_INTERNAL_H

#include "supervisor/broker.h"
#include "wasi/path_local.h"

struct sbx_broker {
    struct sbx_wasi_root *roots; /* dirfd owned; read_only as configured */
    size_t count;
};

#endif
