/* sock_send, sock_recv (peek, truncation flags), sock_shutdown on a
 * connected socket handed in by the host (fd 6, after the preopens),
 * whose peer echoes in upper case; and the errors on non-sockets. */
#include "check.h"

#define SOCK 6

int main(void)
{
    __wasi_fdstat_t st;
    E("fdstat socket", raw_fd_fdstat_get(SOCK, P(&st)));
    printf("filetype %d, can shutdown: %d\n", st.fs_filetype,
           (st.fs_rights_base & __WASI_RIGHTS_SOCK_SHUTDOWN) != 0);
    __wasi_prestat_t ps;
    E("prestat_get on the socket", raw_fd_prestat_get(SOCK, P(&ps)));
    __wasi_ciovec_t out = {(const uint8_t *)"hello, ", 7};
    __wasi_ciovec_t out2[2] = {{(const uint8_t *)"hello, ", 7}, {(const uint8_t *)"socket", 6}};
    uint32_t n;
    E("send", raw_sock_send(SOCK, P(out2), 2, 0, P(&n)));
    printf("sent %u\n", n);
    E("send with flags", raw_sock_send(SOCK, P(&out), 1, 1, P(&n)));
    char buf[64] = {0};
    __wasi_iovec_t in = {(uint8_t *)buf, 13};
    uint16_t roflags = 0xff;
    E("recv peek+waitall",
      raw_sock_recv(SOCK, P(&in), 1, __WASI_RIFLAGS_RECV_PEEK | __WASI_RIFLAGS_RECV_WAITALL, P(&n),
                    P(&roflags)));
    printf("peeked %u '%.*s' roflags %d\n", n, (int)n, buf, roflags);
    memset(buf, 0, sizeof(buf));
    E("recv", raw_sock_recv(SOCK, P(&in), 1, __WASI_RIFLAGS_RECV_WAITALL, P(&n), P(&roflags)));
    printf("received %u '%.*s'\n", n, (int)n, buf);
    E("recv bad flags", raw_sock_recv(SOCK, P(&in), 1, 4, P(&n), P(&roflags)));
    E("recv iovec past memory", raw_sock_recv(SOCK, -8, 1, 0, P(&n), P(&roflags)));
    E("shutdown bad how", raw_sock_shutdown(SOCK, 0));
    E("shutdown bad how 4", raw_sock_shutdown(SOCK, 4));
    E("accept on a connected socket", raw_sock_accept(SOCK, 0, P(&n)));
    E("accept bad flags", raw_sock_accept(SOCK, __WASI_FDFLAGS_APPEND, P(&n)));
    E("shutdown write", raw_sock_shutdown(SOCK, __WASI_SDFLAGS_WR));
    E("send after shutdown", raw_sock_send(SOCK, P(&out), 1, 0, P(&n)));
    E("recv until end of stream", raw_sock_recv(SOCK, P(&in), 1, 0, P(&n), P(&roflags)));
    printf("received %u\n", n);
    E("shutdown read+write", raw_sock_shutdown(SOCK, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR));
    /* Not sockets. */
    E("recv on stdin (a file)", raw_sock_recv(0, P(&in), 1, 0, P(&n), P(&roflags)));
    E("shutdown on a directory", raw_sock_shutdown(ROOT, __WASI_SDFLAGS_WR));
    E("accept on a closed fd", raw_sock_accept(50, 0, P(&n)));
    E("close the socket", raw_fd_close(SOCK));
    return 0;
}
