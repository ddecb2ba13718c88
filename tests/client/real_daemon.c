/* The real `sbx serve` for libsbx tests: one daemon per test, on a socket
 * in a temporary directory. */
#include "tests/client/real_daemon.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
char sock[128];
static pid_t daemon_pid;

static const char *policy_file;

void start_daemon_with_policy(const char *file)
{
    policy_file = file;
    start_daemon();
    policy_file = NULL;
}

void start_daemon(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sbx-client-daemon-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/sock", dir);
    daemon_pid = fork();
    cr_assert_geq(daemon_pid, 0);
    if (daemon_pid == 0) {
        /* A test process that dies (a failed assertion) takes its daemon
         * with it; left running, the daemon would hold the test's output
         * open and ctest would wait for it until the timeout. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (policy_file)
            execl(SBX_BINARY, "sbx", "serve", "--socket", sock, "--policy", policy_file,
                  (char *)NULL);
        else
            execl(SBX_BINARY, "sbx", "serve", "--socket", sock, (char *)NULL);
        _exit(127);
    }
    /* Up when the socket exists (it is bound before the loop starts). */
    struct stat st;
    for (int i = 0; i < 500 && stat(sock, &st) != 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(stat(sock, &st), 0, "sbx serve did not create %s", sock);
}

void stop_daemon(void)
{
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        int status;
        waitpid(daemon_pid, &status, 0);
        daemon_pid = 0;
    }
    if (sock[0]) unlink(sock);
    if (dir[0]) rmdir(dir);
    sock[0] = dir[0] = '\0';
}

struct sbx_client *connect_or_fail(void)
{
    struct sbx_client *c;
    struct sbx_client_error err;
    int rc = sbx_connect(sock, "libsbx-test", &c, &err);
    cr_assert_eq(rc, 0, "%d %s", rc, err.message);
    cr_assert_eq(sbx_set_request_timeout(c, 20000), 0);
    return c;
}
