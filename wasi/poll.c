/* poll_oneoff: waits until at least one subscription fires, with one
 * ppoll() over the fds of the fd_read/fd_write subscriptions and a timeout
 * equal to the nearest clock deadline. Clock subscriptions may be relative
 * or absolute (SUBSCRIPTION_CLOCK_ABSTIME) on the realtime or monotonic
 * clock; each wait recomputes the time left on the subscription's own
 * clock, so a realtime deadline follows changes of the wall clock between
 * wake-ups. CPU-time clocks cannot be waited on: their subscriptions fire
 * at once with ENOTSUP. Every subscription that is ready when the wait
 * ends gets an event (so several events can come back at once).
 *
 * Subscriptions on fds that do not exist or lack POLL_FD_READWRITE fire at
 * once with EBADF / ENOTCAPABLE. Regular files are always ready (poll(2)
 * says so); their fd_read event reports the bytes left before end of file,
 * and streams report what FIONREAD says. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "wasi/errno_map.h"
#include "wasi/internal.h"

#define SUB_SIZE   48
#define EVENT_SIZE 32
/* Most subscriptions per call (EINVAL beyond): bounds the host memory a
 * call can make the host allocate. */
#define MAX_SUBS 65536

struct sub {
    uint64_t userdata;
    uint8_t type;
    uint16_t error; /* fires at once with this error */
    /* clocks */
    int clock;         /* host clock id */
    uint64_t deadline; /* absolute, ns, on `clock` */
    /* fds */
    int pollidx; /* index into the pollfd array, or -1 */
    int host;
    bool regular;
    bool fired;
};

static uint64_t now_ns(int clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void put_event(const struct guest_mem *m, uint32_t out, uint32_t i, const struct sub *s,
                      uint16_t error, uint64_t nbytes, uint16_t flags)
{
    uint32_t p = out + i * EVENT_SIZE;
    memset(gm_at(m, p), 0, EVENT_SIZE);
    gm_put_u64(m, p, s->userdata);
    gm_put_u16(m, p + 8, error);
    gm_put_u8(m, p + 10, s->type);
    if (s->type != SBX_WASI_EVENT_CLOCK) {
        gm_put_u64(m, p + 16, nbytes);
        gm_put_u16(m, p + 24, flags);
    }
}

/* Bytes readable now on an fd that poll said is ready. */
static uint64_t readable(const struct sub *s)
{
    if (s->regular) {
        struct stat st;
        off_t pos = lseek(s->host, 0, SEEK_CUR);
        if (pos < 0 || syscall(SYS_fstat, s->host, &st)) return 0;
        return st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
    }
    int n = 0;
    if (ioctl(s->host, FIONREAD, &n) || n < 0) return 0;
    return (uint64_t)n;
}

/* Reads subscription i and classifies it. */
static uint16_t read_sub(struct wasi_call *c, uint32_t in, uint32_t i, struct sub *s,
                         struct pollfd *pfds, int *npfds)
{
    const struct guest_mem *m = &c->mem;
    uint32_t p = in + i * SUB_SIZE;
    memset(s, 0, sizeof(*s));
    s->pollidx = -1;
    s->host = -1;
    s->userdata = gm_load_u64(m, p);
    s->type = m->base[p + 8];
    switch (s->type) {
    case SBX_WASI_EVENT_CLOCK: {
        uint32_t id = gm_load_u32(m, p + 16);
        uint64_t timeout = gm_load_u64(m, p + 24);
        uint16_t flags;
        memcpy(&flags, m->base + p + 40, 2);
        int clk = wasi_host_clock(id);
        if (clk < 0) return SBX_WASI_EINVAL;
        if (flags & ~SBX_WASI_SUBCLOCK_ABSTIME) return SBX_WASI_EINVAL;
        if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC) {
            s->error = SBX_WASI_ENOTSUP;
            return 0;
        }
        s->clock = clk;
        if (flags & SBX_WASI_SUBCLOCK_ABSTIME) {
            s->deadline = timeout;
        } else {
            uint64_t now = now_ns(clk);
            s->deadline = timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
        }
        return 0;
    }
    case SBX_WASI_EVENT_FD_READ:
    case SBX_WASI_EVENT_FD_WRITE: {
        struct wasi_fd *f;
        s->error = wasi_fd_get(c->w, gm_load_u32(m, p + 16), SBX_WASI_RIGHT_POLL_FD_READWRITE, &f);
        if (s->error) return 0;
        s->host = f->host;
        s->regular = f->filetype == SBX_WASI_FILETYPE_REGULAR_FILE;
        s->pollidx = *npfds;
        pfds[*npfds].fd = f->host;
        pfds[*npfds].events = s->type == SBX_WASI_EVENT_FD_READ ? POLLIN : POLLOUT;
        pfds[*npfds].revents = 0;
        (*npfds)++;
        return 0;
    }
    default: return SBX_WASI_EINVAL;
    }
}

int wasi_poll_oneoff(struct wasi_call *c, const union sbx_val *a)
{
    uint32_t in = a[0].i32, out = a[1].i32, nsubs = a[2].i32, nevents_ptr = a[3].i32;
    const struct guest_mem *m = &c->mem;
    if (nsubs == 0 || nsubs > MAX_SUBS) return SBX_WASI_EINVAL;
    if (!gm_ok(m, in, (uint64_t)nsubs * SUB_SIZE) || !gm_ok(m, out, (uint64_t)nsubs * EVENT_SIZE) ||
        !gm_ok(m, nevents_ptr, 4))
        return SBX_WASI_EFAULT;
    struct sub *subs = calloc(nsubs, sizeof(*subs));
    struct pollfd *pfds = calloc(nsubs, sizeof(*pfds));
    uint16_t e = (subs && pfds) ? 0 : SBX_WASI_ENOMEM;
    int npfds = 0;
    bool immediate = false;
    /* The input is read in full before any event is written: the two
     * arrays may overlap. */
    for (uint32_t i = 0; !e && i < nsubs; i++) {
        e = read_sub(c, in, i, &subs[i], pfds, &npfds);
        if (subs[i].error || subs[i].regular) immediate = true;
    }
    uint32_t nev = 0;
    while (!e && nev == 0) {
        /* Time left to the nearest deadline, each on its own clock. */
        bool have_clock = false;
        uint64_t left = UINT64_MAX;
        for (uint32_t i = 0; i < nsubs; i++) {
            struct sub *s = &subs[i];
            if (s->type != SBX_WASI_EVENT_CLOCK || s->error) continue;
            uint64_t now = now_ns(s->clock);
            uint64_t l = s->deadline > now ? s->deadline - now : 0;
            if (l == 0) s->fired = true;
            if (l < left) left = l;
            have_clock = true;
        }
        struct timespec ts, *tsp = NULL;
        if (immediate || (have_clock && left == 0)) {
            ts = (struct timespec){0, 0};
            tsp = &ts;
        } else if (have_clock) {
            uint64_t sec = left / 1000000000u;
            if (sec > (uint64_t)INT32_MAX) sec = INT32_MAX;
            ts = (struct timespec){.tv_sec = (time_t)sec, .tv_nsec = (long)(left % 1000000000u)};
            tsp = &ts;
        }
        int r = ppoll(pfds, (nfds_t)npfds, tsp, NULL);
        if (r < 0) {
            if (errno == EINTR) continue;
            e = sbx_wasi_errno_from_host(errno);
            break;
        }
        for (uint32_t i = 0; i < nsubs; i++) {
            struct sub *s = &subs[i];
            if (s->error) {
                put_event(m, out, nev++, s, s->error, 0, 0);
                continue;
            }
            if (s->type == SBX_WASI_EVENT_CLOCK) {
                if (!s->fired && now_ns(s->clock) >= s->deadline) s->fired = true;
                if (s->fired) put_event(m, out, nev++, s, 0, 0, 0);
                continue;
            }
            short rev = pfds[s->pollidx].revents;
            if (!rev) continue;
            uint16_t err = 0, flags = 0;
            uint64_t nbytes = 0;
            if (rev & POLLNVAL)
                err = SBX_WASI_EBADF;
            else if ((rev & POLLERR) && !(rev & (POLLIN | POLLOUT)))
                err = SBX_WASI_EIO;
            if (rev & POLLHUP) flags |= SBX_WASI_EVENTRW_HANGUP;
            if (!err && s->type == SBX_WASI_EVENT_FD_READ) nbytes = readable(s);
            put_event(m, out, nev++, s, err, nbytes, flags);
        }
        immediate = false;
    }
    if (!e) gm_put_u32(m, nevents_ptr, nev);
    free(subs);
    free(pfds);
    return e;
}
