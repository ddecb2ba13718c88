/* tests/client/fake_server.h: a scripted server for the client library's
 * tests. A thread of the test process plays `sbx serve` on the other end of
 * a socketpair (or of a listening socket): it receives the client's
 * requests through the IPC layer's own request validator, so every request
 * the library sends is also checked against the protocol, and answers with
 * responses built here from the generated protobuf-c types. Assertions stay
 * in the test's main thread: the script records what it saw and any
 * failure in `struct fake`, which the test checks after fake_join. */
#ifndef SBX_TESTS_CLIENT_FAKE_SERVER_H
#define SBX_TESTS_CLIENT_FAKE_SERVER_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "include/sbx.h"
#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/validate.h"

/* 64 lowercase hex digits, as a real module id. */
#define FAKE_MODULE_ID "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

struct fake;
typedef void (*fake_script)(struct fake *f);

struct fake {
    int fd;        /* the server's end */
    int client_fd; /* the client's end, for sbx_connect_fd */
    fake_script script;
    pthread_t thread;
    char failure[256]; /* empty unless the script found something wrong */
    /* Free for scripts to record what they saw, for the test to check. */
    uint64_t u64[8];
    int ints[8];
    char text[256];
    void *data;
};

/* Makes the pair and starts `script` on the server end, with f->data set
 * to `data` (fake_start_data) or NULL. */
void fake_start(struct fake *f, fake_script script);
void fake_start_data(struct fake *f, fake_script script, void *data);
/* For scripts: hangs up (closes the server's end). */
void fake_hang_up(struct fake *f);
/* Waits for the script to end and closes the server's end. */
void fake_join(struct fake *f);
/* fake_start + sbx_connect_fd, asserting success: the script must begin
 * with fake_handshake. */
struct sbx_client *fake_connect(struct fake *f, fake_script script);

/* Script helpers. Each records the first failure in f->failure and returns
 * false (or NULL) once anything went wrong, so scripts can stop early. */
bool fake_failed(struct fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Receives one request (validated like a real server does); its fds go to
 * fds[] (room for SBX_IPC_MAX_FDS). NULL on failure or end of stream. */
Sbx__Request *fake_recv(struct fake *f, int *fds, size_t *nfds);
/* Receives one request that must be of `kind` and carry no fds. */
Sbx__Request *fake_expect(struct fake *f, Sbx__Request__BodyCase kind);
bool fake_send(struct fake *f, Sbx__Response *r);
bool fake_send_raw(struct fake *f, const void *buf, size_t len, const int *fds, size_t nfds);
/* Answers a Hello with a Welcome (protocol 1, the protocol's limits). */
bool fake_handshake(struct fake *f);

/* Response builders (stack values; the caller owns the storage). */
bool fake_send_ack(struct fake *f, uint64_t id);
bool fake_send_error(struct fake *f, uint64_t id, Sbx__ErrorCode code, const char *message);
bool fake_send_spawned(struct fake *f, uint64_t id, uint64_t worker_id, int pid);
/* An Outcome exited{code} for worker_id, as an Event (id 0) or as the
 * answer to a Wait (id != 0). */
bool fake_send_exited(struct fake *f, uint64_t id, uint64_t worker_id, int code);

/* Open fds of this process (/proc/self/fd, less the directory's own). */
int count_fds(void);

#endif
