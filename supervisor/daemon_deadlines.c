/* Workers' deadlines (a spawn's or call's timeout, a Wait's) on one timerfd
 * for the whole daemon, armed for the earliest.
 *
 * A timerfd per deadline cost every spawn five system calls on its request
 * path (timerfd_create, timerfd_settime, two epoll_ctl, close): about 40 us
 * on the development VM, where creating the timerfd alone took 15-20. Now
 * setting a deadline later than the armed one costs nothing; clearing one
 * costs nothing either: the timer fires for it anyway, finds nothing due and
 * is armed for the next. A firing scans every worker, which is cheap next
 * to the deadlines themselves (whole seconds apart, most cleared before). */
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "supervisor/daemon.h"

int deadlines_init(struct daemon *d)
{
    d->deadline_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->deadline_timer < 0) return -1;
    if (daemon_watch(d, d->deadline_timer, EV_DEADLINE, NULL)) {
        close(d->deadline_timer);
        d->deadline_timer = -1;
        return -1;
    }
    return 0;
}

void deadlines_stop(struct daemon *d)
{
    if (d->deadline_timer < 0) return;
    daemon_unwatch(d, d->deadline_timer);
    close(d->deadline_timer);
    d->deadline_timer = -1;
}

/* Arms the timer for at_us (CLOCK_MONOTONIC, as daemon_now_us), or
 * disarms it (0). */
static void arm(struct daemon *d, uint64_t at_us)
{
    struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at_us / 1000000u),
                                          .tv_nsec = (long)(at_us % 1000000u) * 1000}};
    d->deadline_armed_us = at_us;
    if (d->deadline_timer >= 0) timerfd_settime(d->deadline_timer, TFD_TIMER_ABSTIME, &its, NULL);
}

void deadline_set(struct daemon *d, uint64_t *slot, uint64_t at_us)
{
    *slot = at_us;
    if (at_us && (!d->deadline_armed_us || at_us < d->deadline_armed_us)) arm(d, at_us);
}

/* A due worker, by id: the handlers may end records, so each is looked up
 * again before its handler runs. */
struct due {
    uint64_t id;
    bool timeout, wait;
};

void deadlines_event(struct daemon *d)
{
    uint64_t n;
    if (read(d->deadline_timer, &n, sizeof n) != sizeof n) return;
    uint64_t now = daemon_now_us();
    size_t count = 0, cap = 0;
    struct due *due = NULL;
    for (struct worker *w = d->workers; w; w = w->next) {
        bool t = w->timeout_at_us && w->timeout_at_us <= now;
        bool wt = w->wait_at_us && w->wait_at_us <= now;
        if (!t && !wt) continue;
        if (count == cap) {
            size_t c = cap ? 2 * cap : 16;
            struct due *p = realloc(due, c * sizeof *p);
            if (!p) break; /* the rest stay due: the timer is armed for them below */
            due = p, cap = c;
        }
        due[count++] = (struct due){w->id, t, wt};
        if (t) w->timeout_at_us = 0;
        if (wt) w->wait_at_us = 0;
    }
    for (size_t i = 0; i < count; i++) {
        struct worker *w = find_worker(d, due[i].id);
        if (w && due[i].timeout) worker_timeout(d, w);
        w = find_worker(d, due[i].id);
        if (w && due[i].wait) worker_wait_timeout(d, w);
    }
    free(due);
    uint64_t next = 0;
    for (struct worker *w = d->workers; w; w = w->next) {
        if (w->timeout_at_us && (!next || w->timeout_at_us < next)) next = w->timeout_at_us;
        if (w->wait_at_us && (!next || w->wait_at_us < next)) next = w->wait_at_us;
    }
    arm(d, next);
}
