/* Faults around `sbx serve` (issue 5): kill -9 of the zygote in the middle
 * of a load and of spawns, kill -9 of a worker, garbage, oversized packets,
 * unexpected fds, unknown module and worker ids, and a client that never
 * reads its replies. Each time: every request gets exactly one answer (or
 * the connection is closed), the daemon recovers, and its fd count comes
 * back to its baseline. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/memfd.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "tests/daemon/daemon_harness.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(faults, .fini = stop, .timeout = 300);

static void check_daemon_fds(int want)
{
    int n = hd_wait_fds(D.pid, want);
    cr_assert_eq(n, want, "daemon fds: %d, baseline %d", n, want);
}

/* Waits until the daemon reports a zygote other than `old`. */
static int new_zygote(int old)
{
    int fd = hd_connect(&D);
    struct hd_status st = {0};
    for (int i = 0; i < 3000; i++) {
        hd_status(fd, &st);
        if (st.zygote_pid > 0 && st.zygote_pid != old) break;
        hd_sleep_ms(10);
    }
    close(fd);
    cr_assert(st.zygote_pid > 0 && st.zygote_pid != old, "no new zygote (old %d, now %d)", old,
              st.zygote_pid);
    return st.zygote_pid;
}

/* A module that takes a while to compile: "f" (() -> i32) with `n`
 * (i32.const 1; i32.add) pairs, loaded as a sealed memfd. */
static uint8_t *slow_module(uint32_t n, uint32_t salt, size_t *len)
{
    size_t body = 1 + 2 + 6 * (size_t)n + 1; /* locals, i32.const salt, pairs, end */
    uint8_t *m = malloc(body + 64);
    cr_assert_not_null(m);
    size_t k = 0;
    const uint8_t head[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01,
                            0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01,
                            0x00, 0x07, 0x05, 0x01, 0x01, 'f',  0x00, 0x00};
    memcpy(m, head, sizeof head);
    k = sizeof head;
    /* code section: count 1, body size, body */
    size_t fsize = body, csize = 1 + 5 + fsize;
    m[k++] = 0x0a;
    for (int i = 0; i < 5; i++) /* 5-byte LEBs keep the arithmetic simple */
        m[k++] = (uint8_t)(((csize >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));
    m[k++] = 0x01;
    for (int i = 0; i < 5; i++)
        m[k++] = (uint8_t)(((fsize >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));
    m[k++] = 0x00;                       /* no locals */
    m[k++] = 0x41, m[k++] = salt & 0x3f; /* i32.const salt (one-byte LEB) */
    for (uint32_t i = 0; i < n; i++) {
        m[k++] = 0x41, m[k++] = 0x01; /* i32.const 1 */
        m[k++] = 0x6a;                /* i32.add */
        m[k++] = 0x41, m[k++] = 0x00; /* i32.const 0 */
        m[k++] = 0x6a;                /* i32.add */
    }
    m[k++] = 0x0b;
    *len = k;
    return m;
}

static uint64_t send_load_memfd(int fd, const uint8_t *bytes, size_t len)
{
    int mfd = sbx_memfd_from_bytes("test-module", bytes, len);
    cr_assert_geq(mfd, 0);
    Sbx__Request req;
    Sbx__LoadModule lm;
    Sbx__MemfdRef ref;
    sbx__request__init(&req);
    sbx__load_module__init(&lm);
    sbx__memfd_ref__init(&ref);
    ref.has_fd_index = 1, ref.fd_index = 0;
    ref.has_size = 1, ref.size = len;
    lm.source_case = SBX__LOAD_MODULE__SOURCE_MEMFD;
    lm.memfd = &ref;
    req.body_case = SBX__REQUEST__BODY_LOAD_MODULE;
    req.load_module = &lm;
    uint64_t id = hd_send(fd, &req, &mfd, 1);
    close(mfd);
    return id;
}

/* kill -9 of the zygote while it loads (compiles) a module, at several
 * delays after the request: the load is answered once, ModuleLoaded or
 * INTERNAL ("try again"); a new zygote comes up; the module loads (again)
 * and runs. */
Test(faults, zygote_killed_mid_load)
{
    hd_start(&D, NULL, NULL);
    int zpid;
    int dfds = hd_baseline_fds(&D, &zpid);
    int zfds = hd_count_fds(zpid);
    static const int delay_us[] = {0, 1000, 5000, 20000, 50000, 100000, 200000, 400000};
    int loaded = 0, failed = 0;
    for (size_t t = 0; t < sizeof delay_us / sizeof delay_us[0]; t++) {
        size_t len;
        uint8_t *m = slow_module(20000, (uint32_t)t, &len);
        int fd = hd_connect(&D);
        uint64_t rid = send_load_memfd(fd, m, len);
        if (delay_us[t]) usleep((useconds_t)delay_us[t]);
        cr_assert_eq(kill(zpid, SIGKILL), 0);
        Sbx__Response *r = hd_recv(fd, 60000);
        cr_assert_eq(r->id, rid);
        char id[65] = "";
        if (r->body_case == SBX__RESPONSE__BODY_MODULE_LOADED) {
            loaded++;
            snprintf(id, sizeof id, "%s", r->module_loaded->module_id);
        } else {
            cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
            cr_assert_eq(r->error->code, SBX__ERROR_CODE__INTERNAL, "error %d: %s", r->error->code,
                         hd_error_text(r));
            failed++;
        }
        sbx_ipc_free(&r->base);
        zpid = new_zygote(zpid);
        if (!id[0]) {
            /* A failed load holds no reference: another connection loads
             * it, and the first one hanging up does not take it away. */
            int fd2 = hd_connect(&D);
            rid = send_load_memfd(fd2, m, len);
            r = hd_recv(fd2, 60000);
            cr_assert_eq(r->id, rid);
            cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_MODULE_LOADED, "%s", hd_error_text(r));
            snprintf(id, sizeof id, "%s", r->module_loaded->module_id);
            sbx_ipc_free(&r->base);
            close(fd);
            fd = fd2;
            hd_sleep_ms(100); /* the daemon sees the hang-up before the spawn */
        }
        hd_spawn(fd, id, "f", NULL, 0, 0, NULL);
        r = hd_outcome_event(fd);
        cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_EXITED, "outcome %d",
                     r->event->outcome->kind_case);
        cr_assert_eq(r->event->outcome->results[0]->i32, 20000 + (int)t);
        sbx_ipc_free(&r->base);
        close(fd);
        free(m);
    }
    cr_log_info("zygote killed mid-load: %d loads answered ModuleLoaded, %d INTERNAL", loaded,
                failed);
    struct hd_status st;
    hd_wait_idle(&D, 0, &st);
    cr_assert_eq(st.zygote_restarts, 8);
    check_daemon_fds(dfds);
    int n = hd_wait_fds(st.zygote_pid, zfds);
    cr_assert_eq(n, zfds, "the new zygote's fds: %d, the first one's %d", n, zfds);
    cr_assert_eq(hd_count_maps(st.zygote_pid, "memfd:"), 0);
}

static bool gone_or_zombie(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    bool z = fgets(line, sizeof line, f) && strstr(line, ") Z ");
    fclose(f);
    return z;
}

/* kill -9 of the zygote with three workers running and five Spawns just
 * sent: each running worker gets one killed outcome and dies with the
 * zygote; each Spawn gets one answer (Spawned, then one outcome; or
 * INTERNAL); then spawns work again. */
Test(faults, zygote_killed_mid_spawn)
{
    hd_start(&D, NULL, NULL);
    int zpid;
    int dfds = hd_baseline_fds(&D, &zpid);
    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    int fd = hd_connect(&D);
    char id[65];
    hd_load(fd, wasm, len, id);
    free(wasm);
    enum { RUNNING = 3, SENT = 5 };
    uint64_t workers[RUNNING + SENT];
    pid_t pids[RUNNING + SENT];
    size_t nworkers = 0;
    for (int i = 0; i < RUNNING; i++) {
        workers[nworkers] = hd_spawn(fd, id, "spin", NULL, 0, 0, &pids[nworkers]);
        nworkers++;
    }
    uint64_t req[SENT];
    for (int i = 0; i < SENT; i++)
        req[i] = hd_send_spawn(fd, id, "spin", NULL, 0, 0);
    cr_assert_eq(kill(zpid, SIGKILL), 0);

    int answered[SENT] = {0}, outcomes[RUNNING + SENT] = {0}, internal = 0;
    /* Until every Spawn is answered and the three running workers have
     * ended.
     * Workers spawned by the new zygote spin: they are killed below. */
    for (;;) {
        int pending = 0;
        for (int i = 0; i < SENT; i++)
            pending += !answered[i];
        for (int i = 0; i < RUNNING; i++)
            pending += !outcomes[i];
        if (!pending) break;
        Sbx__Response *r = hd_recv(fd, 60000);
        if (r->body_case == SBX__RESPONSE__BODY_EVENT) {
            const Sbx__Outcome *o = r->event->outcome;
            size_t k = 0;
            while (k < nworkers && workers[k] != o->worker_id)
                k++;
            cr_assert_lt(k, nworkers, "an outcome of an unknown worker");
            cr_assert_eq(outcomes[k]++, 0, "two outcomes for one worker");
            cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_KILLED, "outcome %d", o->kind_case);
            cr_assert_eq(o->killed->signal, SIGKILL);
        } else {
            int i = 0;
            while (i < SENT && req[i] != r->id)
                i++;
            cr_assert_lt(i, SENT, "an answer to request %llu", (unsigned long long)r->id);
            cr_assert_eq(answered[i]++, 0, "spawn %d answered twice", i);
            if (r->body_case == SBX__RESPONSE__BODY_SPAWNED) {
                workers[nworkers] = r->spawned->worker_id;
                pids[nworkers++] = r->spawned->pid;
            } else {
                cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
                cr_assert_eq(r->error->code, SBX__ERROR_CODE__INTERNAL, "%s", hd_error_text(r));
                internal++;
            }
        }
        sbx_ipc_free(&r->base);
    }
    /* The first three died with their zygote (PDEATHSIG). */
    for (int i = 0; i < RUNNING; i++) {
        bool gone = false;
        for (int k = 0; k < 1000 && !gone; k++) {
            gone = gone_or_zombie(pids[i]);
            if (!gone) hd_sleep_ms(10);
        }
        cr_assert(gone, "worker %d outlived its zygote", pids[i]);
    }
    int znew = new_zygote(zpid);
    /* Anything spawned after the restart is still spinning: kill it; one
     * Ack per Kill and one outcome per worker, in any order. */
    size_t nkills = 0, acks = 0, missing = 0;
    for (size_t k = RUNNING; k < nworkers; k++)
        if (!outcomes[k]) hd_send_kill(fd, workers[k]), nkills++, missing++;
    while (acks < nkills || missing) {
        Sbx__Response *r = hd_recv(fd, 30000);
        if (r->body_case == SBX__RESPONSE__BODY_ACK ||
            (r->body_case == SBX__RESPONSE__BODY_ERROR &&
             r->error->code == SBX__ERROR_CODE__UNKNOWN_WORKER)) {
            acks++; /* UNKNOWN_WORKER: it had ended; its outcome came before */
        } else {
            cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_EVENT, "body %d (%s)", r->body_case,
                         hd_error_text(r));
            size_t j = RUNNING;
            while (j < nworkers && workers[j] != r->event->outcome->worker_id)
                j++;
            cr_assert_lt(j, nworkers);
            cr_assert_eq(outcomes[j]++, 0, "two outcomes for one worker");
            missing--;
        }
        sbx_ipc_free(&r->base);
    }
    cr_log_info("zygote killed mid-spawn: %zu spawns answered Spawned, %d INTERNAL",
                nworkers - RUNNING, internal);
    /* Spawns work again, on the module reloaded into the new zygote. */
    int32_t args[] = {20, 22};
    hd_spawn(fd, id, "add", args, 2, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_EXITED);
    cr_assert_eq(r->event->outcome->results[0]->i32, 42);
    sbx_ipc_free(&r->base);
    close(fd);
    struct hd_status st;
    hd_wait_idle(&D, 0, &st);
    cr_assert_eq(st.zygote_pid, znew);
    check_daemon_fds(dfds);
    cr_assert_eq(hd_wait_children(znew, 0), 0);
}

/* A worker killed from outside (kill -9, or SIGTERM) is reported killed by
 * that signal, not by request, and the daemon goes on. */
Test(faults, worker_killed_from_outside)
{
    hd_start(&D, NULL, NULL);
    int dfds = hd_baseline_fds(&D, NULL);
    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    int fd = hd_connect(&D);
    char id[65];
    hd_load(fd, wasm, len, id);
    free(wasm);
    const int sigs[] = {SIGKILL, SIGTERM, SIGKILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        pid_t pid;
        uint64_t w = hd_spawn(fd, id, "spin", NULL, 0, 0, &pid);
        cr_assert_eq(kill(pid, sigs[i]), 0);
        Sbx__Response *r = hd_outcome_event(fd);
        const Sbx__Outcome *o = r->event->outcome;
        cr_assert_eq(o->worker_id, w);
        cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_KILLED, "outcome %d", o->kind_case);
        cr_assert_eq(o->killed->signal, sigs[i]);
        cr_assert_not(o->killed->by_request);
        sbx_ipc_free(&r->base);
    }
    int32_t args[] = {1, 2};
    hd_spawn(fd, id, "add", args, 2, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->results[0]->i32, 3);
    sbx_ipc_free(&r->base);
    close(fd);
    struct hd_status st;
    hd_wait_idle(&D, 0, &st);
    cr_assert_eq(st.killed, 3);
    check_daemon_fds(dfds);
}

/* The answer to a bad packet: an Error, or the connection closed. */
static void expect_error_or_close(int fd, const char *what)
{
    Sbx__Response *r = hd_try_recv(fd, 30000);
    if (!r) return; /* closed */
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR, "%s: body %d", what, r->body_case);
    cr_assert(r->error->message && r->error->message[0], "%s: an error without a message", what);
    sbx_ipc_free(&r->base);
}

static int raw_send(int fd, const void *buf, size_t len, const int *fds, size_t nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 16)];
    } control;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Garbage, truncated and oversized packets, unknown fields, fds nobody
 * asked for or too many of them, fd indexes out of range, unknown module
 * and worker ids: each is refused with an Error (or the connection is
 * closed), every fd sent is closed in the daemon, and it goes on serving. */
Test(faults, garbage_oversized_unexpected_fds_unknown_ids)
{
    hd_start(&D, NULL, NULL);
    int dfds = hd_baseline_fds(&D, NULL);
    int pipes[16];
    for (int i = 0; i < 16; i += 2)
        cr_assert_eq(pipe(&pipes[i]), 0);

    /* Pseudo-random garbage, 200 packets of 1 to 300 bytes. */
    int fd = hd_connect(&D);
    uint32_t x = 12345;
    for (int i = 0; i < 200; i++) {
        uint8_t junk[300];
        size_t n = 1 + i % 300;
        for (size_t k = 0; k < n; k++) {
            x = x * 1103515245u + 12345u;
            junk[k] = (uint8_t)(x >> 16);
        }
        if (raw_send(fd, junk, n, NULL, 0)) { /* closed by the daemon: reconnect */
            close(fd);
            fd = hd_connect(&D);
            continue;
        }
        expect_error_or_close(fd, "garbage");
    }
    close(fd);

    /* Oversized: 150,000 bytes (the cap is 128 KiB). */
    fd = hd_connect(&D);
    size_t big = 150000;
    uint8_t *buf = calloc(1, big);
    int sndbuf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    int rc = raw_send(fd, buf, big, NULL, 0);
    if (rc == 0)
        expect_error_or_close(fd, "oversized");
    else
        cr_log_info("an oversized packet could not be sent here (%s): not tested", strerror(-rc));
    free(buf);
    close(fd);

    /* A valid Status packed, then: with 1 fd it does not use, with 8 fds
     * (the cap is 4), with an unknown field appended, truncated. */
    Sbx__Request req;
    Sbx__Status stq;
    sbx__request__init(&req);
    sbx__status__init(&stq);
    req.has_id = 1, req.id = 77;
    req.body_case = SBX__REQUEST__BODY_STATUS;
    req.status = &stq;
    uint8_t packed[64];
    size_t plen = protobuf_c_message_pack(&req.base, packed);
    fd = hd_connect(&D);
    cr_assert_eq(raw_send(fd, packed, plen, pipes, 1), 0);
    expect_error_or_close(fd, "an fd not named by the message");
    close(fd);
    fd = hd_connect(&D);
    if (raw_send(fd, packed, plen, pipes, 8) == 0) expect_error_or_close(fd, "8 fds");
    close(fd);
    fd = hd_connect(&D);
    uint8_t unknown[80];
    memcpy(unknown, packed, plen);
    unknown[plen] = 0xa0, unknown[plen + 1] = 0x06, unknown[plen + 2] = 0x01; /* field 100 = 1 */
    cr_assert_eq(raw_send(fd, unknown, plen + 3, NULL, 0), 0);
    Sbx__Response *r = hd_recv(fd, 30000);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__BAD_REQUEST, "%s", hd_error_text(r));
    cr_assert(strstr(r->error->message, "100"), "the error names field 100: %s", r->error->message);
    sbx_ipc_free(&r->base);
    cr_assert_eq(raw_send(fd, packed, plen - 1, NULL, 0), 0);
    expect_error_or_close(fd, "truncated");
    close(fd);

    /* A Spawn naming stdio fd 2 with one fd sent. */
    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    fd = hd_connect(&D);
    char id[65];
    hd_load(fd, wasm, len, id);
    free(wasm);
    Sbx__Spawn sp;
    Sbx__StdioFd sfd, *sptr = &sfd;
    sbx__request__init(&req);
    sbx__spawn__init(&sp);
    sbx__stdio_fd__init(&sfd);
    sfd.has_stream = 1, sfd.stream = SBX__STDIO_STREAM__STDIO_STDOUT;
    sfd.has_fd_index = 1, sfd.fd_index = 2;
    sp.module_id = id, sp.export_name = "spin";
    sp.n_stdio = 1, sp.stdio = &sptr;
    req.body_case = SBX__REQUEST__BODY_SPAWN, req.spawn = &sp;
    uint64_t rid = hd_send(fd, &req, &pipes[1], 1);
    r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__BAD_REQUEST, "%s", hd_error_text(r));
    sbx_ipc_free(&r->base);

    /* Unknown ids: spawn, unload, wait, kill. */
    const char *zero = "0000000000000000000000000000000000000000000000000000000000000000";
    rid = hd_send_spawn(fd, zero, "add", NULL, 0, 0);
    r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__UNKNOWN_MODULE, "%s", hd_error_text(r));
    sbx_ipc_free(&r->base);
    rid = hd_send_unload(fd, zero);
    r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__UNKNOWN_MODULE, "%s", hd_error_text(r));
    sbx_ipc_free(&r->base);
    rid = hd_send_wait(fd, 987654321);
    r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__UNKNOWN_WORKER, "%s", hd_error_text(r));
    sbx_ipc_free(&r->base);
    rid = hd_send_kill(fd, 987654321);
    r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__UNKNOWN_WORKER, "%s", hd_error_text(r));
    sbx_ipc_free(&r->base);
    /* Unloading a module this connection holds no reference to (another
     * connection's). */
    int fd2 = hd_connect(&D);
    rid = hd_send_unload(fd2, id);
    r = hd_recv(fd2, 30000);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__UNKNOWN_MODULE, "%s", hd_error_text(r));
    sbx_ipc_free(&r->base);
    close(fd2);
    /* The module is still there and runs. */
    int32_t args[] = {2, 3};
    hd_spawn(fd, id, "add", args, 2, 0, NULL);
    r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->results[0]->i32, 5);
    sbx_ipc_free(&r->base);
    close(fd);

    for (int i = 0; i < 16; i++)
        close(pipes[i]);
    struct hd_status st;
    hd_wait_idle(&D, 0, &st);
    check_daemon_fds(dfds);
}

/* A client sends requests as fast as it can, for a minute, and never reads
 * a reply (a child process of the test). Once its receive queue is full,
 * each reply the daemon tries to send it would block: the daemon must not
 * wait for it again and again, so a second client is still served (within
 * the harness's 30 s), and the daemon's fds come back once the hog is
 * gone. */
Test(faults, a_client_that_never_reads)
{
    hd_start(&D, NULL, NULL);
    int dfds = hd_baseline_fds(&D, NULL);
    int hog = hd_connect(&D);
    fflush(NULL);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        Sbx__Request req;
        Sbx__Status stq;
        sbx__request__init(&req);
        sbx__status__init(&stq);
        req.body_case = SBX__REQUEST__BODY_STATUS;
        req.status = &stq;
        for (uint64_t id = 1; id < 6000 * 1000; id++) { /* at most a minute */
            req.has_id = 1, req.id = id;
            int rc = sbx_ipc_send(hog, &req.base, NULL, 0, 0);
            if (rc == -EAGAIN) {
                hd_sleep_ms(10);
                id += 999; /* 1000 ids per 10 ms of waiting: the loop ends after 60 s */
            } else if (rc) {
                _exit(0); /* cut off */
            }
        }
        _exit(0);
    }
    close(hog);
    hd_sleep_ms(500); /* the hog's queues fill */
    int fd = hd_connect(&D);
    struct hd_status st;
    hd_status(fd, &st);
    close(fd);
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    hd_wait_idle(&D, 0, &st);
    check_daemon_fds(dfds);
}
