/* Shared helpers of the `sbx serve` integration tests (tests/daemon/): a
 * real daemon on a socket in a fresh temporary directory, driven from
 * outside with the wire protocol (proto/sbx.proto through ipc/), and
 * observed through /proc: fd counts, memory maps, Shmem. Every helper
 * asserts with Criterion, so a failure names what went wrong. */
#ifndef SBX_TESTS_DAEMON_HARNESS_H
#define SBX_TESTS_DAEMON_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/sbx.pb-c.h"

struct hd {
    pid_t pid;
    char dir[64];
    char sock[128];
    char log[128]; /* the daemon's stderr */
};

/* Starts `exe serve --socket DIR/sock` plus `args` (NULL-terminated, may be
 * NULL) and waits until the socket exists. `exe` NULL: SBX_EXE. */
void hd_start(struct hd *d, const char *exe, const char *const *args);
/* SIGTERM, wait, remove the directory. Returns the wait status (or -1 if
 * the daemon was not running). */
int hd_stop(struct hd *d);
/* Prints the daemon's stderr log (for failure messages). */
void hd_dump_log(const struct hd *d);

/* A connected client that has done Hello/Welcome. */
int hd_connect(const struct hd *d);
/* Sends `req` with a fresh nonzero id (returned). */
uint64_t hd_send(int fd, Sbx__Request *req, const int *fds, size_t nfds);
/* The next message (response or event), within timeout_ms; asserts. */
Sbx__Response *hd_recv(int fd, int timeout_ms);
/* The next message, or NULL if the connection ended or timed out. */
Sbx__Response *hd_try_recv(int fd, int timeout_ms);

/* Request builders: each sends one request and returns its id. */
uint64_t hd_send_load(int fd, const uint8_t *bytes, size_t len);
uint64_t hd_send_unload(int fd, const char *id);
uint64_t hd_send_spawn(int fd, const char *id, const char *export_name, const int32_t *args,
                       size_t nargs, uint32_t timeout_ms);
uint64_t hd_send_wait(int fd, uint64_t worker);
uint64_t hd_send_kill(int fd, uint64_t worker);
uint64_t hd_send_status(int fd);

/* Request and answer, in a conversation with nothing else in flight. */
void hd_load(int fd, const uint8_t *bytes, size_t len, char id[65]);
void hd_unload(int fd, const char *id);
/* Spawned: returns the worker id, *pid its pid (pid may be NULL). */
uint64_t hd_spawn(int fd, const char *id, const char *export_name, const int32_t *args,
                  size_t nargs, uint32_t timeout_ms, pid_t *pid);
/* The next pushed outcome (an Event); the caller frees the response. */
Sbx__Response *hd_outcome_event(int fd);

struct hd_status {
    uint32_t total_modules, live_workers;
    int zygote_pid;
    uint64_t spawns, refused_busy, exited, killed, internal_errors, zygote_restarts, loads, unloads;
    uint64_t zygote_rotations;
    uint32_t warm_workers; /* ready, waiting for a spawn */
    uint64_t warm_spawns;
    uint64_t warm_template_forks;
    uint64_t policy_violations;
};
void hd_status(int fd, struct hd_status *st);
/* Polls Status on a fresh connection until no worker is live and
 * `modules` modules are loaded (a generous deadline, then fails). */
void hd_wait_idle(const struct hd *d, uint32_t modules, struct hd_status *st);

/* An Error response's message, else "(not an error)" (for assertion text). */
const char *hd_error_text(const Sbx__Response *r);
/* The daemon's fd count once it is idle with nothing loaded (the Status
 * connection used to see that closed again); *zygote_pid its zygote. */
int hd_baseline_fds(const struct hd *d, int *zygote_pid);
/* /proc observations. */
int hd_count_fds(pid_t pid);
/* A line "Key: value" of /proc/PID/status as a number (PPid, Seccomp,
 * Seccomp_filters, ...), or -1 without it. */
long hd_proc_status(pid_t pid, const char *key);
/* Lines of /proc/PID/maps containing `needle`. */
int hd_count_maps(pid_t pid, const char *needle);
/* Waits (generously) until pid's fd count is at most `want`; returns the
 * last count seen. */
int hd_wait_fds(pid_t pid, int want);
/* Child processes of pid (/proc/PID/task/PID/children), waiting
 * (generously) until there are at most `want`; returns the last count. */
int hd_wait_children(pid_t pid, int want);
/* Shmem of /proc/meminfo, in KiB. */
long hd_shmem_kb(void);

/* A valid module whose memory (1 page) has a data segment holding `tag`
 * (4 bytes at 0) and a `pad`-byte run of (tag & 0xff) at 4096, exporting
 * "get" (() -> i32, the word at 0) and "spin" (an endless loop). Different
 * tags give different module ids. Caller frees. */
uint8_t *hd_module(uint32_t tag, size_t pad, size_t *len);

/* The test module of tests/cli (run.wasm: add, div, spin, ...). */
uint8_t *hd_read_file(const char *path, size_t *len);

void hd_sleep_ms(int ms);

#endif
