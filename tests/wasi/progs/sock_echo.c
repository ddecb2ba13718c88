/* A socket handed in by the host through the daemon (guest fd 3: no
 * preopens): sends "ping", prints what comes back, then shuts its side
 * down (tests/client/test_wasi_spawn.c). */
#include "check.h"

#define SOCK 3

int main(void)
{
    __wasi_ciovec_t out = {(const uint8_t *)"ping", 4};
    uint32_t n;
    E("send", raw_sock_send(SOCK, P(&out), 1, 0, P(&n)));
    char buf[16] = {0};
    __wasi_iovec_t in = {(uint8_t *)buf, 4};
    uint16_t roflags;
    E("recv", raw_sock_recv(SOCK, P(&in), 1, __WASI_RIFLAGS_RECV_WAITALL, P(&n), P(&roflags)));
    printf("got '%.*s'\n", (int)n, buf);
    E("shutdown", raw_sock_shutdown(SOCK, __WASI_SDFLAGS_WR));
    return 0;
}
