/* tests/ipc/test_roundtrip.c: every message kind of every channel survives
 * send + receive byte for byte (the received message packs to the same
 * bytes), and every request the tests build passes validation. */
#include <fcntl.h>

#include "tests/ipc/helpers.h"

/* Sends `m` with fds over a fresh pair, receives it, and checks that it
 * packs to the same bytes and came with as many fds. Returns the received
 * message for further checks (freed by the caller with sbx_ipc_free). */
static ProtobufCMessage *roundtrip(const ProtobufCMessage *m, const int *fds, size_t nfds)
{
    int sv[2];
    make_pair(sv);
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *want = malloc(len);
    cr_assert_not_null(want);
    protobuf_c_message_pack(m, want);

    cr_assert_eq(sbx_ipc_send(sv[0], m, fds, nfds, 1000), 0);
    ProtobufCMessage *got;
    int rfds[SBX_IPC_MAX_FDS];
    size_t rn;
    cr_assert_eq(sbx_ipc_recv(sv[1], m->descriptor, &got, rfds, &rn, SBX_IPC_MAX_FDS, 1000), 0);
    cr_assert_eq(rn, nfds);
    cr_assert_eq(got->descriptor, m->descriptor);
    size_t len2 = protobuf_c_message_get_packed_size(got);
    cr_assert_eq(len2, len);
    uint8_t *again = malloc(len2);
    cr_assert_not_null(again);
    protobuf_c_message_pack(got, again);
    cr_assert_eq(memcmp(want, again, len), 0, "%s differs after a round trip", m->descriptor->name);
    sbx_ipc_close_fds(rfds, rn);
    free(want);
    free(again);
    close_pair(sv);
    return got;
}

/* A request: round trip, then the received copy must validate. */
static void request(Sbx__Request *r, const int *fds, size_t nfds)
{
    Sbx__Request *got = (Sbx__Request *)roundtrip(&r->base, fds, nfds);
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_validate_request(got, nfds, &why), 0, "%s", why.message);
    cr_assert_eq(got->id, r->id);
    cr_assert_eq(got->body_case, r->body_case);
    sbx_ipc_free(&got->base);
}

static void response(Sbx__Response *r)
{
    sbx_ipc_free(roundtrip(&r->base, NULL, 0));
}

static Sbx__Value value_i32(int32_t x)
{
    Sbx__Value v;
    sbx__value__init(&v);
    v.v_case = SBX__VALUE__V_I32;
    v.i32 = x;
    return v;
}

static Sbx__Request req(uint64_t id, Sbx__Request__BodyCase body)
{
    Sbx__Request r;
    sbx__request__init(&r);
    r.has_id = 1;
    r.id = id;
    r.body_case = body;
    return r;
}

static Sbx__Response resp(uint64_t id, Sbx__Response__BodyCase body)
{
    Sbx__Response r;
    sbx__response__init(&r);
    r.has_id = 1;
    r.id = id;
    r.body_case = body;
    return r;
}

/* -- Requests -- */

Test(roundtrip, hello)
{
    Sbx__Hello h;
    sbx__hello__init(&h);
    h.has_protocol_version = 1;
    h.protocol_version = SBX__PROTOCOL_VERSION__PROTOCOL_VERSION_1;
    h.client_name = "test/1.0";
    Sbx__Request r = req(1, SBX__REQUEST__BODY_HELLO);
    r.hello = &h;
    request(&r, NULL, 0);
}

Test(roundtrip, load_module_each_source)
{
    static const uint8_t wasm[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    Sbx__LoadModule l;
    sbx__load_module__init(&l);
    l.source_case = SBX__LOAD_MODULE__SOURCE_INLINE_BYTES;
    l.inline_bytes.data = (uint8_t *)wasm;
    l.inline_bytes.len = sizeof(wasm);
    l.name = "empty";
    l.has_detach = 1;
    l.detach = 1;
    Sbx__Request r = req(2, SBX__REQUEST__BODY_LOAD_MODULE);
    r.load_module = &l;
    request(&r, NULL, 0);

    Sbx__MemfdRef ref;
    sbx__memfd_ref__init(&ref);
    ref.has_fd_index = ref.has_size = 1;
    ref.fd_index = 0;
    ref.size = sizeof(wasm);
    l.source_case = SBX__LOAD_MODULE__SOURCE_MEMFD;
    l.memfd = &ref;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    request(&r, &fd, 1);
    close(fd);

    l.source_case = SBX__LOAD_MODULE__SOURCE_PATH;
    l.path = "/srv/modules/app.wasm";
    request(&r, NULL, 0);
}

Test(roundtrip, unload_wait_kill_status)
{
    Sbx__UnloadModule u;
    sbx__unload_module__init(&u);
    u.module_id = TEST_MODULE_ID;
    Sbx__Request r = req(3, SBX__REQUEST__BODY_UNLOAD_MODULE);
    r.unload_module = &u;
    request(&r, NULL, 0);

    Sbx__Wait w;
    sbx__wait__init(&w);
    w.has_worker_id = w.has_timeout_ms = 1;
    w.worker_id = 7;
    w.timeout_ms = 0;
    r = req(4, SBX__REQUEST__BODY_WAIT);
    r.wait = &w;
    request(&r, NULL, 0);

    Sbx__Kill k;
    sbx__kill__init(&k);
    k.has_worker_id = 1;
    k.worker_id = 7;
    r = req(5, SBX__REQUEST__BODY_KILL);
    r.kill = &k;
    request(&r, NULL, 0);

    Sbx__Status s;
    sbx__status__init(&s);
    s.has_first_module_index = 1;
    s.first_module_index = 256;
    r = req(6, SBX__REQUEST__BODY_STATUS);
    r.status = &s;
    request(&r, NULL, 0);
}

Test(roundtrip, spawn_with_everything)
{
    Sbx__Request *r = new_spawn(3);
    Sbx__ResourceLimits lim;
    sbx__resource_limits__init(&lim);
    lim.has_memory_bytes = lim.has_fuel = lim.has_timeout_ms = lim.has_stack_bytes = 1;
    lim.memory_bytes = 1 << 20;
    lim.fuel = 1000000;
    lim.timeout_ms = 5000;
    lim.stack_bytes = 1 << 20;
    r->spawn->limits = &lim;
    Sbx__Value v[4];
    v[0] = value_i32(-1);
    sbx__value__init(&v[1]);
    v[1].v_case = SBX__VALUE__V_I64;
    v[1].i64 = INT64_MIN;
    sbx__value__init(&v[2]);
    v[2].v_case = SBX__VALUE__V_F32_BITS;
    v[2].f32_bits = 0x7fc00001; /* a NaN with a payload */
    sbx__value__init(&v[3]);
    v[3].v_case = SBX__VALUE__V_F64_BITS;
    v[3].f64_bits = 0x8000000000000000ull; /* -0.0 */
    Sbx__Value *args[] = {&v[0], &v[1], &v[2], &v[3]};
    r->spawn->n_args = 4;
    r->spawn->args = args;
    r->spawn->export_name = "add";
    r->spawn->has_keep_alive = r->spawn->has_detach = 1;
    r->spawn->keep_alive = 1;
    int fds[3] = {0, 1, 2};
    request(r, fds, 3);
    free_spawn(r);
}

Test(roundtrip, spawn_default_export_is_start)
{
    Sbx__Request *r = new_spawn(0);
    Sbx__Request *got = (Sbx__Request *)roundtrip(&r->base, NULL, 0);
    cr_assert_str_eq(got->spawn->export_name, "_start");
    sbx_ipc_free(&got->base);
    free_spawn(r);
}

Test(roundtrip, call)
{
    Sbx__Value a = value_i32(2), b = value_i32(3);
    Sbx__Value *args[] = {&a, &b};
    Sbx__Call c;
    sbx__call__init(&c);
    c.has_worker_id = c.has_fuel = c.has_timeout_ms = 1;
    c.worker_id = 9;
    c.export_name = "add";
    c.n_args = 2;
    c.args = args;
    c.fuel = 100;
    c.timeout_ms = 10;
    Sbx__Request r = req(7, SBX__REQUEST__BODY_CALL);
    r.call = &c;
    request(&r, NULL, 0);
}

/* -- Responses -- */

Test(roundtrip, welcome_ack_spawned_error)
{
    Sbx__Welcome w;
    sbx__welcome__init(&w);
    w.has_protocol_version = w.has_supervisor_pid = w.has_max_message_bytes = 1;
    w.has_max_inline_module_bytes = w.has_max_fds_per_message = 1;
    w.protocol_version = 1;
    w.server_version = "0.1.0";
    w.supervisor_pid = 1234;
    w.max_message_bytes = SBX_IPC_MAX_MESSAGE;
    w.max_inline_module_bytes = SBX_IPC_MAX_INLINE_MODULE;
    w.max_fds_per_message = SBX_IPC_MAX_FDS;
    Sbx__Response r = resp(1, SBX__RESPONSE__BODY_WELCOME);
    r.welcome = &w;
    response(&r);

    Sbx__Ack ack;
    sbx__ack__init(&ack);
    r = resp(2, SBX__RESPONSE__BODY_ACK);
    r.ack = &ack;
    response(&r);

    Sbx__Spawned s;
    sbx__spawned__init(&s);
    s.has_worker_id = s.has_pid = 1;
    s.worker_id = UINT64_MAX;
    s.pid = 4321;
    r = resp(3, SBX__RESPONSE__BODY_SPAWNED);
    r.spawned = &s;
    response(&r);

    Sbx__Error e;
    sbx__error__init(&e);
    e.has_code = 1;
    e.code = SBX__ERROR_CODE__UNKNOWN_MODULE;
    e.message = "no module " TEST_MODULE_ID;
    r = resp(4, SBX__RESPONSE__BODY_ERROR);
    r.error = &e;
    response(&r);
}

Test(roundtrip, module_loaded_with_imports_and_exports)
{
    Sbx__ValType params[] = {SBX__VAL_TYPE__VALTYPE_I32, SBX__VAL_TYPE__VALTYPE_F64};
    Sbx__ValType results[] = {SBX__VAL_TYPE__VALTYPE_I64};
    Sbx__FuncType ft;
    sbx__func_type__init(&ft);
    ft.n_params = 2;
    ft.params = params;
    ft.n_results = 1;
    ft.results = results;
    Sbx__ExternType fn;
    sbx__extern_type__init(&fn);
    fn.has_kind = 1;
    fn.kind = SBX__EXTERN_KIND__EXTERN_FUNC;
    fn.func = &ft;
    Sbx__SizeLimits pages;
    sbx__size_limits__init(&pages);
    pages.has_min = pages.has_max = 1;
    pages.min = 1;
    pages.max = 65536;
    Sbx__MemoryType mt;
    sbx__memory_type__init(&mt);
    mt.pages = &pages;
    Sbx__ExternType mem;
    sbx__extern_type__init(&mem);
    mem.has_kind = 1;
    mem.kind = SBX__EXTERN_KIND__EXTERN_MEMORY;
    mem.memory = &mt;
    Sbx__GlobalType gt;
    sbx__global_type__init(&gt);
    gt.has_type = gt.has_mutable_ = 1;
    gt.type = SBX__VAL_TYPE__VALTYPE_I32;
    gt.mutable_ = 1;
    Sbx__ExternType glob;
    sbx__extern_type__init(&glob);
    glob.has_kind = 1;
    glob.kind = SBX__EXTERN_KIND__EXTERN_GLOBAL;
    glob.global = &gt;
    Sbx__TableType tt;
    sbx__table_type__init(&tt);
    tt.has_elem = 1;
    tt.elem = SBX__VAL_TYPE__VALTYPE_FUNCREF;
    tt.limits = &pages;
    Sbx__ExternType tab;
    sbx__extern_type__init(&tab);
    tab.has_kind = 1;
    tab.kind = SBX__EXTERN_KIND__EXTERN_TABLE;
    tab.table = &tt;

    Sbx__Import i1, i2;
    sbx__import__init(&i1);
    sbx__import__init(&i2);
    i1.module = "wasi_snapshot_preview1";
    i1.name = "fd_write";
    i1.type = &fn;
    i2.module = "env";
    i2.name = "table";
    i2.type = &tab;
    Sbx__Import *imports[] = {&i1, &i2};
    Sbx__Export e1, e2, e3;
    sbx__export__init(&e1);
    sbx__export__init(&e2);
    sbx__export__init(&e3);
    e1.name = "_start";
    e1.type = &fn;
    e2.name = "memory";
    e2.type = &mem;
    e3.name = "counter";
    e3.type = &glob;
    Sbx__Export *exports[] = {&e1, &e2, &e3};
    Sbx__ModuleLoaded ml;
    sbx__module_loaded__init(&ml);
    ml.module_id = TEST_MODULE_ID;
    ml.has_already_loaded = 1;
    ml.n_imports = 2;
    ml.imports = imports;
    ml.n_exports = 3;
    ml.exports = exports;
    Sbx__Response r = resp(5, SBX__RESPONSE__BODY_MODULE_LOADED);
    r.module_loaded = &ml;
    response(&r);
}

/* Every kind of Outcome, as a Wait reply and as an Event. */
Test(roundtrip, outcome_every_kind)
{
    Sbx__Exited ex;
    sbx__exited__init(&ex);
    ex.has_code = 1;
    ex.code = 3;
    Sbx__Frame f1, f2;
    sbx__frame__init(&f1);
    sbx__frame__init(&f2);
    f1.has_function_index = f2.has_function_index = 1;
    f1.function_index = 12;
    f1.name = "inner";
    f2.function_index = 4;
    Sbx__Frame *frames[] = {&f1, &f2};
    Sbx__Trap tr;
    sbx__trap__init(&tr);
    tr.has_kind = 1;
    tr.kind = SBX__TRAP_KIND__TRAP_OOB_MEMORY;
    tr.message = "out of bounds memory access";
    tr.n_frames = 2;
    tr.frames = frames;
    Sbx__TimedOut to;
    sbx__timed_out__init(&to);
    to.has_timeout_ms = 1;
    to.timeout_ms = 100;
    Sbx__FuelExhausted fe;
    sbx__fuel_exhausted__init(&fe);
    fe.has_fuel = 1;
    fe.fuel = 1000;
    Sbx__MemoryLimit ml;
    sbx__memory_limit__init(&ml);
    ml.has_limit_bytes = 1;
    ml.limit_bytes = 65536;
    Sbx__Killed k;
    sbx__killed__init(&k);
    k.has_signal = k.has_by_request = 1;
    k.signal = 9;
    k.by_request = 1;
    Sbx__PolicyViolation pv;
    sbx__policy_violation__init(&pv);
    pv.has_syscall_nr = 1;
    pv.syscall_nr = 59;
    pv.syscall_name = "execve";
    Sbx__InternalError ie;
    sbx__internal_error__init(&ie);
    ie.message = "zygote died";
    Sbx__Usage u;
    sbx__usage__init(&u);
    u.has_wall_us = u.has_user_us = u.has_sys_us = u.has_max_rss_kb = 1;
    u.wall_us = 150;
    u.user_us = 90;
    u.sys_us = 40;
    u.max_rss_kb = 2048;
    Sbx__Value res = value_i32(5);
    Sbx__Value *results[] = {&res};

    for (int kind = SBX__OUTCOME__KIND_EXITED; kind <= SBX__OUTCOME__KIND_INTERNAL_ERROR; kind++) {
        Sbx__Outcome o;
        sbx__outcome__init(&o);
        o.has_worker_id = 1;
        o.worker_id = 77;
        o.usage = &u;
        o.kind_case = (Sbx__Outcome__KindCase)kind;
        switch (o.kind_case) {
        case SBX__OUTCOME__KIND_EXITED:
            o.exited = &ex;
            o.n_results = 1;
            o.results = results;
            break;
        case SBX__OUTCOME__KIND_TRAPPED: o.trapped = &tr; break;
        case SBX__OUTCOME__KIND_TIMEOUT: o.timeout = &to; break;
        case SBX__OUTCOME__KIND_FUEL_EXHAUSTED: o.fuel_exhausted = &fe; break;
        case SBX__OUTCOME__KIND_MEMORY_LIMIT: o.memory_limit = &ml; break;
        case SBX__OUTCOME__KIND_KILLED: o.killed = &k; break;
        case SBX__OUTCOME__KIND_POLICY_VIOLATION: o.policy_violation = &pv; break;
        case SBX__OUTCOME__KIND_INTERNAL_ERROR: o.internal_error = &ie; break;
        default: cr_assert_fail("kind %d", kind);
        }
        Sbx__Response r = resp(8, SBX__RESPONSE__BODY_OUTCOME);
        r.outcome = &o;
        response(&r);

        Sbx__Event ev;
        sbx__event__init(&ev);
        ev.body_case = SBX__EVENT__BODY_OUTCOME;
        ev.outcome = &o;
        r = resp(0, SBX__RESPONSE__BODY_EVENT);
        r.event = &ev;
        response(&r);
    }
}

Test(roundtrip, call_result_and_status)
{
    Sbx__Value v = value_i32(5);
    Sbx__Value *vals[] = {&v};
    Sbx__Returned ret;
    sbx__returned__init(&ret);
    ret.n_values = 1;
    ret.values = vals;
    Sbx__CallResult cr;
    sbx__call_result__init(&cr);
    cr.result_case = SBX__CALL_RESULT__RESULT_RETURNED;
    cr.returned = &ret;
    Sbx__Response r = resp(9, SBX__RESPONSE__BODY_CALL_RESULT);
    r.call_result = &cr;
    response(&r);

    Sbx__Trap tr;
    sbx__trap__init(&tr);
    tr.has_kind = 1;
    tr.kind = SBX__TRAP_KIND__TRAP_OUT_OF_FUEL;
    cr.result_case = SBX__CALL_RESULT__RESULT_TRAP;
    cr.trap = &tr;
    response(&r);

    Sbx__ModuleInfo mi;
    sbx__module_info__init(&mi);
    mi.module_id = TEST_MODULE_ID;
    mi.name = "app";
    mi.has_size_bytes = mi.has_references = mi.has_live_workers = 1;
    mi.size_bytes = 1234;
    mi.references = 2;
    mi.live_workers = 1;
    Sbx__ModuleInfo *mods[] = {&mi};
    Sbx__Counters c;
    sbx__counters__init(&c);
    c.has_spawns = c.has_exited = c.has_zygote_restarts = 1;
    c.spawns = 1000;
    c.exited = 999;
    c.zygote_restarts = 1;
    Sbx__StatusReply s;
    sbx__status_reply__init(&s);
    s.n_modules = 1;
    s.modules = mods;
    s.has_total_modules = s.has_slots_in_use = s.has_slots_total = s.has_live_workers = 1;
    s.has_max_workers = s.has_zygote_pid = s.has_uptime_ms = 1;
    s.total_modules = 1;
    s.slots_in_use = 3;
    s.slots_total = 64;
    s.live_workers = 1;
    s.max_workers = 64;
    s.zygote_pid = 99;
    s.uptime_ms = 12345;
    s.counters = &c;
    r = resp(10, SBX__RESPONSE__BODY_STATUS);
    r.status = &s;
    response(&r);
}

/* -- Internal channels -- */

static void control(Sbx__ControlRequest *m, const int *fds, size_t nfds)
{
    Sbx__ControlRequest *got = (Sbx__ControlRequest *)roundtrip(&m->base, fds, nfds);
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_validate_control_request(got, nfds, &why), 0, "%s", why.message);
    sbx_ipc_free(&got->base);
}

static void control_reply(Sbx__ControlReply *m, const int *fds, size_t nfds)
{
    Sbx__ControlReply *got = (Sbx__ControlReply *)roundtrip(&m->base, fds, nfds);
    struct sbx_ipc_reject why;
    cr_assert_eq(sbx_ipc_validate_control_reply(got, nfds, &why), 0, "%s", why.message);
    sbx_ipc_free(&got->base);
}

Test(roundtrip, control_channel)
{
    int fds[4] = {0, 1, 2, 0};
    Sbx__MemfdRef mod, code;
    sbx__memfd_ref__init(&mod);
    sbx__memfd_ref__init(&code);
    mod.has_fd_index = mod.has_size = code.has_fd_index = code.has_size = 1;
    mod.fd_index = 1;
    mod.size = 100;
    code.fd_index = 0;
    code.size = 4096;
    Sbx__LoadIntoZygote l;
    sbx__load_into_zygote__init(&l);
    l.module_id = TEST_MODULE_ID;
    l.module = &mod;
    l.code = &code;
    Sbx__ControlRequest c;
    sbx__control_request__init(&c);
    c.has_id = 1;
    c.id = 1;
    c.body_case = SBX__CONTROL_REQUEST__BODY_LOAD;
    c.load = &l;
    control(&c, fds, 2);

    Sbx__UnloadFromZygote u;
    sbx__unload_from_zygote__init(&u);
    u.module_id = TEST_MODULE_ID;
    c.body_case = SBX__CONTROL_REQUEST__BODY_UNLOAD;
    c.unload = &u;
    control(&c, NULL, 0);

    Sbx__Ack ack;
    sbx__ack__init(&ack);
    c.body_case = SBX__CONTROL_REQUEST__BODY_PING;
    c.ping = &ack;
    control(&c, NULL, 0);

    Sbx__Request *sp = new_spawn(3);
    Sbx__ForkWorker f;
    sbx__fork_worker__init(&f);
    f.has_worker_id = f.has_channel_fd_index = f.has_keep_alive = 1;
    f.worker_id = 5;
    f.module_id = TEST_MODULE_ID;
    f.n_argv = sp->spawn->n_argv;
    f.argv = sp->spawn->argv;
    f.n_env = sp->spawn->n_env;
    f.env = sp->spawn->env;
    f.n_stdio = 3;
    f.stdio = sp->spawn->stdio;
    f.export_name = "_start";
    f.channel_fd_index = 3;
    c.body_case = SBX__CONTROL_REQUEST__BODY_FORK;
    c.fork = &f;
    control(&c, fds, 4);
    free_spawn(sp);

    Sbx__ControlReply rep;
    sbx__control_reply__init(&rep);
    rep.has_id = 1;
    Sbx__ZygoteReady zr;
    sbx__zygote_ready__init(&zr);
    zr.has_pid = 1;
    zr.pid = 10;
    rep.body_case = SBX__CONTROL_REPLY__BODY_READY;
    rep.ready = &zr;
    control_reply(&rep, NULL, 0);
    rep.body_case = SBX__CONTROL_REPLY__BODY_ACK;
    rep.ack = &ack;
    control_reply(&rep, NULL, 0);
    Sbx__WorkerStarted ws;
    sbx__worker_started__init(&ws);
    ws.has_worker_id = ws.has_pid = ws.has_pidfd_fd_index = 1;
    ws.worker_id = 5;
    ws.pid = 11;
    ws.pidfd_fd_index = 0;
    rep.body_case = SBX__CONTROL_REPLY__BODY_STARTED;
    rep.started = &ws;
    control_reply(&rep, fds, 1);
    Sbx__WorkerExited we;
    sbx__worker_exited__init(&we);
    we.has_worker_id = we.has_pid = we.has_wait_status = 1;
    we.worker_id = 5;
    we.pid = 11;
    we.wait_status = 0x0100; /* exited with 1 */
    rep.body_case = SBX__CONTROL_REPLY__BODY_EXITED;
    rep.exited = &we;
    control_reply(&rep, NULL, 0);
    Sbx__Error e;
    sbx__error__init(&e);
    e.has_code = 1;
    e.code = SBX__ERROR_CODE__INTERNAL;
    e.message = "fork failed";
    rep.body_case = SBX__CONTROL_REPLY__BODY_ERROR;
    rep.error = &e;
    control_reply(&rep, NULL, 0);
}

Test(roundtrip, worker_channel)
{
    Sbx__Value v = value_i32(1);
    Sbx__Value *vals[] = {&v};
    Sbx__Call call;
    sbx__call__init(&call);
    call.export_name = "f";
    call.n_args = 1;
    call.args = vals;
    Sbx__ToWorker to;
    sbx__to_worker__init(&to);
    to.has_id = 1;
    to.id = 3;
    to.body_case = SBX__TO_WORKER__BODY_CALL;
    to.call = &call;
    sbx_ipc_free(roundtrip(&to.base, NULL, 0));
    Sbx__Ack ack;
    sbx__ack__init(&ack);
    to.body_case = SBX__TO_WORKER__BODY_STOP;
    to.stop = &ack;
    sbx_ipc_free(roundtrip(&to.base, NULL, 0));

    struct sbx_ipc_reject why;
    Sbx__FromWorker fw;
    sbx__from_worker__init(&fw);
    fw.body_case = SBX__FROM_WORKER__BODY_IDLE;
    fw.idle = &ack;
    Sbx__FromWorker *got = (Sbx__FromWorker *)roundtrip(&fw.base, NULL, 0);
    cr_assert_eq(sbx_ipc_validate_from_worker(got, 0, &why), 0, "%s", why.message);
    sbx_ipc_free(&got->base);

    Sbx__Exited ex;
    sbx__exited__init(&ex);
    ex.has_code = 1;
    Sbx__WorkerReport rep;
    sbx__worker_report__init(&rep);
    rep.kind_case = SBX__WORKER_REPORT__KIND_EXITED;
    rep.exited = &ex;
    rep.n_results = 1;
    rep.results = vals;
    fw.body_case = SBX__FROM_WORKER__BODY_REPORT;
    fw.report = &rep;
    got = (Sbx__FromWorker *)roundtrip(&fw.base, NULL, 0);
    cr_assert_eq(sbx_ipc_validate_from_worker(got, 0, &why), 0, "%s", why.message);
    sbx_ipc_free(&got->base);

    Sbx__Returned ret;
    sbx__returned__init(&ret);
    ret.n_values = 1;
    ret.values = vals;
    Sbx__CallResult cr;
    sbx__call_result__init(&cr);
    cr.result_case = SBX__CALL_RESULT__RESULT_RETURNED;
    cr.returned = &ret;
    fw.has_id = 1;
    fw.id = 3;
    fw.body_case = SBX__FROM_WORKER__BODY_CALL_RESULT;
    fw.call_result = &cr;
    got = (Sbx__FromWorker *)roundtrip(&fw.base, NULL, 0);
    cr_assert_eq(sbx_ipc_validate_from_worker(got, 0, &why), 0, "%s", why.message);
    sbx_ipc_free(&got->base);
}
