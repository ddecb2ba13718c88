/* ipc/arena.c: receiving and unpacking a message without malloc, into
 * storage the caller owns (msg.h, sbx_ipc_recv_arena).
 *
 * For the zygote: after each fork, every page it writes again is a
 * copy-on-write fault (3-4 us on the development VM). Receiving with
 * malloc touched the allocator's state, a 128 KiB buffer's first and last
 * pages and the unpacked message's chunks, scattered over the heap: seven
 * or eight such pages per spawn. Into one static packet buffer and one
 * static arena, it is the two pages a message actually fills. */
#include "ipc/msg.h"
#include "ipc/limits.h"
#include "ipc/recv_internal.h"
#include "ipc/unpack_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static bool in_arena(const struct sbx_ipc_arena *a, const void *p)
{
    return (const uint8_t *)p >= a->mem && (const uint8_t *)p < a->mem + a->size;
}

/* Bump allocation; past the arena, malloc. (The budget is the unpack's:
 * ipc_unpack_from.) */
static void *arena_take(void *data, size_t size)
{
    struct sbx_ipc_arena *a = data;
    size_t at = (a->used + 15) & ~(size_t)15;
    if (at <= a->size && size <= a->size - at) {
        a->used = at + size;
        return a->mem + at;
    }
    return malloc(size ? size : 1);
}

static void arena_give(void *data, void *p)
{
    if (!in_arena(data, p)) free(p);
}

struct arena_unpack {
    const ProtobufCMessageDescriptor *desc;
    struct sbx_ipc_arena *a;
    ProtobufCMessage **out;
};

static int unpack_in_arena(const void *buf, size_t len, void *ctx)
{
    struct arena_unpack *u = ctx;
    u->a->used = 0;
    struct ipc_memory mem = {arena_take, arena_give, u->a};
    return ipc_unpack_from(u->desc, buf, len, &mem, u->out);
}

int sbx_ipc_recv_arena(int fd, const ProtobufCMessageDescriptor *desc, struct sbx_ipc_arena *a,
                       ProtobufCMessage **out, int *fds, size_t *nfds, size_t max_fds,
                       int timeout_ms)
{
    if (out) *out = NULL;
    if (nfds) *nfds = 0;
    if (!desc || !a || !a->packet || !a->mem || !out) return -EINVAL;
    struct arena_unpack u = {desc, a, out};
    return ipc_recv_into(fd, a->packet, fds, nfds, max_fds, timeout_ms, unpack_in_arena, &u);
}

void sbx_ipc_arena_free(struct sbx_ipc_arena *a, ProtobufCMessage *msg)
{
    if (!msg) return;
    ProtobufCAllocator alloc = {.alloc = arena_take, .free = arena_give, .allocator_data = a};
    protobuf_c_message_free_unpacked(msg, &alloc);
    a->used = 0;
}
