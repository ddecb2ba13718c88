/* tests/ipc/test_socket.c: the listening socket's permissions and its
 * handling of an existing path, accept and connect, and peer credentials. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/ipc/helpers.h"

static char dir[64];
static char path[128];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sbx-ipc-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sock", dir);
}

static void remove_dir(void)
{
    unlink(path);
    rmdir(dir);
}

TestSuite(socket, .init = make_dir, .fini = remove_dir);

Test(socket, listening_socket_is_0600_whatever_the_umask)
{
    umask(0);
    int l = sbx_ipc_listen(path, 0600, (gid_t)-1, 8);
    cr_assert_geq(l, 0, "%s", strerror(-l));
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISSOCK(st.st_mode));
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
    cr_assert(fcntl(l, F_GETFD) & FD_CLOEXEC);
    /* The umask is put back. */
    mode_t m = umask(022);
    cr_assert_eq(m, 0);
    close(l);
}

Test(socket, group_socket_is_0660_with_that_group)
{
    gid_t g = getegid();
    int l = sbx_ipc_listen(path, 0660, g, 8);
    cr_assert_geq(l, 0, "%s", strerror(-l));
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0660, "mode %o", st.st_mode & 07777);
    cr_assert_eq(st.st_gid, g);
    close(l);
}

Test(socket, second_server_on_a_live_path_is_refused)
{
    int l = sbx_ipc_listen(path, 0600, (gid_t)-1, 8);
    cr_assert_geq(l, 0);
    struct stat before, after;
    cr_assert_eq(lstat(path, &before), 0);
    cr_assert_eq(sbx_ipc_listen(path, 0600, (gid_t)-1, 8), -EADDRINUSE);
    /* Still the first server's socket, still answering. */
    cr_assert_eq(lstat(path, &after), 0);
    cr_assert_eq(before.st_ino, after.st_ino);
    int c = sbx_ipc_connect(path);
    cr_assert_geq(c, 0);
    int a = sbx_ipc_accept(l, 1000);
    cr_assert_geq(a, 0);
    close(a);
    close(c);
    close(l);
}

Test(socket, stale_socket_is_replaced)
{
    int l = sbx_ipc_listen(path, 0600, (gid_t)-1, 8);
    cr_assert_geq(l, 0);
    close(l); /* the file stays; nobody listens */
    cr_assert_eq(sbx_ipc_connect(path), -ECONNREFUSED);
    l = sbx_ipc_listen(path, 0600, (gid_t)-1, 8);
    cr_assert_geq(l, 0, "%s", strerror(-l));
    int c = sbx_ipc_connect(path);
    cr_assert_geq(c, 0);
    close(c);
    close(l);
}

Test(socket, existing_file_is_never_replaced)
{
    int f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    cr_assert_geq(f, 0);
    close(f);
    cr_assert_eq(sbx_ipc_listen(path, 0600, (gid_t)-1, 8), -EEXIST);
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
}

Test(socket, path_too_long_and_bad_mode)
{
    char lng[200];
    memset(lng, 'a', sizeof(lng) - 1);
    lng[0] = '/';
    lng[sizeof(lng) - 1] = '\0';
    cr_assert_eq(sbx_ipc_listen(lng, 0600, (gid_t)-1, 8), -ENAMETOOLONG);
    cr_assert_eq(sbx_ipc_connect(lng), -ENAMETOOLONG);
    cr_assert_eq(sbx_ipc_listen(path, 04600, (gid_t)-1, 8), -EINVAL);
}

Test(socket, accept_times_out)
{
    int l = sbx_ipc_listen(path, 0600, (gid_t)-1, 8);
    cr_assert_geq(l, 0);
    cr_assert_eq(sbx_ipc_accept(l, 0), -EAGAIN);
    cr_assert_eq(sbx_ipc_accept(l, 30), -ETIMEDOUT);
    close(l);
}

Test(socket, peer_credentials_of_a_pair)
{
    int sv[2];
    make_pair(sv);
    struct ucred cr;
    cr_assert_eq(sbx_ipc_peer_cred(sv[0], &cr), 0);
    cr_assert_eq(cr.pid, getpid());
    cr_assert_eq(cr.uid, getuid());
    cr_assert_eq(cr.gid, getgid());
    close_pair(sv);
}

/* A client in another process: the server sees that process's pid. */
Test(socket, peer_credentials_of_a_client)
{
    int l = sbx_ipc_listen(path, 0600, (gid_t)-1, 8);
    cr_assert_geq(l, 0);
    int go[2];
    cr_assert_eq(pipe(go), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        int c = sbx_ipc_connect(path);
        char b;
        (void)!read(go[0], &b, 1); /* hold the connection until told */
        _exit(c >= 0 ? 0 : 1);
    }
    int a = sbx_ipc_accept(l, 5000);
    cr_assert_geq(a, 0);
    struct ucred cr;
    cr_assert_eq(sbx_ipc_peer_cred(a, &cr), 0);
    cr_assert_eq(cr.pid, child);
    cr_assert_eq(cr.uid, getuid());
    cr_assert_eq(write(go[1], "x", 1), 1);
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(a);
    close(l);
    close(go[0]);
    close(go[1]);
}
