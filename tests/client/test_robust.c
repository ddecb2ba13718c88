/* tests/client/test_robust.c: a buggy or hostile server. Garbage, fds the
 * client did not ask for, answers to requests never sent or of the wrong
 * type, unknown fields and enum values, outcomes for workers that are not
 * this client's, a hang-up in the middle of a request, an answer that comes
 * too late. Each ends in a clean error (and, for protocol breaches, a
 * connection that refuses further calls), never a crash, and no fd
 * leaks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/client/fake_server.h"

/* Handshake, then receive one Kill and answer it by `answer`. */
typedef void (*answer_fn)(struct fake *f, uint64_t id);

static void script_answer_kill(struct fake *f)
{
    if (!fake_handshake(f)) return;
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_KILL);
    if (!req) return;
    ((answer_fn)f->data)(f, req->id);
    sbx_ipc_free(&req->base);
}

/* Runs a Kill against `answer`; expects `want_rc` and `want_code`, and
 * that a second call fails the same way without talking to the server. */
static void kill_against(answer_fn answer, int want_rc, int want_code, const char *want_text)
{
    int before = count_fds();
    struct fake f;
    fake_start_data(&f, script_answer_kill, (void *)answer);
    struct sbx_client *c;
    struct sbx_client_error err;
    cr_assert_eq(sbx_connect_fd(f.client_fd, NULL, &c, &err), 0, "%s", err.message);
    int rc = sbx_kill(c, 5, &err);
    fake_join(&f);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(rc, want_rc, "rc %d (%s)", rc, err.message);
    cr_assert_eq(err.code, want_code, "code %d (%s)", err.code, err.message);
    if (want_text) cr_assert(strstr(err.message, want_text), "%s", err.message);
    struct sbx_client_error again;
    cr_assert_eq(sbx_kill(c, 5, &again), want_rc, "later calls fail the same way");
    cr_assert(strstr(again.message, "unusable"), "%s", again.message);
    sbx_disconnect(c);
    cr_assert_eq(count_fds(), before, "no fd leaked");
}

static void answer_garbage(struct fake *f, uint64_t id)
{
    (void)id;
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99, 0x01, 0x02};
    fake_send_raw(f, junk, sizeof(junk), NULL, 0);
}

Test(robust, garbage)
{
    kill_against(answer_garbage, -EPROTO, SBX_ERROR_PROTOCOL, "malformed");
}

static void answer_with_fds(struct fake *f, uint64_t id)
{
    /* A valid Ack, with three fds nobody asked for. */
    Sbx__Response r;
    Sbx__Ack a;
    sbx__response__init(&r);
    sbx__ack__init(&a);
    r.has_id = 1;
    r.id = id;
    r.body_case = SBX__RESPONSE__BODY_ACK;
    r.ack = &a;
    int p[2];
    if (pipe2(p, O_CLOEXEC)) {
        fake_failed(f, "pipe");
        return;
    }
    int fds[3] = {p[0], p[1], p[0]};
    if (sbx_ipc_send(f->fd, &r.base, fds, 3, 1000)) fake_failed(f, "send with fds");
    close(p[0]);
    close(p[1]);
}

Test(robust, fds_nobody_asked_for_are_closed)
{
    kill_against(answer_with_fds, -EPROTO, SBX_ERROR_PROTOCOL, NULL);
}

static void answer_wrong_id(struct fake *f, uint64_t id)
{
    fake_send_ack(f, id + 1000);
}

Test(robust, answer_to_a_request_never_sent)
{
    kill_against(answer_wrong_id, -EPROTO, SBX_ERROR_PROTOCOL, "never sent");
}

static void answer_wrong_type(struct fake *f, uint64_t id)
{
    fake_send_spawned(f, id, 1, 1);
}

Test(robust, answer_of_the_wrong_type)
{
    kill_against(answer_wrong_type, -EPROTO, SBX_ERROR_PROTOCOL, "wrong message type");
}

static void answer_unknown_field(struct fake *f, uint64_t id)
{
    Sbx__Response r;
    Sbx__Ack a;
    sbx__response__init(&r);
    sbx__ack__init(&a);
    r.has_id = 1;
    r.id = id;
    r.body_case = SBX__RESPONSE__BODY_ACK;
    r.ack = &a;
    uint8_t buf[64];
    size_t n = sbx__response__pack(&r, buf);
    /* Field 100, varint 1: tag (100 << 3 | 0) = 800 = 0xa0 0x06. */
    buf[n++] = 0xa0;
    buf[n++] = 0x06;
    buf[n++] = 0x01;
    fake_send_raw(f, buf, n, NULL, 0);
}

Test(robust, unknown_field)
{
    kill_against(answer_unknown_field, -EPROTO, SBX_ERROR_PROTOCOL, "unknown field 100");
}

static void answer_unknown_error_code(struct fake *f, uint64_t id)
{
    fake_send_error(f, id, (Sbx__ErrorCode)99, "from the future");
}

Test(robust, unknown_enum_value)
{
    kill_against(answer_unknown_error_code, -EPROTO, SBX_ERROR_PROTOCOL, "unknown value 99");
}

static void answer_empty_body(struct fake *f, uint64_t id)
{
    Sbx__Response r;
    sbx__response__init(&r);
    r.has_id = 1;
    r.id = id;
    fake_send(f, &r);
}

Test(robust, answer_without_a_body)
{
    kill_against(answer_empty_body, -EPROTO, SBX_ERROR_PROTOCOL, "no body");
}

static void answer_stray_event(struct fake *f, uint64_t id)
{
    fake_send_exited(f, 0, 12345, 0); /* no worker 12345 was spawned here */
    fake_send_ack(f, id);
}

Test(robust, outcome_for_a_worker_not_ours)
{
    kill_against(answer_stray_event, -EPROTO, SBX_ERROR_PROTOCOL, "12345");
}

static void answer_hang_up(struct fake *f, uint64_t id)
{
    (void)id;
    fake_hang_up(f);
}

Test(robust, hang_up_mid_request)
{
    kill_against(answer_hang_up, -EPIPE, SBX_ERROR_CONNECTION, "closed the connection");
}

static void answer_server_error(struct fake *f, uint64_t id)
{
    fake_send_error(f, id, SBX__ERROR_CODE__UNKNOWN_WORKER, "no worker 5");
}

Test(robust, server_error_keeps_the_connection)
{
    int before = count_fds();
    struct fake f;
    fake_start_data(&f, script_answer_kill, (void *)answer_server_error);
    struct sbx_client *c;
    struct sbx_client_error err;
    cr_assert_eq(sbx_connect_fd(f.client_fd, NULL, &c, &err), 0, "%s", err.message);
    cr_assert_eq(sbx_kill(c, 5, &err), -ESRCH);
    cr_assert_eq(err.code, SBX_ERROR_UNKNOWN_WORKER);
    cr_assert_str_eq(err.message, "kill: UNKNOWN_WORKER: no worker 5");
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_eq(count_fds(), before);
}

/* Every server code maps to its errno. */
static void answer_code(struct fake *f, uint64_t id)
{
    fake_send_error(f, id, (Sbx__ErrorCode)f->ints[0], "x");
}

static void script_codes(struct fake *f)
{
    if (!fake_handshake(f)) return;
    for (int code = 1; code <= 14; code++) {
        Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_KILL);
        if (!req) return;
        f->ints[0] = code;
        answer_code(f, req->id);
        sbx_ipc_free(&req->base);
    }
}

Test(robust, every_server_code_has_its_errno)
{
    static const int want[15] = {0,      EINVAL,    ENOENT,          ESRCH,  E2BIG,
                                 EBUSY,  EREMOTEIO, EPROTONOSUPPORT, EPROTO, ENOEXEC,
                                 EACCES, ETIMEDOUT, EBADFD,          EIO,    EOPNOTSUPP};
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_codes);
    for (int code = 1; code <= 14; code++) {
        struct sbx_client_error err;
        cr_assert_eq(sbx_kill(c, 1, &err), -want[code], "code %d", code);
        cr_assert_eq(err.code, code);
        cr_assert_str_neq(sbx_error_code_name(code), "UNKNOWN");
    }
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
}

/* The server answers the first Kill only after the client gave up, and
 * then the second normally: the late answer is recognised and dropped. */
static void script_late(struct fake *f)
{
    if (!fake_handshake(f)) return;
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_KILL);
    if (!req) return;
    uint64_t first = req->id;
    sbx_ipc_free(&req->base);
    req = fake_expect(f, SBX__REQUEST__BODY_KILL); /* sent after the timeout */
    if (!req) return;
    fake_send_ack(f, first);
    fake_send_error(f, req->id, SBX__ERROR_CODE__UNKNOWN_WORKER, "second");
    sbx_ipc_free(&req->base);
}

Test(robust, late_answer_after_a_timeout)
{
    int before = count_fds();
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_late);
    cr_assert_eq(sbx_set_request_timeout(c, 0), -EINVAL);
    cr_assert_eq(sbx_set_request_timeout(c, 100), 0);
    struct sbx_client_error err;
    cr_assert_eq(sbx_kill(c, 1, &err), -ETIMEDOUT);
    cr_assert_eq(err.code, SBX_ERROR_TIMEOUT);
    cr_assert_eq(sbx_kill(c, 2, &err), -ESRCH, "%s", err.message);
    cr_assert_str_eq(err.message, "kill: UNKNOWN_WORKER: second");
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
    cr_assert_eq(count_fds(), before);
}

/* A Wait whose caller gave up: its late Outcome is kept for sbx_wait. */
static void script_late_wait(struct fake *f)
{
    if (!fake_handshake(f)) return;
    Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_WAIT);
    if (!req) return;
    uint64_t first = req->id;
    sbx_ipc_free(&req->base);
    req = fake_expect(f, SBX__REQUEST__BODY_STATUS);
    if (!req) return;
    fake_send_exited(f, first, 77, 5); /* the Wait's answer, late */
    fake_send_error(f, req->id, SBX__ERROR_CODE__INTERNAL, "no status today");
    sbx_ipc_free(&req->base);
}

Test(robust, late_wait_answer_is_kept)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_late_wait);
    struct sbx_client_error err;
    struct sbx_outcome out;
    /* Wait 0 ms plus the 1 s grace, unanswered. */
    cr_assert_eq(sbx_wait(c, 77, 0, &out, &err), -ETIMEDOUT, "%s", err.message);
    struct sbx_status st;
    cr_assert_eq(sbx_status(c, &st, &err), -EREMOTEIO);
    fake_join(&f);
    cr_assert_eq(sbx_wait(c, 77, 0, &out, &err), 0, "%s", err.message);
    cr_assert_eq(out.exit_code, 5);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
}

/* Outcomes kept but never collected are freed by sbx_disconnect (the ASan
 * build checks). */
static void script_unclaimed(struct fake *f)
{
    if (!fake_handshake(f)) return;
    for (int i = 1; i <= 50; i++) {
        Sbx__Request *req = fake_expect(f, SBX__REQUEST__BODY_SPAWN);
        if (!req) return;
        fake_send_spawned(f, req->id, (uint64_t)i, i);
        fake_send_exited(f, 0, (uint64_t)i, i);
        sbx_ipc_free(&req->base);
    }
}

Test(robust, unclaimed_outcomes_are_freed)
{
    struct fake f;
    struct sbx_client *c = fake_connect(&f, script_unclaimed);
    struct sbx_client_error err;
    uint64_t wid;
    for (int i = 0; i < 50; i++)
        cr_assert_eq(sbx_spawn(c, FAKE_MODULE_ID, NULL, &wid, NULL, &err), 0, "%s", err.message);
    fake_join(&f);
    sbx_disconnect(c);
    cr_assert_str_empty(f.failure, "%s", f.failure);
}
