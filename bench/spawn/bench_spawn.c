/* Spawn latency and throughput through `sbx serve`, against fork+exec of a
 * static native program that does nothing, in the same run. For each spawn:
 * request -> Spawned (the zygote forked the worker) and request -> Outcome
 * (the worker confined itself with the daemon's default policy, ran the
 * empty export and reported; the daemon sends the outcome from the report);
 * p50/p99 and spawns per second, with one client and with two clients (two
 * threads, each with its own connection, spawning concurrently; the native
 * peer likewise runs two fork+exec loops at once); each also in the
 * one-message form (Spawn.reply_with_outcome, what sbx_run sends: the
 * outcome is the only answer). The configurations
 * alternate in blocks so drift on this noisy machine hits them alike. Also
 * the cost split: Spawned -> Outcome, the worker's lifetime as the
 * supervisor measured it (Outcome.usage.wall_us, WorkerStarted to report),
 * its own CPU to its report, and the CPU per spawn of each process: the
 * client, the supervisor, the zygote and the workers' whole lives (the
 * zygote's reaped children), with the rate that total allows on this
 * machine's CPUs. Last, the floors (floors.h): a message round trip between
 * two processes on one CPU and on two, and bare forks per second, which no
 * design that answers a spawn with a new process can go below. A
 * benchmark, never a test.
 * Usage: bench_spawn SBX NOP.wasm NATIVE_NOP [N] [BLOCKS]
 *   N spawns per configuration (default 2000), in BLOCKS blocks (default 4). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
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
#include "bench/common/bench_stats.h"
#include "bench/spawn/floors.h"

extern char **environ;

#define TARGET_P50_US 200.0
#define TARGET_PER_S  5000.0

static double pct(uint64_t *v, int n, int p) /* v in ns; result in us */
{
    return bench_percentile_ns(v, (size_t)n, p) / 1e3;
}

/* One client connection; each has its own request ids. */
struct conn {
    int fd;
    uint64_t next_id;
};

static Sbx__Response *call(struct conn *c, Sbx__Request *req)
{
    req->has_id = 1, req->id = c->next_id++;
    if (sbx_ipc_send(c->fd, &req->base, NULL, 0, 5000)) return NULL;
    Sbx__Response *r = NULL;
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    if (sbx_ipc_recv(c->fd, &sbx__response__descriptor, (ProtobufCMessage **)&r, fds, &nfds,
                     SBX_IPC_MAX_FDS, 10000))
        return NULL;
    sbx_ipc_close_fds(fds, nfds);
    return r;
}

static uint8_t module_bytes[4096];
static size_t module_len;

/* Connects, says hello and loads the module (a second load of the same
 * bytes only adds a reference); fills module_id. */
static int open_conn(struct conn *c, const char *sock, char module_id[65])
{
    c->fd = sbx_ipc_connect(sock), c->next_id = 1;
    if (c->fd < 0) return -1;
    Sbx__Request req;
    Sbx__Hello hello;
    sbx__request__init(&req);
    sbx__hello__init(&hello);
    hello.has_protocol_version = 1, hello.protocol_version = 1;
    req.body_case = SBX__REQUEST__BODY_HELLO, req.hello = &hello;
    Sbx__Response *r = call(c, &req);
    if (!r) return -1;
    sbx_ipc_free(&r->base);
    Sbx__LoadModule lm;
    sbx__request__init(&req);
    sbx__load_module__init(&lm);
    lm.source_case = SBX__LOAD_MODULE__SOURCE_INLINE_BYTES;
    lm.inline_bytes.data = module_bytes, lm.inline_bytes.len = module_len;
    req.body_case = SBX__REQUEST__BODY_LOAD_MODULE, req.load_module = &lm;
    r = call(c, &req);
    if (!r || r->body_case != SBX__RESPONSE__BODY_MODULE_LOADED) return -1;
    snprintf(module_id, 65, "%s", r->module_loaded->module_id);
    sbx_ipc_free(&r->base);
    return 0;
}

/* Samples of one configuration. */
struct samples {
    uint64_t *spawned, *outcome, *worker_wall, *worker_cpu; /* ns */
    int n;
    uint64_t busy_ns; /* sum of the blocks' wall time */
    uint64_t client_cpu_ns, daemon_cpu_ns, zygote_cpu_ns, workers_cpu_ns; /* over the blocks */
    uint64_t templates_cpu_ns; /* the live templates' own (they fork the warm workers) */
    uint64_t zygote_faults, templates_faults, workers_faults; /* minor page faults, over blocks */
    bool one_message; /* Spawn.reply_with_outcome: the outcome is the only answer */
};

/* A process's CPU time (user+sys, ns) and minor page faults, and those of
 * its reaped children (for the zygote: its workers' whole lives, exits
 * included), from /proc/PID/stat; zeros if it is gone. */
struct proc_usage {
    uint64_t cpu_ns, children_cpu_ns, faults, children_faults;
};

static struct proc_usage proc_usage(pid_t pid)
{
    struct proc_usage u = {0};
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return u;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long long flt = 0, cflt = 0, ut = 0, st = 0, cut = 0, cst = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %llu %*u %*u %llu %llu %llu %llu",
                     &flt, &cflt, &ut, &st, &cut, &cst) != 6)
        return u;
    uint64_t tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
    u.cpu_ns = (ut + st) * tick, u.children_cpu_ns = (cut + cst) * tick;
    u.faults = flt, u.children_faults = cflt;
    return u;
}

/* The CPU and page faults of the zygote's live children that are
 * templates of warm workers (named sbx-template): they are reaped only when
 * dismissed, so their forks would not show in the zygote's reaped
 * children's. */
static struct proc_usage templates_usage(pid_t zygote)
{
    struct proc_usage sum = {0};
    char path[96], comm[32];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)zygote, (int)zygote);
    FILE *f = fopen(path, "r");
    if (!f) return sum;
    int pid;
    while (fscanf(f, "%d", &pid) == 1) {
        snprintf(path, sizeof path, "/proc/%d/comm", pid);
        FILE *c = fopen(path, "r");
        if (!c) continue;
        bool is_template = fgets(comm, sizeof comm, c) && !strcmp(comm, "sbx-template\n");
        fclose(c);
        if (!is_template) continue;
        struct proc_usage u = proc_usage(pid);
        sum.cpu_ns += u.cpu_ns, sum.faults += u.faults;
    }
    fclose(f);
    return sum;
}

static uint64_t self_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Who spends the CPU of a spawn: the client (this process), the
 * supervisor, the zygote, summed over the blocks of one configuration. */
static pid_t daemon_pid, zygote_pid;

static void samples_init(struct samples *s, int cap)
{
    s->spawned = calloc((size_t)cap, sizeof(uint64_t));
    s->outcome = calloc((size_t)cap, sizeof(uint64_t));
    s->worker_wall = calloc((size_t)cap, sizeof(uint64_t));
    s->worker_cpu = calloc((size_t)cap, sizeof(uint64_t));
    s->n = 0, s->busy_ns = 0;
    s->client_cpu_ns = s->daemon_cpu_ns = s->zygote_cpu_ns = s->workers_cpu_ns = 0;
    s->templates_cpu_ns = 0;
    s->zygote_faults = s->templates_faults = s->workers_faults = 0;
    s->one_message = false;
}

/* One spawn of the empty export, to its outcome. */
static int sbx_spawn_one(struct conn *c, const char *module_id, struct samples *s, int slot)
{
    Sbx__Request req;
    Sbx__Spawn sp;
    sbx__request__init(&req);
    sbx__spawn__init(&sp);
    sp.module_id = (char *)module_id, sp.export_name = "nop";
    sp.has_reply_with_outcome = s->one_message, sp.reply_with_outcome = s->one_message;
    req.body_case = SBX__REQUEST__BODY_SPAWN, req.spawn = &sp;
    uint64_t t0 = bench_now_ns();
    Sbx__Response *r = call(c, &req);
    uint64_t t1 = bench_now_ns();
    if (s->one_message) {
        if (!r || r->body_case != SBX__RESPONSE__BODY_OUTCOME ||
            r->outcome->kind_case != SBX__OUTCOME__KIND_EXITED) {
            fprintf(stderr, "bench_spawn: no exited outcome as the spawn's answer\n");
            return -1;
        }
        const Sbx__Usage *u = r->outcome->usage;
        s->spawned[slot] = s->outcome[slot] = t1 - t0;
        s->worker_wall[slot] = u && u->has_wall_us ? u->wall_us * 1000 : 0;
        s->worker_cpu[slot] = u ? (u->user_us + u->sys_us) * 1000 : 0;
        sbx_ipc_free(&r->base);
        return 0;
    }
    if (!r || r->body_case != SBX__RESPONSE__BODY_SPAWNED) {
        fprintf(stderr, "bench_spawn: spawn failed (%s)\n",
                r && r->body_case == SBX__RESPONSE__BODY_ERROR && r->error->message
                    ? r->error->message
                    : "no answer");
        return -1;
    }
    sbx_ipc_free(&r->base);
    int fds[SBX_IPC_MAX_FDS];
    size_t nfds = 0;
    r = NULL;
    if (sbx_ipc_recv(c->fd, &sbx__response__descriptor, (ProtobufCMessage **)&r, fds, &nfds,
                     SBX_IPC_MAX_FDS, 10000) ||
        r->body_case != SBX__RESPONSE__BODY_EVENT || !r->event->outcome ||
        r->event->outcome->kind_case != SBX__OUTCOME__KIND_EXITED) {
        fprintf(stderr, "bench_spawn: no exited outcome\n");
        return -1;
    }
    uint64_t t2 = bench_now_ns();
    sbx_ipc_close_fds(fds, nfds);
    const Sbx__Usage *u = r->event->outcome->usage;
    s->spawned[slot] = t1 - t0;
    s->outcome[slot] = t2 - t0;
    s->worker_wall[slot] = u && u->has_wall_us ? u->wall_us * 1000 : 0;
    s->worker_cpu[slot] = u ? (u->user_us + u->sys_us) * 1000 : 0;
    sbx_ipc_free(&r->base);
    return 0;
}

static const char *native_path;

static int native_one(struct samples *s, int slot)
{
    uint64_t t0 = bench_now_ns();
    pid_t pid;
    char *args[] = {(char *)native_path, NULL};
    if (posix_spawn(&pid, native_path, NULL, NULL, args, environ)) return -1;
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) return -1;
    s->outcome[slot] = s->spawned[slot] = bench_now_ns() - t0;
    return 0;
}

/* A thread of a two-client block: `count` spawns into slots [first, ...). */
struct job {
    struct conn *c; /* NULL: native */
    const char *module_id;
    struct samples *s;
    int first, count;
    pthread_barrier_t *start;
    int failed;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    if (j->start) pthread_barrier_wait(j->start);
    for (int i = 0; i < j->count; i++)
        if (j->c ? sbx_spawn_one(j->c, j->module_id, j->s, j->first + i)
                 : native_one(j->s, j->first + i)) {
            j->failed = 1;
            break;
        }
    return NULL;
}

static int block_run(int clients, struct conn *conns, const char *module_id, struct samples *s,
                     int count);

/* Latency below saturation: one client, one spawn every PACE_US (each
 * starts on the tick after the previous outcome), so a spawn does not
 * compete with the teardown of the one before it. */
#define PACE_US 2000

static int paced_block(struct conn *c, const char *module_id, struct samples *s, int count)
{
    for (int i = 0; i < count; i++) {
        int rc = c ? sbx_spawn_one(c, module_id, s, s->n) : native_one(s, s->n);
        if (rc) return -1;
        s->n++;
        struct timespec pause = {0, PACE_US * 1000L};
        nanosleep(&pause, NULL);
    }
    return 0;
}

/* One block of `count` spawns, by one or two clients. */
static int block(int clients, struct conn *conns, const char *module_id, struct samples *s,
                 int count)
{
    uint64_t c0 = self_cpu_ns();
    struct proc_usage d0 = proc_usage(daemon_pid), z0 = proc_usage(zygote_pid);
    struct proc_usage t0 = templates_usage(zygote_pid);
    int rc = block_run(clients, conns, module_id, s, count);
    usleep(20000); /* the last workers exit and are reaped */
    struct proc_usage d1 = proc_usage(daemon_pid), z1 = proc_usage(zygote_pid);
    struct proc_usage t1 = templates_usage(zygote_pid);
    s->templates_cpu_ns += t1.cpu_ns > t0.cpu_ns ? t1.cpu_ns - t0.cpu_ns : 0;
    s->templates_faults += t1.faults > t0.faults ? t1.faults - t0.faults : 0;
    s->client_cpu_ns += self_cpu_ns() - c0;
    s->daemon_cpu_ns += d1.cpu_ns - d0.cpu_ns;
    s->zygote_cpu_ns += z1.cpu_ns - z0.cpu_ns;
    s->workers_cpu_ns += z1.children_cpu_ns - z0.children_cpu_ns;
    s->zygote_faults += z1.faults - z0.faults;
    s->workers_faults += z1.children_faults - z0.children_faults;
    return rc;
}

static int block_run(int clients, struct conn *conns, const char *module_id, struct samples *s,
                     int count)
{
    struct job jobs[2];
    pthread_barrier_t start;
    if (clients == 1) {
        jobs[0] = (struct job){conns ? &conns[0] : NULL, module_id, s, s->n, count, NULL, 0};
        uint64_t t0 = bench_now_ns();
        run_job(&jobs[0]);
        s->busy_ns += bench_now_ns() - t0;
        s->n += count;
        return jobs[0].failed ? -1 : 0;
    }
    pthread_barrier_init(&start, NULL, 3);
    pthread_t th[2];
    int half = count / 2;
    for (int k = 0; k < 2; k++) {
        jobs[k] = (struct job){conns ? &conns[k] : NULL, module_id, s, s->n + k * half,
                               k ? count - half : half,  &start,    0};
        pthread_create(&th[k], NULL, run_job, &jobs[k]);
    }
    pthread_barrier_wait(&start);
    uint64_t t0 = bench_now_ns();
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    s->busy_ns += bench_now_ns() - t0;
    s->n += count;
    return jobs[0].failed || jobs[1].failed ? -1 : 0;
}

static double rate(const struct samples *s)
{
    return s->n / (s->busy_ns / 1e9);
}

static void row(const char *name, struct samples *s, const struct samples *peer, bool sbx)
{
    double p50o = pct(s->outcome, s->n, 50), p99o = pct(s->outcome, s->n, 99);
    printf("%-30s %6d ", name, s->n);
    if (sbx && !s->one_message)
        printf("%9.1f %9.1f ", pct(s->spawned, s->n, 50), pct(s->spawned, s->n, 99));
    else
        printf("%9s %9s ", "-", "-");
    if (s->busy_ns)
        printf("%9.1f %9.1f %9.0f", p50o, p99o, rate(s));
    else /* paced: no rate */
        printf("%9.1f %9.1f %9s", p50o, p99o, "-");
    if (peer) {
        struct samples tmp = *peer;
        double peer50 = pct(tmp.outcome, tmp.n, 50);
        printf("   %5.2fx", p50o / peer50);
        if (s->busy_ns) printf("   %5.2fx", rate(s) / rate(peer));
    }
    printf("\n");
}

static void split_row(const char *name, struct samples *s)
{
    uint64_t *d = calloc((size_t)s->n, sizeof(uint64_t));
    double cpu = 0;
    for (int i = 0; i < s->n; i++)
        d[i] = s->outcome[i] - s->spawned[i], cpu += (double)s->worker_cpu[i];
    double s50 = pct(s->spawned, s->n, 50);
    double d50 = pct(d, s->n, 50), d99 = pct(d, s->n, 99);
    double w50 = pct(s->worker_wall, s->n, 50), w99 = pct(s->worker_wall, s->n, 99);
    printf("%-30s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", name, s50, d50, d99, w50, w99,
           cpu / s->n / 1e3);
    free(d);
}

/* CPU per spawn by process, the spawn rate that much CPU allows on every
 * CPU of this machine (what the throughput target asks of it), and the
 * page faults per spawn of the zygote and the templates (copy-on-write
 * after each fork) and of a worker's whole life. */
static void cpu_row(const char *name, const struct samples *s)
{
    double n = s->n, client = s->client_cpu_ns / n / 1e3, sup = s->daemon_cpu_ns / n / 1e3;
    double zyg = s->zygote_cpu_ns / n / 1e3, wrk = s->workers_cpu_ns / n / 1e3;
    double tpl = s->templates_cpu_ns / n / 1e3;
    double total = client + sup + zyg + tpl + wrk;
    printf("%-30s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.0f %9.1f %9.1f %9.1f\n", name, client, sup,
           zyg, tpl, wrk, total, sysconf(_SC_NPROCESSORS_ONLN) * 1e6 / total, s->zygote_faults / n,
           s->templates_faults / n, s->workers_faults / n);
}

/* The daemon's status, or NULL. */
static Sbx__Response *status(struct conn *c)
{
    Sbx__Request req;
    Sbx__Status st;
    sbx__request__init(&req);
    sbx__status__init(&st);
    req.body_case = SBX__REQUEST__BODY_STATUS, req.status = &st;
    Sbx__Response *r = call(c, &req);
    if (r && r->body_case == SBX__RESPONSE__BODY_STATUS) return r;
    if (r) sbx_ipc_free(&r->base);
    return NULL;
}

static pid_t query_zygote_pid(struct conn *c)
{
    Sbx__Response *r = status(c);
    pid_t pid = r && r->status->has_zygote_pid ? r->status->zygote_pid : 0;
    if (r) sbx_ipc_free(&r->base);
    return pid;
}

static void status_line(struct conn *c)
{
    Sbx__Response *r = status(c);
    if (!r) return;
    if (!r->status->counters) {
        sbx_ipc_free(&r->base);
        return;
    }
    const Sbx__Counters *k = r->status->counters;
    printf("daemon counters: spawns %llu, exited %llu, zygote rotations %llu, restarts %llu, "
           "refused busy %llu\n",
           (unsigned long long)k->spawns, (unsigned long long)k->exited,
           (unsigned long long)k->zygote_rotations, (unsigned long long)k->zygote_restarts,
           (unsigned long long)k->refused_busy);
    sbx_ipc_free(&r->base);
}

/* The floors (floors.h), after the daemon has gone: what any design that
 * answers a spawn with a process of its own pays on this machine. */
static void print_floors(int n, double best50, double best_rate)
{
    struct round_trip same, cross;
    bool have_same = !floor_round_trip(n, 1, &same), have_cross = !floor_round_trip(n, 0, &cross);
    double forks1 = floor_forks_per_s(n, 1), forks2 = floor_forks_per_s(n / 2, 2);
    printf("\nfloors on this machine, same run (no sbx): a message round trip between two "
           "processes\n(SOCK_SEQPACKET), and fork + _exit + waitpid without exec\n");
    if (have_same)
        printf("  round trip, both on one CPU:     p50 %7.1f us, CPU %5.1f us per side\n",
               same.p50_us, same.cpu_us_per_side);
    if (have_cross)
        printf("  round trip, on two CPUs:         p50 %7.1f us, CPU %5.1f us per side\n",
               cross.p50_us, cross.cpu_us_per_side);
    if (forks1 > 0 && forks2 > 0)
        printf("  bare forks per second: 1 loop %.0f, 2 loops %.0f\n", forks1, forks2);
    /* A spawn through the daemon is two round trips (client <-> supervisor
     * <-> worker) at least; sbx's rate against bare forks. */
    if (have_cross)
        printf("  2 round trips on two CPUs: %.1f us, %.0f%% of sbx's p50 (%.1f us)\n",
               2 * cross.p50_us, 100 * 2 * cross.p50_us / best50, best50);
    if (forks2 > 0)
        printf("  sbx's best rate is %.0f%% of bare forks with 2 loops\n",
               100 * best_rate / forks2);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_spawn SBX NOP.wasm NATIVE_NOP [N] [BLOCKS]\n");
        return 2;
    }
    int n = argc > 4 ? atoi(argv[4]) : 2000;
    int blocks = argc > 5 ? atoi(argv[5]) : 4;
    if (n < 100 || blocks < 1 || n / blocks < 2) {
        fprintf(stderr, "bench_spawn: N >= 100 and N / BLOCKS >= 2\n");
        return 2;
    }
    native_path = argv[3];
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    module_len = fread(module_bytes, 1, sizeof module_bytes, f);
    fclose(f);

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
    struct conn conns[3];
    char id[65];
    for (int k = 0; k < 3; k++)
        if (open_conn(&conns[k], sock, id)) {
            fprintf(stderr, "bench_spawn: cannot connect to the daemon or load the module\n");
            kill(daemon, SIGTERM);
            return 1;
        }

    daemon_pid = daemon;
    zygote_pid = query_zygote_pid(&conns[0]);
    char load0[128], load1[128];
    bench_loadavg(load0, sizeof load0);
    /* Warm-up: page in the daemon, zygote and the native binary. */
    struct samples warm, s1, n1, s2, n2, sp, np, so, so2, spo;
    int paced = n / 4; /* the paced rows take PACE_US per spawn: fewer */
    samples_init(&warm, 200);
    samples_init(&s1, n), samples_init(&n1, n), samples_init(&s2, n), samples_init(&n2, n);
    samples_init(&sp, paced), samples_init(&np, paced);
    samples_init(&so, n), samples_init(&so2, n), samples_init(&spo, paced);
    so.one_message = so2.one_message = spo.one_message = true;
    if (block(1, conns, id, &warm, 100) || block(1, NULL, NULL, &warm, 100)) goto fail;

    for (int b = 0; b < blocks; b++) {
        int count = n / blocks + (b < n % blocks);
        if (block(1, &conns[0], id, &s1, count) || block(1, NULL, NULL, &n1, count) ||
            block(2, &conns[1], id, &s2, count) || block(2, NULL, NULL, &n2, count) ||
            paced_block(&conns[0], id, &sp, paced / blocks + (b < paced % blocks)) ||
            paced_block(NULL, NULL, &np, paced / blocks + (b < paced % blocks)) ||
            block(1, &conns[0], id, &so, count) || block(2, &conns[1], id, &so2, count) ||
            paced_block(&conns[0], id, &spo, paced / blocks + (b < paced % blocks)))
            goto fail;
    }
    bench_loadavg(load1, sizeof load1);

    printf("%d spawns per configuration in %d alternating blocks; %ld CPUs; loadavg before: %s; "
           "after: %s\n",
           n, blocks, sysconf(_SC_NPROCESSORS_ONLN), load0, load1);
    printf("latencies in us; 'vs native' = sbx p50 outcome / native p50, sbx spawns/s / native "
           "spawns/s\n\n");
    printf("%-30s %6s %9s %9s %9s %9s %9s   %-16s\n", "configuration", "n", "p50 spwn", "p99 spwn",
           "p50 out", "p99 out", "per s", "vs native p50/rate");
    row("native fork+exec, 1 client", &n1, NULL, false);
    row("sbx serve, 1 client", &s1, &n1, true);
    row("native fork+exec, 2 clients", &n2, NULL, false);
    row("sbx serve, 2 clients", &s2, &n2, true);
    printf("paced: one spawn every %d us after the previous outcome (per s: not a rate)\n",
           PACE_US);
    row("native fork+exec, paced", &np, NULL, false);
    row("sbx serve, 1 client, paced", &sp, &np, true);
    printf("one message: Spawn.reply_with_outcome, the outcome is the spawn's only answer\n");
    row("sbx serve, 1 client, one msg", &so, &n1, true);
    row("sbx serve, 2 clients, one msg", &so2, &n2, true);
    row("sbx serve, paced, one msg", &spo, &np, true);
    printf("\nsbx cost split (us): req->Spawned = request, a warm worker taken (or forked by the "
           "zygote\nor a template), WorkerStarted, reply;\n"
           "Spawned->Outcome = worker confines itself, runs, reports (the outcome goes out then);\n"
           "worker life = supervisor-measured WorkerStarted -> report; worker CPU = its user+sys "
           "to its report (mean)\n");
    printf("%-30s %9s %9s %9s %9s %9s %9s\n", "configuration", "p50 spwn", "p50 s->o", "p99 s->o",
           "p50 life", "p99 life", "cpu mean");
    split_row("sbx serve, 1 client", &s1);
    split_row("sbx serve, 2 clients", &s2);
    printf("\nCPU per spawn (us, user+sys; supervisor, zygote, templates (the live ones, which "
           "fork\nthe warm workers) and workers (the zygote's reaped children, exits included) "
           "from /proc\nat clock-tick resolution, summed over blocks);\n"
           "max/s = the spawns per second that much CPU allows on all %ld CPUs;\n"
           "faults = minor page faults per spawn: the zygote's, the templates' (their own, not\n"
           "their children's), and a worker's whole life\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-30s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "configuration", "client", "supervsr",
           "zygote", "templts", "worker", "total", "max/s", "zyg flt", "tpl flt", "wrk flt");
    cpu_row("sbx serve, 1 client", &s1);
    cpu_row("sbx serve, 2 clients", &s2);

    double b2b = pct(s1.outcome, s1.n, 50), b2b1 = pct(so.outcome, so.n, 50);
    double best50 = b2b1 < b2b ? b2b1 : b2b;
    double pc = pct(sp.outcome, sp.n, 50), pc1 = pct(spo.outcome, spo.n, 50);
    double paced50 = pc1 < pc ? pc1 : pc;
    double best_rate = rate(&s1) > rate(&s2) ? rate(&s1) : rate(&s2);
    if (rate(&so) > best_rate) best_rate = rate(&so);
    if (rate(&so2) > best_rate) best_rate = rate(&so2);
    printf("\ntarget p50 request->Outcome < %.0f us, back to back: %.1f us (1 client, best of "
           "the two forms) -> %s (%.2fx the target)\n",
           TARGET_P50_US, best50, best50 < TARGET_P50_US ? "MET" : "NOT MET",
           best50 / TARGET_P50_US);
    printf("target p50 request->Outcome < %.0f us, paced (below saturation, best of the two "
           "forms): %.1f us -> %s "
           "(%.2fx the target)\n",
           TARGET_P50_US, paced50, paced50 < TARGET_P50_US ? "MET" : "NOT MET",
           paced50 / TARGET_P50_US);
    printf("target > %.0f spawns/s: %.0f /s (best of every row) -> %s (%.2fx the target)\n",
           TARGET_PER_S, best_rate, best_rate > TARGET_PER_S ? "MET" : "NOT MET",
           best_rate / TARGET_PER_S);
    status_line(&conns[0]);
    for (int k = 0; k < 3; k++)
        close(conns[k].fd);
    kill(daemon, SIGTERM);
    waitpid(daemon, NULL, 0);
    print_floors(n, best50, best_rate);
    return 0;
fail:
    fprintf(stderr, "bench_spawn: a spawn failed\n");
    kill(daemon, SIGTERM);
    waitpid(daemon, NULL, 0);
    return 1;
}
