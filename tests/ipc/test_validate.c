/* tests/ipc/test_validate.c: every check on untrusted requests and worker
 * reports, one table row per rule: a valid message is broken in one way and
 * must be refused with the expected code and a message naming the field. */
#include "tests/ipc/helpers.h"

struct fixture {
    Sbx__Request *req; /* a valid Spawn with one stdio fd */
    Sbx__Spawn *spawn; /* req->spawn, kept: breakers may switch the body */
    size_t nfds;
    char *argv_big[SBX_IPC_MAX_ARGV + 1];
    char *long_str;
    Sbx__ResourceLimits limits;
    Sbx__Value values[SBX_IPC_MAX_VALUES + 1];
    Sbx__Value *vptr[SBX_IPC_MAX_VALUES + 1];
    Sbx__LoadModule load;
    Sbx__Hello hello;
    Sbx__Wait wait;
};

typedef void (*breaker)(struct fixture *f);

struct row {
    const char *name;
    breaker brk;
    Sbx__ErrorCode code;
    const char *field; /* must appear in the message */
};

static void b_id_zero(struct fixture *f)
{
    f->req->id = 0;
}
static void b_no_body(struct fixture *f)
{
    f->req->body_case = SBX__REQUEST__BODY__NOT_SET;
}
static void b_module_id_short(struct fixture *f)
{
    f->req->spawn->module_id = "abc";
}
static void b_module_id_upper(struct fixture *f)
{
    f->req->spawn->module_id = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
}
static void b_too_many_argv(struct fixture *f)
{
    for (size_t i = 0; i <= SBX_IPC_MAX_ARGV; i++)
        f->argv_big[i] = "a";
    f->req->spawn->argv = f->argv_big;
    f->req->spawn->n_argv = SBX_IPC_MAX_ARGV + 1;
}
static void b_too_many_env(struct fixture *f)
{
    for (size_t i = 0; i <= SBX_IPC_MAX_ENV; i++)
        f->argv_big[i] = "A=1";
    f->req->spawn->env = f->argv_big;
    f->req->spawn->n_env = SBX_IPC_MAX_ENV + 1;
}
static void b_arg_bytes(struct fixture *f)
{
    f->argv_big[0] = f->long_str; /* 64 KiB: with its NUL, one byte too many */
    f->req->spawn->argv = f->argv_big;
    f->req->spawn->n_argv = 1;
}
static void b_env_no_equals(struct fixture *f)
{
    f->argv_big[0] = "HOME";
    f->req->spawn->env = f->argv_big;
    f->req->spawn->n_env = 1;
}
static void b_env_empty_key(struct fixture *f)
{
    f->argv_big[0] = "=x";
    f->req->spawn->env = f->argv_big;
    f->req->spawn->n_env = 1;
}
static void b_stream_unknown(struct fixture *f)
{
    f->req->spawn->stdio[0]->stream = (Sbx__StdioStream)7;
}
static void b_stream_missing(struct fixture *f)
{
    f->req->spawn->stdio[0]->has_stream = 0;
}
static void b_fd_index_missing(struct fixture *f)
{
    f->req->spawn->stdio[0]->has_fd_index = 0;
}
static void b_fd_unused(struct fixture *f)
{
    f->nfds = 2;
}
static void b_limit_zero(struct fixture *f)
{
    f->limits.has_memory_bytes = 1;
    f->limits.memory_bytes = 0;
}
static void b_limit_memory(struct fixture *f)
{
    f->limits.has_memory_bytes = 1;
    f->limits.memory_bytes = SBX_IPC_MAX_MEMORY_BYTES + 1;
}
static void b_limit_timeout(struct fixture *f)
{
    f->limits.has_timeout_ms = 1;
    f->limits.timeout_ms = SBX_IPC_MAX_TIMEOUT_MS + 1;
}
static void b_limit_stack(struct fixture *f)
{
    f->limits.has_stack_bytes = 1;
    f->limits.stack_bytes = SBX_IPC_MAX_STACK_BYTES + 1;
}
static void b_export_empty(struct fixture *f)
{
    f->req->spawn->export_name = "";
}
static void b_export_long(struct fixture *f)
{
    f->long_str[SBX_IPC_MAX_EXPORT_NAME + 1] = '\0';
    f->req->spawn->export_name = f->long_str;
}
static void b_too_many_values(struct fixture *f)
{
    f->req->spawn->n_args = SBX_IPC_MAX_VALUES + 1;
    f->req->spawn->args = f->vptr;
}
static void b_value_unset(struct fixture *f)
{
    f->values[0].v_case = SBX__VALUE__V__NOT_SET;
    f->req->spawn->n_args = 1;
    f->req->spawn->args = f->vptr;
}
static void b_load_no_source(struct fixture *f)
{
    f->req->body_case = SBX__REQUEST__BODY_LOAD_MODULE;
    f->req->load_module = &f->load;
    f->nfds = 0;
}
static void b_load_inline_big(struct fixture *f)
{
    b_load_no_source(f);
    f->load.source_case = SBX__LOAD_MODULE__SOURCE_INLINE_BYTES;
    f->load.inline_bytes.data = (uint8_t *)f->long_str;
    f->load.inline_bytes.len = SBX_IPC_MAX_INLINE_MODULE + 1;
}
static void b_load_relative_path(struct fixture *f)
{
    b_load_no_source(f);
    f->load.source_case = SBX__LOAD_MODULE__SOURCE_PATH;
    f->load.path = "app.wasm";
}
static void b_load_memfd_no_fd(struct fixture *f)
{
    static Sbx__MemfdRef ref = SBX__MEMFD_REF__INIT;
    ref.has_fd_index = ref.has_size = 1;
    ref.size = 100;
    b_load_no_source(f);
    f->load.source_case = SBX__LOAD_MODULE__SOURCE_MEMFD;
    f->load.memfd = &ref;
}
static void b_load_memfd_huge(struct fixture *f)
{
    b_load_memfd_no_fd(f);
    f->load.memfd->size = (uint64_t)SBX_IPC_MAX_MODULE_BYTES + 1;
    f->nfds = 1;
}
static void b_load_name_long(struct fixture *f)
{
    b_load_relative_path(f);
    f->load.path = "/m.wasm";
    f->long_str[SBX_IPC_MAX_NAME + 1] = '\0';
    f->load.name = f->long_str;
}
static void b_hello_no_version(struct fixture *f)
{
    f->req->body_case = SBX__REQUEST__BODY_HELLO;
    f->req->hello = &f->hello;
    f->nfds = 0;
}
static void b_wait_no_worker(struct fixture *f)
{
    f->req->body_case = SBX__REQUEST__BODY_WAIT;
    f->req->wait = &f->wait;
    f->nfds = 0;
}

static void b_reply_with_outcome_keep_alive(struct fixture *f)
{
    f->spawn->has_reply_with_outcome = f->spawn->reply_with_outcome = 1;
    f->spawn->has_keep_alive = f->spawn->keep_alive = 1;
}
static void b_reply_with_outcome_detach(struct fixture *f)
{
    f->spawn->has_reply_with_outcome = f->spawn->reply_with_outcome = 1;
    f->spawn->has_detach = f->spawn->detach = 1;
}

#define BADREQ SBX__ERROR_CODE__BAD_REQUEST
#define LIMIT  SBX__ERROR_CODE__LIMIT

static const struct row rows[] = {
    {"id zero", b_id_zero, BADREQ, "request id"},
    {"no body", b_no_body, BADREQ, "no body"},
    {"module id short", b_module_id_short, BADREQ, "spawn.module_id"},
    {"module id upper case", b_module_id_upper, BADREQ, "spawn.module_id"},
    {"too many argv", b_too_many_argv, LIMIT, "argv"},
    {"too many env", b_too_many_env, LIMIT, "env"},
    {"argv bytes", b_arg_bytes, LIMIT, "argv and env"},
    {"env without =", b_env_no_equals, BADREQ, "env[0]"},
    {"env empty key", b_env_empty_key, BADREQ, "env[0]"},
    {"unknown stream", b_stream_unknown, BADREQ, "spawn.stdio[0].stream"},
    {"stream missing", b_stream_missing, BADREQ, "spawn.stdio[0].stream"},
    {"fd index missing", b_fd_index_missing, BADREQ, "spawn.stdio[0].fd_index"},
    {"fd not used", b_fd_unused, BADREQ, "fds received"},
    {"limit zero", b_limit_zero, BADREQ, "spawn.limits.memory_bytes"},
    {"memory limit", b_limit_memory, LIMIT, "spawn.limits.memory_bytes"},
    {"timeout limit", b_limit_timeout, LIMIT, "spawn.limits.timeout_ms"},
    {"stack limit", b_limit_stack, LIMIT, "spawn.limits.stack_bytes"},
    {"export empty", b_export_empty, BADREQ, "spawn.export_name"},
    {"export long", b_export_long, LIMIT, "spawn.export_name"},
    {"too many values", b_too_many_values, LIMIT, "spawn.args"},
    {"value unset", b_value_unset, BADREQ, "spawn.args[0]"},
    {"load without source", b_load_no_source, BADREQ, "load_module"},
    {"inline module too big", b_load_inline_big, LIMIT, "load_module.inline_bytes"},
    {"relative path", b_load_relative_path, BADREQ, "load_module.path"},
    {"memfd not sent", b_load_memfd_no_fd, BADREQ, "load_module.memfd.fd_index"},
    {"memfd too big", b_load_memfd_huge, LIMIT, "load_module.memfd.size"},
    {"module name long", b_load_name_long, LIMIT, "load_module.name"},
    {"hello without version", b_hello_no_version, BADREQ, "hello.protocol_version"},
    {"wait without worker", b_wait_no_worker, BADREQ, "wait.worker_id"},
    {"outcome reply, kept alive", b_reply_with_outcome_keep_alive, BADREQ,
     "spawn.reply_with_outcome"},
    {"outcome reply, detached", b_reply_with_outcome_detach, BADREQ, "spawn.reply_with_outcome"},
};

static void setup(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->req = new_spawn(1);
    f->spawn = f->req->spawn;
    f->nfds = 1;
    sbx__resource_limits__init(&f->limits);
    f->req->spawn->limits = &f->limits;
    f->long_str = malloc(SBX_IPC_MAX_ARG_BYTES + 1);
    memset(f->long_str, 'x', SBX_IPC_MAX_ARG_BYTES);
    f->long_str[SBX_IPC_MAX_ARG_BYTES] = '\0';
    for (size_t i = 0; i <= SBX_IPC_MAX_VALUES; i++) {
        sbx__value__init(&f->values[i]);
        f->values[i].v_case = SBX__VALUE__V_I32;
        f->vptr[i] = &f->values[i];
    }
    sbx__load_module__init(&f->load);
    sbx__hello__init(&f->hello);
    sbx__wait__init(&f->wait);
}

static void teardown(struct fixture *f)
{
    free(f->long_str);
    f->req->body_case = SBX__REQUEST__BODY_SPAWN;
    f->req->spawn = f->spawn;
    free_spawn(f->req);
}

Test(validate, the_base_request_is_valid)
{
    struct fixture f;
    setup(&f);
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_validate_request(f.req, f.nfds, &why), 0, "%s", why.message);
    teardown(&f);
}

Test(validate, each_rule_refuses_with_code_and_field)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fixture f;
        setup(&f);
        rows[i].brk(&f);
        struct sbx_ipc_reject why;
        int rc = sbx_ipc_validate_request(f.req, f.nfds, &why);
        cr_expect_eq(rc, -EBADMSG, "%s: accepted", rows[i].name);
        cr_expect_eq(why.code, rows[i].code, "%s: code %d (%s)", rows[i].name, why.code,
                     why.message);
        cr_expect(strstr(why.message, rows[i].field), "%s: message \"%s\" lacks \"%s\"",
                  rows[i].name, why.message, rows[i].field);
        teardown(&f);
    }
}

/* Boundaries: exactly at each limit is accepted. */
Test(validate, limits_are_inclusive)
{
    struct fixture f;
    setup(&f);
    for (size_t i = 0; i < SBX_IPC_MAX_ARGV; i++)
        f.argv_big[i] = "a";
    f.req->spawn->argv = f.argv_big;
    f.req->spawn->n_argv = SBX_IPC_MAX_ARGV;
    f.req->spawn->n_args = SBX_IPC_MAX_VALUES;
    f.req->spawn->args = f.vptr;
    f.limits.has_memory_bytes = f.limits.has_timeout_ms = f.limits.has_stack_bytes = 1;
    f.limits.memory_bytes = SBX_IPC_MAX_MEMORY_BYTES;
    f.limits.timeout_ms = SBX_IPC_MAX_TIMEOUT_MS;
    f.limits.stack_bytes = SBX_IPC_MAX_STACK_BYTES;
    f.limits.has_fuel = 1;
    f.limits.fuel = UINT64_MAX;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_validate_request(f.req, f.nfds, &why), 0, "%s", why.message);
    /* argv + env bytes: 64 KiB exactly, counting each NUL. */
    f.long_str[SBX_IPC_MAX_ARG_BYTES - 1] = '\0';
    f.argv_big[0] = f.long_str;
    f.req->spawn->n_argv = 1;
    f.req->spawn->n_env = 0;
    cr_assert_eq(sbx_ipc_validate_request(f.req, f.nfds, &why), 0, "%s", why.message);
    teardown(&f);
}

/* A worker runs untrusted code: its report is checked like a request. */
Test(validate, worker_reports)
{
    Sbx__Frame fr = SBX__FRAME__INIT;
    fr.has_function_index = 1;
    Sbx__Frame *frames[SBX_IPC_MAX_FRAMES + 1];
    for (size_t i = 0; i <= SBX_IPC_MAX_FRAMES; i++)
        frames[i] = &fr;
    Sbx__Trap t;
    sbx__trap__init(&t);
    t.has_kind = 1;
    t.kind = SBX__TRAP_KIND__TRAP_UNREACHABLE;
    t.n_frames = SBX_IPC_MAX_FRAMES;
    t.frames = frames;
    Sbx__WorkerReport rep;
    sbx__worker_report__init(&rep);
    rep.kind_case = SBX__WORKER_REPORT__KIND_TRAPPED;
    rep.trapped = &t;
    Sbx__FromWorker fw;
    sbx__from_worker__init(&fw);
    fw.body_case = SBX__FROM_WORKER__BODY_REPORT;
    fw.report = &rep;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_validate_from_worker(&fw, 0, &why), 0, "%s", why.message);
    cr_assert_eq(sbx_ipc_validate_from_worker(&fw, 1, &why), -EBADMSG); /* a stray fd */

    t.n_frames = SBX_IPC_MAX_FRAMES + 1;
    cr_assert_eq(sbx_ipc_validate_from_worker(&fw, 0, &why), -EBADMSG);
    cr_assert_eq(why.code, SBX__ERROR_CODE__LIMIT);
    t.n_frames = 1;
    t.kind = (Sbx__TrapKind)99;
    cr_assert_eq(sbx_ipc_validate_from_worker(&fw, 0, &why), -EBADMSG);
    cr_assert(strstr(why.message, "report.trapped.kind"), "%s", why.message);
    rep.kind_case = SBX__WORKER_REPORT__KIND__NOT_SET;
    cr_assert_eq(sbx_ipc_validate_from_worker(&fw, 0, &why), -EBADMSG);
}

/* What the supervisor accepts from the zygote: a started worker must come
 * with exactly its pidfd. */
Test(validate, control_replies)
{
    Sbx__WorkerStarted ws;
    sbx__worker_started__init(&ws);
    ws.has_worker_id = ws.has_pid = ws.has_pidfd_fd_index = 1;
    ws.worker_id = 1;
    ws.pid = 100;
    Sbx__ControlReply rep;
    sbx__control_reply__init(&rep);
    rep.has_id = 1;
    rep.id = 1;
    rep.body_case = SBX__CONTROL_REPLY__BODY_STARTED;
    rep.started = &ws;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_validate_control_reply(&rep, 1, &why), 0, "%s", why.message);
    cr_assert_eq(sbx_ipc_validate_control_reply(&rep, 0, &why), -EBADMSG);
    cr_assert_eq(sbx_ipc_validate_control_reply(&rep, 2, &why), -EBADMSG);
    ws.pid = 0;
    cr_assert_eq(sbx_ipc_validate_control_reply(&rep, 1, &why), -EBADMSG);
}

Test(validate, decode_request_from_bytes)
{
    Sbx__Request *r = new_spawn(0);
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&r->base, buf);
    free_spawn(r);
    Sbx__Request *got;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_decode_request(buf, len, 0, &got, &why), 0, "%s", why.message);
    cr_assert_str_eq(got->spawn->module_id, TEST_MODULE_ID);
    sbx_ipc_free(&got->base);
    cr_assert_eq(sbx_ipc_decode_request(buf, len, 1, &got, &why), -EBADMSG);
    cr_assert_null(got);
    cr_assert_eq(why.request_id, 42);
    cr_assert_eq(sbx_ipc_decode_request(buf, len - 1, 0, &got, &why), -EPROTO);
    free(buf);
}

/* Regression (found by fuzz_ipc): protobuf-c keeps unknown fields, even one
 * numbered 0 from an overlong tag, and packs it back in a form it then
 * refuses. Unknown fields are refused anywhere in the tree: a field this
 * side does not know could be a restriction the peer meant to impose. */
Test(validate, unknown_fields_are_refused_at_any_depth)
{
    Sbx__Request *r = new_spawn(0);
    size_t len = protobuf_c_message_get_packed_size(&r->spawn->base);
    uint8_t *buf = malloc(len + 16), *p = buf;
    free_spawn(r);
    r = new_spawn(0);
    *p++ = 0x08; /* id = 1 */
    *p++ = 0x01;
    *p++ = 0x2a; /* spawn, length-delimited */
    *p++ = (uint8_t)(len + 3);
    p += protobuf_c_message_pack(&r->spawn->base, p);
    *p++ = 0x98; /* field 99, varint: unknown to Spawn */
    *p++ = 0x06;
    *p++ = 0x01;
    free_spawn(r);
    cr_assert_lt(len + 3, 128);
    Sbx__Request *got;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_decode_request(buf, (size_t)(p - buf), 0, &got, &why), -EBADMSG);
    cr_assert_str_eq(why.message, "unknown field 99 in Spawn");

    /* The fuzzer's input: an empty report, then a tag of 0 written as 0x80 0x00. */
    const uint8_t tag0[] = {0x1a, 0x00, 0x80, 0x00, 0x06};
    ProtobufCMessage *m;
    if (sbx_ipc_unpack(&sbx__from_worker__descriptor, tag0, sizeof(tag0), &m) == 0) {
        cr_assert_eq(sbx_ipc_validate_from_worker((Sbx__FromWorker *)m, 0, &why), -EBADMSG);
        sbx_ipc_free(m);
    }
    free(buf);
}

/* ForkWorker carries stdio, the channel and a directory fd per preopen: up
 * to SBX_IPC_MAX_FDS fds, each of which must be named exactly once (the
 * bookkeeping once was a 32-bit mask). */
Test(validate, fork_with_every_fd_the_protocol_allows)
{
    enum { NPRE = SBX_IPC_MAX_FDS - 1 };
    Sbx__ControlRequest req;
    Sbx__ForkWorker fw;
    Sbx__Policy pol;
    Sbx__Preopen pre[NPRE], *pre_ptrs[NPRE];
    uint32_t idx[NPRE];
    char guest[NPRE][16];
    sbx__control_request__init(&req);
    sbx__fork_worker__init(&fw);
    sbx__policy__init(&pol);
    for (int i = 0; i < NPRE; i++) {
        sbx__preopen__init(&pre[i]);
        snprintf(guest[i], sizeof guest[i], "/d%d", i);
        pre[i].host_path = "/tmp";
        pre[i].guest_path = guest[i];
        pre_ptrs[i] = &pre[i];
        idx[i] = (uint32_t)i + 1;
    }
    pol.preopens = pre_ptrs, pol.n_preopens = NPRE;
    req.has_id = 1, req.id = 7;
    req.body_case = SBX__CONTROL_REQUEST__BODY_FORK;
    req.fork = &fw;
    fw.has_worker_id = 1, fw.worker_id = 1;
    fw.module_id = "0000000000000000000000000000000000000000000000000000000000000000";
    fw.export_name = "_start";
    fw.has_channel_fd_index = 1, fw.channel_fd_index = 0;
    fw.policy = &pol;
    fw.preopen_fd_index = idx, fw.n_preopen_fd_index = NPRE;
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_validate_control_request(&req, SBX_IPC_MAX_FDS, &why), 0, "%s",
                 why.message);
    /* One fd named twice, one never: refused. */
    idx[NPRE - 1] = idx[NPRE - 2];
    cr_assert_neq(sbx_ipc_validate_control_request(&req, SBX_IPC_MAX_FDS, &why), 0);
    cr_assert(strstr(why.message, "already used"), "%s", why.message);
    /* A fd past the ones received. */
    idx[NPRE - 1] = SBX_IPC_MAX_FDS;
    cr_assert_neq(sbx_ipc_validate_control_request(&req, SBX_IPC_MAX_FDS, &why), 0);
}
