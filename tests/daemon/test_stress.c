/* Stress tests of `sbx serve` (issue 5): 1,000 spawns in a row, 100
 * concurrent spawns (pipelined on one connection, and over ten
 * connections) with --max-workers accounting, and clients that hang up in
 * the middle of a Spawn, LoadModule or Wait. Each test has its own daemon;
 * afterwards no worker is live, no module is loaded, and the daemon's and
 * the zygote's fd counts are back at their baselines. */
#include <criterion/criterion.h>
#include <nettle/sha2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "tests/daemon/daemon_harness.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(stress, .fini = stop, .timeout = 300);

/* The fd counts of the daemon and its zygote with nothing loaded and no
 * client connected (a first client has come and gone, so anything opened
 * lazily is counted). */
static void baselines(int *daemon_fds, int *zygote_fds, int *zygote_pid)
{
    *daemon_fds = hd_baseline_fds(&D, zygote_pid);
    *zygote_fds = hd_count_fds(*zygote_pid);
}

/* After a test: idle, nothing loaded, same zygote, fds at their baselines,
 * no worker process left, no module mapped in the zygote. */
static void check_clean(int daemon_fds, int zygote_fds, int zygote_pid)
{
    struct hd_status st;
    hd_wait_idle(&D, 0, &st);
    cr_assert_eq(st.zygote_pid, zygote_pid, "the zygote was restarted");
    int n = hd_wait_fds(D.pid, daemon_fds);
    cr_assert_eq(n, daemon_fds, "daemon fds: %d, baseline %d", n, daemon_fds);
    n = hd_wait_fds(zygote_pid, zygote_fds);
    cr_assert_eq(n, zygote_fds, "zygote fds: %d, baseline %d", n, zygote_fds);
    n = hd_wait_children(zygote_pid, 0);
    cr_assert_eq(n, 0, "the zygote still has %d children (workers)", n);
    cr_assert_eq(hd_count_maps(zygote_pid, "memfd:sbx-"), 0, "the zygote still maps a module");
}

Test(stress, a_thousand_spawns_in_a_row)
{
    hd_start(&D, NULL, NULL);
    int dfds, zfds, zpid;
    baselines(&dfds, &zfds, &zpid);
    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    int fd = hd_connect(&D);
    char id[65];
    hd_load(fd, wasm, len, id);
    for (int i = 0; i < 1000; i++) {
        int32_t args[] = {i, 1000};
        uint64_t w = hd_spawn(fd, id, "add", args, 2, 0, NULL);
        Sbx__Response *r = hd_outcome_event(fd);
        const Sbx__Outcome *o = r->event->outcome;
        cr_assert_eq(o->worker_id, w);
        cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_EXITED, "spawn %d: outcome %d", i,
                     o->kind_case);
        cr_assert_eq(o->n_results, 1);
        cr_assert_eq(o->results[0]->i32, i + 1000);
        sbx_ipc_free(&r->base);
    }
    struct hd_status st;
    hd_status(fd, &st);
    cr_assert_eq(st.spawns, 1000);
    cr_assert_eq(st.exited, 1000);
    cr_assert_eq(st.live_workers, 0);
    hd_unload(fd, id);
    close(fd);
    free(wasm);
    check_clean(dfds, zfds, zpid);
}

/* 100 Spawns of an endless loop sent back to back on one connection, with
 * --max-workers 50: no worker can end meanwhile, so exactly 50 are spawned
 * and exactly 50 refused with BUSY; each request gets exactly one answer,
 * and each spawned worker exactly one (killed) outcome. */
Test(stress, a_hundred_pipelined_spawns_and_busy)
{
    const char *args[] = {"--max-workers", "50", NULL};
    hd_start(&D, NULL, args);
    int dfds, zfds, zpid;
    baselines(&dfds, &zfds, &zpid);
    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    int fd = hd_connect(&D);
    char id[65];
    hd_load(fd, wasm, len, id);
    free(wasm);

    enum { N = 100 };
    uint64_t req[N];
    int answers[N] = {0};
    uint64_t workers[N];
    size_t nworkers = 0, busy = 0;
    for (int i = 0; i < N; i++)
        req[i] = hd_send_spawn(fd, id, "spin", NULL, 0, 0);
    for (int got = 0; got < N; got++) {
        Sbx__Response *r = hd_recv(fd, 30000);
        int i = (int)(r->id - req[0]);
        cr_assert(i >= 0 && i < N && r->id == req[i], "an answer to request %llu",
                  (unsigned long long)r->id);
        cr_assert_eq(answers[i]++, 0, "request %d answered twice", i);
        if (r->body_case == SBX__RESPONSE__BODY_SPAWNED) {
            workers[nworkers++] = r->spawned->worker_id;
        } else {
            cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR, "body %d", r->body_case);
            cr_assert_eq(r->error->code, SBX__ERROR_CODE__BUSY, "error %d: %s", r->error->code,
                         hd_error_text(r));
            busy++;
        }
        sbx_ipc_free(&r->base);
    }
    cr_assert_eq(nworkers, 50);
    cr_assert_eq(busy, 50);
    struct hd_status st;
    hd_status(fd, &st);
    cr_assert_eq(st.live_workers, 50);
    cr_assert_eq(st.refused_busy, 50);
    cr_assert_eq(st.spawns, 50);

    /* Kill each: one Ack and one killed outcome per worker. */
    uint64_t kills[N];
    for (size_t i = 0; i < nworkers; i++)
        kills[i] = hd_send_kill(fd, workers[i]);
    int acks = 0, outcomes[N] = {0};
    for (size_t got = 0; got < 2 * nworkers; got++) {
        Sbx__Response *r = hd_recv(fd, 30000);
        if (r->body_case == SBX__RESPONSE__BODY_ACK) {
            cr_assert(r->id >= kills[0] && r->id <= kills[nworkers - 1]);
            acks++;
        } else {
            cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_EVENT, "body %d (%s)", r->body_case,
                         hd_error_text(r));
            const Sbx__Outcome *o = r->event->outcome;
            size_t k = 0;
            while (k < nworkers && workers[k] != o->worker_id)
                k++;
            cr_assert_lt(k, nworkers, "an outcome for worker %llu, not ours",
                         (unsigned long long)o->worker_id);
            cr_assert_eq(outcomes[k]++, 0, "two outcomes for worker %llu",
                         (unsigned long long)o->worker_id);
            cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_KILLED);
            cr_assert(o->killed->by_request);
        }
        sbx_ipc_free(&r->base);
    }
    cr_assert_eq(acks, 50);
    hd_status(fd, &st);
    cr_assert_eq(st.live_workers, 0);
    cr_assert_eq(st.killed, 50);
    /* Nothing more is pending on the connection. */
    Sbx__Response *extra = hd_try_recv(fd, 100);
    cr_assert_null(extra, "an extra message, body %d", extra ? (int)extra->body_case : 0);
    close(fd);
    check_clean(dfds, zfds, zpid);
}

/* 100 spawns at once from ten connections, ten pipelined on each, with
 * --max-workers 32: each Spawn is answered exactly once, Spawned (then
 * exactly one outcome with the right result) or BUSY; BUSY ones are sent
 * again until all 100 have run. */
Test(stress, a_hundred_concurrent_spawns_over_ten_connections)
{
    const char *args[] = {"--max-workers", "32", NULL};
    hd_start(&D, NULL, args);
    int dfds, zfds, zpid;
    baselines(&dfds, &zfds, &zpid);
    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    enum { C = 10, PER = 10, N = C * PER };
    int fds[C];
    char id[65];
    for (int c = 0; c < C; c++) {
        fds[c] = hd_connect(&D);
        hd_load(fds[c], wasm, len, id); /* the same bytes: one module, ten references */
    }
    free(wasm);

    bool done[N] = {false};
    uint64_t req[N];    /* the Spawn in flight for job j, or 0 */
    uint64_t worker[N]; /* its worker, once spawned, or 0 */
    int ndone = 0, rounds = 0, busy_total = 0;
    while (ndone < N) {
        cr_assert_lt(rounds++, 10000, "spawns still refused after 10000 rounds");
        int inflight = 0;
        for (int j = 0; j < N; j++) {
            if (done[j]) continue;
            int32_t a[] = {j, 7};
            req[j] = hd_send_spawn(fds[j / PER], id, "add", a, 2, 0);
            worker[j] = 0;
            inflight++;
        }
        /* Every job of this round ends as done or BUSY. */
        while (inflight) {
            struct pollfd p[C];
            for (int c = 0; c < C; c++)
                p[c] = (struct pollfd){.fd = fds[c], .events = POLLIN};
            int n = poll(p, C, 30000);
            cr_assert_gt(n, 0, "no answer within 30 s (%d jobs in flight)", inflight);
            for (int c = 0; c < C; c++) {
                if (!p[c].revents) continue;
                Sbx__Response *r = hd_recv(fds[c], 1000);
                int j = -1;
                if (r->body_case == SBX__RESPONSE__BODY_EVENT) {
                    const Sbx__Outcome *o = r->event->outcome;
                    for (int k = c * PER; k < (c + 1) * PER; k++)
                        if (worker[k] && worker[k] == o->worker_id) j = k;
                    cr_assert_geq(j, 0, "an outcome for worker %llu, not this connection's",
                                  (unsigned long long)o->worker_id);
                    cr_assert(!done[j], "two outcomes for job %d", j);
                    cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_EXITED);
                    cr_assert_eq(o->results[0]->i32, j + 7);
                    done[j] = true;
                    ndone++;
                    inflight--;
                } else {
                    for (int k = c * PER; k < (c + 1) * PER; k++)
                        if (!done[k] && req[k] == r->id) j = k;
                    cr_assert_geq(j, 0, "an answer to request %llu, not in flight here",
                                  (unsigned long long)r->id);
                    req[j] = 0; /* answered: no second answer may match */
                    if (r->body_case == SBX__RESPONSE__BODY_SPAWNED) {
                        worker[j] = r->spawned->worker_id;
                    } else {
                        cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
                        cr_assert_eq(r->error->code, SBX__ERROR_CODE__BUSY, "%s", hd_error_text(r));
                        busy_total++;
                        inflight--;
                    }
                }
                sbx_ipc_free(&r->base);
            }
        }
        if (ndone < N) hd_sleep_ms(1);
    }
    struct hd_status st;
    hd_status(fds[0], &st);
    cr_assert_eq(st.spawns, N);
    cr_assert_eq(st.exited, N);
    cr_assert_eq(st.refused_busy, (uint64_t)busy_total);
    cr_log_info("100 concurrent spawns: %d refused with BUSY and retried, %d rounds", busy_total,
                rounds);
    for (int c = 0; c < C; c++)
        close(fds[c]);
    check_clean(dfds, zfds, zpid);
}

static void module_id(const uint8_t *bytes, size_t len, char out[65])
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, bytes);
    sha256_digest(&ctx, sizeof digest, digest);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* Clients hang up right after sending a request, while workers run:
 *   A: two running workers, a pending Wait for one, then close;
 *   B: Spawn, then close before the answer (the worker may still be
 *      starting);
 *   C: LoadModule of a new module, then close before the answer;
 *   D: LoadModule + Spawn + Wait pipelined, then close.
 * Afterwards: no live worker, no module, no worker process, daemon and
 * zygote fds at their baselines, and a new client is served. */
Test(stress, clients_hanging_up_mid_request)
{
    hd_start(&D, NULL, NULL);
    int dfds, zfds, zpid;
    baselines(&dfds, &zfds, &zpid);
    enum { ROUNDS = 40 };
    for (uint32_t round = 0; round < ROUNDS; round++) {
        size_t len;
        char id[65];
        /* A */
        uint8_t *m = hd_module(round * 4 + 0, 0, &len);
        int a = hd_connect(&D);
        hd_load(a, m, len, id);
        uint64_t w1 = hd_spawn(a, id, "spin", NULL, 0, 0, NULL);
        hd_spawn(a, id, "spin", NULL, 0, 0, NULL);
        hd_send_wait(a, w1);
        close(a);
        free(m);
        /* B */
        m = hd_module(round * 4 + 1, 0, &len);
        int b = hd_connect(&D);
        hd_load(b, m, len, id);
        hd_send_spawn(b, id, "spin", NULL, 0, 0);
        close(b);
        free(m);
        /* C */
        m = hd_module(round * 4 + 2, 1000, &len);
        int c = hd_connect(&D);
        hd_send_load(c, m, len);
        close(c);
        free(m);
        /* D */
        m = hd_module(round * 4 + 3, 0, &len);
        module_id(m, len, id);
        int dd = hd_connect(&D);
        hd_send_load(dd, m, len);
        hd_send_spawn(dd, id, "spin", NULL, 0, 0);
        hd_send_wait(dd, 1); /* some worker id; what matters is the hang-up */
        close(dd);
        free(m);
    }
    /* A fresh client is served at once. */
    int fd = hd_connect(&D);
    struct hd_status st;
    hd_status(fd, &st);
    cr_assert_eq(st.zygote_pid, zpid);
    close(fd);
    check_clean(dfds, zfds, zpid);
    /* And it still runs things. */
    fd = hd_connect(&D);
    size_t len;
    uint8_t *m = hd_module(0xabcdef, 0, &len);
    char id[65];
    hd_load(fd, m, len, id);
    hd_spawn(fd, id, "get", NULL, 0, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_EXITED);
    cr_assert_eq(r->event->outcome->results[0]->i32, 0xabcdef);
    sbx_ipc_free(&r->base);
    free(m);
    close(fd);
    check_clean(dfds, zfds, zpid);
}
