/* ipc/unpack.c: unpacking untrusted bytes with a bounded allocator, so one
 * hostile message cannot make a process allocate more than
 * SBX_IPC_UNPACK_BUDGET, however it is built. */
#include "ipc/msg.h"
#include "ipc/limits.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* The budget lives on the stack for the length of one unpack. Allocations
 * use malloc, so the message is freed later with protobuf-c's default
 * allocator (free) and the budget is no longer needed. Frees during unpack
 * (protobuf-c cleaning up after a failure) do not give budget back: the
 * budget bounds the total allocated, not the peak, which is stricter. */
struct budget {
    size_t left;
    bool exhausted;
};

static void *budget_alloc(void *data, size_t size)
{
    struct budget *b = data;
    if (size > b->left) {
        b->exhausted = true;
        return NULL;
    }
    b->left -= size;
    return malloc(size ? size : 1);
}

static void budget_free(void *data, void *ptr)
{
    (void)data;
    free(ptr);
}

int sbx_ipc_unpack(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                   ProtobufCMessage **out)
{
    *out = NULL;
    if (!desc || (len && !buf)) return -EINVAL;
    if (len > SBX_IPC_MAX_MESSAGE) return -EMSGSIZE;
    struct budget b = {.left = SBX_IPC_UNPACK_BUDGET};
    ProtobufCAllocator alloc = {
        .alloc = budget_alloc,
        .free = budget_free,
        .allocator_data = &b,
    };
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, &alloc, len, buf);
    if (!msg) return b.exhausted ? -ENOBUFS : -EPROTO;
    *out = msg;
    return 0;
}

void sbx_ipc_free(ProtobufCMessage *msg)
{
    if (msg) protobuf_c_message_free_unpacked(msg, NULL);
}

void sbx_ipc_close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0) close(fds[i]);
        fds[i] = -1;
    }
}
