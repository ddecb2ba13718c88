/* Zygote rotation in `sbx serve` ("fork hygiene", issues 5 and 6): the
 * daemon's zygotes are exec'd (a fresh address-space layout each), replaced
 * after --zygote-max-spawns spawns or --zygote-max-age seconds, and an old
 * zygote drains its workers before it is closed and reaped. Each test has
 * its own daemon. What is checked: every spawn is answered once and every
 * outcome arrives once and is right, whichever zygote forked the worker;
 * old zygotes are gone afterwards (no zombie, no leftover process); the
 * daemon's fd count is back at its baseline; a crash of a draining or of
 * the current zygote is handled; the hidden `sbx __zygote` refuses a
 * non-SEQPACKET fd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "tests/daemon/daemon_harness.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(rotate, .fini = stop, .timeout = 300);

static void status_now(struct hd_status *st)
{
    int fd = hd_connect(&D);
    hd_status(fd, st);
    close(fd);
}

/* Polls Status until the current zygote is not `old` (30 s at most). */
static int zygote_other_than(int old)
{
    struct hd_status st = {0};
    for (int i = 0; i < 3000; i++) {
        status_now(&st);
        if (st.zygote_pid > 0 && st.zygote_pid != old) return st.zygote_pid;
        hd_sleep_ms(10);
    }
    cr_assert_fail("the zygote is still %d", old);
    return -1;
}

static pid_t parent_of(pid_t pid)
{
    return (pid_t)hd_proc_status(pid, "PPid");
}

/* Gone: not even a zombie (a zombie still has /proc/PID). */
static bool gone(pid_t pid)
{
    return kill(pid, 0) < 0 && errno == ESRCH;
}

/* After a test: idle, only the current zygote left as the daemon's child,
 * every old zygote in `old` gone, the daemon's fds at `fds`. */
static void check_clean(int fds, const int *old, size_t nold)
{
    struct hd_status st;
    hd_wait_idle(&D, 0, &st);
    int n = hd_wait_children(D.pid, 1);
    cr_assert_eq(n, 1, "the daemon has %d children, expected only the current zygote", n);
    for (size_t i = 0; i < nold; i++)
        if (old[i] != st.zygote_pid) {
            for (int k = 0; k < 1000 && !gone(old[i]); k++)
                hd_sleep_ms(10);
            cr_assert(gone(old[i]), "old zygote %d is still there", old[i]);
        }
    n = hd_wait_fds(D.pid, fds);
    cr_assert_eq(n, fds, "daemon fds: %d, baseline %d", n, fds);
    /* SIGTERM ends it cleanly, current and draining zygotes included; in
     * an SBX_SANITIZE build its LeakSanitizer checks the rotations' records
     * at that exit. */
    cr_assert_eq(kill(D.pid, SIGTERM), 0);
    int status;
    while (waitpid(D.pid, &status, 0) < 0 && errno == EINTR) {
    }
    D.pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) hd_dump_log(&D);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "sbx serve ended with status 0x%x (LeakSanitizer exits 23)", status);
}

/* 30 pipelined spawns with --zygote-max-spawns 5: six zygote generations.
 * Three of the spawns spin until their 4 s timeout, so they outlive the
 * rotations after them: they run in three different (draining) zygotes at
 * once, and their timeouts still arrive through the old zygotes'
 * channels. */
Test(rotate, thirty_spawns_over_six_zygotes)
{
    const char *args[] = {"--zygote-max-spawns", "5", NULL};
    hd_start(&D, NULL, args);
    int z0;
    int dfds = hd_baseline_fds(&D, &z0);
    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    int fd = hd_connect(&D);
    char id[65];
    hd_load(fd, wasm, len, id);
    free(wasm);

    enum { N = 30 };
    uint64_t req[N], worker[N] = {0};
    pid_t wpid[N] = {0};
    int outcomes[N] = {0};
    bool spins[N] = {false};
    spins[2] = spins[12] = spins[22] = true;
    for (int i = 0; i < N; i++) {
        int32_t a[] = {i, 1000};
        req[i] = spins[i] ? hd_send_spawn(fd, id, "spin", NULL, 0, 4000)
                          : hd_send_spawn(fd, id, "add", a, 2, 0);
    }
    int spawned = 0, ended = 0;
    pid_t spin_parent[3];
    int nspin = 0;
    while (spawned < N || ended < N) {
        Sbx__Response *r = hd_recv(fd, 30000);
        if (r->body_case == SBX__RESPONSE__BODY_EVENT) {
            cr_assert_eq(r->event->body_case, SBX__EVENT__BODY_OUTCOME);
            const Sbx__Outcome *o = r->event->outcome;
            int i = -1;
            for (int k = 0; k < N; k++)
                if (worker[k] && worker[k] == o->worker_id) i = k;
            cr_assert_geq(i, 0, "an outcome for unknown worker %llu",
                          (unsigned long long)o->worker_id);
            cr_assert_eq(outcomes[i]++, 0, "spawn %d: a second outcome", i);
            if (spins[i]) {
                cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_TIMEOUT, "spawn %d: outcome %d", i,
                             o->kind_case);
            } else {
                cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_EXITED, "spawn %d: outcome %d", i,
                             o->kind_case);
                cr_assert_eq(o->n_results, 1);
                cr_assert_eq(o->results[0]->i32, i + 1000);
            }
            ended++;
        } else {
            int i = -1;
            for (int k = 0; k < N; k++)
                if (req[k] == r->id) i = k;
            cr_assert_geq(i, 0, "an answer to unknown request %llu", (unsigned long long)r->id);
            cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_SPAWNED, "spawn %d: %s", i,
                         hd_error_text(r));
            cr_assert_eq(worker[i], 0, "spawn %d: answered twice", i);
            worker[i] = r->spawned->worker_id;
            wpid[i] = r->spawned->pid;
            if (spins[i]) spin_parent[nspin++] = parent_of(wpid[i]);
            spawned++;
            if (spawned == N) {
                /* Every spinner is still running (4 s), each in its own
                 * zygote: the old ones are draining, not gone. */
                cr_assert_eq(nspin, 3);
                for (int k = 0; k < 3; k++)
                    cr_assert_gt(spin_parent[k], 0, "spinner %d has no parent?", k);
                cr_assert(spin_parent[0] != spin_parent[1] && spin_parent[1] != spin_parent[2] &&
                              spin_parent[0] != spin_parent[2],
                          "the spinners share a zygote: %d %d %d", spin_parent[0], spin_parent[1],
                          spin_parent[2]);
                int n = hd_wait_children(D.pid, 1000); /* no wait: just count */
                cr_assert_geq(n, 3, "only %d zygotes while three generations drain", n);
            }
        }
        sbx_ipc_free(&r->base);
    }
    /* Nothing more: no duplicate outcome, no late answer. */
    Sbx__Response *extra = hd_try_recv(fd, 500);
    cr_assert_null(extra, "an extra message (body %d)", extra ? (int)extra->body_case : 0);

    struct hd_status st;
    hd_status(fd, &st);
    cr_assert_eq(st.spawns, N);
    cr_assert_eq(st.exited, N - 3);
    cr_assert_eq(st.zygote_restarts, 0);
    cr_assert_geq(st.zygote_rotations, 5, "%llu rotations",
                  (unsigned long long)st.zygote_rotations);
    cr_assert_neq(st.zygote_pid, z0, "the zygote was never replaced");
    hd_unload(fd, id);
    close(fd);
    int old[] = {z0, spin_parent[0], spin_parent[1], spin_parent[2]};
    check_clean(dfds, old, 4);
}

/* The start address of the first mapping of `exe` in pid's maps, or 0. */
static unsigned long exe_base(pid_t pid, const char *exe)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    unsigned long base = 0;
    while (!base && fgets(line, sizeof line, f)) {
        char *name = strchr(line, '/');
        if (!name) continue;
        name[strcspn(name, "\n")] = '\0';
        if (!strcmp(name, exe)) base = strtoul(line, NULL, 16);
    }
    fclose(f);
    return base;
}

static bool aslr_disabled(void)
{
    FILE *f = fopen("/proc/sys/kernel/randomize_va_space", "r");
    int v = -1;
    if (f) {
        if (fscanf(f, "%d", &v) != 1) v = -1;
        fclose(f);
    }
    return v == 0;
}

/* Each zygote is exec'd: it maps the sbx executable at its own random
 * address, unlike a fork, which keeps the daemon's. It holds only stdio,
 * its channel and its signalfd. */
Test(rotate, each_generation_has_its_own_layout)
{
    if (aslr_disabled()) {
        printf("rotate::each_generation_has_its_own_layout skipped: ASLR is disabled "
               "(/proc/sys/kernel/randomize_va_space is 0)\n");
        cr_skip_test("ASLR is disabled (/proc/sys/kernel/randomize_va_space is 0)");
    }
    const char *args[] = {"--zygote-max-spawns", "1", NULL};
    hd_start(&D, NULL, args);
    int z1;
    int dfds = hd_baseline_fds(&D, &z1);
    char exe[PATH_MAX];
    cr_assert_not_null(realpath(SBX_EXE, exe));
    unsigned long daemon_base = exe_base(D.pid, exe), base1 = exe_base(z1, exe);
    cr_assert(daemon_base && base1, "no mapping of %s", exe);
    cr_assert_eq(parent_of(z1), D.pid);

    /* Only stdio, one socket (the channel) and the signalfd. */
    char path[64], target[256];
    int sockets = 0, others = 0;
    for (int i = 3; i < 64; i++) {
        snprintf(path, sizeof path, "/proc/%d/fd/%d", z1, i);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) continue;
        target[n] = '\0';
        if (!strncmp(target, "socket:", 7))
            sockets++;
        else if (strcmp(target, "anon_inode:[signalfd]"))
            others++;
    }
    cr_assert_eq(sockets, 1, "the zygote holds %d sockets", sockets);
    cr_assert_eq(others, 0, "the zygote holds %d other fds", others);

    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    int fd = hd_connect(&D);
    char id[65];
    hd_load(fd, wasm, len, id);
    free(wasm);
    int32_t a[] = {40, 2};
    hd_spawn(fd, id, "add", a, 2, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->results[0]->i32, 42);
    sbx_ipc_free(&r->base);
    int z2 = zygote_other_than(z1);
    unsigned long base2 = exe_base(z2, exe);
    cr_assert(base2, "no mapping of %s in zygote %d", exe, z2);
    printf("sbx mapped at %#lx (daemon), %#lx (zygote %d), %#lx (zygote %d)\n", daemon_base, base1,
           z1, base2, z2);
    cr_assert_neq(base1, daemon_base, "zygote 1 has the daemon's layout (forked, not exec'd)");
    cr_assert_neq(base2, daemon_base, "zygote 2 has the daemon's layout (forked, not exec'd)");
    cr_assert_neq(base1, base2, "two generations share one layout");
    /* The new generation serves the module: it was reloaded. */
    hd_spawn(fd, id, "add", a, 2, 0, NULL);
    r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->results[0]->i32, 42);
    sbx_ipc_free(&r->base);
    hd_unload(fd, id);
    close(fd);
    int old[] = {z1, z2};
    check_clean(dfds, old, 2);
}

/* --zygote-max-age 1: an idle daemon replaces its zygote every second. */
Test(rotate, max_age_rotates_an_idle_daemon)
{
    const char *args[] = {"--zygote-max-age", "1", "--zygote-max-spawns", "0", NULL};
    hd_start(&D, NULL, args);
    int z1;
    int dfds = hd_baseline_fds(&D, &z1);
    int z2 = zygote_other_than(z1);
    int z3 = zygote_other_than(z2);
    struct hd_status st;
    status_now(&st);
    cr_assert_geq(st.zygote_rotations, 2);
    cr_assert_eq(st.zygote_restarts, 0);
    int old[] = {z1, z2, z3};
    check_clean(dfds, old, 3);
}

/* kill -9 of a draining zygote ends only its workers (killed, not by
 * request); kill -9 of the current one restarts it while an older one keeps
 * draining, and that one's worker still gets its outcome. */
Test(rotate, crash_of_a_draining_and_of_the_current_zygote)
{
    const char *args[] = {"--zygote-max-spawns", "1", NULL};
    hd_start(&D, NULL, args);
    int z1;
    int dfds = hd_baseline_fds(&D, &z1);
    size_t len;
    uint8_t *wasm = hd_read_file(RUN_WASM, &len);
    int fd = hd_connect(&D);
    char id[65];
    hd_load(fd, wasm, len, id);
    free(wasm);

    /* A spinner in z1; the spawn rotates z1 out. */
    pid_t w1pid;
    uint64_t w1 = hd_spawn(fd, id, "spin", NULL, 0, 9000, &w1pid);
    cr_assert_eq(parent_of(w1pid), z1);
    int z2 = zygote_other_than(z1);
    cr_assert_eq(kill(z1, SIGKILL), 0);
    Sbx__Response *r = hd_outcome_event(fd);
    const Sbx__Outcome *o = r->event->outcome;
    cr_assert_eq(o->worker_id, w1);
    cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_KILLED, "outcome %d", o->kind_case);
    cr_assert_not(o->killed->by_request);
    sbx_ipc_free(&r->base);
    struct hd_status st;
    status_now(&st);
    cr_assert_eq(st.zygote_pid, z2, "the current zygote changed");
    cr_assert_eq(st.zygote_restarts, 0);

    /* A spinner in z2, rotated out (z3 current); then z3 crashes. */
    pid_t w2pid;
    uint64_t w2 = hd_spawn(fd, id, "spin", NULL, 0, 9000, &w2pid);
    cr_assert_eq(parent_of(w2pid), z2);
    int z3 = zygote_other_than(z2);
    cr_assert_eq(kill(z3, SIGKILL), 0);
    int z4 = zygote_other_than(z3);
    status_now(&st);
    cr_assert_eq(st.zygote_restarts, 1);
    cr_assert_eq(parent_of(w2pid), z2, "the draining zygote's worker was lost");
    /* Its exit still comes through z2's channel. */
    uint64_t kid = hd_send_kill(fd, w2);
    bool acked = false, ended = false;
    while (!acked || !ended) {
        r = hd_recv(fd, 30000);
        if (r->body_case == SBX__RESPONSE__BODY_EVENT) {
            o = r->event->outcome;
            cr_assert_eq(o->worker_id, w2);
            cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_KILLED);
            cr_assert(o->killed->by_request);
            cr_assert_not(ended, "two outcomes");
            ended = true;
        } else {
            cr_assert_eq(r->id, kid);
            cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ACK, "kill: %s", hd_error_text(r));
            acked = true;
        }
        sbx_ipc_free(&r->base);
    }
    /* The restarted zygote has the module. */
    int32_t a[] = {1, 2};
    hd_spawn(fd, id, "add", a, 2, 0, NULL);
    r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_EXITED);
    cr_assert_eq(r->event->outcome->results[0]->i32, 3);
    sbx_ipc_free(&r->base);
    hd_unload(fd, id);
    close(fd);
    int old[] = {z1, z2, z3, z4};
    check_clean(dfds, old, 4);
}

/* Runs `sbx __zygote FD 1 0 -1` with fd 3 = `fd3` (or none); returns the
 * wait status. The child's stderr goes to /dev/null. */
static int run_zygote_cmd(int fd3, const char *fd_arg, int *peer_out, int peer)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (peer >= 0) close(peer);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 2);
        if (fd3 >= 0) dup2(fd3, 3);
        execl(SBX_EXE, "sbx", "__zygote", fd_arg, "1", "0", "-1", (char *)NULL);
        _exit(127);
    }
    if (peer_out) { /* a real channel: expect ZygoteReady, then end it */
        Sbx__ControlReply *rep = NULL;
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds = 0;
        int rc = sbx_ipc_recv(*peer_out, &sbx__control_reply__descriptor, (ProtobufCMessage **)&rep,
                              fds, &nfds, SBX_IPC_MAX_FDS, 30000);
        cr_assert_eq(rc, 0, "no ZygoteReady: %s", strerror(-rc));
        cr_assert_eq(rep->body_case, SBX__CONTROL_REPLY__BODY_READY);
        cr_assert_eq(rep->ready->pid, pid);
        sbx_ipc_free(&rep->base);
        close(*peer_out);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

Test(rotate, hidden_zygote_command_refuses_non_seqpacket_fds)
{
    /* Not a socket (stdin, a pipe), a stream socket, a bad argument. */
    int status = run_zygote_cmd(-1, "0", NULL, -1);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status 0x%x", status);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    status = run_zygote_cmd(p[0], "3", NULL, -1);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "pipe: status 0x%x", status);
    close(p[0]), close(p[1]);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    status = run_zygote_cmd(sv[1], "3", NULL, -1);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "stream: status 0x%x", status);
    close(sv[0]), close(sv[1]);
    status = run_zygote_cmd(-1, "x", NULL, -1);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "bad fd: status 0x%x", status);
    /* A SEQPACKET channel: it answers ZygoteReady and exits at its end. */
    cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    int peer = sv[0];
    status = run_zygote_cmd(sv[1], "3", &peer, sv[0]);
    close(sv[1]);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "seqpacket: status 0x%x", status);
    /* And the help does not list it. */
    FILE *f = popen(SBX_EXE " --help", "r");
    cr_assert_not_null(f);
    char line[256];
    while (fgets(line, sizeof line, f))
        cr_assert_null(strstr(line, "__zygote"), "the help lists it: %s", line);
    pclose(f);
}
