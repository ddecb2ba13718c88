/* fuzz/fuzz_ipc.c: libFuzzer target for everything that reads an IPC
 * message from an untrusted peer: the bounded unpack, the validators of
 * every channel, and the receive path over a real socket with fds attached.
 *
 * Input: byte 0 picks the channel (bits 0-1), how many fds travel with
 * the packet (bits 2-4, up to 7: more than the protocol allows) and, for
 * the channels other than client requests, whether the socket step
 * receives into an arena as the zygote does (bit 5); the rest is the
 * packet. Besides crashes, leaks and sanitizer reports it checks:
 *   - every fd received with a refused packet is closed (the lowest free fd
 *     number is the same after the socket step as before it: a leaked fd
 *     would take that number);
 *   - a message that validates packs again to bytes that unpack and
 *     validate the same way (the validators accept only what round-trips);
 *   - a message received into an arena (a small one, so that big messages
 *     spill to the heap) is the message sbx_ipc_unpack makes of the same
 *     bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "ipc/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sv[2] = {-1, -1};
static int devnull = -1;

static uint8_t arena_packet[SBX_IPC_MAX_MESSAGE];
static _Alignas(16) uint8_t arena_mem[2048];

/* The arena's message packs to the same bytes as the plain unpack's. */
static void check_same_as_plain(const ProtobufCMessage *m, const uint8_t *pkt, size_t len)
{
    ProtobufCMessage *plain;
    if (sbx_ipc_unpack(m->descriptor, pkt, len, &plain) != 0) abort();
    size_t a = protobuf_c_message_get_packed_size(m), b = protobuf_c_message_get_packed_size(plain);
    uint8_t *x = malloc(a ? a : 1), *y = malloc(b ? b : 1);
    if (!x || !y) abort();
    if (a != b || protobuf_c_message_pack(m, x) != a || protobuf_c_message_pack(plain, y) != b ||
        memcmp(x, y, a))
        abort();
    free(x);
    free(y);
    sbx_ipc_free(plain);
}

static int probe_lowest_free(void)
{
    int fd = dup(0);
    if (fd >= 0) close(fd);
    return fd;
}

static void init_once(void)
{
    if (devnull >= 0) return;
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || sbx_ipc_pair(sv) != 0) abort();
}

static const ProtobufCMessageDescriptor *channel(unsigned which)
{
    switch (which & 3) {
    case 0: return &sbx__request__descriptor;
    case 1: return &sbx__control_request__descriptor;
    case 2: return &sbx__control_reply__descriptor;
    default: return &sbx__from_worker__descriptor;
    }
}

static int validate(const ProtobufCMessage *m, size_t nfds, struct sbx_ipc_reject *why)
{
    if (m->descriptor == &sbx__request__descriptor)
        return sbx_ipc_validate_request((const Sbx__Request *)m, nfds, why);
    if (m->descriptor == &sbx__control_request__descriptor)
        return sbx_ipc_validate_control_request((const Sbx__ControlRequest *)m, nfds, why);
    if (m->descriptor == &sbx__control_reply__descriptor)
        return sbx_ipc_validate_control_reply((const Sbx__ControlReply *)m, nfds, why);
    return sbx_ipc_validate_from_worker((const Sbx__FromWorker *)m, nfds, why);
}

/* A valid message must survive pack -> unpack -> validate. */
static void check_round_trip(const ProtobufCMessage *m, size_t nfds)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) abort();
    if (protobuf_c_message_pack(m, buf) != len) abort();
    ProtobufCMessage *again;
    struct sbx_ipc_reject why;
    /* A packet may have been within the cap while its re-encoding is not
     * (protobuf-c may encode some fields longer than the sender did). */
    if (len <= SBX_IPC_MAX_MESSAGE) {
        int rc = sbx_ipc_unpack(m->descriptor, buf, len, &again);
        if (rc == 0) {
            if (validate(again, nfds, &why) != 0) {
                /* validated once, refused after a round trip */
                fprintf(stderr, "fuzz_ipc: refused after a round trip: %s\n", why.message);
                abort();
            }
            sbx_ipc_free(again);
        } else if (rc != -ENOBUFS) {
            abort(); /* our own encoding does not unpack */
        }
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size == 0) return 0;
    const ProtobufCMessageDescriptor *desc = channel(data[0]);
    size_t nsend = (data[0] >> 2) & 7;
    const uint8_t *pkt = data + 1;
    size_t len = size - 1;
    struct sbx_ipc_reject why;

    /* 1. Bytes straight into the unpacker and the validator. */
    ProtobufCMessage *m;
    if (sbx_ipc_unpack(desc, pkt, len, &m) == 0) {
        if (validate(m, nsend, &why) == 0)
            check_round_trip(m, nsend);
        else if (why.message[0] == '\0' || why.code == 0)
            abort(); /* a refusal must say why */
        sbx_ipc_free(m);
    }
    if (desc == &sbx__request__descriptor) {
        Sbx__Request *req;
        if (sbx_ipc_decode_request(pkt, len, nsend, &req, &why) == 0) sbx_ipc_free(&req->base);
    }

    /* 2. The same packet through a socket, with fds attached. */
    int lowest_free = probe_lowest_free();
    int send_fds[7];
    for (size_t i = 0; i < nsend; i++)
        send_fds[i] = devnull;
    size_t n = nsend > SBX_IPC_MAX_FDS ? SBX_IPC_MAX_FDS : nsend;
    if (sbx_ipc_send_raw(sv[0], pkt, len, send_fds, n, 0) == 0) {
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds = 0;
        int rc;
        if (desc == &sbx__request__descriptor) {
            Sbx__Request *req;
            rc = sbx_ipc_recv_request(sv[1], &req, fds, &nfds, 0, &why);
            if (rc == 0) sbx_ipc_free(&req->base);
        } else if (data[0] & 0x20) {
            struct sbx_ipc_arena a = {
                .packet = arena_packet, .mem = arena_mem, .size = sizeof arena_mem};
            rc = sbx_ipc_recv_arena(sv[1], desc, &a, &m, fds, &nfds, SBX_IPC_MAX_FDS, 0);
            if (rc == 0) {
                check_same_as_plain(m, pkt, len);
                if (validate(m, nfds, &why) != 0) sbx_ipc_close_fds(fds, nfds);
                sbx_ipc_arena_free(&a, m);
            }
        } else {
            rc = sbx_ipc_recv(sv[1], desc, &m, fds, &nfds, SBX_IPC_MAX_FDS, 0);
            if (rc == 0) {
                if (validate(m, nfds, &why) != 0) sbx_ipc_close_fds(fds, nfds);
                sbx_ipc_free(m);
            }
        }
        if (rc == 0 && nfds != n) abort(); /* fds lost or invented */
        if (rc != 0 && nfds != 0) abort(); /* refused, yet fds handed over */
        sbx_ipc_close_fds(fds, nfds);
    }
    if (probe_lowest_free() != lowest_free) abort(); /* an fd leaked */
    return 0;
}
