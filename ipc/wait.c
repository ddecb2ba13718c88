/* ipc/wait.c: deadlines and the EINTR-safe poll behind every timeout in
 * ipc/. */
#include "ipc/wait_internal.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ipc_deadline_start(struct ipc_deadline *d, int timeout_ms)
{
    d->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
    d->end_ms = 0;
}

int ipc_wait_fd(int fd, short events, struct ipc_deadline *d)
{
    if (d->timeout_ms == 0) return -EAGAIN;
    if (d->timeout_ms > 0 && d->end_ms == 0) d->end_ms = now_ms() + d->timeout_ms;
    for (;;) {
        int wait_ms = -1;
        if (d->timeout_ms > 0) {
            int64_t left = d->end_ms - now_ms();
            if (left <= 0) return -ETIMEDOUT;
            wait_ms = (int)left;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, wait_ms);
        if (n > 0) return 0; /* ready, or POLLERR/POLLHUP: the caller's retry reports it */
        if (n == 0) return -ETIMEDOUT;
        if (errno != EINTR) return -errno;
    }
}
