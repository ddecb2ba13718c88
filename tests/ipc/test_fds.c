/* tests/ipc/test_fds.c: fd passing by SCM_RIGHTS: fds arrive usable and
 * close-on-exec; too many fds, garbage, truncated packets and fds the
 * message does not account for are refused, and no path leaks an fd (the
 * count of /proc/self/fd is back where it started). */
#include <fcntl.h>
#include <sys/socket.h>

#include "tests/ipc/helpers.h"

/* A Status request: small, valid, refers to no fd. */
static Sbx__Request status_request(Sbx__Status *s)
{
    Sbx__Request r;
    sbx__request__init(&r);
    sbx__status__init(s);
    r.has_id = 1;
    r.id = 1;
    r.body_case = SBX__REQUEST__BODY_STATUS;
    r.status = s;
    return r;
}

Test(fds, three_pipes_arrive_and_carry_data)
{
    int sv[2], p[3][2];
    make_pair(sv);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pipe2(p[i], O_CLOEXEC), 0);
    int before = count_fds();
    Sbx__Request *r = new_spawn(3);
    int send_fds[3] = {p[0][1], p[1][1], p[2][1]}; /* write ends travel */
    cr_assert_eq(sbx_ipc_send(sv[0], &r->base, send_fds, 3, 1000), 0);
    free_spawn(r);

    Sbx__Request *got;
    int fds[SBX_IPC_MAX_FDS];
    size_t n;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_recv_request(sv[1], &got, fds, &n, 1000, &why), 0, "%s", why.message);
    cr_assert_eq(n, 3);
    cr_assert_eq(count_fds(), before + 3);
    for (int i = 0; i < 3; i++) {
        cr_assert(fcntl(fds[i], F_GETFD) & FD_CLOEXEC, "fd %d not close-on-exec", i);
        char msg[16], back[16] = {0};
        int len = snprintf(msg, sizeof(msg), "stream %d", i);
        /* The message says which stream each fd is: write through it. */
        uint32_t idx = got->spawn->stdio[i]->fd_index;
        cr_assert_eq(write(fds[idx], msg, (size_t)len), len);
        cr_assert_eq(read(p[i][0], back, sizeof(back)), len);
        cr_assert_str_eq(back, msg);
    }
    sbx_ipc_close_fds(fds, n);
    sbx_ipc_free(&got->base);
    cr_assert_eq(count_fds(), before);
    for (int i = 0; i < 3; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    close_pair(sv);
}

Test(fds, more_than_the_caller_allows_are_closed)
{
    int sv[2];
    make_pair(sv);
    Sbx__Status st;
    Sbx__Request r = status_request(&st);
    int before = count_fds();
    int fds4[4] = {0, 0, 1, 2};
    cr_assert_eq(sbx_ipc_send(sv[0], &r.base, fds4, 4, 1000), 0);
    ProtobufCMessage *got;
    int fds[2] = {-1, -1};
    size_t n = 99;
    cr_assert_eq(sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, fds, &n, 2, 1000),
                 -ETOOMANYREFS);
    cr_assert_null(got);
    cr_assert_eq(n, 0);
    cr_assert_eq(count_fds(), before);
    close_pair(sv);
}

/* A sender not using this library can attach more than SBX_IPC_MAX_FDS. */
Test(fds, more_than_the_protocol_allows_are_closed)
{
    int sv[2];
    make_pair(sv);
    int before = count_fds();
    int many[SBX_IPC_MAX_FDS + 12];
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
        many[i] = (int)(i % 3);
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(many))];
    } control = {0};
    uint8_t byte = 0x08; /* truncated varint: garbage as well */
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(many));
    memcpy(CMSG_DATA(c), many, sizeof(many));
    cr_assert_eq(sendmsg(sv[0], &mh, 0), 1);

    ProtobufCMessage *got;
    int fds[SBX_IPC_MAX_FDS];
    size_t n;
    cr_assert_eq(
        sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, fds, &n, SBX_IPC_MAX_FDS, 1000),
        -ETOOMANYREFS);
    cr_assert_eq(count_fds(), before);
    close_pair(sv);
}

Test(fds, garbage_with_fds_leaks_nothing)
{
    int sv[2];
    make_pair(sv);
    int before = count_fds();
    /* Field 2 declared as a 100-byte message, then nothing: not a Request. */
    const uint8_t garbage[][6] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, /* an endless varint tag */
        {0x12, 0x64, 0x00, 0x00, 0x00, 0x00}, /* length past the end */
        {0x0f, 0x00, 0x00, 0x00, 0x00, 0x00}, /* wire type 7 */
    };
    int fds2[2] = {0, 1};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        cr_assert_eq(sbx_ipc_send_raw(sv[0], garbage[i], sizeof(garbage[i]), fds2, 2, 1000), 0);
        ProtobufCMessage *got;
        int fds[SBX_IPC_MAX_FDS];
        size_t n;
        cr_assert_eq(
            sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, fds, &n, SBX_IPC_MAX_FDS, 1000),
            -EPROTO, "garbage %zu", i);
        cr_assert_eq(n, 0);
        cr_assert_eq(count_fds(), before, "garbage %zu leaked", i);
    }
    close_pair(sv);
}

Test(fds, truncated_packet_is_refused)
{
    int sv[2];
    make_pair(sv);
    Sbx__Request *r = new_spawn(1);
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&r->base, buf);
    free_spawn(r);
    int before = count_fds();
    /* The stdio submessage is last: cutting its last byte breaks a length. */
    int one = 0;
    cr_assert_eq(sbx_ipc_send_raw(sv[0], buf, len - 1, &one, 1, 1000), 0);
    Sbx__Request *got;
    int fds[SBX_IPC_MAX_FDS];
    size_t n;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_recv_request(sv[1], &got, fds, &n, 1000, &why), -EPROTO);
    cr_assert_eq(why.code, SBX__ERROR_CODE__BAD_REQUEST);
    cr_assert_str_eq(why.message, "malformed message");
    cr_assert_eq(count_fds(), before);
    free(buf);
    close_pair(sv);
}

/* The message must account for exactly the fds that came with it. */
Test(fds, fds_not_matching_the_message_are_closed)
{
    int sv[2];
    make_pair(sv);
    int before = count_fds();
    struct sbx_ipc_reject why;
    Sbx__Request *got;
    int fds[SBX_IPC_MAX_FDS];
    size_t n;

    /* Two fds, the message refers to one. */
    Sbx__Request *r = new_spawn(1);
    int two[2] = {0, 1};
    cr_assert_eq(sbx_ipc_send(sv[0], &r->base, two, 2, 1000), 0);
    cr_assert_eq(sbx_ipc_recv_request(sv[1], &got, fds, &n, 1000, &why), -EBADMSG);
    cr_assert_eq(why.code, SBX__ERROR_CODE__BAD_REQUEST);
    cr_assert_eq(why.request_id, 42);
    cr_assert_eq(n, 0);
    cr_assert_eq(count_fds(), before);

    /* One fd, the message refers to index 1. */
    r->spawn->stdio[0]->fd_index = 1;
    cr_assert_eq(sbx_ipc_send(sv[0], &r->base, two, 1, 1000), 0);
    cr_assert_eq(sbx_ipc_recv_request(sv[1], &got, fds, &n, 1000, &why), -EBADMSG);
    cr_assert(strstr(why.message, "spawn.stdio[0].fd_index"), "%s", why.message);
    cr_assert_eq(count_fds(), before);
    free_spawn(r);

    /* Two streams, the same fd index. */
    r = new_spawn(2);
    r->spawn->stdio[1]->fd_index = 0;
    cr_assert_eq(sbx_ipc_send(sv[0], &r->base, two, 2, 1000), 0);
    cr_assert_eq(sbx_ipc_recv_request(sv[1], &got, fds, &n, 1000, &why), -EBADMSG);
    cr_assert(strstr(why.message, "already used"), "%s", why.message);
    cr_assert_eq(count_fds(), before);
    free_spawn(r);

    /* A request that takes no fds at all, with one. */
    Sbx__Status st;
    Sbx__Request s = status_request(&st);
    cr_assert_eq(sbx_ipc_send(sv[0], &s.base, two, 1, 1000), 0);
    cr_assert_eq(sbx_ipc_recv_request(sv[1], &got, fds, &n, 1000, &why), -EBADMSG);
    cr_assert_eq(count_fds(), before);
    close_pair(sv);
}

Test(fds, peer_closed_is_epipe)
{
    int sv[2];
    make_pair(sv);
    close(sv[0]);
    ProtobufCMessage *got;
    size_t n;
    cr_assert_eq(sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, NULL, &n, 0, 1000), -EPIPE);
    Sbx__Status st;
    Sbx__Request r = status_request(&st);
    cr_assert_eq(sbx_ipc_send(sv[1], &r.base, NULL, 0, 1000), -EPIPE);
    close(sv[1]);
}
