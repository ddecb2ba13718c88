/* ipc/unpack.c: unpacking untrusted bytes with a bounded allocator, so one
 * hostile message cannot make a process allocate more than
 * SBX_IPC_UNPACK_BUDGET, however it is built. */
#include "ipc/msg.h"
#include "ipc/limits.h"
#include "ipc/unpack_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* The budget lives on the stack for the length of one unpack. Frees
 * during unpack (protobuf-c cleaning up after a failure) do not give
 * budget back: the budget bounds the total allocated, not the peak, which
 * is stricter. */
struct budget {
    size_t left;
    bool exhausted;
    const struct ipc_memory *mem;
};

static void *budget_alloc(void *data, size_t size)
{
    struct budget *b = data;
    if (size > b->left) {
        b->exhausted = true;
        return NULL;
    }
    b->left -= size;
    return b->mem->take(b->mem->data, size);
}

static void budget_free(void *data, void *ptr)
{
    struct budget *b = data;
    b->mem->give(b->mem->data, ptr);
}

int ipc_unpack_from(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                    const struct ipc_memory *mem, ProtobufCMessage **out)
{
    struct budget b = {.left = SBX_IPC_UNPACK_BUDGET, .mem = mem};
    ProtobufCAllocator alloc = {.alloc = budget_alloc, .free = budget_free, .allocator_data = &b};
    *out = protobuf_c_message_unpack(desc, &alloc, len, buf);
    if (!*out) return b.exhausted ? -ENOBUFS : -EPROTO;
    return 0;
}

/* The heap: the message is freed later with protobuf-c's default
 * allocator (free), once the budget is gone. */
static void *heap_take(void *data, size_t size)
{
    (void)data;
    return malloc(size ? size : 1);
}

static void heap_give(void *data, void *p)
{
    (void)data;
    free(p);
}

int sbx_ipc_unpack(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                   ProtobufCMessage **out)
{
    *out = NULL;
    if (!desc || (len && !buf)) return -EINVAL;
    if (len > SBX_IPC_MAX_MESSAGE) return -EMSGSIZE;
    static const struct ipc_memory heap = {heap_take, heap_give, NULL};
    return ipc_unpack_from(desc, buf, len, &heap, out);
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
