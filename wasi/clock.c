/* clock_res_get and clock_time_get: the four preview1 clocks map to the
 * host's CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID and
 * CLOCK_THREAD_CPUTIME_ID (the worker runs one instance per thread, so
 * the thread clock is the instance's). Times are u64 nanoseconds; the
 * precision argument of clock_time_get is a hint and is ignored. */
#include <errno.h>
#include <time.h>

#include "wasi/errno_map.h"
#include "wasi/internal.h"

int wasi_host_clock(uint32_t id)
{
    switch (id) {
    case SBX_WASI_CLOCK_REALTIME: return CLOCK_REALTIME;
    case SBX_WASI_CLOCK_MONOTONIC: return CLOCK_MONOTONIC;
    case SBX_WASI_CLOCK_PROCESS_CPUTIME: return CLOCK_PROCESS_CPUTIME_ID;
    case SBX_WASI_CLOCK_THREAD_CPUTIME: return CLOCK_THREAD_CPUTIME_ID;
    default: return -1;
    }
}

static uint64_t to_ns(const struct timespec *t)
{
    return t->tv_sec < 0 ? 0 : (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

int wasi_clock_res_get(struct wasi_call *c, const union sbx_val *a)
{
    int clk = wasi_host_clock(a[0].i32);
    if (clk < 0) return SBX_WASI_EINVAL;
    if (!gm_ok(&c->mem, a[1].i32, 8)) return SBX_WASI_EFAULT;
    struct timespec t;
    if (clock_getres(clk, &t)) return sbx_wasi_errno_from_host(errno);
    gm_put_u64(&c->mem, a[1].i32, to_ns(&t));
    return 0;
}

int wasi_clock_time_get(struct wasi_call *c, const union sbx_val *a)
{
    int clk = wasi_host_clock(a[0].i32);
    if (clk < 0) return SBX_WASI_EINVAL;
    if (!gm_ok(&c->mem, a[2].i32, 8)) return SBX_WASI_EFAULT;
    struct timespec t;
    if (clock_gettime(clk, &t)) return sbx_wasi_errno_from_host(errno);
    gm_put_u64(&c->mem, a[2].i32, to_ns(&t));
    return 0;
}
