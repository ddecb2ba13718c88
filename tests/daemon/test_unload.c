/* Unloading modules from `sbx serve` (issue 5), under each memimg slot
 * strategy (`--slot-strategy`): 1,000 distinct modules with data segments
 * are loaded, spawned from and unloaded, each unload sent while a worker of
 * the module still runs. Afterwards the zygote maps no module memfd (code
 * "memfd:sbx-code", images "memfd:sbx-img:..."), its fd count and the
 * daemon's are back at their baselines, and Shmem (/proc/meminfo) is back
 * within a small margin. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "tests/daemon/daemon_harness.h"

/* Modules per strategy; SBX_UNLOAD_MODULES in the environment overrides it
 * (for a quick run). */
#define MODULES 1000
/* Bytes of data per module beyond its 4-byte tag: the image of each spawn
 * is then a 64 KiB memfd, so a leak of a few percent of them shows in
 * Shmem above the margin. */
#define PAD (60 * 1024)
/* Shmem is machine-wide: other processes move it too. 1000 leaked images
 * would be ~64 MiB, 1000 leaked code memfds ~4 MiB. */
#define SHMEM_MARGIN_KB (4 * 1024)

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(unload, .fini = stop, .timeout = 300);

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void load_new(int fd, uint32_t tag, char id[65])
{
    size_t len;
    uint8_t *m = hd_module(tag, PAD, &len);
    uint64_t rid = hd_send_load(fd, m, len);
    free(m);
    Sbx__Response *r = hd_recv(fd, 30000);
    cr_assert_eq(r->id, rid);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_MODULE_LOADED, "load %u: %s", tag,
                 r->body_case == SBX__RESPONSE__BODY_ERROR ? r->error->message : "?");
    cr_assert_not(r->module_loaded->already_loaded, "module %u is not new", tag);
    snprintf(id, 65, "%s", r->module_loaded->module_id);
    sbx_ipc_free(&r->base);
}

/* The image name the zygote must not map after unloading: checked first on
 * a live worker, so the needle is known to match what memimg creates. */
static void images_are_named_as_expected(int fd, int zygote_pid)
{
    char id[65];
    load_new(fd, 0xfeed, id);
    cr_assert_eq(hd_count_maps(zygote_pid, "memfd:sbx-code"), 1,
                 "the zygote maps one code memfd per loaded module");
    pid_t pid;
    uint64_t w = hd_spawn(fd, id, "spin", NULL, 0, 0, &pid);
    int n = 0;
    for (int i = 0; i < 1000 && n == 0; i++) { /* the worker maps it as it starts */
        n = hd_count_maps(pid, "memfd:sbx-img:");
        if (!n) hd_sleep_ms(10);
    }
    cr_assert_gt(n, 0, "a live worker maps its module's image as memfd:sbx-img:...");
    hd_send_kill(fd, w);
    for (int got = 0; got < 2; got++) { /* Ack and outcome, in either order */
        Sbx__Response *r = hd_recv(fd, 30000);
        cr_assert(r->body_case == SBX__RESPONSE__BODY_ACK ||
                  r->body_case == SBX__RESPONSE__BODY_EVENT);
        sbx_ipc_free(&r->base);
    }
    hd_unload(fd, id);
}

static void run(const char *strategy, uint32_t strategy_tag)
{
    const char *args[] = {"--slot-strategy", strategy, "--slots", "16", NULL};
    hd_start(&D, NULL, args);
    uint32_t modules = MODULES;
    const char *env = getenv("SBX_UNLOAD_MODULES");
    if (env && atoi(env) > 1) modules = (uint32_t)atoi(env);

    struct hd_status st;
    hd_wait_idle(&D, 0, &st);
    const int zpid = st.zygote_pid;
    hd_sleep_ms(50);
    const int dfds = hd_count_fds(D.pid), zfds = hd_count_fds(zpid);
    const long shmem0 = hd_shmem_kb();
    cr_assert_eq(hd_count_maps(zpid, "memfd:"), 0, "the zygote maps a memfd before any load");

    int fd = hd_connect(&D);
    images_are_named_as_expected(fd, zpid);
    double t0 = now_s();
    char prev[65] = "";
    uint32_t prev_tag = 0;
    for (uint32_t i = 0; i < modules; i++) {
        const uint32_t tag = strategy_tag << 24 | i;
        char id[65];
        load_new(fd, tag, id);
        /* Spawn from the new module and from the previous one, and unload
         * the previous one while its worker runs (the worker's reference
         * defers the zygote's unload until it ends). */
        uint64_t req[2], worker[2] = {0, 0};
        uint32_t want[2] = {tag, prev_tag};
        int nspawn = prev[0] ? 2 : 1;
        req[0] = hd_send_spawn(fd, id, "get", NULL, 0, 0);
        uint64_t unload_req = 0;
        if (prev[0]) {
            req[1] = hd_send_spawn(fd, prev, "get", NULL, 0, 0);
            unload_req = hd_send_unload(fd, prev);
        }
        int outcomes = 0, acks = 0;
        for (int got = 0; got < 2 * nspawn + (prev[0] ? 1 : 0); got++) {
            Sbx__Response *r = hd_recv(fd, 30000);
            switch (r->body_case) {
            case SBX__RESPONSE__BODY_SPAWNED: {
                int k = r->id == req[0] ? 0 : 1;
                cr_assert(r->id == req[k] && k < nspawn && !worker[k]);
                worker[k] = r->spawned->worker_id;
                break;
            }
            case SBX__RESPONSE__BODY_ACK:
                cr_assert_eq(r->id, unload_req);
                acks++;
                break;
            case SBX__RESPONSE__BODY_EVENT: {
                const Sbx__Outcome *o = r->event->outcome;
                int k = o->worker_id == worker[0] ? 0 : 1;
                cr_assert(worker[k] && o->worker_id == worker[k], "an outcome of worker %llu",
                          (unsigned long long)o->worker_id);
                cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_EXITED, "module %u: outcome %d",
                             want[k], o->kind_case);
                cr_assert_eq((uint32_t)o->results[0]->i32, want[k],
                             "a worker of module %#x read %#x from its memory", want[k],
                             (uint32_t)o->results[0]->i32);
                worker[k] = ~0ull; /* one outcome only */
                outcomes++;
                break;
            }
            default:
                cr_assert_fail("module %u: body %d: %s", tag, r->body_case,
                               r->body_case == SBX__RESPONSE__BODY_ERROR ? r->error->message : "");
            }
            sbx_ipc_free(&r->base);
        }
        cr_assert_eq(outcomes, nspawn);
        cr_assert_eq(acks, prev[0] ? 1 : 0);
        snprintf(prev, sizeof prev, "%s", id);
        prev_tag = tag;
        if (i % 100 == 99) {
            /* At most the module just loaded and one whose last worker is
             * ending are mapped. */
            int maps = hd_count_maps(zpid, "memfd:sbx-code");
            cr_assert_leq(maps, 2, "after %u modules the zygote maps %d code memfds", i + 1, maps);
        }
    }
    hd_unload(fd, prev);
    hd_status(fd, &st);
    cr_assert_eq(st.loads, modules + 1);
    close(fd);
    double t1 = now_s();

    hd_wait_idle(&D, 0, &st);
    cr_assert_eq(st.zygote_pid, zpid, "the zygote was restarted");
    cr_assert_eq(st.unloads, modules + 1);
    int n = 0;
    for (int i = 0; i < 1000; i++) { /* the last unload reaches the zygote */
        n = hd_count_maps(zpid, "memfd:");
        if (!n) break;
        hd_sleep_ms(10);
    }
    cr_assert_eq(n, 0, "the zygote still maps %d memfd ranges after every unload", n);
    n = hd_wait_fds(zpid, zfds);
    cr_assert_eq(n, zfds, "zygote fds: %d, baseline %d", n, zfds);
    n = hd_wait_fds(D.pid, dfds);
    cr_assert_eq(n, dfds, "daemon fds: %d, baseline %d", n, dfds);
    n = hd_wait_children(zpid, 0);
    cr_assert_eq(n, 0, "the zygote still has %d workers", n);
    long shmem = hd_shmem_kb();
    for (int i = 0; i < 500 && labs(shmem - shmem0) > SHMEM_MARGIN_KB; i++) {
        hd_sleep_ms(10);
        shmem = hd_shmem_kb();
    }
    cr_log_info("%s: %u modules loaded, spawned from twice and unloaded in %.2f s; "
                "Shmem %ld kB -> %ld kB",
                strategy, modules, t1 - t0, shmem0, shmem);
    cr_assert_leq(labs(shmem - shmem0), SHMEM_MARGIN_KB,
                  "Shmem went from %ld kB to %ld kB (margin %d kB)", shmem0, shmem,
                  SHMEM_MARGIN_KB);
    int status = hd_stop(&D);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sbx serve ended with status 0x%x",
              status);
}

Test(unload, a_thousand_modules_reuse_affinity)
{
    run("reuse-affinity", 1);
}

Test(unload, a_thousand_modules_next_available)
{
    run("next-available", 2);
}

Test(unload, a_thousand_modules_random)
{
    run("random", 3);
}
