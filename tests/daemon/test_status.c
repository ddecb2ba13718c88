/* Status lists the daemon's modules a page at a time (at most 256 per
 * reply, so that a reply always fits one message): paging through 300
 * modules yields each exactly once, with its size, references and live
 * workers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "tests/daemon/daemon_harness.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(status, .fini = stop, .timeout = 120);

static Sbx__Response *status_page(int fd, uint32_t first)
{
    Sbx__Request req;
    Sbx__Status st;
    sbx__request__init(&req);
    sbx__status__init(&st);
    st.has_first_module_index = 1, st.first_module_index = first;
    req.body_case = SBX__REQUEST__BODY_STATUS;
    req.status = &st;
    uint64_t id = hd_send(fd, &req, NULL, 0);
    Sbx__Response *r = hd_recv(fd, 10000);
    cr_assert_eq(r->id, id);
    cr_assert_eq(r->body_case, SBX__RESPONSE__BODY_STATUS);
    return r;
}

Test(status, pages_list_every_module_once)
{
    hd_start(&D, NULL, NULL);
    int fd = hd_connect(&D);
    enum { N = 300 };
    static char ids[N][65];
    size_t len = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint8_t *m = hd_module(i, 0, &len);
        hd_load(fd, m, len, ids[i]);
        free(m);
    }
    uint64_t w = hd_spawn(fd, ids[7], "spin", NULL, 0, 0, NULL);
    bool seen[N] = {false};
    uint32_t first = 0, pages = 0, listed = 0, live = 0;
    for (;;) {
        Sbx__Response *r = status_page(fd, first);
        const Sbx__StatusReply *st = r->status;
        cr_assert_eq(st->total_modules, N);
        cr_assert_leq(st->n_modules, 256);
        for (size_t k = 0; k < st->n_modules; k++) {
            const Sbx__ModuleInfo *mi = st->modules[k];
            int found = -1;
            for (int i = 0; i < N; i++)
                if (!strcmp(ids[i], mi->module_id)) found = i;
            cr_assert_geq(found, 0, "an unknown module %s", mi->module_id);
            cr_assert_not(seen[found], "module %d listed twice", found);
            seen[found] = true;
            cr_assert_eq(mi->size_bytes, len);
            cr_assert_eq(mi->references, found == 7 ? 2 : 1, "the worker holds one");
            cr_assert_eq(mi->live_workers, found == 7 ? 1 : 0);
            live += mi->live_workers;
            listed++;
        }
        pages++;
        bool more = st->has_next_module_index;
        if (more) {
            cr_assert_eq(st->next_module_index, first + st->n_modules);
            first = st->next_module_index;
        }
        sbx_ipc_free(&r->base);
        if (!more) break;
    }
    cr_assert_eq(pages, 2);
    cr_assert_eq(listed, N);
    cr_assert_eq(live, 1);
    hd_send_kill(fd, w);
    close(fd);
}

/* The zygote's own reduced profile, seen from outside on the live zygote:
 * a seccomp filter and no_new_privs (zygote_filter.c); and room for the
 * memfds of many modules. */
Test(status, the_zygote_runs_under_its_own_filter)
{
    hd_start(&D, NULL, NULL);
    int fd = hd_connect(&D);
    struct hd_status st;
    hd_status(fd, &st);
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", st.zygote_pid);
    FILE *f = fopen(path, "r");
    cr_assert(f, "no %s", path);
    int seccomp = -1, nnp = -1;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "Seccomp: %d", &seccomp);
        sscanf(line, "NoNewPrivs: %d", &nnp);
    }
    fclose(f);
    cr_assert_eq(seccomp, 2, "the zygote has no seccomp filter");
    cr_assert_eq(nnp, 1);
    /* It holds two memfds per module: its fd limit is raised to the hard one. */
    snprintf(path, sizeof path, "/proc/%d/limits", st.zygote_pid);
    f = fopen(path, "r");
    cr_assert(f);
    unsigned long long soft = 0, hard = 1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Max open files %llu %llu", &soft, &hard) == 2) break;
    fclose(f);
    cr_assert_eq(soft, hard, "the zygote's fd limit: %llu of %llu", soft, hard);
    close(fd);
}
