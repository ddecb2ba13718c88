/* WASI programs through the daemon (libsbx -> sbx serve -> confined
 * worker): the guest's argv and stdio, a preopen granted by the daemon's
 * policy and requested by the spawn, path calls served by the daemon's
 * broker, and a spawn that asks for more than the policy grants refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/client/fake_server.h"
#include "tests/client/real_daemon.h"

static char data[64], policy[128];

static void setup(void)
{
    snprintf(data, sizeof data, "/tmp/sbx-wasi-spawn-XXXXXX");
    cr_assert_not_null(mkdtemp(data));
    char path[128];
    snprintf(path, sizeof path, "%s/f", data);
    FILE *f = fopen(path, "w");
    fputs("x\n", f);
    fclose(f);
    snprintf(policy, sizeof policy, "%s.json", data);
    f = fopen(policy, "w");
    fprintf(f,
            "{\"limits\": {\"max_open_fds\": 32},"
            " \"preopens\": [{\"host_path\": \"%s\", \"guest_path\": \"/d\"}]}",
            data);
    fclose(f);
    start_daemon_with_policy(policy);
}

static void teardown(void)
{
    stop_daemon();
    char path[128];
    snprintf(path, sizeof path, "%s/f", data);
    unlink(path);
    rmdir(data);
    unlink(policy);
}

TestSuite(wasi_spawn, .init = setup, .fini = teardown, .timeout = 60);

/* Runs limit_fds.wasm /d/f with the given preopens; its stdout in out. */
static int run_fds(const struct sbx_preopen *pre, size_t npre, struct sbx_outcome *o, char *out,
                   size_t outsz, struct sbx_client_error *err)
{
    struct sbx_client *c = connect_or_fail();
    char id[SBX_MODULE_ID_SIZE];
    cr_assert_eq(sbx_load_file(c, WASI_PROGS "/limit_fds.wasm", NULL, id, NULL, err), 0, "%s",
                 err->message);
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    const char *argv[] = {"limit_fds", "/d/f"};
    struct sbx_spawn_options so = SBX_SPAWN_OPTIONS_INIT;
    so.argv = argv, so.argc = 2;
    so.stdout_fd = pipefd[1];
    so.preopens = pre, so.npreopens = npre;
    uint64_t w;
    int rc = sbx_spawn(c, id, &so, &w, NULL, err);
    close(pipefd[1]);
    if (rc == 0) rc = sbx_wait(c, w, 20000, o, err);
    ssize_t n = rc == 0 ? read(pipefd[0], out, outsz - 1) : 0;
    out[n > 0 ? n : 0] = 0;
    close(pipefd[0]);
    sbx_disconnect(c);
    return rc;
}

Test(wasi_spawn, the_broker_serves_a_granted_preopen)
{
    struct sbx_preopen pre = {.host_path = data, .guest_path = "/d", .read_only = true};
    struct sbx_outcome o;
    struct sbx_client_error err;
    char out[256];
    cr_assert_eq(run_fds(&pre, 1, &o, out, sizeof out, &err), 0, "%s", err.message);
    cr_assert_eq(o.kind, SBX_OUTCOME_EXITED, "%s", sbx_outcome_kind_name(o.kind));
    cr_assert_eq(o.exit_code, 0);
    /* The policy's 32 fds, less stdio, the channel and the preopen's. */
    int opened = -1;
    cr_assert_eq(sscanf(out, "opened %d, then:", &opened), 1, "%s", out);
    cr_assert(opened > 10 && opened < 32, "%d opened: %s", opened, out);
    cr_assert(strstr(out, "No file descriptors available"), "%s", out);
}

Test(wasi_spawn, the_policy_preopen_is_the_default)
{
    struct sbx_outcome o;
    struct sbx_client_error err;
    char out[256];
    cr_assert_eq(run_fds(NULL, 0, &o, out, sizeof out, &err), 0, "%s", err.message);
    cr_assert_eq(o.kind, SBX_OUTCOME_EXITED);
    cr_assert(strncmp(out, "opened ", 7) == 0 && strncmp(out, "opened 0,", 9) != 0, "%s", out);
}

Test(wasi_spawn, a_preopen_outside_the_policy_is_refused)
{
    struct sbx_preopen pre = {.host_path = "/etc", .guest_path = "/d"};
    struct sbx_outcome o;
    struct sbx_client_error err;
    char out[256];
    int rc = run_fds(&pre, 1, &o, out, sizeof out, &err);
    cr_assert_eq(rc, -EINVAL, "%d %s", rc, err.message);
    cr_assert_eq(err.code, SBX_ERROR_BAD_REQUEST);
    cr_assert(strstr(err.message, "preopens"), "the error names the field: %s", err.message);
}

/* Sockets handed to the guest: refused unless the policy allows the
 * sockets group; then the guest talks over it through WASI sock_*. */
Test(wasi_spawn, sockets_only_where_the_policy_allows_them)
{
    struct sbx_client *c = connect_or_fail();
    struct sbx_client_error err;
    char id[SBX_MODULE_ID_SIZE];
    cr_assert_eq(sbx_load_file(c, WASI_PROGS "/sock_echo.wasm", NULL, id, NULL, &err), 0, "%s",
                 err.message);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct sbx_spawn_options so = SBX_SPAWN_OPTIONS_INIT;
    so.socket_fds = &sv[1], so.nsockets = 1;
    uint64_t w;
    int rc = sbx_spawn(c, id, &so, &w, NULL, &err);
    cr_assert_eq(rc, -EINVAL, "%d %s", rc, err.message);
    cr_assert(strstr(err.message, "SYSCALL_GROUP_SOCKETS"), "%s", err.message);
    close(sv[0]), close(sv[1]);
    sbx_disconnect(c);
}

/* A daemon whose policy allows the sockets group, for each test. */
static char sockets_policy[] = "/tmp/sbx-wasi-sock-XXXXXX";

static void sockets_setup(void)
{
    int pfd = mkstemp(sockets_policy);
    cr_assert_geq(pfd, 0);
    const char *text = "{\"syscalls\": {\"allow\": [\"SYSCALL_GROUP_SOCKETS\"]}}";
    cr_assert_eq(write(pfd, text, strlen(text)), (ssize_t)strlen(text));
    close(pfd);
    start_daemon_with_policy(sockets_policy);
}

static void sockets_teardown(void)
{
    stop_daemon();
    unlink(sockets_policy);
}

TestSuite(wasi_sockets, .init = sockets_setup, .fini = sockets_teardown, .timeout = 60);

Test(wasi_sockets, the_guest_talks_over_a_handed_in_socket)
{
    struct sbx_client *c = connect_or_fail();
    struct sbx_client_error err;
    char id[SBX_MODULE_ID_SIZE];
    cr_assert_eq(sbx_load_file(c, WASI_PROGS "/sock_echo.wasm", NULL, id, NULL, &err), 0, "%s",
                 err.message);
    int sv[2], out[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(pipe(out), 0);
    struct sbx_spawn_options so = SBX_SPAWN_OPTIONS_INIT;
    so.socket_fds = &sv[1], so.nsockets = 1;
    so.stdout_fd = out[1];
    uint64_t w;
    cr_assert_eq(sbx_spawn(c, id, &so, &w, NULL, &err), 0, "%s", err.message);
    close(sv[1]), close(out[1]);
    char buf[64] = {0};
    cr_assert_eq(read(sv[0], buf, 4), 4);
    cr_assert_str_eq(buf, "ping");
    cr_assert_eq(write(sv[0], "PONG", 4), 4);
    struct sbx_outcome o;
    cr_assert_eq(sbx_wait(c, w, 20000, &o, &err), 0, "%s", err.message);
    cr_assert_eq(o.kind, SBX_OUTCOME_EXITED, "%s: %s", sbx_outcome_kind_name(o.kind), o.message);
    cr_assert_eq(o.exit_code, 0);
    cr_assert_eq(read(sv[0], buf, sizeof buf), 0, "the guest shut its side down");
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    cr_assert(strstr(buf, "got 'PONG'"), "%s", buf);
    close(sv[0]), close(out[0]);
    sbx_disconnect(c);
}

/* A client of the guest's listener: connects and sends one line. */
static void *connect_and_send(void *arg)
{
    const struct sockaddr_un *addr = arg;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof *addr)) return NULL;
    static const char line[] = "hello from client\n";
    if (write(fd, line, sizeof line - 1) < 0) return NULL;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
    return NULL;
}

/* sock_accept through the daemon: the worker accepts on a listening socket
 * the host handed in (the zygote's own filter, which the worker inherits,
 * must not refuse accept4 where the worker's policy allows it). */
Test(wasi_sockets, the_guest_accepts_on_a_handed_in_listener)
{
    struct sbx_client *c = connect_or_fail();
    struct sbx_client_error err;
    char id[SBX_MODULE_ID_SIZE];
    cr_assert_eq(sbx_load_file(c, WASI_PROGS "/accept.wasm", NULL, id, NULL, &err), 0, "%s",
                 err.message);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/sbx-accept-%d.sock", (int)getpid());
    unlink(addr.sun_path);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(l, 0);
    cr_assert_eq(bind(l, (struct sockaddr *)&addr, sizeof addr), 0, "%s", strerror(errno));
    cr_assert_eq(listen(l, 4), 0);
    pthread_t client;
    cr_assert_eq(pthread_create(&client, NULL, connect_and_send, &addr), 0);
    int out[2];
    cr_assert_eq(pipe(out), 0);
    const char *argv[] = {"accept", "3"}; /* no preopens: the listener is guest fd 3 */
    struct sbx_spawn_options so = SBX_SPAWN_OPTIONS_INIT;
    so.argv = argv, so.argc = 2;
    so.socket_fds = &l, so.nsockets = 1;
    so.stdout_fd = out[1];
    struct sbx_outcome o;
    int rc = sbx_run(c, id, &so, &o, &err);
    /* Closing the listener ends a connection nobody accepted: the client
     * thread's read returns then, whatever the guest did. */
    close(l);
    pthread_join(client, NULL);
    close(out[1]);
    cr_assert_eq(rc, 0, "%s", err.message);
    char buf[256] = {0};
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    cr_assert_eq(o.kind, SBX_OUTCOME_EXITED, "%s: %s (stdout: %s)", sbx_outcome_kind_name(o.kind),
                 o.message, buf);
    cr_assert_eq(o.exit_code, 0, "stdout: %s", buf);
    cr_assert(strstr(buf, "got 'hello from client"), "%s", buf);
    close(out[0]);
    unlink(addr.sun_path);
    sbx_disconnect(c);
}
