/* wasi_run: runs a WASI command module in this process, for the WASI tests.
 *
 *   wasi_run [--dir HOST::GUEST[:ro]]... [--env K=V]... [--no-stdin]
 *            [--socketpair] [--listen] [--broker] FILE.wasm [ARGS...]
 *
 * Loads, compiles, instantiates the module with the WASI library
 * (local resolver) and calls `_start`. Exit status: the guest's proc_exit
 * code (0 if _start returns), 134 on a trap (message on stderr), 1 if the
 * module cannot be loaded or instantiated, 2 for a bad command line.
 *
 * --broker runs every path call through the broker instead, as a confined
 * worker does: a forked child serves the requests with sbx_broker_serve
 * over a SOCK_SEQPACKET socketpair, and the guest runs here with
 * sbx_wasi_path_broker_ops. A request the child refuses, or a reply it
 * cannot send, ends the child with a message on stderr and fails the run.
 *
 * --socketpair hands the guest one end of a stream socketpair (after the
 * preopens); a thread on the other end echoes what it reads, uppercased.
 * --listen hands it a listening unix socket; a thread connects, sends
 * "hello from client\n" and reads until end of file. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/validate.h"
#include "jit/runtime.h"
#include "memimg/pool.h"
#include "supervisor/broker.h"
#include "wasi/path_broker.h"
#include "wasi/wasi.h"

#define MAX_DIRS 16

static int usage(void)
{
    fputs("usage: wasi_run [--dir HOST::GUEST[:ro]]... [--env K=V]... [--no-stdin]\n"
          "                [--socketpair] [--listen] [--broker] FILE.wasm [ARGS...]\n",
          stderr);
    return 2;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void *echo_upper(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (char)toupper((unsigned char)buf[i]);
        if (write(fd, buf, (size_t)n) != n) break;
    }
    close(fd);
    return NULL;
}

static struct sockaddr_un listen_addr;
static socklen_t listen_len;

static void *client(void *arg)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&listen_addr, listen_len)) return NULL;
    static const char msg[] = "hello from client\n";
    if (write(fd, msg, sizeof(msg) - 1) < 0) return NULL;
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    close(fd);
    return NULL;
}

/* The broker process: serves path requests until the guest's side closes. */
static _Noreturn void serve_broker(const struct sbx_wasi_preopen *dirs, size_t n, int channel)
{
    struct sbx_broker_preopen p[MAX_DIRS];
    for (size_t k = 0; k < n; k++)
        p[k] = (struct sbx_broker_preopen){NULL, dirs[k].host_fd, dirs[k].guest_path,
                                           dirs[k].read_only};
    struct sbx_broker *b;
    int rc = sbx_broker_new(p, n, &b);
    while (!rc) {
        ProtobufCMessage *m;
        int fds[SBX_IPC_MAX_FDS];
        size_t nfds;
        rc = sbx_ipc_recv(channel, &sbx__from_worker__descriptor, &m, fds, &nfds, SBX_IPC_MAX_FDS,
                          -1);
        if (rc == -EPIPE) _exit(0);
        if (rc) break;
        const Sbx__FromWorker *fw = (const Sbx__FromWorker *)m;
        struct sbx_ipc_reject why;
        if (sbx_ipc_validate_from_worker(fw, nfds, &why)) {
            fprintf(stderr, "wasi_run: broker: refused: %s\n", why.message);
            _exit(3);
        }
        if (fw->body_case != SBX__FROM_WORKER__BODY_PATH) {
            fputs("wasi_run: broker: not a path request\n", stderr);
            _exit(3);
        }
        rc = sbx_broker_serve(b, channel, fw);
        sbx_ipc_free(m);
    }
    fprintf(stderr, "wasi_run: broker: %s\n", strerror(-rc));
    _exit(3);
}

int main(int argc, char **argv)
{
    struct sbx_wasi_preopen dirs[MAX_DIRS];
    size_t ndirs = 0;
    const char *env[64];
    size_t nenv = 0;
    bool no_stdin = false, socketpair_opt = false, listen_opt = false, broker_opt = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc && ndirs < MAX_DIRS) {
            char *spec = argv[++i];
            char *sep = strstr(spec, "::");
            if (!sep) return usage();
            *sep = '\0';
            char *guest = sep + 2;
            bool ro = false;
            size_t gl = strlen(guest);
            if (gl > 3 && !strcmp(guest + gl - 3, ":ro")) {
                guest[gl - 3] = '\0';
                ro = true;
            }
            int fd = open(spec, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                fprintf(stderr, "wasi_run: %s: %s\n", spec, strerror(errno));
                return 1;
            }
            dirs[ndirs++] = (struct sbx_wasi_preopen){fd, guest, ro};
        } else if (!strcmp(argv[i], "--env") && i + 1 < argc && nenv < 64) {
            env[nenv++] = argv[++i];
        } else if (!strcmp(argv[i], "--no-stdin")) {
            no_stdin = true;
        } else if (!strcmp(argv[i], "--socketpair")) {
            socketpair_opt = true;
        } else if (!strcmp(argv[i], "--listen")) {
            listen_opt = true;
        } else if (!strcmp(argv[i], "--broker")) {
            broker_opt = true;
        } else {
            return usage();
        }
    }
    if (i >= argc) return usage();
    const char *path = argv[i];
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is EPIPE to the guest */

    /* Forked before any thread exists. */
    struct sbx_wasi_path_broker broker = {.channel = -1, .next_id = 1};
    pid_t broker_pid = -1;
    if (broker_opt) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) return 1;
        fflush(NULL);
        broker_pid = fork();
        if (broker_pid < 0) return 1;
        if (broker_pid == 0) {
            close(sv[0]);
            serve_broker(dirs, ndirs, sv[1]);
        }
        close(sv[1]);
        broker.channel = sv[0];
    }

    int socks[2];
    size_t nsocks = 0;
    pthread_t thread;
    bool have_thread = false;
    if (socketpair_opt) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) return 1;
        socks[nsocks++] = sv[0];
        pthread_create(&thread, NULL, echo_upper, (void *)(intptr_t)sv[1]);
        have_thread = true;
    } else if (listen_opt) {
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        listen_addr.sun_family = AF_UNIX;
        int n = snprintf(listen_addr.sun_path + 1, sizeof(listen_addr.sun_path) - 1,
                         "sbx-wasi-test-%d", (int)getpid());
        listen_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
        if (l < 0 || bind(l, (struct sockaddr *)&listen_addr, listen_len) || listen(l, 4)) {
            perror("wasi_run: listen");
            return 1;
        }
        socks[nsocks++] = l;
        pthread_create(&thread, NULL, client, NULL);
        have_thread = true;
    }

    size_t len;
    uint8_t *bytes = read_all(path, &len);
    if (!bytes) {
        fprintf(stderr, "wasi_run: %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct sbx_error err;
    struct sbx_module *m = sbx_module_load(bytes, len, &err);
    if (!m) {
        fprintf(stderr, "wasi_run: %s: %s\n", path, err.msg);
        return 1;
    }
    struct sbx_compiled *c = sbx_compile(m, &(struct sbx_compile_options){0}, &err);
    if (!c) {
        fprintf(stderr, "wasi_run: %s: cannot compile: %s\n", path, err.msg);
        return 1;
    }
    struct sbx_pool_config pcfg;
    sbx_pool_config_default(&pcfg);
    pcfg.slot_count = 1;
    struct sbx_pool *pool;
    if (sbx_pool_create(&pcfg, &pool)) {
        fputs("wasi_run: cannot create the memory pool\n", stderr);
        return 1;
    }

    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char **wargv = calloc((size_t)(argc - i) + 1, sizeof(*wargv));
    wargv[0] = base;
    for (int k = i + 1; k < argc; k++)
        wargv[k - i] = argv[k];
    struct sbx_wasi_config cfg;
    sbx_wasi_config_default(&cfg);
    cfg.argv = wargv;
    cfg.argc = (size_t)(argc - i);
    cfg.env = env;
    cfg.envc = nenv;
    if (no_stdin) cfg.stdin_fd = -1;
    cfg.preopens = dirs;
    cfg.npreopens = ndirs;
    cfg.socket_fds = socks;
    cfg.nsockets = nsocks;
    if (broker_opt) {
        cfg.ops = &sbx_wasi_path_broker_ops;
        cfg.ops_ctx = &broker;
    }
    struct sbx_wasi *w;
    if (sbx_wasi_new(&cfg, &w, &err)) {
        fprintf(stderr, "wasi_run: %s\n", err.msg);
        return 1;
    }
    for (size_t k = 0; k < ndirs; k++)
        close(dirs[k].host_fd);
    for (size_t k = 0; k < nsocks; k++)
        close(socks[k]);

    struct sbx_linker *linker = sbx_linker_new();
    if (!linker || sbx_wasi_define(w, linker)) {
        fputs("wasi_run: out of memory\n", stderr);
        return 1;
    }
    struct sbx_trap trap;
    int status = 1;
    struct sbx_instance *inst = sbx_instantiate(c, linker, pool, &err, &trap);
    if (!inst) {
        fprintf(stderr, "wasi_run: %s: cannot instantiate: %s\n", path, err.msg);
        goto out;
    }
    struct sbx_extern ext;
    if (sbx_instance_export(inst, "_start", &ext) || ext.kind != SBX_EXTERN_FUNC) {
        fprintf(stderr, "wasi_run: %s: no _start export\n", path);
        goto out;
    }
    const struct sbx_export *ex = sbx_module_export(m, "_start");
    fflush(stdout);
    if (sbx_instance_call(inst, ex->index, NULL, NULL, &trap) == 0) {
        status = 0;
    } else if (trap.code == SBX_TRAP_EXIT) {
        status = trap.exit_code;
    } else {
        fprintf(stderr, "wasi_run: wasm trap: %s\n", trap.message);
        status = 134;
    }
out:
    sbx_instance_free(inst);
    sbx_linker_free(linker);
    sbx_wasi_free(w); /* closes the guest's end of the sockets: the peer sees EOF */
    if (have_thread) pthread_join(thread, NULL);
    sbx_pool_destroy(pool);
    sbx_compiled_free(c);
    sbx_module_free(m);
    free(bytes);
    free(wargv);
    if (broker_pid > 0) {
        close(broker.channel); /* the broker sees end of stream and exits */
        int ws;
        if (waitpid(broker_pid, &ws, 0) != broker_pid || !WIFEXITED(ws) || WEXITSTATUS(ws)) {
            fputs("wasi_run: the broker failed\n", stderr);
            if (!status) status = 1;
        }
    }
    return status;
}
