/* path_open + fd_close through the WASI path broker (two processes, as a
 * confined worker and the supervisor) against a native openat + close of
 * the same file, in the same run. Also the WASI call with the in-process
 * local resolver, and the broker's bare round trip (the ops without the
 * WASI layer), to show where the time goes. Configurations alternate
 * within each round so drift hits them alike; p50 and p99 per
 * configuration, and p50 over native's. A benchmark, never a test.
 * Usage: bench_path_open [ROUNDS] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/validate.h"
#include "jit/vmctx.h"
#include "supervisor/broker.h"
#include "wasi/path_broker.h"
#include "wasi/wasi.h"
#include "bench/common/bench_stats.h"

#define FILE_PATH "sub/dir/file.txt"

static double pct_us(uint64_t *v, int n, int pct)
{
    return bench_percentile_ns(v, (size_t)n, pct) / 1e3;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_path_open: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The supervisor's side: serve until the worker's end closes. */
static _Noreturn void serve(int dirfd, int channel)
{
    struct sbx_broker *b;
    struct sbx_broker_preopen p = {NULL, dirfd, "/data", false};
    if (sbx_broker_new(&p, 1, &b)) _exit(1);
    for (;;) {
        ProtobufCMessage *m;
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds;
        int rc = sbx_ipc_recv(channel, &sbx__from_worker__descriptor, &m, fds, &nfds,
                              SBX_IPC_MAX_FDS, -1);
        if (rc == -EPIPE) _exit(0);
        struct sbx_ipc_reject why;
        if (rc || sbx_ipc_validate_from_worker((Sbx__FromWorker *)m, nfds, &why) ||
            sbx_broker_serve(b, channel, (Sbx__FromWorker *)m))
            _exit(1);
        sbx_ipc_free(m);
    }
}

/* A guest memory holding the path at 0 and the result fd at 256. */
static uint8_t guest[65536];
static struct sbx_memory mem = {.base = guest, .size = sizeof guest, .pages = 1, .max_pages = 1};

static struct sbx_wasi *wasi_with(int dirfd, const struct sbx_wasi_path_ops *ops, void *ctx)
{
    struct sbx_wasi_config cfg;
    sbx_wasi_config_default(&cfg);
    cfg.preopens = &(struct sbx_wasi_preopen){dirfd, "/data", false};
    cfg.npreopens = 1;
    cfg.ops = ops;
    cfg.ops_ctx = ctx;
    struct sbx_wasi *w;
    struct sbx_error err;
    if (sbx_wasi_new(&cfg, &w, &err)) {
        fprintf(stderr, "bench_path_open: %s\n", err.msg);
        exit(1);
    }
    return w;
}

/* path_open(3, 0, FILE_PATH, read) then fd_close, as the guest calls them. */
static void wasi_open_close(struct sbx_wasi *w)
{
    union sbx_val a[9] = {{.i32 = 3},  {.i32 = 0},
                          {.i32 = 0},  {.i32 = sizeof(FILE_PATH) - 1},
                          {.i32 = 0},  {.i64 = 2 /* FD_READ */},
                          {.i64 = 0},  {.i32 = 0},
                          {.i32 = 256}},
                  r[1];
    int code;
    if (sbx_wasi_invoke(w, "path_open", &mem, a, r, &code) || r[0].i32) {
        fprintf(stderr, "bench_path_open: path_open: errno %d\n", r[0].i32);
        exit(1);
    }
    uint32_t fd;
    memcpy(&fd, guest + 256, 4);
    union sbx_val c[1] = {{.i32 = fd}};
    if (sbx_wasi_invoke(w, "fd_close", &mem, c, r, &code) || r[0].i32) exit(1);
}

enum { NATIVE, OPS, LOCAL, BROKER, NCFG };
static const char *const names[NCFG] = {
    "native openat + close",
    "broker ops open + close",
    "wasi path_open + fd_close, local",
    "wasi path_open + fd_close, broker",
};

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20000;
    if (rounds < 100) rounds = 100;
    char dir[] = "/tmp/sbx-bench-path-XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp");
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0 || mkdirat(dirfd, "sub", 0777) || mkdirat(dirfd, "sub/dir", 0777)) die(dir);
    int f = openat(dirfd, FILE_PATH, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0 || write(f, "data\n", 5) != 5) die("file");
    close(f);
    memcpy(guest, FILE_PATH, sizeof(FILE_PATH) - 1);

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) die("socketpair");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(sv[0]);
        serve(dirfd, sv[1]);
    }
    close(sv[1]);
    struct sbx_wasi_path_broker client = {.channel = sv[0], .next_id = 1};
    struct sbx_wasi *local = wasi_with(dirfd, NULL, NULL);
    struct sbx_wasi *brokered = wasi_with(dirfd, &sbx_wasi_path_broker_ops, &client);

    uint64_t *t[NCFG];
    for (int c = 0; c < NCFG; c++)
        if (!(t[c] = malloc(sizeof(uint64_t) * (size_t)rounds))) die("malloc");
    const struct sbx_wasi_at at = {0, "", FILE_PATH};
    const struct sbx_wasi_open_req rd = {.read = true};
    /* 100 rounds of warm-up (page faults, caches), then the measured ones,
     * each overwriting the warm-up's samples. */
    for (int r = -100; r < rounds; r++) {
        for (int c = 0; c < NCFG; c++) {
            uint64_t t0 = bench_now_ns();
            int fd;
            switch (c) {
            case NATIVE:
                fd = openat(dirfd, FILE_PATH, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) die("openat");
                close(fd);
                break;
            case OPS:
                if (sbx_wasi_path_broker_ops.open(&client, &at, &rd, &fd)) die("broker open");
                close(fd);
                break;
            case LOCAL: wasi_open_close(local); break;
            case BROKER: wasi_open_close(brokered); break;
            }
            t[c][r < 0 ? 0 : r] = bench_now_ns() - t0;
        }
    }
    printf("%d rounds, same run; the broker is a second process on a SOCK_SEQPACKET pair\n\n",
           rounds);
    double native = pct_us(t[NATIVE], rounds, 50);
    for (int c = 0; c < NCFG; c++) {
        double p50 = pct_us(t[c], rounds, 50), p99 = pct_us(t[c], rounds, 99);
        printf("%-36s p50 %7.2f us   p99 %7.2f us   %6.1fx native\n", names[c], p50, p99,
               p50 / native);
    }

    sbx_wasi_free(brokered);
    sbx_wasi_free(local);
    close(sv[0]);
    int ws;
    waitpid(pid, &ws, 0);
    unlinkat(dirfd, FILE_PATH, 0);
    unlinkat(dirfd, "sub/dir", AT_REMOVEDIR);
    unlinkat(dirfd, "sub", AT_REMOVEDIR);
    close(dirfd);
    rmdir(dir);
    return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
}
