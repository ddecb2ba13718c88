/* Shared helpers of the `sbx serve` integration tests (daemon_harness.h). */
#include "tests/daemon/daemon_harness.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"

static uint64_t next_id = 1;

void hd_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

void hd_start(struct hd *d, const char *exe, const char *const *args)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof d->dir, "/tmp/sbx-daemon-test-XXXXXX");
    cr_assert_not_null(mkdtemp(d->dir));
    snprintf(d->sock, sizeof d->sock, "%s/sock", d->dir);
    snprintf(d->log, sizeof d->log, "%s/log", d->dir);
    if (!exe) exe = SBX_EXE;
    const char *argv[32] = {exe, "serve", "--socket", d->sock};
    size_t n = 4;
    for (size_t i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    d->pid = fork();
    cr_assert_geq(d->pid, 0);
    if (d->pid == 0) {
        /* A test process that dies takes its daemon with it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (log >= 0) dup2(log, 2);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) dup2(null, 0), dup2(null, 1);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    /* Up when a connection is accepted: the socket file exists from bind(),
     * a moment before listen(). A slow machine or a sanitizer build gets
     * 30 s. */
    for (int i = 0; i < 3000; i++) {
        int fd = sbx_ipc_connect(d->sock);
        if (fd >= 0) {
            close(fd);
            return;
        }
        int status;
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = 0;
            hd_dump_log(d);
            cr_assert_fail("sbx serve exited at start-up (status 0x%x)", status);
        }
        hd_sleep_ms(10);
    }
    hd_dump_log(d);
    cr_assert_fail("sbx serve did not accept connections on %s", d->sock);
}

void hd_dump_log(const struct hd *d)
{
    FILE *f = fopen(d->log, "r");
    if (!f) return;
    char line[512];
    fprintf(stderr, "---- sbx serve log (%s) ----\n", d->log);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fprintf(stderr, "---- end of log ----\n");
    fclose(f);
}

int hd_stop(struct hd *d)
{
    int status = -1;
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR) {
        }
        d->pid = 0;
    }
    if (d->sock[0]) unlink(d->sock);
    if (d->log[0]) unlink(d->log);
    if (d->dir[0]) rmdir(d->dir);
    d->sock[0] = d->log[0] = d->dir[0] = '\0';
    return status;
}

uint64_t hd_send(int fd, Sbx__Request *req, const int *fds, size_t nfds)
{
    req->has_id = 1;
    req->id = next_id++;
    int rc = sbx_ipc_send(fd, &req->base, fds, nfds, 10000);
    cr_assert_eq(rc, 0, "send: %s", strerror(-rc));
    return req->id;
}

Sbx__Response *hd_try_recv(int fd, int timeout_ms)
{
    Sbx__Response *r = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    int rc = sbx_ipc_recv(fd, &sbx__response__descriptor, (ProtobufCMessage **)&r, fds, &nfds,
                          SBX_IPC_MAX_FDS, timeout_ms);
    if (rc) return NULL;
    sbx_ipc_close_fds(fds, nfds);
    return r;
}

Sbx__Response *hd_recv(int fd, int timeout_ms)
{
    Sbx__Response *r = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    int rc = sbx_ipc_recv(fd, &sbx__response__descriptor, (ProtobufCMessage **)&r, fds, &nfds,
                          SBX_IPC_MAX_FDS, timeout_ms);
    cr_assert_eq(rc, 0, "recv: %s", strerror(-rc));
    sbx_ipc_close_fds(fds, nfds);
    return r;
}

int hd_connect(const struct hd *d)
{
    int fd = sbx_ipc_connect(d->sock);
    cr_assert_geq(fd, 0, "connect %s: %s", d->sock, strerror(-fd));
    Sbx__Request req;
    Sbx__Hello hello;
    sbx__request__init(&req);
    sbx__hello__init(&hello);
    hello.has_protocol_version = 1, hello.protocol_version = 1;
    hello.client_name = "tests/daemon";
    req.body_case = SBX__REQUEST__BODY_HELLO;
    req.hello = &hello;
    uint64_t id = hd_send(fd, &req, NULL, 0);
    Sbx__Response *r = hd_recv(fd, 30000);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_WELCOME);
    cr_assert_eq(r->id, id);
    sbx_ipc_free(&r->base);
    return fd;
}

uint64_t hd_send_load(int fd, const uint8_t *bytes, size_t len)
{
    Sbx__Request req;
    Sbx__LoadModule lm;
    sbx__request__init(&req);
    sbx__load_module__init(&lm);
    lm.source_case = SBX__LOAD_MODULE__SOURCE_INLINE_BYTES;
    lm.inline_bytes.data = (uint8_t *)bytes;
    lm.inline_bytes.len = len;
    req.body_case = SBX__REQUEST__BODY_LOAD_MODULE;
    req.load_module = &lm;
    return hd_send(fd, &req, NULL, 0);
}

uint64_t hd_send_unload(int fd, const char *id)
{
    Sbx__Request req;
    Sbx__UnloadModule um;
    sbx__request__init(&req);
    sbx__unload_module__init(&um);
    um.module_id = (char *)id;
    req.body_case = SBX__REQUEST__BODY_UNLOAD_MODULE;
    req.unload_module = &um;
    return hd_send(fd, &req, NULL, 0);
}

uint64_t hd_send_spawn(int fd, const char *id, const char *export_name, const int32_t *args,
                       size_t nargs, uint32_t timeout_ms)
{
    Sbx__Request req;
    Sbx__Spawn sp;
    Sbx__Value vals[8], *ptrs[8];
    Sbx__ResourceLimits limits;
    cr_assert_leq(nargs, 8);
    sbx__request__init(&req);
    sbx__spawn__init(&sp);
    sbx__resource_limits__init(&limits);
    for (size_t i = 0; i < nargs; i++) {
        sbx__value__init(&vals[i]);
        vals[i].v_case = SBX__VALUE__V_I32;
        vals[i].i32 = args[i];
        ptrs[i] = &vals[i];
    }
    sp.module_id = (char *)id;
    sp.export_name = (char *)export_name;
    sp.n_args = nargs, sp.args = ptrs;
    if (timeout_ms) {
        limits.has_timeout_ms = 1, limits.timeout_ms = timeout_ms;
        sp.limits = &limits;
    }
    req.body_case = SBX__REQUEST__BODY_SPAWN;
    req.spawn = &sp;
    return hd_send(fd, &req, NULL, 0);
}

uint64_t hd_send_wait(int fd, uint64_t worker)
{
    Sbx__Request req;
    Sbx__Wait w;
    sbx__request__init(&req);
    sbx__wait__init(&w);
    w.has_worker_id = 1, w.worker_id = worker;
    req.body_case = SBX__REQUEST__BODY_WAIT;
    req.wait = &w;
    return hd_send(fd, &req, NULL, 0);
}

uint64_t hd_send_kill(int fd, uint64_t worker)
{
    Sbx__Request req;
    Sbx__Kill k;
    sbx__request__init(&req);
    sbx__kill__init(&k);
    k.has_worker_id = 1, k.worker_id = worker;
    req.body_case = SBX__REQUEST__BODY_KILL;
    req.kill = &k;
    return hd_send(fd, &req, NULL, 0);
}

uint64_t hd_send_status(int fd)
{
    Sbx__Request req;
    Sbx__Status st;
    sbx__request__init(&req);
    sbx__status__init(&st);
    req.body_case = SBX__REQUEST__BODY_STATUS;
    req.status = &st;
    return hd_send(fd, &req, NULL, 0);
}

const char *hd_error_text(const Sbx__Response *r)
{
    return r->body_case == SBX__RESPONSE__BODY_ERROR && r->error->message ? r->error->message
                                                                          : "(not an error)";
}

int hd_baseline_fds(const struct hd *d, int *zygote_pid)
{
    struct hd_status st;
    hd_wait_idle(d, 0, &st);
    if (zygote_pid) *zygote_pid = st.zygote_pid;
    hd_sleep_ms(50); /* the Status connection's close */
    return hd_count_fds(d->pid);
}

void hd_load(int fd, const uint8_t *bytes, size_t len, char id[65])
{
    uint64_t rid = hd_send_load(fd, bytes, len);
    Sbx__Response *r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_MODULE_LOADED, "load: %s", hd_error_text(r));
    snprintf(id, 65, "%s", r->module_loaded->module_id);
    sbx_ipc_free(&r->base);
}

void hd_unload(int fd, const char *id)
{
    uint64_t rid = hd_send_unload(fd, id);
    Sbx__Response *r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ACK, "unload: %s", hd_error_text(r));
    sbx_ipc_free(&r->base);
}

uint64_t hd_spawn(int fd, const char *id, const char *export_name, const int32_t *args,
                  size_t nargs, uint32_t timeout_ms, pid_t *pid)
{
    uint64_t rid = hd_send_spawn(fd, id, export_name, args, nargs, timeout_ms);
    Sbx__Response *r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid, "spawn %llu: an answer to %llu came first (body %d: %s)",
                 (unsigned long long)rid, (unsigned long long)r->id, r->body_case,
                 hd_error_text(r));
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_SPAWNED, "spawn: %s", hd_error_text(r));
    uint64_t w = r->spawned->worker_id;
    cr_assert_gt(r->spawned->pid, 0);
    if (pid) *pid = r->spawned->pid;
    sbx_ipc_free(&r->base);
    return w;
}

Sbx__Response *hd_outcome_event(int fd)
{
    Sbx__Response *r = hd_recv(fd, 30000);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_EVENT, "expected an outcome, got body %d (%s)",
                 r->body_case, hd_error_text(r));
    cr_assert_eq(r->event->body_case, SBX__EVENT__BODY_OUTCOME);
    return r;
}

void hd_status(int fd, struct hd_status *st)
{
    uint64_t rid = hd_send_status(fd);
    Sbx__Response *r;
    /* Outcome events of this connection may come first: skip them. */
    while ((r = hd_recv(fd, 30000))->body_case == SBX__RESPONSE__BODY_EVENT)
        sbx_ipc_free(&r->base);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_STATUS, "status: %s", hd_error_text(r));
    const Sbx__StatusReply *s = r->status;
    memset(st, 0, sizeof(*st));
    st->total_modules = s->total_modules;
    st->live_workers = s->live_workers;
    st->zygote_pid = s->zygote_pid;
    st->warm_workers = s->warm_workers;
    if (s->counters) {
        st->warm_spawns = s->counters->warm_spawns;
        st->warm_template_forks = s->counters->warm_template_forks;
        st->policy_violations = s->counters->policy_violations;
        st->spawns = s->counters->spawns;
        st->refused_busy = s->counters->refused_busy;
        st->exited = s->counters->exited;
        st->killed = s->counters->killed;
        st->internal_errors = s->counters->internal_errors;
        st->zygote_restarts = s->counters->zygote_restarts;
        st->zygote_rotations = s->counters->zygote_rotations;
        st->loads = s->counters->loads;
        st->unloads = s->counters->unloads;
    }
    sbx_ipc_free(&r->base);
}

void hd_wait_idle(const struct hd *d, uint32_t modules, struct hd_status *st)
{
    int fd = hd_connect(d);
    for (int i = 0; i < 3000; i++) { /* 30 s */
        hd_status(fd, st);
        if (st->live_workers == 0 && st->total_modules == modules && st->zygote_pid > 0) break;
        hd_sleep_ms(10);
    }
    close(fd);
    cr_assert_eq(st->live_workers, 0, "%u workers still live", st->live_workers);
    cr_assert_eq(st->total_modules, modules, "%u modules loaded, expected %u", st->total_modules,
                 modules);
}

long hd_proc_status(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

int hd_count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    cr_assert_not_null(dir, "%s: %s", path, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)))
        if (e->d_name[0] != '.') n++;
    closedir(dir);
    return n;
}

int hd_wait_fds(pid_t pid, int want)
{
    int n = hd_count_fds(pid);
    for (int i = 0; i < 1000 && n > want; i++) { /* 10 s */
        hd_sleep_ms(10);
        n = hd_count_fds(pid);
    }
    return n;
}

int hd_count_maps(pid_t pid, const char *needle)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) n++;
    fclose(f);
    return n;
}

static int count_children(pid_t pid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    int n = 0, child;
    while (fscanf(f, "%d", &child) == 1)
        n++;
    fclose(f);
    return n;
}

int hd_wait_children(pid_t pid, int want)
{
    int n = count_children(pid);
    for (int i = 0; i < 1000 && n > want; i++) { /* 10 s */
        hd_sleep_ms(10);
        n = count_children(pid);
    }
    return n;
}

long hd_shmem_kb(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    cr_assert_not_null(f);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Shmem: %ld kB", &kb) == 1) break;
    fclose(f);
    cr_assert_geq(kb, 0, "no Shmem line in /proc/meminfo");
    return kb;
}

/* -- Generated modules ------------------------------------------------- */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_byte(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_uleb(struct buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        put_byte(b, (uint8_t)(c | (v ? 0x80 : 0)));
    } while (v);
}

static void put_section(struct buf *b, uint8_t id, const struct buf *body)
{
    put_byte(b, id);
    put_uleb(b, body->len);
    put(b, body->p, body->len);
}

uint8_t *hd_module(uint32_t tag, size_t pad, size_t *len)
{
    static const uint8_t header[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    /* types: () -> i32, () -> () */
    static const uint8_t types[] = {0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x00, 0x00};
    static const uint8_t funcs[] = {0x02, 0x00, 0x01};
    static const uint8_t memory[] = {0x01, 0x00, 0x01}; /* one memory, min 1 page */
    static const uint8_t exports[] = {0x02, 0x03, 'g', 'e', 't', 0x00, 0x00,
                                      0x04, 's',  'p', 'i', 'n', 0x00, 0x01};
    /* get: i32.const 0; i32.load align=2 offset=0. spin: loop br 0 end. */
    static const uint8_t code[] = {0x02, 0x07, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x0b,
                                   0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b};
    cr_assert_leq(pad, 60 * 1024, "the data must fit the first page");
    struct buf m = {0}, s = {0};
    put(&m, header, sizeof header);
    s.len = 0, put(&s, types, sizeof types), put_section(&m, 1, &s);
    s.len = 0, put(&s, funcs, sizeof funcs), put_section(&m, 3, &s);
    s.len = 0, put(&s, memory, sizeof memory), put_section(&m, 5, &s);
    s.len = 0, put(&s, exports, sizeof exports), put_section(&m, 7, &s);
    s.len = 0, put(&s, code, sizeof code), put_section(&m, 10, &s);
    /* data: [0] = tag (4 bytes LE) at 0; [1] = pad bytes at 4096 */
    s.len = 0;
    put_byte(&s, pad ? 2 : 1);
    const uint8_t at0[] = {0x00, 0x41, 0x00, 0x0b, 0x04};
    put(&s, at0, sizeof at0);
    const uint8_t le[4] = {(uint8_t)tag, (uint8_t)(tag >> 8), (uint8_t)(tag >> 16),
                           (uint8_t)(tag >> 24)};
    put(&s, le, 4);
    if (pad) {
        const uint8_t at4096[] = {0x00, 0x41, 0x80, 0x20, 0x0b}; /* i32.const 4096 */
        put(&s, at4096, sizeof at4096);
        put_uleb(&s, pad);
        for (size_t i = 0; i < pad; i++)
            put_byte(&s, (uint8_t)(tag | 1));
    }
    put_section(&m, 11, &s);
    free(s.p);
    *len = m.len;
    return m.p;
}

uint8_t *hd_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*len ? *len : 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}
