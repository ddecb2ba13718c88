/* Integration tests of `sbx serve`: a real daemon on a temporary socket,
 * driven with the wire protocol (proto/sbx.proto through ipc/), from
 * outside, the way any client would. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "proto/sbx.pb-c.h"
#include "tests/daemon/daemon_harness.h"

static char sock_path[256];
static pid_t daemon_pid;
static uint64_t next_id = 1;

static void start_daemon(void)
{
    snprintf(sock_path, sizeof sock_path, "/tmp/sbx-test-%d.sock", getpid());
    unlink(sock_path);
    daemon_pid = fork();
    cr_assert(daemon_pid >= 0);
    if (daemon_pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(SBX_EXE, SBX_EXE, "serve", "--socket", sock_path, "--slots", "8", "--max-workers",
              "4", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* until the socket exists */
        struct stat st;
        if (stat(sock_path, &st) == 0) return;
        usleep(10000);
    }
    cr_assert_fail("the daemon did not create its socket");
}

static void stop_daemon(void)
{
    if (daemon_pid <= 0) return;
    kill(daemon_pid, SIGTERM);
    int status;
    waitpid(daemon_pid, &status, 0);
    daemon_pid = 0;
}

static int request(int fd, Sbx__Request *req, const int *fds, size_t nfds)
{
    req->has_id = 1;
    req->id = next_id++;
    return sbx_ipc_send(fd, &req->base, fds, nfds, 5000);
}

/* The next response that is not an Event (events are returned via *event). */
static Sbx__Response *response(int fd)
{
    Sbx__Response *r = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    int rc = sbx_ipc_recv(fd, &sbx__response__descriptor, (ProtobufCMessage **)&r, fds, &nfds,
                          SBX_IPC_MAX_FDS, 10000);
    cr_assert_eq(rc, 0, "recv: %s", strerror(-rc));
    sbx_ipc_close_fds(fds, nfds);
    return r;
}

static int connect_hello(void)
{
    int fd = sbx_ipc_connect(sock_path);
    cr_assert(fd >= 0, "connect: %s", strerror(-fd));
    Sbx__Request req;
    Sbx__Hello hello;
    sbx__request__init(&req);
    sbx__hello__init(&hello);
    hello.has_protocol_version = 1, hello.protocol_version = 1;
    hello.client_name = "test_daemon";
    req.body_case = SBX__REQUEST__BODY_HELLO;
    req.hello = &hello;
    cr_assert_eq(request(fd, &req, NULL, 0), 0);
    Sbx__Response *r = response(fd);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_WELCOME);
    cr_assert_eq(r->welcome->protocol_version, 1);
    sbx_ipc_free(&r->base);
    return fd;
}

static void load(int fd, const char *file, char id[65])
{
    size_t len;
    uint8_t *bytes = hd_read_file(file, &len);
    Sbx__Request req;
    Sbx__LoadModule lm;
    sbx__request__init(&req);
    sbx__load_module__init(&lm);
    lm.source_case = SBX__LOAD_MODULE__SOURCE_INLINE_BYTES;
    lm.inline_bytes.data = bytes;
    lm.inline_bytes.len = len;
    req.body_case = SBX__REQUEST__BODY_LOAD_MODULE;
    req.load_module = &lm;
    cr_assert_eq(request(fd, &req, NULL, 0), 0);
    Sbx__Response *r = response(fd);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_MODULE_LOADED, "load: %s",
                 r->body_case == SBX__RESPONSE__BODY_ERROR ? r->error->message : "?");
    snprintf(id, 65, "%s", r->module_loaded->module_id);
    sbx_ipc_free(&r->base);
    free(bytes);
}

TestSuite(daemon, .init = start_daemon, .fini = stop_daemon, .timeout = 60);

Test(daemon, runs_an_export_and_pushes_its_outcome)
{
    int fd = connect_hello();
    char id[65];
    load(fd, RUN_WASM, id);
    cr_assert_eq(strlen(id), 64);
    int32_t args[] = {2, 40};
    uint64_t w = hd_spawn(fd, id, "add", args, 2, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    Sbx__Outcome *o = r->event->outcome;
    cr_assert_eq(o->worker_id, w);
    cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_EXITED);
    cr_assert_eq(o->n_results, 1);
    cr_assert_eq(o->results[0]->i32, 42);
    cr_assert(o->usage && o->usage->has_wall_us);
    sbx_ipc_free(&r->base);
    close(fd);
}

Test(daemon, a_trap_comes_back_with_its_kind_and_backtrace)
{
    int fd = connect_hello();
    char id[65];
    load(fd, RUN_WASM, id);
    int32_t args[] = {1, 0};
    hd_spawn(fd, id, "div", args, 2, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    Sbx__Outcome *o = r->event->outcome;
    cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_TRAPPED);
    cr_assert_eq(o->trapped->kind, SBX__TRAP_KIND__TRAP_INT_DIV_ZERO);
    cr_assert_str_eq(o->trapped->message, "integer divide by zero");
    cr_assert_eq(o->trapped->n_frames, 1);
    cr_assert_str_eq(o->trapped->frames[0]->name, "div");
    sbx_ipc_free(&r->base);
    close(fd);
}

/* Kills worker w: the Kill's ack and w's outcome, killed by request, come
 * back in either order. */
static void kill_and_see_it_killed(int fd, uint64_t w)
{
    hd_send_kill(fd, w);
    bool acked = false, ended = false;
    for (int i = 0; i < 2; i++) {
        Sbx__Response *r = response(fd);
        if (r->body_case == SBX__RESPONSE__BODY_ACK) acked = true;
        if (r->body_case == SBX__RESPONSE__BODY_EVENT) {
            cr_assert_eq(r->event->outcome->worker_id, w);
            cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_KILLED);
            cr_assert(r->event->outcome->killed->by_request);
            ended = true;
        }
        sbx_ipc_free(&r->base);
    }
    cr_assert(acked && ended);
}

Test(daemon, timeout_and_kill_end_a_spinning_worker)
{
    int fd = connect_hello();
    char id[65];
    load(fd, RUN_WASM, id);
    hd_spawn(fd, id, "spin", NULL, 0, 200, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_TIMEOUT);
    sbx_ipc_free(&r->base);

    kill_and_see_it_killed(fd, hd_spawn(fd, id, "spin", NULL, 0, 0, NULL));
    close(fd);
}

/* Every worker deadline shares one timer (daemon_deadlines.c): a deadline
 * set after a later one must still fire first, and a Wait whose timeout is
 * 0 is answered at once while the worker runs on. */
Test(daemon, deadlines_fire_in_their_own_order)
{
    int fd = connect_hello();
    char id[65];
    load(fd, RUN_WASM, id);
    uint64_t slow = hd_spawn(fd, id, "spin", NULL, 0, 9000, NULL);
    uint64_t fast = hd_spawn(fd, id, "spin", NULL, 0, 100, NULL);
    /* Armed for the 9 s one first: the 100 ms one must not wait for it. */
    Sbx__Response *r = hd_try_recv(fd, 5000);
    cr_assert_not_null(r, "no outcome within 5 s: the earlier deadline did not fire");
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_EVENT);
    cr_assert_eq(r->event->outcome->worker_id, fast);
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_TIMEOUT);
    sbx_ipc_free(&r->base);

    Sbx__Request req;
    Sbx__Wait w;
    sbx__request__init(&req);
    sbx__wait__init(&w);
    w.has_worker_id = 1, w.worker_id = slow;
    w.has_timeout_ms = 1, w.timeout_ms = 0;
    req.body_case = SBX__REQUEST__BODY_WAIT;
    req.wait = &w;
    uint64_t wait_id = hd_send(fd, &req, NULL, 0);
    r = hd_try_recv(fd, 10000);
    cr_assert_not_null(r, "a Wait with timeout 0 was not answered");
    cr_assert_eq(r->id, wait_id);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__STILL_RUNNING);
    sbx_ipc_free(&r->base);

    kill_and_see_it_killed(fd, slow);
    close(fd);
}

Test(daemon, many_spawns_in_a_row)
{
    int fd = connect_hello();
    char id[65];
    load(fd, RUN_WASM, id);
    for (int i = 0; i < 200; i++) {
        int32_t args[] = {i, 1};
        hd_spawn(fd, id, "add", args, 2, 0, NULL);
        Sbx__Response *r = hd_outcome_event(fd);
        cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_EXITED);
        cr_assert_eq(r->event->outcome->results[0]->i32, i + 1);
        sbx_ipc_free(&r->base);
    }
    close(fd);
}

Test(daemon, bad_requests_get_errors_and_the_daemon_stays_up)
{
    int fd = connect_hello();
    /* Garbage bytes: an error reply naming the problem (or a closed
     * connection), never a dead daemon. */
    const char junk[] = "\x08\x01\x12\xff\xff\xff\xff\x0f garbage";
    sbx_ipc_send_raw(fd, junk, sizeof junk, NULL, 0, 1000);
    Sbx__Response *r = NULL;
    int fds[4];
    size_t nfds = 0;
    int rc =
        sbx_ipc_recv(fd, &sbx__response__descriptor, (ProtobufCMessage **)&r, fds, &nfds, 4, 5000);
    if (rc == 0) {
        cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
        sbx_ipc_free(&r->base);
    }
    /* An unknown module id. */
    int32_t args[] = {1, 2};
    Sbx__Request req;
    Sbx__Spawn sp;
    sbx__request__init(&req);
    sbx__spawn__init(&sp);
    sp.module_id = "0000000000000000000000000000000000000000000000000000000000000000";
    sp.export_name = "add";
    req.body_case = SBX__REQUEST__BODY_SPAWN;
    req.spawn = &sp;
    int fd2 = connect_hello();
    cr_assert_eq(request(fd2, &req, NULL, 0), 0);
    r = response(fd2);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__UNKNOWN_MODULE);
    sbx_ipc_free(&r->base);
    (void)args;
    /* A request before Hello. */
    int fd3 = sbx_ipc_connect(sock_path);
    cr_assert_eq(request(fd3, &req, NULL, 0), 0);
    r = response(fd3);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
    cr_assert_eq(r->error->code, SBX__ERROR_CODE__NOT_HANDSHAKEN);
    sbx_ipc_free(&r->base);
    close(fd);
    close(fd2);
    close(fd3);
    /* Still serving. */
    int fd4 = connect_hello();
    close(fd4);
}

static int zygote_pid(int fd)
{
    Sbx__Request req;
    Sbx__Status st;
    sbx__request__init(&req);
    sbx__status__init(&st);
    req.body_case = SBX__REQUEST__BODY_STATUS;
    req.status = &st;
    cr_assert_eq(request(fd, &req, NULL, 0), 0);
    Sbx__Response *r = response(fd);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_STATUS);
    int pid = r->status->zygote_pid;
    sbx_ipc_free(&r->base);
    return pid;
}

Test(daemon, recovers_from_the_zygote_being_killed)
{
    int fd = connect_hello();
    char id[65];
    load(fd, RUN_WASM, id);
    int old = zygote_pid(fd);
    cr_assert(old > 0);
    kill(old, SIGKILL);
    int now = old;
    for (int i = 0; i < 200 && (now == old || now <= 0); i++) {
        usleep(10000);
        now = zygote_pid(fd);
    }
    cr_assert(now > 0 && now != old, "no new zygote (old %d, now %d)", old, now);
    usleep(50000); /* the reload of the module into the new zygote */
    int32_t args[] = {20, 22};
    hd_spawn(fd, id, "add", args, 2, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_EXITED);
    cr_assert_eq(r->event->outcome->results[0]->i32, 42);
    sbx_ipc_free(&r->base);
    close(fd);
}

Test(daemon, socket_is_private_and_removed_on_sigterm)
{
    struct stat st;
    cr_assert_eq(stat(sock_path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    stop_daemon();
    cr_assert_eq(stat(sock_path, &st), -1);
    cr_assert_eq(errno, ENOENT);
}

/* `sbx --connect PATH run ...`: the command line through the client
 * library, against the same daemon. */
static int connect_cli(const char *args, char *out, size_t outsz)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --connect %s %s 2>&1", SBX_EXE, sock_path, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, outsz - 1, p);
    out[n] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(daemon, command_line_client_runs_and_reports)
{
    char out[4096];
    cr_assert_eq(connect_cli("run --invoke add " RUN_WASM " 40 2", out, sizeof out), 0, "%s", out);
    cr_assert_str_eq(out, "42\n");
    cr_assert_eq(connect_cli("run --invoke div " RUN_WASM " 1 0", out, sizeof out), 134, "%s", out);
    cr_assert(strstr(out, "wasm trap: integer divide by zero"), "%s", out);
    cr_assert_eq(connect_cli("status", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "spawns 2 (warm 0), exited 1, trapped 1"), "%s", out);
}

/* The worker gives up every fd but its stdio and report channel (0-3)
 * before running wasm, is the zygote's child, and is confined (seccomp,
 * no_new_privs, no capabilities, the policy's rlimits): checked from
 * outside, on a live worker, through /proc. */
static bool only_fds_0_to_3(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d) return false;
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) > 3) ok = false;
    closedir(d);
    return ok;
}

Test(daemon, a_live_worker_holds_only_its_own_fds)
{
    int fd = connect_hello();
    char id[65];
    load(fd, RUN_WASM, id);
    int zygote = zygote_pid(fd);
    uint64_t w = 0;
    Sbx__Request req;
    Sbx__Spawn sp;
    sbx__request__init(&req);
    sbx__spawn__init(&sp);
    sp.module_id = id, sp.export_name = "spin";
    req.body_case = SBX__REQUEST__BODY_SPAWN, req.spawn = &sp;
    cr_assert_eq(request(fd, &req, NULL, 0), 0);
    Sbx__Response *r = response(fd);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_SPAWNED);
    pid_t pid = r->spawned->pid;
    w = r->spawned->worker_id;
    sbx_ipc_free(&r->base);
    /* The fds close after instantiation, and its filter comes last of the
     * confinement (before it, /proc shows the steps half done): give the
     * worker a moment. */
    bool ok = false;
    long zygote_filters = hd_proc_status(zygote, "Seccomp_filters"); /* -1: Linux < 5.9 */
    for (int i = 0; i < 100 && !ok; i++) {
        ok = only_fds_0_to_3(pid) && (zygote_filters < 0 || /* its own on top: */
                                      hd_proc_status(pid, "Seccomp_filters") > zygote_filters);
        if (!ok) usleep(10000);
    }
    cr_assert(ok, "worker %d holds fds beyond 0-3, or is not confined", pid);
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    int ppid = -1, seccomp = -1, nnp = -1, confined = 0;
    unsigned long long caps[5] = {1, 1, 1, 1, 1};
    const char *cap_names[5] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "PPid: %d", &ppid);
        sscanf(line, "Seccomp: %d", &seccomp);
        sscanf(line, "NoNewPrivs: %d", &nnp);
        for (int i = 0; i < 5; i++)
            if (!strncmp(line, cap_names[i], strlen(cap_names[i])))
                sscanf(line + strlen(cap_names[i]), "%llx", &caps[i]);
    }
    fclose(f);
    cr_assert_eq(ppid, zygote, "the worker's parent is %d, the zygote %d", ppid, zygote);
    /* Confined, seen from outside: a seccomp filter, no_new_privs, no
     * capability in any set (docs/security.md). */
    cr_assert_eq(seccomp, 2, "Seccomp: %d", seccomp);
    cr_assert_eq(nnp, 1, "NoNewPrivs: %d", nnp);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(caps[i], 0, "%s %llx", cap_names[i], caps[i]);
    /* And its rlimits are the default policy's. */
    snprintf(path, sizeof path, "/proc/%d/limits", pid);
    f = fopen(path, "r");
    cr_assert(f);
    while (fgets(line, sizeof line, f)) {
        unsigned long long soft, hard;
        if (sscanf(line, "Max open files %llu %llu", &soft, &hard) == 2)
            confined += soft == 64 && hard == 64;
        if (sscanf(line, "Max processes %llu %llu", &soft, &hard) == 2)
            confined += soft == 0 && hard == 0;
        if (sscanf(line, "Max core file size %llu %llu", &soft, &hard) == 2)
            confined += soft == 0 && hard == 0;
    }
    fclose(f);
    cr_assert_eq(confined, 3, "the worker's rlimits are not the default policy's");
    hd_send_kill(fd, w);
    close(fd);
}

/* `--group`: the socket is the group's too (mode 0660), the group given by
 * number or by its name in /etc/group; an unknown group is refused before
 * anything listens. Debian's groups 1 and 2 are daemon and bin. */
static struct hd G;

static void stop_group_daemon(void)
{
    hd_stop(&G);
}

TestSuite(socket_group, .fini = stop_group_daemon, .timeout = 30);

static void assert_socket_group(const char *group, gid_t gid)
{
    const char *args[] = {"--group", group, NULL};
    hd_start(&G, NULL, args);
    struct stat st;
    cr_assert_eq(stat(G.sock, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0660);
    cr_assert_eq(st.st_gid, gid, "--group %s: the socket's group is %u", group,
                 (unsigned)st.st_gid);
    hd_stop(&G);
}

Test(socket_group, by_name_or_number)
{
    assert_socket_group("daemon", 1);
    assert_socket_group("2", 2);
}

Test(socket_group, an_unknown_group_is_refused)
{
    char cmd[512], out[512] = "";
    snprintf(cmd, sizeof cmd,
             "%s serve --socket /tmp/sbx-no-such-group.sock --group no-such-group 2>&1", SBX_EXE);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "the daemon started: %s", out);
    cr_assert(strstr(out, "no group no-such-group"), "%s", out);
}
