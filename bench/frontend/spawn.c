/* Process spawning and wall-clock timing for the peers of the benchmark. */
#include "bench/frontend/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

bool spawn_found(const char *name)
{
    if (strchr(name, '/')) return access(name, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path) return false;
    char dir[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)n, path, name);
        if (access(dir, X_OK) == 0) return true;
        path += n + (path[n] == ':');
    }
    return false;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Spawns argv with stdout going to `out_fd` (or /dev/null if -1). */
static pid_t start(char *const argv[], int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

static int finish(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

double spawn_best_seconds(char *const argv[], int runs, int *status)
{
    double best = -1;
    *status = 0;
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        pid_t pid = start(argv, -1);
        if (pid < 0) {
            *status = -1;
            return -1;
        }
        int st = finish(pid);
        double t = now() - t0;
        if (st != 0) {
            *status = st;
            return -1;
        }
        if (best < 0 || t < best) best = t;
    }
    return best;
}

int spawn_capture(char *const argv[], char *buf, size_t size)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    pid_t pid = start(argv, fds[1]);
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        char discard[256];
        int full = len == size - 1; /* keep draining, so the child never blocks */
        ssize_t n =
            full ? read(fds[0], discard, sizeof discard) : read(fds[0], buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (!full) len += (size_t)n;
    }
    buf[len] = '\0';
    close(fds[0]);
    return pid < 0 ? -1 : finish(pid);
}
