/* ipc/unpack_internal.h (internal): the budgeted unpack, with memory from
 * wherever the caller keeps it: malloc (sbx_ipc_unpack) or an arena
 * (sbx_ipc_recv_arena). The budget is the same for both. */
#ifndef SBX_IPC_UNPACK_INTERNAL_H
#define SBX_IPC_UNPACK_INTERNAL_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* Where an unpacked message's blocks come from and go back to. */
struct ipc_memory {
    void *(*take)(void *data, size_t size);
    void (*give)(void *data, void *p);
    void *data;
};

/* Unpacks `len` bytes as `desc`, allocating at most SBX_IPC_UNPACK_BUDGET
 * in all from `mem`: 0, -EPROTO or -ENOBUFS. The message is freed with
 * protobuf_c_message_free_unpacked and an allocator whose free is
 * mem->give. */
int ipc_unpack_from(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                    const struct ipc_memory *mem, ProtobufCMessage **out);

#endif
