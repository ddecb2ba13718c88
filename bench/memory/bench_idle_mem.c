/* Memory per idle worker: N keep-alive workers of one module, spawned
 * through `sbx serve` with libsbx, each having run every function of the
 * module once and read every page of its data image, then left idle. From
 * /proc/PID/smaps(_rollup) of each worker and of the zygote: the Pss and
 * the private (clean + dirty) memory per worker, and per kind of mapping
 * (JIT code memfd, memory-image memfd, the sbx binary, shared libraries,
 * anonymous memory) the sum over the workers of Rss against Pss: code and
 * image pages that are shared show Rss/Pss close to the number of
 * processes mapping them, duplicated ones 1. Peers in the same run: N
 * copies of a static native program that waits (fork+exec), and N `node`
 * processes that instantiate the same module and call the same export.
 * The module is generated here: FUNCS functions of straight-line i32
 * arithmetic (a few MB of machine code) and a 1 MiB data segment.
 * A benchmark, never a test.
 * Usage: bench_idle_mem SBX NATIVE_IDLE IDLE_NODE.mjs [N] [NODE_N]
 *   N workers (default 50); NODE_N node processes (default N; 0 skips node). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sbx.h"
#include "bench/common/bench_stats.h"

extern char **environ;

#define FUNCS      1500
#define OPS        150
#define DATA_BYTES (1u << 20)
#define MEM_PAGES  32

/* --- the generated module ------------------------------------------------ */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void byte(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void uleb(struct buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if (v) c |= 0x80;
        byte(b, c);
    } while (v);
}

static void sleb(struct buf *b, int64_t v)
{
    for (;;) {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40))) {
            byte(b, c);
            return;
        }
        byte(b, c | 0x80);
    }
}

static void section(struct buf *m, uint8_t id, struct buf *s)
{
    byte(m, id);
    uleb(m, s->len);
    put(m, s->p, s->len);
    s->len = 0;
}

static struct buf make_module(void)
{
    struct buf m = {0}, s = {0}, f = {0};
    put(&m, "\0asm\1\0\0\0", 8);
    /* type 0: () -> i32 */
    put(&s, "\x01\x60\x00\x01\x7f", 5);
    section(&m, 1, &s);
    uleb(&s, FUNCS + 2);
    for (int i = 0; i < FUNCS + 2; i++)
        byte(&s, 0);
    section(&m, 3, &s);
    byte(&s, 1), byte(&s, 0), uleb(&s, MEM_PAGES);
    section(&m, 5, &s);
    byte(&s, 2);
    uleb(&s, 5), put(&s, "touch", 5), byte(&s, 0), uleb(&s, FUNCS);
    uleb(&s, 4), put(&s, "ping", 4), byte(&s, 0), uleb(&s, FUNCS + 1);
    section(&m, 7, &s);
    uleb(&s, FUNCS + 2);
    static const uint8_t ops[] = {0x6a, 0x73, 0x6c}; /* i32.add, i32.xor, i32.mul */
    for (int i = 0; i < FUNCS; i++) {
        byte(&f, 0); /* no locals */
        byte(&f, 0x41), sleb(&f, (int64_t)(((uint32_t)i * 4096u) % DATA_BYTES));
        put(&f, "\x28\x02\x00", 3); /* i32.load */
        for (int k = 0; k < OPS; k++) {
            byte(&f, 0x41), sleb(&f, (int32_t)((uint32_t)(i * OPS + k) * 2654435761u >> 8));
            byte(&f, ops[k % 3]);
        }
        byte(&f, 0x0b);
        uleb(&s, f.len), put(&s, f.p, f.len), f.len = 0;
    }
    byte(&f, 0), byte(&f, 0x41), byte(&f, 0); /* touch: sum of every function */
    for (int i = 0; i < FUNCS; i++) {
        byte(&f, 0x10), uleb(&f, (uint64_t)i);
        byte(&f, 0x6a);
    }
    byte(&f, 0x0b);
    uleb(&s, f.len), put(&s, f.p, f.len), f.len = 0;
    put(&f, "\x00\x41\x01\x0b", 4); /* ping: 1 */
    uleb(&s, f.len), put(&s, f.p, f.len), f.len = 0;
    section(&m, 10, &s);
    put(&s, "\x01\x00\x41\x00\x0b", 5);
    uleb(&s, DATA_BYTES);
    for (uint32_t i = 0; i < DATA_BYTES; i++)
        byte(&s, (uint8_t)(((i * 2654435761u) >> 24) | 1));
    section(&m, 11, &s);
    free(s.p), free(f.p);
    return m;
}

/* --- /proc ----------------------------------------------------------------- */

/* Fields of smaps_rollup we use, in KiB. */
struct mem {
    long rss, pss, shared_clean, shared_dirty, private_clean, private_dirty;
};

static int parse_fields(FILE *f, struct mem *m, char *line, size_t len, char *next_header)
{
    while (fgets(line, (int)len, f)) {
        long v;
        char key[64];
        size_t hex = strspn(line, "0123456789abcdef");
        if (hex && line[hex] == '-') { /* a mapping's header: "start-end perms ..." */
            if (next_header) snprintf(next_header, 512, "%s", line);
            return 1;
        }
        if (sscanf(line, "%63[^:]: %ld kB", key, &v) != 2) continue; /* VmFlags, THPeligible */
        if (!strcmp(key, "Rss"))
            m->rss += v;
        else if (!strcmp(key, "Pss"))
            m->pss += v;
        else if (!strcmp(key, "Shared_Clean"))
            m->shared_clean += v;
        else if (!strcmp(key, "Shared_Dirty"))
            m->shared_dirty += v;
        else if (!strcmp(key, "Private_Clean"))
            m->private_clean += v;
        else if (!strcmp(key, "Private_Dirty"))
            m->private_dirty += v;
    }
    return 0;
}

static int rollup(pid_t pid, struct mem *m)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -errno;
    memset(m, 0, sizeof *m);
    if (fgets(line, sizeof line, f)) parse_fields(f, m, line, sizeof line, NULL);
    fclose(f);
    return 0;
}

enum kind { K_CODE, K_IMAGE, K_BINARY, K_LIBS, K_ANON, K_COUNT };
static const char *kind_names[K_COUNT] = {"JIT code (memfd:sbx-code)",
                                          "memory image (memfd:sbx-img)", "executable's own file",
                                          "shared libraries", "anonymous (heap, stack, COW)"};

static enum kind classify(const char *header)
{
    const char *name = header;
    for (int field = 0; field < 5 && name; field++) { /* skip 5 fields */
        name = strchr(name, ' ');
        while (name && *name == ' ')
            name++;
    }
    if (!name || !*name || *name == '\n' || *name == '[') return K_ANON;
    if (strstr(name, "sbx-code")) return K_CODE;
    if (strstr(name, "sbx-img")) return K_IMAGE;
    if (strstr(name, ".so")) return K_LIBS;
    if (strstr(name, "memfd:") || strstr(name, "/dev/zero") || strstr(name, "SYSV")) return K_ANON;
    return K_BINARY;
}

/* Adds the mappings of PID, by kind, to by_kind[]. */
static int smaps_by_kind(pid_t pid, struct mem by_kind[K_COUNT])
{
    char path[64], line[512], header[512];
    snprintf(path, sizeof path, "/proc/%d/smaps", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -errno;
    if (!fgets(header, sizeof header, f)) {
        fclose(f);
        return -EIO;
    }
    for (;;) {
        struct mem m = {0};
        char next[512] = "";
        int more = parse_fields(f, &m, line, sizeof line, next);
        struct mem *k = &by_kind[classify(header)];
        k->rss += m.rss, k->pss += m.pss, k->shared_clean += m.shared_clean;
        k->shared_dirty += m.shared_dirty, k->private_clean += m.private_clean;
        k->private_dirty += m.private_dirty;
        if (!more) break;
        snprintf(header, sizeof header, "%s", next);
    }
    fclose(f);
    return 0;
}

static long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') v = strtol(line + kl + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* --- the report ------------------------------------------------------------ */

struct group {
    const char *name;
    int n;
    struct mem sum; /* over the processes */
    struct mem by_kind[K_COUNT];
    long rss_max;
};

static void measure(struct group *g, const pid_t *pids, int n)
{
    memset(g->by_kind, 0, sizeof g->by_kind);
    memset(&g->sum, 0, sizeof g->sum);
    g->n = 0, g->rss_max = 0;
    for (int i = 0; i < n; i++) {
        struct mem m;
        if (rollup(pids[i], &m)) {
            fprintf(stderr, "bench_idle_mem: cannot read smaps of %d\n", pids[i]);
            continue;
        }
        g->n++;
        g->sum.rss += m.rss, g->sum.pss += m.pss, g->sum.private_clean += m.private_clean;
        g->sum.private_dirty += m.private_dirty, g->sum.shared_clean += m.shared_clean;
        g->sum.shared_dirty += m.shared_dirty;
        if (m.rss > g->rss_max) g->rss_max = m.rss;
        smaps_by_kind(pids[i], g->by_kind);
    }
}

static void group_row(const struct group *g, const struct group *peer)
{
    if (!g->n) return;
    double n = g->n;
    double priv = (g->sum.private_clean + g->sum.private_dirty) / n;
    printf("%-34s %4d %9.0f %9.0f %9.0f %9.0f", g->name, g->n, g->sum.rss / n, g->sum.pss / n,
           g->sum.private_dirty / n, priv);
    if (peer && peer->n)
        printf("   %6.2fx %6.2fx", (g->sum.pss / n) / (peer->sum.pss / (double)peer->n),
               priv / ((peer->sum.private_clean + peer->sum.private_dirty) / (double)peer->n));
    printf("\n");
}

static void kinds(const struct group *g, int nprocs_sharing)
{
    printf("\n%s, by kind of mapping (KiB summed over %d processes; sharing = sum Rss / sum "
           "Pss, %d if every page is shared by all %d mappers, 1.0 if duplicated):\n",
           g->name, g->n, nprocs_sharing, nprocs_sharing);
    printf("  %-30s %9s %9s %9s %9s %8s\n", "kind", "Rss", "Pss", "Priv_Dirty", "Priv_Clean",
           "sharing");
    for (int k = 0; k < K_COUNT; k++) {
        const struct mem *m = &g->by_kind[k];
        if (!m->rss) continue;
        printf("  %-30s %9ld %9ld %9ld %9ld %8.1f\n", kind_names[k], m->rss, m->pss,
               m->private_dirty, m->private_clean, m->pss ? (double)m->rss / (double)m->pss : 0);
    }
}

/* Starts a process with stdout on a pipe and waits for its ready byte. */
static pid_t start_ready(char *const argv[])
{
    int p[2];
    if (pipe(p)) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    char c;
    if (rc || read(p[0], &c, 1) != 1) {
        close(p[0]);
        return -1;
    }
    close(p[0]);
    return pid;
}

static void stop_all(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) kill(pids[i], SIGKILL);
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) waitpid(pids[i], NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_idle_mem SBX NATIVE_IDLE IDLE_NODE.mjs [N] [NODE_N]\n");
        return 2;
    }
    int n = argc > 4 ? atoi(argv[4]) : 50;
    int node_n = argc > 5 ? atoi(argv[5]) : n;
    if (n < 2 || n > 1000 || node_n < 0) {
        fprintf(stderr, "bench_idle_mem: 2 <= N <= 1000\n");
        return 2;
    }
    struct buf mod = make_module();
    char modpath[64];
    snprintf(modpath, sizeof modpath, "/tmp/sbx-bench-idle-%d.wasm", getpid());
    FILE *mf = fopen(modpath, "wb");
    if (!mf || fwrite(mod.p, 1, mod.len, mf) != mod.len || fclose(mf)) {
        perror(modpath);
        return 1;
    }

    char sock[64], maxw[16], load0[128], load1[128];
    snprintf(sock, sizeof sock, "/tmp/sbx-bench-idle-%d.sock", getpid());
    snprintf(maxw, sizeof maxw, "%d", n + 8);
    bench_loadavg(load0, sizeof load0);
    pid_t daemon = fork();
    if (daemon == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(argv[1], argv[1], "serve", "--socket", sock, "--max-workers", maxw, (char *)NULL);
        _exit(127);
    }
    struct stat st;
    for (int i = 0; i < 500 && stat(sock, &st); i++)
        usleep(10000);
    struct sbx_client *c = NULL;
    struct sbx_client_error err;
    char id[SBX_MODULE_ID_SIZE];
    struct sbx_status status;
    int rc = sbx_connect(sock, "bench_idle_mem", &c, &err);
    if (!rc) rc = sbx_load(c, mod.p, mod.len, NULL, id, NULL, &err);
    if (!rc) rc = sbx_status(c, &status, &err);
    if (rc) {
        fprintf(stderr, "bench_idle_mem: %s\n", err.message);
        kill(daemon, SIGTERM);
        return 1;
    }
    pid_t zygote = status.zygote_pid;
    struct mem z0, z1;
    rollup(zygote, &z0);
    long avail0 = meminfo("MemAvailable"), shmem0 = meminfo("Shmem"), anon0 = meminfo("AnonPages");

    pid_t *pids = calloc((size_t)(n > node_n ? n : node_n), sizeof(pid_t));
    for (int i = 0; i < n; i++) {
        struct sbx_spawn_options o;
        sbx_spawn_options_init(&o);
        o.export_name = "ping";
        o.keep_alive = true;
        uint64_t wid;
        int pid;
        struct sbx_value res;
        size_t nres = 0;
        bool trapped = false;
        if ((rc = sbx_spawn(c, id, &o, &wid, &pid, &err)) ||
            (rc = sbx_call(c, wid, "touch", NULL, 0, NULL, &res, 1, &nres, &trapped, NULL, &err)) ||
            trapped) {
            fprintf(stderr, "bench_idle_mem: worker %d: %s\n", i, trapped ? "trap" : err.message);
            kill(daemon, SIGTERM);
            return 1;
        }
        pids[i] = pid;
    }
    usleep(200000);
    struct group zyg = {.name = "sbx zygote (after load)"};
    struct group workers = {.name = "sbx idle worker"};
    rollup(zygote, &z1);
    measure(&zyg, &zygote, 1);
    measure(&workers, pids, n);
    long avail1 = meminfo("MemAvailable"), shmem1 = meminfo("Shmem"), anon1 = meminfo("AnonPages");
    sbx_disconnect(c); /* kills the workers */
    kill(daemon, SIGTERM);
    waitpid(daemon, NULL, 0);

    struct group native = {.name = "native static idle (fork+exec)"};
    for (int i = 0; i < n; i++) {
        char *a[] = {argv[2], NULL};
        pids[i] = start_ready(a);
    }
    measure(&native, pids, n);
    stop_all(pids, n);

    struct group node = {.name = "node (same module, touch())"};
    if (node_n > 0) {
        for (int i = 0; i < node_n; i++) {
            char *a[] = {"node", argv[3], modpath, NULL};
            pids[i] = start_ready(a);
            if (pids[i] < 0) {
                fprintf(stderr, "bench_idle_mem: node did not start; skipping node\n");
                stop_all(pids, i);
                node_n = 0;
                break;
            }
        }
        if (node_n > 0) {
            usleep(500000); /* let background tier-up settle */
            measure(&node, pids, node_n);
            stop_all(pids, node_n);
        }
    }
    bench_loadavg(load1, sizeof load1);
    unlink(modpath);

    printf("module: %zu bytes (%d functions, %u KiB data segment, %d pages of memory)\n", mod.len,
           FUNCS, DATA_BYTES / 1024, MEM_PAGES);
    printf("%d idle workers; loadavg before: %s; after: %s\n\n", n, load0, load1);
    printf("%-34s %4s %9s %9s %9s %9s   %s\n", "process (KiB per process)", "n", "Rss", "Pss",
           "Priv_Dirty", "Private", "Pss, Private vs native");
    group_row(&zyg, NULL);
    group_row(&native, NULL);
    group_row(&workers, &native);
    group_row(&node, &native);
    printf("\nzygote Rss/Pss/Private_Dirty before the workers: %ld/%ld/%ld KiB; with %d workers: "
           "%ld/%ld/%ld KiB\n",
           z0.rss, z0.pss, z0.private_dirty, n, z1.rss, z1.pss, z1.private_dirty);
    printf("system-wide, per worker (noisy: other processes run): MemAvailable -%.0f KiB, "
           "AnonPages +%.0f KiB, Shmem +%.0f KiB\n",
           (avail0 - avail1) / (double)n, (anon1 - anon0) / (double)n,
           (shmem1 - shmem0) / (double)n);
    printf("memory per idle worker = its Pss (own pages + its share of shared ones): %.0f KiB; "
           "its private pages: %.0f KiB\n",
           workers.sum.pss / (double)workers.n,
           (workers.sum.private_clean + workers.sum.private_dirty) / (double)workers.n);
    kinds(&workers, n + 1);
    if (node.n) kinds(&node, node_n);
    return 0;
}
