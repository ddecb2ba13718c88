/* ipc/wait_internal.h (internal): the timeout convention of every blocking
 * call in ipc/ (-1 forever, 0 try once, N milliseconds) as a deadline on the
 * monotonic clock, and a poll that waits until it. */
#ifndef SBX_IPC_WAIT_INTERNAL_H
#define SBX_IPC_WAIT_INTERNAL_H

#include <stdint.h>

struct ipc_deadline {
    int timeout_ms; /* as given */
    int64_t end_ms; /* CLOCK_MONOTONIC, once a wait has begun (0 before) */
};

/* The clock is read only when a call first has to wait: most sends and
 * receives never do, and in a worker the clock's first read is a page
 * fault on the vDSO. So N milliseconds run from the first wait, one
 * non-blocking attempt after the call began. */
void ipc_deadline_start(struct ipc_deadline *d, int timeout_ms);

/* Waits for `events` on fd until the deadline: 0 when ready (or when poll
 * reports an error condition, which the retried call will then return),
 * -EAGAIN for a zero timeout, -ETIMEDOUT, or poll's error. EINTR restarts
 * the wait with the time left. */
int ipc_wait_fd(int fd, short events, struct ipc_deadline *d);

#endif
