/* Warm workers (sbx serve --warm, default 2), seen from outside: after a
 * spawn, the daemon keeps workers of that module and policy forked,
 * instantiated and confined; they are already confined while they wait;
 * the next spawn runs on one of them; their worker ids are nobody's to
 * kill or wait for; unloading the module and replacing the zygote end
 * them; --warm 0 makes none. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "policy/confine.h"
#include "tests/daemon/daemon_harness.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(warm, .fini = stop, .timeout = 90);

/* Whether process pid calls itself `name` (/proc/PID/comm). */
static bool named(pid_t pid, const char *name)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool ok = fgets(comm, sizeof comm, f) && !strncmp(comm, name, strlen(name)) &&
              (comm[strlen(name)] == '\n' || !comm[strlen(name)]);
    fclose(f);
    return ok;
}

/* The zygote's children called `name` ("sbx-worker", "sbx-template"), at
 * most max into out; returns how many. */
static int children(pid_t zygote, const char *name, pid_t *out, int max)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", zygote, zygote);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    int n = 0, pid;
    while (n < max && fscanf(f, "%d", &pid) == 1)
        if (named(pid, name)) out[n++] = pid;
    fclose(f);
    return n;
}

/* The soft "Max processes" of /proc/PID/limits (-1: unlimited or none). */
static long max_processes(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/limits", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -2;
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Max processes %ld", &v) == 1) break;
    fclose(f);
    return v;
}

/* Polls Status until `want` warm workers wait; returns the status. */
static struct hd_status await_warm(int fd, uint32_t want)
{
    struct hd_status st;
    for (int i = 0; i < 500; i++) {
        hd_status(fd, &st);
        if (st.warm_workers == want) return st;
        hd_sleep_ms(10);
    }
    cr_assert_fail("%u warm workers, not %u, after 5 s", st.warm_workers, want);
    return st;
}

/* Two warm workers waiting, the spawns before them gone: their pids. */
static void wait_for_two_waiting(int fd, struct hd_status *st, pid_t waiting[2])
{
    *st = await_warm(fd, 2);
    cr_assert_eq(hd_wait_children(st->zygote_pid, 3), 3, "not two warm workers and the template");
    cr_assert_eq(children(st->zygote_pid, "sbx-worker", waiting, 2), 2);
}

/* Spawns "get" and checks it returns the module's tag. */
static uint64_t run_get(int fd, const char *id, uint32_t tag, pid_t *pid)
{
    uint64_t w = hd_spawn(fd, id, "get", NULL, 0, 0, pid);
    Sbx__Response *r = hd_outcome_event(fd);
    const Sbx__Outcome *o = r->event->outcome;
    cr_assert_eq(o->worker_id, w);
    cr_assert_eq(o->kind_case, SBX__OUTCOME__KIND_EXITED, "outcome %d", o->kind_case);
    cr_assert_eq(o->n_results, 1);
    cr_assert_eq((uint32_t)o->results[0]->i32, tag);
    sbx_ipc_free(&r->base);
    return w;
}

static bool is_confined(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    int seccomp = -1, nnp = -1;
    unsigned long long eff = 1, prm = 1;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "Seccomp: %d", &seccomp);
        sscanf(line, "NoNewPrivs: %d", &nnp);
        sscanf(line, "CapEff: %llx", &eff);
        sscanf(line, "CapPrm: %llx", &prm);
    }
    fclose(f);
    return seccomp == 2 && nnp == 1 && eff == 0 && prm == 0;
}

/* A worker forked by the zygote is announced (WorkerStarted) as it is
 * forked, and confines itself after instantiating: it is waiting, and
 * could run anything, only once confined. Up to 5 s for that. */
static bool becomes_confined(pid_t pid)
{
    for (int i = 0; i < 500 && !is_confined(pid); i++)
        hd_sleep_ms(10);
    return is_confined(pid);
}

static bool alive(pid_t pid) /* and not a zombie */
{
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    int ok = fscanf(f, "%*d (%*[^)]) %c", &state);
    fclose(f);
    return ok == 1 && state != 'Z' && state != 'X';
}

/* Loads hd_module(tag) on connection fd; its id into id. */
static void load_tag(int fd, uint32_t tag, char id[65])
{
    size_t len;
    uint8_t *bytes = hd_module(tag, 0, &len);
    hd_load(fd, bytes, len, id);
    free(bytes);
}

/* A daemon started with `args`, a connection and module `tag` loaded. */
static int start_with(const char *const *args, uint32_t tag, char id[65])
{
    hd_start(&D, NULL, args);
    int fd = hd_connect(&D);
    load_tag(fd, tag, id);
    return fd;
}

/* A daemon, a module, two spawns (warm workers come from the second on),
 * then its two warm workers: their pids. *last: the second spawn's id.
 * The zygote forks those two and the pair's template (worker_template.c),
 * which makes the warm workers from then on. */
static int setup_warm(int *fd, char id[65], uint32_t tag, struct hd_status *st, pid_t warm[2],
                      uint64_t *last)
{
    *fd = start_with(NULL, tag, id);
    run_get(*fd, id, tag, NULL);
    hd_sleep_ms(100);
    hd_status(*fd, st);
    cr_assert_eq(st->warm_workers, 0, "warm workers after a module's first spawn");
    *last = run_get(*fd, id, tag, NULL);
    *st = await_warm(*fd, 2);
    /* The template is forked after them; a forked worker names itself a
     * moment after the zygote said it started. */
    pid_t t;
    int n = 0;
    for (int i = 0; i < 500; i++, hd_sleep_ms(10))
        if ((n = children(st->zygote_pid, "sbx-worker", warm, 2)) == 2 &&
            children(st->zygote_pid, "sbx-template", &t, 1) == 1)
            break;
    cr_assert_eq(hd_wait_children(st->zygote_pid, 3), 3,
                 "the zygote has other children than two warm workers and their template");
    return n;
}

Test(warm, waiting_workers_are_confined_and_the_next_spawn_runs_on_one)
{
    int fd;
    char id[65];
    struct hd_status st;
    pid_t warm[2];
    uint64_t last;
    cr_assert_eq(setup_warm(&fd, id, 0x51, &st, warm, &last), 2);
    for (int i = 0; i < 2; i++)
        cr_assert(becomes_confined(warm[i]),
                  "warm worker %d: not confined while it waits (Seccomp 2, NoNewPrivs 1, no caps)",
                  warm[i]);
    pid_t pid;
    run_get(fd, id, 0x51, &pid);
    cr_assert(pid == warm[0] || pid == warm[1], "spawned pid %d is not a warm one (%d, %d)", pid,
              warm[0], warm[1]);
    hd_status(fd, &st);
    cr_assert_eq(st.warm_spawns, 1);
    cr_assert_eq(st.spawns, 3);
}

Test(warm, their_ids_are_nobodys)
{
    int fd;
    char id[65];
    struct hd_status st;
    pid_t warm[2];
    uint64_t last;
    cr_assert_eq(setup_warm(&fd, id, 0x52, &st, warm, &last), 2);
    /* Worker ids are handed out in order: the warm workers made after the
     * last spawn have the next ones. */
    for (uint64_t w = last + 1; w <= last + 2; w++) {
        hd_send_kill(fd, w);
        Sbx__Response *r = hd_recv(fd, 30000);
        cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR, "kill of warm worker %llu: body %d",
                     (unsigned long long)w, r->body_case);
        cr_assert_eq(r->error->code, SBX__ERROR_CODE__UNKNOWN_WORKER);
        sbx_ipc_free(&r->base);
        hd_send_wait(fd, w);
        r = hd_recv(fd, 30000);
        cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_ERROR);
        cr_assert_eq(r->error->code, SBX__ERROR_CODE__UNKNOWN_WORKER);
        sbx_ipc_free(&r->base);
    }
    cr_assert(alive(warm[0]) && alive(warm[1]), "a refused kill still ended a warm worker");
}

Test(warm, unloading_the_module_ends_them)
{
    int fd;
    char id[65];
    struct hd_status st;
    pid_t warm[2];
    uint64_t last;
    cr_assert_eq(setup_warm(&fd, id, 0x53, &st, warm, &last), 2);
    hd_unload(fd, id);
    /* They map the module's code and image: they must go with it. */
    cr_assert_eq(hd_wait_children(st.zygote_pid, 0), 0, "warm workers outlived their module");
    cr_assert(!alive(warm[0]) && !alive(warm[1]));
    hd_status(fd, &st);
    cr_assert_eq(st.warm_workers, 0);
}

Test(warm, a_replaced_zygote_takes_them_along)
{
    char id[65];
    int fd = start_with((const char *const[]){"--zygote-max-spawns", "3", NULL}, 0x54, id);
    /* Spawns reach the limit: the zygote is replaced, its warm workers
     * dismissed, new ones made by the new one. */
    run_get(fd, id, 0x54, NULL);
    struct hd_status st;
    for (int i = 0; i < 500; i++) {
        hd_status(fd, &st);
        if (st.zygote_rotations >= 1) break;
        run_get(fd, id, 0x54, NULL);
        hd_sleep_ms(10);
    }
    cr_assert_geq(st.zygote_rotations, 1, "no rotation");
    for (int i = 0; i < 5; i++)
        run_get(fd, id, 0x54, NULL); /* warm or cold, each spawn still works */
}

/* Within --max-workers, the pair spawned last takes the place of the warm
 * worker that waited longest for another. */
Test(warm, the_pool_follows_the_demand)
{
    char a[65], b[65];
    int fd = start_with((const char *const[]){"--max-workers", "3", NULL}, 0x56, a);
    load_tag(fd, 0x57, b);
    run_get(fd, a, 0x56, NULL);
    run_get(fd, a, 0x56, NULL);
    await_warm(fd, 2); /* both for a */
    run_get(fd, b, 0x57, NULL);
    run_get(fd, b, 0x57, NULL);
    /* b gets two: one in the free place, one in place of a's oldest. */
    struct hd_status st = await_warm(fd, 3);
    uint64_t warm0 = st.warm_spawns;
    /* Two of b at once find two warm workers; a still finds its other one. */
    run_get(fd, b, 0x57, NULL);
    run_get(fd, b, 0x57, NULL);
    run_get(fd, a, 0x56, NULL);
    hd_status(fd, &st);
    cr_assert_eq(st.warm_spawns - warm0, 3, "b, b and a ran on warm workers: %llu of 3",
                 (unsigned long long)(st.warm_spawns - warm0));
    cr_assert_leq(st.warm_workers + st.live_workers, 3);
}

/* Nobody takes them: after --warm-idle seconds (here 1; they wait one to
 * two periods) they are gone, their processes with them. */
Test(warm, idle_ones_expire)
{
    char id[65];
    int fd = start_with((const char *const[]){"--warm-idle", "1", NULL}, 0x58, id);
    run_get(fd, id, 0x58, NULL);
    run_get(fd, id, 0x58, NULL);
    struct hd_status st = await_warm(fd, 2);
    for (int i = 0; i < 500 && st.warm_workers; i++) {
        hd_sleep_ms(10);
        hd_status(fd, &st);
    }
    cr_assert_eq(st.warm_workers, 0, "warm workers still waiting after 5 s");
    cr_assert_eq(hd_wait_children(st.zygote_pid, 0), 0, "their processes outlived them");
    run_get(fd, id, 0x58, NULL); /* spawns still work, cold */
}

Test(warm, none_with_warm_0)
{
    char id[65];
    int fd = start_with((const char *const[]){"--warm", "0", NULL}, 0x55, id);
    for (int i = 0; i < 3; i++)
        run_get(fd, id, 0x55, NULL);
    struct hd_status st;
    hd_status(fd, &st);
    cr_assert_eq(hd_wait_children(st.zygote_pid, 0), 0);
    hd_sleep_ms(100);
    hd_status(fd, &st);
    cr_assert_eq(st.warm_workers, 0);
    cr_assert_eq(st.warm_spawns, 0);
}

/* Back to back, every spawn from the third on runs warm: one that finds no
 * worker waiting takes one still starting (its start message waits in its
 * channel) instead of forking cold behind that worker in the zygote. */
Test(warm, back_to_back_spawns_all_run_warm)
{
    char id[65];
    int fd = start_with(NULL, 0x58, id);
    enum { N = 100 };
    for (int i = 0; i < N; i++)
        run_get(fd, id, 0x58, NULL);
    struct hd_status st;
    hd_status(fd, &st);
    cr_assert_eq(st.spawns, N);
    cr_assert_eq(st.warm_spawns, N - 2, "%llu of %d spawns warm (the first two are cold)",
                 (unsigned long long)st.warm_spawns, N);
}

/* After the first refill, warm workers are forked by the pair's template:
 * it is confined (with one filter more than a worker's, its own, which
 * also lets it fork), its children are the zygote's, confined, at
 * RLIMIT_NPROC 0, and spawns run on them. A child whose real uid is not 0
 * (as root, every worker's is SBX_CONFINE_WORKER_UID) keeps its template's
 * filters, since the kernel refuses it a process; one whose uid is 0 seals
 * itself with one filter more. */
Test(warm, later_ones_come_from_the_template)
{
    int fd;
    char id[65];
    struct hd_status st;
    pid_t warm[2], tmpl;
    uint64_t last;
    cr_assert_eq(setup_warm(&fd, id, 0x59, &st, warm, &last), 2);
    cr_assert_eq(children(st.zygote_pid, "sbx-template", &tmpl, 1), 1, "no template");
    cr_assert(becomes_confined(tmpl), "the template is not confined");
    for (int i = 0; i < 6; i++)
        run_get(fd, id, 0x59, NULL);
    pid_t now[2];
    wait_for_two_waiting(fd, &st, now);
    cr_assert_geq(st.warm_template_forks, 2, "%llu warm workers from the template",
                  (unsigned long long)st.warm_template_forks);
    cr_assert_eq(st.warm_spawns, 6);
    /* The two waiting now are the template's: the others were taken. */
    long filters = hd_proc_status(tmpl, "Seccomp_filters");
    if (filters < 0) { /* Linux < 5.9 */
        fprintf(stderr, "warm: filter counts not checked: no Seccomp_filters in /proc\n");
        filters = hd_proc_status(now[0], "Seccomp_filters") - 1;
    }
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(hd_proc_status(now[i], "PPid"), st.zygote_pid, "not the zygote's child");
        cr_assert(is_confined(now[i]), "warm worker %d is not confined", now[i]);
        long uid = hd_proc_status(now[i], "Uid");
        if (geteuid() == 0) cr_assert_eq(uid, SBX_CONFINE_WORKER_UID, "warm worker %d", now[i]);
        cr_assert_eq(hd_proc_status(now[i], "Seccomp_filters"), filters + (uid == 0),
                     "warm worker %d (uid %ld): %s", now[i], uid,
                     uid == 0 ? "not sealed on top of the template's filters"
                              : "a filter more than its template's");
        cr_assert_eq(max_processes(now[i]), 0, "warm worker %d may make processes", now[i]);
    }
    /* The template keeps its process limit, to fork them. */
    cr_assert_neq(max_processes(tmpl), 0, "the template cannot fork");
    /* They run spawns like any other. */
    pid_t pid;
    run_get(fd, id, 0x59, &pid);
    cr_assert(pid == now[0] || pid == now[1], "spawned pid %d is not a waiting one", pid);
}

/* No template for a policy that gives each worker a pid namespace of its
 * own (pid 1 cannot fork a sibling): warm workers still come, from the
 * zygote. Needs a user namespace to make pid namespaces unprivileged, or
 * root. */
Test(warm, none_for_pid_namespaces)
{
    char dir[] = "/tmp/sbx-warm-pidns-XXXXXX", path[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/policy.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"namespaces\": {\"pid\": {\"enabled\": true, \"optional\": true}}}\n", f);
    fclose(f);
    char id[65];
    int fd = start_with((const char *const[]){"--policy", path, NULL}, 0x5a, id);
    unlink(path);
    rmdir(dir);
    for (int i = 0; i < 5; i++)
        run_get(fd, id, 0x5a, NULL);
    struct hd_status st;
    hd_status(fd, &st);
    cr_assert_eq(st.warm_spawns, 3);
    cr_assert_eq(st.warm_template_forks, 0);
    pid_t t;
    cr_assert_eq(children(st.zygote_pid, "sbx-template", &t, 1), 0,
                 "a template for a pid namespace");
}

/* A template's child has no pidfd: its timeout and a Kill reach it through
 * the zygote (KillWorker), and its outcome says which. */
Test(warm, a_template_child_times_out_and_is_killed)
{
    char id[65];
    int fd = start_with(NULL, 0x5b, id);
    const uint32_t timeout_ms = 1000; /* every spawn the same: one pair */
    struct hd_status st;
    for (int i = 0; i < 500; i++) {
        hd_spawn(fd, id, "get", NULL, 0, timeout_ms, NULL);
        Sbx__Response *r = hd_outcome_event(fd);
        cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_EXITED);
        sbx_ipc_free(&r->base);
        hd_status(fd, &st);
        if (st.warm_template_forks >= 4) break; /* those waiting now are the template's */
    }
    cr_assert_geq(st.warm_template_forks, 4, "no warm workers from the template");
    pid_t waiting[2], pid;
    wait_for_two_waiting(fd, &st, waiting);
    hd_spawn(fd, id, "spin", NULL, 0, timeout_ms, &pid);
    cr_assert(pid == waiting[0] || pid == waiting[1], "not on a template's worker");
    Sbx__Response *r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_TIMEOUT, "outcome %d",
                 r->event->outcome->kind_case);
    sbx_ipc_free(&r->base);
    wait_for_two_waiting(fd, &st, waiting);
    uint64_t w = hd_spawn(fd, id, "spin", NULL, 0, timeout_ms, &pid);
    cr_assert(pid == waiting[0] || pid == waiting[1], "not on a template's worker");
    hd_send_kill(fd, w);
    for (;;) { /* the Kill's Ack and the outcome, in either order */
        r = hd_recv(fd, 10000);
        if (r->body_case == SBX__RESPONSE__BODY_EVENT) break;
        cr_assert_neq(r->body_case, SBX__RESPONSE__BODY_ERROR, "%s", hd_error_text(r));
        sbx_ipc_free(&r->base);
    }
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_KILLED, "outcome %d",
                 r->event->outcome->kind_case);
    cr_assert(r->event->outcome->killed->by_request);
    sbx_ipc_free(&r->base);
    hd_status(fd, &st);
    cr_assert_eq(st.live_workers, 0);
}
