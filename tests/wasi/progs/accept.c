/* sock_accept on a listening socket handed in by the host: a client
 * connects and sends a line. The listener is guest fd 6 (wasi_run's, after
 * its preopens), or the fd given as the first argument (3 through the
 * daemon with no preopens). */
#include <stdlib.h>

#include "check.h"

int main(int argc, char **argv)
{
    const i32 listener = argc > 1 ? atoi(argv[1]) : 6;
    i32 conn = -1;
    E("accept", raw_sock_accept(listener, 0, P(&conn)));
    printf("connection is fd %d\n", conn);
    __wasi_fdstat_t st;
    raw_fd_fdstat_get(conn, P(&st));
    printf("filetype %d, can accept: %d\n", st.fs_filetype,
           (st.fs_rights_base & __WASI_RIGHTS_SOCK_ACCEPT) != 0);
    char buf[64];
    uint32_t n = 0, total = 0;
    uint16_t fl;
    while (total < 18) {
        __wasi_iovec_t in = {(uint8_t *)buf + total, sizeof(buf) - total};
        if (E("recv", raw_sock_recv(conn, P(&in), 1, 0, P(&n), P(&fl))) || !n) break;
        total += n;
    }
    printf("got '%.*s'", (int)total, buf);
    /* The flags are the new fd's; the listener itself must be non-blocking
     * for accept to return at once. */
    E("set listener NONBLOCK", raw_fd_fdstat_set_flags(listener, __WASI_FDFLAGS_NONBLOCK));
    E("accept, nobody waiting", raw_sock_accept(listener, __WASI_FDFLAGS_NONBLOCK, P(&n)));
    E("close", raw_fd_close(conn));
    return 0;
}
