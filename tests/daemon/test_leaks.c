/* No memory or fd leak in the supervisor (issue 5): a daemon linked with
 * LeakSanitizer (sbx_lsan, or the sbx of an SBX_SANITIZE build, whose ASan
 * includes it) goes through loads, spawns, unloads, clients hanging up
 * mid-request, garbage, a Wait from another connection, and a kill -9 of
 * its zygote; then its fd count is back at the baseline, and on SIGTERM it
 * exits 0 with no leak report. (LSan checks at exit: the zygote and the
 * workers leave with _exit, so only the supervisor is checked, which is
 * the point.) Why not valgrind: see tests/daemon/CMakeLists.txt. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/msg.h"
#include "tests/daemon/daemon_harness.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(leaks, .fini = stop, .timeout = 600);

static bool log_mentions(const char *needle)
{
    FILE *f = fopen(D.log, "r");
    if (!f) return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static void one_round(uint32_t i)
{
    size_t len;
    char id[65];
    uint8_t *m = hd_module(0x1000000 + i, 512, &len);
    int fd = hd_connect(&D);
    hd_load(fd, m, len, id);
    hd_load(fd, m, len, id); /* a second reference */
    uint64_t w = hd_spawn(fd, id, "get", NULL, 0, 0, NULL);
    Sbx__Response *r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->worker_id, w);
    cr_assert_eq((uint32_t)r->event->outcome->results[0]->i32, 0x1000000 + i);
    sbx_ipc_free(&r->base);
    /* A spinning worker killed by a timeout, one killed by request. */
    hd_spawn(fd, id, "spin", NULL, 0, 20, NULL);
    r = hd_outcome_event(fd);
    cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_TIMEOUT);
    sbx_ipc_free(&r->base);
    w = hd_spawn(fd, id, "spin", NULL, 0, 0, NULL);
    /* Another connection waits for it and goes away; then Kill. */
    int other = hd_connect(&D);
    hd_send_wait(other, w);
    close(other);
    hd_send_kill(fd, w);
    for (int got = 0; got < 2; got++) {
        r = hd_recv(fd, 30000);
        sbx_ipc_free(&r->base);
    }
    hd_unload(fd, id);
    /* Garbage and a request with an fd it does not use. */
    const char junk[] = "\x0a\xff\xff\xff\xff\x0f junk";
    send(fd, junk, sizeof junk, MSG_NOSIGNAL);
    r = hd_try_recv(fd, 30000);
    if (r) sbx_ipc_free(&r->base);
    /* Hang up: with a running worker, a Spawn and a Load in flight. */
    hd_spawn(fd, id, "spin", NULL, 0, 0, NULL);
    hd_send_spawn(fd, id, "spin", NULL, 0, 0);
    free(m);
    m = hd_module(0x2000000 + i, 0, &len);
    hd_send_load(fd, m, len);
    close(fd);
    free(m);
}

Test(leaks, supervisor_under_leak_sanitizer)
{
    hd_start(&D, SBX_LEAK_EXE, NULL);
    struct hd_status st;
    hd_wait_idle(&D, 0, &st);
    hd_sleep_ms(50);
    const int dfds = hd_count_fds(D.pid);
    for (uint32_t i = 0; i < 100; i++) {
        one_round(i);
        if (i == 50) { /* the zygote dies with work in flight */
            size_t len;
            char id[65];
            uint8_t *m = hd_module(0x3000000, 0, &len);
            int fd = hd_connect(&D);
            hd_load(fd, m, len, id);
            hd_spawn(fd, id, "spin", NULL, 0, 0, NULL);
            hd_status(fd, &st);
            kill(st.zygote_pid, SIGKILL);
            Sbx__Response *r = hd_outcome_event(fd);
            cr_assert_eq(r->event->outcome->kind_case, SBX__OUTCOME__KIND_KILLED);
            sbx_ipc_free(&r->base);
            close(fd);
            free(m);
        }
    }
    hd_wait_idle(&D, 0, &st);
    int n = hd_wait_fds(D.pid, dfds);
    cr_assert_eq(n, dfds, "daemon fds: %d, baseline %d", n, dfds);
    cr_assert_eq(st.zygote_restarts, 1);
    pid_t pid = D.pid;
    kill(pid, SIGTERM);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    D.pid = 0;
    bool leak = log_mentions("LeakSanitizer") || log_mentions("AddressSanitizer");
    if (leak || !WIFEXITED(status) || WEXITSTATUS(status) != 0) hd_dump_log(&D);
    cr_assert_not(leak, "the sanitizer reported something (log above)");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "sbx serve ended with status 0x%x (LeakSanitizer exits 23)", status);
}
