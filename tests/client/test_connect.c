/* tests/client/test_connect.c: connecting and the Hello/Welcome handshake:
 * success over a socketpair and over a listening socket path, a server that
 * refuses the version or answers with another one, a missing socket; no
 * path leaks an fd. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/socket.h"
#include "tests/client/fake_server.h"

static void script_handshake(struct fake *f)
{
    fake_handshake(f);
    /* Stay until the client hangs up. */
    int fds[SBX_IPC_MAX_FDS];
    size_t n;
    Sbx__Request *r;
    struct sbx_ipc_reject why;
    if (sbx_ipc_recv_request(f->fd, &r, fds, &n, 5000, &why) != -EPIPE)
        fake_failed(f, "expected the client to hang up");
}

Test(connect, handshake_over_a_socketpair)
{
    int before = count_fds();
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_handshake);
    struct sbx_server_info info;
    sbx_server_info(c, &info);
    cr_assert_eq(info.protocol_version, 1);
    cr_assert_str_eq(info.server_version, "0.1.0-fake");
    cr_assert_eq(info.supervisor_pid, 4242);
    cr_assert_eq(info.max_inline_module_bytes, 64 * 1024);
    cr_assert_eq(info.max_fds_per_message, SBX_IPC_MAX_FDS);
    cr_assert_geq(sbx_client_fd(c), 0);
    sbx_disconnect(c);
    fake_join(&f);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(f.ints[7], SBX_PROTOCOL_VERSION, "Hello carried the library's version");
    cr_assert_str_eq(f.text, "test", "Hello carried the client name");
    cr_assert_eq(count_fds(), before);
}

struct listen_ctx {
    struct fake f;
    int listen_fd;
};

static void script_accept(struct fake *f)
{
    struct listen_ctx *l = f->data;
    int fd = sbx_ipc_accept(l->listen_fd, 5000);
    if (fd < 0) {
        fake_failed(f, "accept: %s", strerror(-fd));
        return;
    }
    close(f->fd); /* the unused pair from fake_start */
    f->fd = fd;
    script_handshake(f);
}

Test(connect, by_socket_path)
{
    char dir[] = "/tmp/sbx-client-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/sock", dir);
    int lfd = sbx_ipc_listen(path, 0600, (gid_t)-1, 4);
    cr_assert_geq(lfd, 0);
    int before = count_fds();

    static struct listen_ctx l;
    l.listen_fd = lfd;
    fake_start_data(&l.f, script_accept, &l);
    close(l.f.client_fd);
    struct sbx_client *c = NULL;
    struct sbx_client_error err;
    int rc = sbx_connect(path, NULL, &c, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    cr_assert_eq(err.code, SBX_ERROR_NONE);
    sbx_disconnect(c);
    fake_join(&l.f);
    cr_assert_str_empty(l.f.failure, "%s", l.f.failure);
    cr_assert_str_eq(l.f.text, "libsbx", "default client name");
    cr_assert_eq(count_fds(), before);
    close(lfd);
    unlink(path);
    rmdir(dir);
}

Test(connect, missing_socket_is_a_connection_error)
{
    int before = count_fds();
    struct sbx_client *c = (struct sbx_client *)1;
    struct sbx_client_error err;
    int rc = sbx_connect("/nonexistent/sbx.sock", NULL, &c, &err);
    cr_assert_eq(rc, -ENOENT);
    cr_assert_null(c);
    cr_assert_eq(err.code, SBX_ERROR_CONNECTION);
    cr_assert(strstr(err.message, "/nonexistent/sbx.sock"), "%s", err.message);
    cr_assert_eq(count_fds(), before);
}

static void script_refuse_version(struct fake *f)
{
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_HELLO);
    if (!req) return;
    fake_send_error(f, req->id, SBX__ERROR_CODE__UNSUPPORTED_VERSION, "this server speaks 2");
    sbx_ipc_free(&req->base);
}

Test(connect, version_refused_by_the_server)
{
    int before = count_fds();
    struct fake f;
    fake_start(&f, script_refuse_version);
    struct sbx_client *c = (struct sbx_client *)1;
    struct sbx_client_error err;
    int rc = sbx_connect_fd(f.client_fd, "test", &c, &err);
    fake_join(&f);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(rc, -EPROTONOSUPPORT);
    cr_assert_null(c);
    cr_assert_eq(err.code, SBX_ERROR_UNSUPPORTED_VERSION);
    cr_assert(strstr(err.message, "this server speaks 2"), "%s", err.message);
    cr_assert_str_eq(sbx_error_code_name(err.code), "UNSUPPORTED_VERSION");
    cr_assert_eq(count_fds(), before, "the client's end was closed");
}

static void script_other_version(struct fake *f)
{
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_HELLO);
    if (!req) return;
    Sbx__Response r;
    Sbx__Welcome w;
    sbx__response__init(&r);
    sbx__welcome__init(&w);
    r.has_id = 1;
    r.id = req->id;
    r.body_case = SBX__RESPONSE__BODY_WELCOME;
    r.welcome = &w;
    w.has_protocol_version = 1;
    w.protocol_version = 7;
    fake_send(f, &r);
    sbx_ipc_free(&req->base);
}

Test(connect, welcome_with_another_version)
{
    int before = count_fds();
    struct fake f;
    fake_start(&f, script_other_version);
    struct sbx_client *c;
    struct sbx_client_error err;
    int rc = sbx_connect_fd(f.client_fd, NULL, &c, &err);
    fake_join(&f);
    cr_assert_eq(rc, -EPROTONOSUPPORT);
    cr_assert_eq(err.code, SBX_ERROR_UNSUPPORTED_VERSION);
    cr_assert(strstr(err.message, "version 7"), "%s", err.message);
    cr_assert_eq(count_fds(), before);
}

static void script_hang_up(struct fake *f)
{
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_HELLO);
    sbx_ipc_free(req ? &req->base : NULL);
    fake_hang_up(f);
}

Test(connect, server_hangs_up_during_the_handshake)
{
    int before = count_fds();
    struct fake f;
    fake_start(&f, script_hang_up);
    struct sbx_client *c;
    struct sbx_client_error err;
    /* The script hangs up while the client waits for the Welcome. */
    int rc = sbx_connect_fd(f.client_fd, NULL, &c, &err);
    fake_join(&f);
    cr_assert(rc == -EPIPE, "%d %s", rc, err.message);
    cr_assert_eq(err.code, SBX_ERROR_CONNECTION);
    cr_assert_eq(count_fds(), before);
}

Test(connect, bad_arguments)
{
    struct sbx_client *c;
    struct sbx_client_error err;
    cr_assert_eq(sbx_connect(NULL, NULL, &c, &err), -EINVAL);
    cr_assert_eq(err.code, SBX_ERROR_INVALID_ARGUMENT);
    char name[300];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    int sv[2];
    cr_assert_eq(sbx_ipc_pair(sv), 0);
    int before = count_fds();
    cr_assert_eq(sbx_connect_fd(sv[0], name, &c, NULL), -EINVAL);
    cr_assert_eq(count_fds(), before - 1, "the fd was taken and closed");
    close(sv[1]);
}
