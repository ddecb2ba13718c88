/* tests/client/fake_server.c: the scripted server of fake_server.h. */
#include "tests/client/fake_server.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc/socket.h"

int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;
}

bool fake_failed(struct fake *f, const char *fmt, ...)
{
    if (f->failure[0]) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->failure, sizeof(f->failure), fmt, ap);
    va_end(ap);
    return false;
}

static void *run(void *arg)
{
    struct fake *f = arg;
    f->script(f);
    return NULL;
}

void fake_start(struct fake *f, fake_script script)
{
    fake_start_data(f, script, NULL);
}

void fake_hang_up(struct fake *f)
{
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

void fake_start_data(struct fake *f, fake_script script, void *data)
{
    memset(f, 0, sizeof(*f));
    f->data = data;
    int sv[2];
    cr_assert_eq(sbx_ipc_pair(sv), 0);
    f->client_fd = sv[0];
    f->fd = sv[1];
    f->script = script;
    cr_assert_eq(pthread_create(&f->thread, NULL, run, f), 0);
}

void fake_join(struct fake *f)
{
    pthread_join(f->thread, NULL);
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

struct sbx_client *fake_connect(struct fake *f, fake_script script)
{
    fake_start(f, script);
    struct sbx_client *c = NULL;
    struct sbx_client_error err;
    int rc = sbx_connect_fd(f->client_fd, "test", &c, &err);
    cr_assert_eq(rc, 0, "connect: %d %s", rc, err.message);
    cr_assert_not_null(c);
    /* A script that fails stops answering: the test then fails on a
     * timeout instead of hanging. */
    cr_assert_eq(sbx_set_request_timeout(c, 5000), 0);
    return c;
}

Sbx__Request *fake_recv(struct fake *f, int *fds, size_t *nfds)
{
    if (f->failure[0]) return NULL;
    Sbx__Request *req;
    struct sbx_ipc_reject why;
    int rc = sbx_ipc_recv_request(f->fd, &req, fds, nfds, 5000, &why);
    if (rc == -EBADMSG) {
        fake_failed(f, "the client sent an invalid request: %s", why.message);
        return NULL;
    }
    if (rc) {
        fake_failed(f, "receiving a request: %s", strerror(-rc));
        return NULL;
    }
    return req;
}

Sbx__Request *fake_expect(struct fake *f, Sbx__Request__BodyCase kind)
{
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds;
    Sbx__Request *req = fake_recv(f, fds, &nfds);
    if (!req) return NULL;
    if (req->body_case != kind || nfds) {
        fake_failed(f, "expected request kind %d with no fds, got kind %d with %zu fds", kind,
                    req->body_case, nfds);
        sbx_ipc_close_fds(fds, nfds);
        sbx_ipc_free(&req->base);
        return NULL;
    }
    return req;
}

bool fake_send(struct fake *f, Sbx__Response *r)
{
    if (f->failure[0]) return false;
    int rc = sbx_ipc_send(f->fd, &r->base, NULL, 0, 5000);
    if (rc) return fake_failed(f, "sending a response: %s", strerror(-rc));
    return true;
}

bool fake_send_raw(struct fake *f, const void *buf, size_t len, const int *fds, size_t nfds)
{
    if (f->failure[0]) return false;
    int rc = sbx_ipc_send_raw(f->fd, buf, len, fds, nfds, 5000);
    if (rc) return fake_failed(f, "sending raw bytes: %s", strerror(-rc));
    return true;
}

static void response(Sbx__Response *r, uint64_t id)
{
    sbx__response__init(r);
    r->has_id = 1;
    r->id = id;
}

bool fake_handshake(struct fake *f)
{
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_HELLO);
    if (!req) return false;
    f->ints[7] = (int)req->hello->protocol_version;
    snprintf(f->text, sizeof(f->text), "%s",
             req->hello->client_name ? req->hello->client_name : "");
    Sbx__Response r;
    Sbx__Welcome w;
    response(&r, req->id);
    sbx__welcome__init(&w);
    r.body_case = SBX__RESPONSE__BODY_WELCOME;
    r.welcome = &w;
    w.has_protocol_version = 1;
    w.protocol_version = 1;
    w.server_version = "0.1.0-fake";
    w.has_supervisor_pid = 1;
    w.supervisor_pid = 4242;
    w.has_max_message_bytes = 1;
    w.max_message_bytes = SBX_IPC_MAX_MESSAGE;
    w.has_max_inline_module_bytes = 1;
    w.max_inline_module_bytes = SBX_IPC_MAX_INLINE_MODULE;
    w.has_max_fds_per_message = 1;
    w.max_fds_per_message = SBX_IPC_MAX_FDS;
    sbx_ipc_free(&req->base);
    return fake_send(f, &r);
}

bool fake_send_ack(struct fake *f, uint64_t id)
{
    Sbx__Response r;
    Sbx__Ack a;
    response(&r, id);
    sbx__ack__init(&a);
    r.body_case = SBX__RESPONSE__BODY_ACK;
    r.ack = &a;
    return fake_send(f, &r);
}

bool fake_send_error(struct fake *f, uint64_t id, Sbx__ErrorCode code, const char *message)
{
    Sbx__Response r;
    Sbx__Error e;
    response(&r, id);
    sbx__error__init(&e);
    r.body_case = SBX__RESPONSE__BODY_ERROR;
    r.error = &e;
    e.has_code = 1;
    e.code = code;
    e.message = (char *)message;
    return fake_send(f, &r);
}

bool fake_send_spawned(struct fake *f, uint64_t id, uint64_t worker_id, int pid)
{
    Sbx__Response r;
    Sbx__Spawned s;
    response(&r, id);
    sbx__spawned__init(&s);
    r.body_case = SBX__RESPONSE__BODY_SPAWNED;
    r.spawned = &s;
    s.has_worker_id = 1;
    s.worker_id = worker_id;
    s.has_pid = 1;
    s.pid = pid;
    return fake_send(f, &r);
}

bool fake_send_exited(struct fake *f, uint64_t id, uint64_t worker_id, int code)
{
    Sbx__Response r;
    Sbx__Event ev;
    Sbx__Outcome o;
    Sbx__Exited ex;
    Sbx__Usage u;
    response(&r, id);
    sbx__event__init(&ev);
    sbx__outcome__init(&o);
    sbx__exited__init(&ex);
    sbx__usage__init(&u);
    o.has_worker_id = 1;
    o.worker_id = worker_id;
    o.kind_case = SBX__OUTCOME__KIND_EXITED;
    o.exited = &ex;
    ex.has_code = 1;
    ex.code = code;
    o.usage = &u;
    u.has_wall_us = 1;
    u.wall_us = 1234;
    u.has_max_rss_kb = 1;
    u.max_rss_kb = 2048;
    if (id == 0) {
        r.has_id = 0;
        r.body_case = SBX__RESPONSE__BODY_EVENT;
        r.event = &ev;
        ev.body_case = SBX__EVENT__BODY_OUTCOME;
        ev.outcome = &o;
    } else {
        r.body_case = SBX__RESPONSE__BODY_OUTCOME;
        r.outcome = &o;
    }
    return fake_send(f, &r);
}
