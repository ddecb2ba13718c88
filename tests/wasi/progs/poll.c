/* poll_oneoff: relative and absolute clocks on both clocks, fd_read on
 * stdin (a regular file here) and fd_write on stdout, several events at
 * once, bad fds, CPU clocks, bad arguments. */
#include "check.h"

static uint64_t mono(void)
{
    uint64_t t;
    raw_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, P(&t));
    return t;
}

static __wasi_subscription_t clock_sub(uint64_t ud, i32 id, uint64_t timeout, uint16_t flags)
{
    __wasi_subscription_t s;
    memset(&s, 0, sizeof(s));
    s.userdata = ud;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = (uint32_t)id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.flags = flags;
    return s;
}

static __wasi_subscription_t fd_sub(uint64_t ud, uint8_t type, i32 fd)
{
    __wasi_subscription_t s;
    memset(&s, 0, sizeof(s));
    s.userdata = ud;
    s.u.tag = type;
    s.u.u.fd_read.file_descriptor = (uint32_t)fd;
    return s;
}

static void show(const char *label, i32 e, __wasi_event_t *ev, uint32_t n)
{
    printf("%s -> %s, %u event(s)\n", label, ename(e), e ? 0 : n);
    for (uint32_t i = 0; !e && i < n; i++) {
        printf("  userdata %llu type %d error %s", (unsigned long long)ev[i].userdata, ev[i].type,
               ename(ev[i].error));
        if (ev[i].type != __WASI_EVENTTYPE_CLOCK)
            printf(" nbytes %llu flags %d", (unsigned long long)ev[i].fd_readwrite.nbytes,
                   ev[i].fd_readwrite.flags);
        printf("\n");
    }
}

int main(void)
{
    __wasi_subscription_t in[8];
    __wasi_event_t out[8];
    uint32_t n;
    uint64_t t0 = mono();
    in[0] = clock_sub(1, __WASI_CLOCKID_MONOTONIC, 30000000, 0);
    show("sleep 30ms (relative, monotonic)", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);
    uint64_t slept = mono() - t0;
    Y("  slept at least 30ms and less than 2s", slept >= 30000000 && slept < 2000000000ull);

    t0 = mono();
    in[0] = clock_sub(2, __WASI_CLOCKID_MONOTONIC, t0 + 20000000,
                      __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    show("sleep until now+20ms (absolute, monotonic)", raw_poll_oneoff(P(in), P(out), 1, P(&n)),
         out, n);
    Y("  reached the deadline", mono() >= t0 + 20000000);

    uint64_t rt;
    raw_clock_time_get(__WASI_CLOCKID_REALTIME, 0, P(&rt));
    t0 = mono();
    in[0] = clock_sub(3, __WASI_CLOCKID_REALTIME, rt + 20000000,
                      __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    show("sleep until realtime+20ms (absolute)", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);
    Y("  waited about 20ms", mono() - t0 >= 15000000);

    in[0] = clock_sub(4, __WASI_CLOCKID_REALTIME, 10000000, 0);
    show("sleep 10ms (relative, realtime)", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);

    in[0] = clock_sub(5, __WASI_CLOCKID_MONOTONIC, 1000,
                      __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    show("absolute deadline in the past", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);

    /* The earlier of two clocks fires alone. */
    in[0] = clock_sub(6, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
    in[1] = clock_sub(7, __WASI_CLOCKID_MONOTONIC, 10000000, 0);
    t0 = mono();
    show("5s and 10ms clocks", raw_poll_oneoff(P(in), P(out), 2, P(&n)), out, n);
    Y("  returned well before 5s", mono() - t0 < 2000000000ull);

    /* Ready fds: stdin is a 18-byte file, stdout is writable. */
    in[0] = fd_sub(10, __WASI_EVENTTYPE_FD_READ, 0);
    in[1] = fd_sub(11, __WASI_EVENTTYPE_FD_WRITE, 1);
    in[2] = clock_sub(12, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
    show("stdin read + stdout write + 5s clock", raw_poll_oneoff(P(in), P(out), 3, P(&n)), out, n);

    char buf[5];
    uint32_t got;
    read_buf(0, buf, 5, &got);
    in[0] = fd_sub(13, __WASI_EVENTTYPE_FD_READ, 0);
    show("stdin after reading 5 bytes", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);

    in[0] = fd_sub(20, __WASI_EVENTTYPE_FD_READ, 42);
    in[1] = clock_sub(21, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
    show("closed fd 42", raw_poll_oneoff(P(in), P(out), 2, P(&n)), out, n);

    in[0] = fd_sub(22, __WASI_EVENTTYPE_FD_READ, ROOT);
    show("a directory (no POLL_FD_READWRITE right)", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out,
         n);

    in[0] = clock_sub(23, __WASI_CLOCKID_PROCESS_CPUTIME_ID, 1000, 0);
    show("process CPU clock", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);

    in[0] = clock_sub(24, 9, 1000, 0);
    show("unknown clock", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);
    in[0] = clock_sub(25, __WASI_CLOCKID_MONOTONIC, 1000, 2);
    show("unknown clock flag", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);
    in[0] = fd_sub(26, 3, 0);
    show("unknown event type", raw_poll_oneoff(P(in), P(out), 1, P(&n)), out, n);
    show("no subscriptions", raw_poll_oneoff(P(in), P(out), 0, P(&n)), out, n);
    i32 top = (i32)(__builtin_wasm_memory_size(0) * 65536);
    in[0] = clock_sub(27, __WASI_CLOCKID_MONOTONIC, 0, 0);
    show("subscriptions past memory", raw_poll_oneoff(top - 40, P(out), 1, P(&n)), out, n);
    show("events past memory", raw_poll_oneoff(P(in), top - 16, 1, P(&n)), out, n);
    show("nevents past memory", raw_poll_oneoff(P(in), P(out), 1, top - 1), out, n);
    /* Input and output may overlap: all subscriptions are read first. */
    in[0] = clock_sub(30, __WASI_CLOCKID_MONOTONIC, 0, 0);
    in[1] = clock_sub(31, __WASI_CLOCKID_MONOTONIC, 0, 0);
    show("events written over the subscriptions", raw_poll_oneoff(P(in), P(in), 2, P(&n)),
         (__wasi_event_t *)in, n);
    return 0;
}
