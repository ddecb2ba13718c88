/* tests/ipc/test_limits.c: the size cap on send and on receive, the unpack
 * budget against a message built to expand, and timeouts (including a recv
 * interrupted by signals, which must keep its deadline). */
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "tests/ipc/helpers.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(limits, oversized_message_refused_on_send)
{
    int sv[2];
    make_pair(sv);
    size_t big = SBX_IPC_MAX_MESSAGE + 1;
    uint8_t *bytes = calloc(1, big);
    Sbx__LoadModule l;
    sbx__load_module__init(&l);
    l.source_case = SBX__LOAD_MODULE__SOURCE_INLINE_BYTES;
    l.inline_bytes.data = bytes;
    l.inline_bytes.len = big;
    Sbx__Request r;
    sbx__request__init(&r);
    r.has_id = 1;
    r.id = 1;
    r.body_case = SBX__REQUEST__BODY_LOAD_MODULE;
    r.load_module = &l;
    cr_assert_eq(sbx_ipc_send(sv[0], &r.base, NULL, 0, 1000), -EMSGSIZE);
    cr_assert_eq(sbx_ipc_send_raw(sv[0], bytes, big, NULL, 0, 1000), -EMSGSIZE);
    /* Nothing went out. */
    ProtobufCMessage *got;
    size_t n;
    cr_assert_eq(sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, NULL, &n, 0, 0), -EAGAIN);
    free(bytes);
    close_pair(sv);
}

Test(limits, oversized_packet_refused_on_receive)
{
    int sv[2];
    make_pair(sv);
    int before = count_fds();
    /* A sender not using this library: one packet above the cap, with an fd.
     * It still fits the kernel's default send buffer (212,992 bytes). */
    size_t big = SBX_IPC_MAX_MESSAGE + 4096;
    uint8_t *bytes = calloc(1, big);
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control = {0};
    struct iovec iov = {.iov_base = bytes, .iov_len = big};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int zero = 0;
    memcpy(CMSG_DATA(c), &zero, sizeof(int));
    cr_assert_eq(sendmsg(sv[0], &mh, 0), (ssize_t)big);

    ProtobufCMessage *got;
    int fds[SBX_IPC_MAX_FDS];
    size_t n;
    cr_assert_eq(
        sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, fds, &n, SBX_IPC_MAX_FDS, 1000),
        -EMSGSIZE);
    cr_assert_eq(count_fds(), before);
    /* The packet is consumed: the stream goes on with the next one. */
    cr_assert_eq(sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, fds, &n, SBX_IPC_MAX_FDS, 0),
                 -EAGAIN);
    free(bytes);
    close_pair(sv);
}

/* 60,000 empty Values inside a Spawn: 120 KB on the wire, but ~3 MB once
 * unpacked (a pointer and a struct each). The budget refuses it. */
Test(limits, message_built_to_expand_hits_the_budget)
{
    size_t len;
    uint8_t *buf = expanding_spawn(60000, &len);
    cr_assert_leq(len, SBX_IPC_MAX_MESSAGE);
    ProtobufCMessage *got;
    cr_assert_eq(sbx_ipc_unpack(&sbx__request__descriptor, buf, len, &got), -ENOBUFS);
    cr_assert_null(got);

    /* Through a socket, the server's path says LIMIT. */
    int sv[2];
    make_pair(sv);
    cr_assert_eq(sbx_ipc_send_raw(sv[0], buf, len, NULL, 0, 1000), 0);
    Sbx__Request *req;
    int fds[SBX_IPC_MAX_FDS];
    size_t n;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_recv_request(sv[1], &req, fds, &n, 1000, &why), -ENOBUFS);
    cr_assert_eq(why.code, SBX__ERROR_CODE__LIMIT);
    close_pair(sv);

    free(buf);

    /* The same shape with 1000 values (the protocol's limit) is fine. */
    buf = expanding_spawn(1000, &len);
    cr_assert_eq(sbx_ipc_unpack(&sbx__request__descriptor, buf, len, &got), 0);
    cr_assert_eq(((Sbx__Request *)got)->spawn->n_args, 1000);
    sbx_ipc_free(got);
    free(buf);
}

Test(limits, empty_message_is_not_sent)
{
    int sv[2];
    make_pair(sv);
    Sbx__Request r;
    sbx__request__init(&r);
    cr_assert_eq(sbx_ipc_send(sv[0], &r.base, NULL, 0, 1000), -EINVAL);
    close_pair(sv);
}

Test(limits, recv_times_out_with_no_data)
{
    int sv[2];
    make_pair(sv);
    ProtobufCMessage *got;
    size_t n;
    cr_assert_eq(sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, NULL, &n, 0, 0), -EAGAIN);
    int64_t t0 = now_ms();
    cr_assert_eq(sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, NULL, &n, 0, 100),
                 -ETIMEDOUT);
    int64_t took = now_ms() - t0;
    cr_assert_geq(took, 100);
    cr_assert_lt(took, 1000);
    close_pair(sv);
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* Signals every 10 ms without SA_RESTART: recv neither fails with EINTR
 * nor restarts its full timeout each time. */
Test(limits, recv_timeout_survives_signals)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
    cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    int sv[2];
    make_pair(sv);
    ProtobufCMessage *got;
    size_t n;
    int64_t t0 = now_ms();
    cr_assert_eq(sbx_ipc_recv(sv[1], &sbx__request__descriptor, &got, NULL, &n, 0, 200),
                 -ETIMEDOUT);
    int64_t took = now_ms() - t0;
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
    cr_assert_geq(took, 200);
    cr_assert_lt(took, 1500);
    close_pair(sv);
}

/* A full peer queue: a send with a timeout gives up, one with 0 says EAGAIN. */
Test(limits, send_times_out_when_the_peer_is_full)
{
    int sv[2];
    make_pair(sv);
    static uint8_t chunk[64 * 1024];
    int rc;
    int sent = 0;
    while ((rc = sbx_ipc_send_raw(sv[0], chunk, sizeof(chunk), NULL, 0, 0)) == 0)
        sent++;
    cr_assert_eq(rc, -EAGAIN);
    cr_assert_gt(sent, 0);
    cr_assert_eq(sbx_ipc_send_raw(sv[0], chunk, sizeof(chunk), NULL, 0, 50), -ETIMEDOUT);
    close_pair(sv);
}
