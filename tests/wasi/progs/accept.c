/* sock_accept on a listening socket handed in by the host (fd 6): a
 * client connects and sends a line. */
#include "check.h"

#define LISTENER 6

int main(void)
{
    i32 conn = -1;
    E("accept", raw_sock_accept(LISTENER, 0, P(&conn)));
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
    E("set listener NONBLOCK", raw_fd_fdstat_set_flags(LISTENER, __WASI_FDFLAGS_NONBLOCK));
    E("accept, nobody waiting", raw_sock_accept(LISTENER, __WASI_FDFLAGS_NONBLOCK, P(&n)));
    E("close", raw_fd_close(conn));
    return 0;
}
