/* Spawn latency and throughput through `sbx serve`, against fork+exec of a
 * static native program that does nothing, in the same run. For each of N
 * spawns: request -> Spawned (the worker exists) and request -> Outcome
 * (it ran the empty export and was reaped); p50/p99 and spawns per second,
 * with one client. A benchmark, never a test.
 * Usage: bench_spawn SBX NOP.wasm NATIVE_NOP [N] */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

extern char **environ;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *ns, int n, uint64_t total_ns)
{
    qsort(ns, (size_t)n, sizeof *ns, cmp_u64);
    printf("%-34s p50 %7.1f us   p99 %7.1f us   %7.0f /s\n", what, ns[n / 2] / 1e3,
           ns[(n * 99) / 100] / 1e3, n / (total_ns / 1e9));
}

static uint64_t next_id = 1;

static Sbx__Response *call(int fd, Sbx__Request *req)
{
    req->has_id = 1, req->id = next_id++;
    if (sbx_ipc_send(fd, &req->base, NULL, 0, 5000)) return NULL;
    Sbx__Response *r = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    if (sbx_ipc_recv(fd, &sbx__response__descriptor, (ProtobufCMessage **)&r, fds, &nfds,
                     SBX_IPC_MAX_FDS, 10000))
        return NULL;
    sbx_ipc_close_fds(fds, nfds);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_spawn SBX NOP.wasm NATIVE_NOP [N]\n");
        return 2;
    }
    int n = argc > 4 ? atoi(argv[4]) : 2000;
    char sock[64];
    snprintf(sock, sizeof sock, "/tmp/sbx-bench-%d.sock", getpid());
    pid_t daemon = fork();
    if (daemon == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(argv[1], argv[1], "serve", "--socket", sock, (char *)NULL);
        _exit(127);
    }
    struct stat st;
    for (int i = 0; i < 500 && stat(sock, &st); i++)
        usleep(10000);
    int fd = sbx_ipc_connect(sock);
    if (fd < 0) {
        fprintf(stderr, "bench_spawn: cannot connect to the daemon\n");
        return 1;
    }
    Sbx__Request req;
    Sbx__Hello hello;
    sbx__request__init(&req);
    sbx__hello__init(&hello);
    hello.has_protocol_version = 1, hello.protocol_version = 1;
    req.body_case = SBX__REQUEST__BODY_HELLO, req.hello = &hello;
    Sbx__Response *r = call(fd, &req);
    sbx_ipc_free(&r->base);

    FILE *f = fopen(argv[2], "rb");
    uint8_t buf[4096];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    Sbx__LoadModule lm;
    sbx__request__init(&req);
    sbx__load_module__init(&lm);
    lm.source_case = SBX__LOAD_MODULE__SOURCE_INLINE_BYTES;
    lm.inline_bytes.data = buf, lm.inline_bytes.len = len;
    req.body_case = SBX__REQUEST__BODY_LOAD_MODULE, req.load_module = &lm;
    r = call(fd, &req);
    char id[65];
    snprintf(id, sizeof id, "%s", r->module_loaded->module_id);
    sbx_ipc_free(&r->base);

    uint64_t *to_spawned = calloc((size_t)n, sizeof(uint64_t));
    uint64_t *to_outcome = calloc((size_t)n, sizeof(uint64_t));
    uint64_t *native = calloc((size_t)n, sizeof(uint64_t));
    Sbx__Spawn sp;
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        sbx__request__init(&req);
        sbx__spawn__init(&sp);
        sp.module_id = id, sp.export_name = "nop";
        req.body_case = SBX__REQUEST__BODY_SPAWN, req.spawn = &sp;
        uint64_t s = now_ns();
        r = call(fd, &req);
        to_spawned[i] = now_ns() - s;
        if (!r || r->body_case != SBX__RESPONSE__BODY_SPAWNED) {
            fprintf(stderr, "bench_spawn: spawn %d failed\n", i);
            return 1;
        }
        sbx_ipc_free(&r->base);
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds = 0;
        sbx_ipc_recv(fd, &sbx__response__descriptor, (ProtobufCMessage **)&r, fds, &nfds,
                     SBX_IPC_MAX_FDS, 10000);
        to_outcome[i] = now_ns() - s;
        sbx_ipc_free(&r->base);
    }
    uint64_t sbx_total = now_ns() - t0;
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        uint64_t s = now_ns();
        pid_t pid;
        char *args[] = {argv[3], NULL};
        if (posix_spawn(&pid, argv[3], NULL, NULL, args, environ)) return 1;
        int status;
        waitpid(pid, &status, 0);
        native[i] = now_ns() - s;
    }
    uint64_t native_total = now_ns() - t0;
    printf("%d spawns each, one client, 2-vCPU machine\n", n);
    report("sbx: request -> Spawned", to_spawned, n, sbx_total);
    report("sbx: request -> Outcome (empty)", to_outcome, n, sbx_total);
    report("native: fork+exec+wait (static)", native, n, native_total);
    printf("ratio of p50, sbx outcome / native: %.2fx\n",
           (double)to_outcome[n / 2] / (double)native[n / 2]);
    close(fd);
    kill(daemon, SIGTERM);
    waitpid(daemon, NULL, 0);
    return 0;
}
