/* Attempts to leave the preopens or to modify the read-only one: `..`,
 * absolute paths, symlinks out (relative, absolute, through a directory
 * symlink, dangling), symlink loops, a subdirectory fd used as a
 * capability, writes to the read-only preopen, and renames and links
 * across preopens. The test harness also checks afterwards that nothing
 * outside the writable preopens changed on the host. */
#include "check.h"

static void escapes(void)
{
    i32 fd;
    __wasi_filestat_t fs;
    uint32_t n;
    char buf[64];
    E("open ../outside/secret.txt", open_ro(ROOT, "../outside/secret.txt", 0, &fd));
    E("open sub/../../outside/secret.txt", open_ro(ROOT, "sub/../../outside/secret.txt", 0, &fd));
    E("open sub/../hello.txt (stays inside)", open_ro(ROOT, "sub/../hello.txt", 0, &fd));
    raw_fd_close(fd);
    E("open ..", open_ro(ROOT, "..", __WASI_OFLAGS_DIRECTORY, &fd));
    E("open /etc/passwd", open_ro(ROOT, "/etc/passwd", 0, &fd));
    E("open /sandbox/hello.txt (absolute)", open_ro(ROOT, "/sandbox/hello.txt", 0, &fd));
    E("open link_out", open_ro(ROOT, "link_out", 0, &fd));
    E("open link_abs", open_ro(ROOT, "link_abs", 0, &fd));
    E("open link_out_dir/secret.txt", open_ro(ROOT, "link_out_dir/secret.txt", 0, &fd));
    E("open link_dotdot/outside/secret.txt",
      open_ro(ROOT, "link_dotdot/outside/secret.txt", 0, &fd));
    E("open loop_a", open_ro(ROOT, "loop_a", 0, &fd));
    E("open loop_a/x", open_ro(ROOT, "loop_a/x", 0, &fd));
    E("create through dangling_out", open_at(ROOT, "dangling_out", __WASI_OFLAGS_CREAT, 0, &fd));
    E("open link_to_ro (other preopen)", open_ro(ROOT, "link_to_ro", 0, &fd));
    E("stat ../outside (nofollow)", raw_path_filestat_get(ROOT, 0, S("../outside"), P(&fs)));
    E("stat link_out (nofollow: the link itself)",
      raw_path_filestat_get(ROOT, 0, S("link_out"), P(&fs)));
    printf("filetype %d\n", fs.filetype);
    E("stat link_out (follow)",
      raw_path_filestat_get(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, S("link_out"), P(&fs)));
    E("stat link_out_dir/ (trailing slash follows)",
      raw_path_filestat_get(ROOT, 0, S("link_out_dir/"), P(&fs)));
    E("stat loop_a (follow)",
      raw_path_filestat_get(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, S("loop_a"), P(&fs)));
    E("stat ..", raw_path_filestat_get(ROOT, 0, S(".."), P(&fs)));
    E("stat sub/../..", raw_path_filestat_get(ROOT, 0, S("sub/../.."), P(&fs)));
    E("set_times ../outside/secret.txt",
      raw_path_filestat_set_times(ROOT, 0, S("../outside/secret.txt"), 0, 0,
                                  __WASI_FSTFLAGS_MTIM_NOW));
    E("set_times link_out_dir/ (trailing slash)",
      raw_path_filestat_set_times(ROOT, 0, S("link_out_dir/"), 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    E("set_times .. ",
      raw_path_filestat_set_times(ROOT, 0, S(".."), 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    E("readlink link_out (allowed: reads the link)",
      raw_path_readlink(ROOT, S("link_out"), P(buf), sizeof(buf), P(&n)));
    printf("'%.*s'\n", (int)n, buf);
    E("readlink ../outside/x",
      raw_path_readlink(ROOT, S("../outside/x"), P(buf), sizeof(buf), P(&n)));
    E("mkdir ../outside/new", raw_path_create_directory(ROOT, S("../outside/new")));
    E("mkdir link_out_dir/new", raw_path_create_directory(ROOT, S("link_out_dir/new")));
    E("mkdir ..", raw_path_create_directory(ROOT, S("..")));
    E("rmdir ..", raw_path_remove_directory(ROOT, S("..")));
    E("unlink ../outside/secret.txt", raw_path_unlink_file(ROOT, S("../outside/secret.txt")));
    E("unlink link_out_dir/secret.txt", raw_path_unlink_file(ROOT, S("link_out_dir/secret.txt")));
    E("unlink link_out (removes the link only)", raw_path_unlink_file(ROOT, S("link_out")));
    E("rename hello.txt -> ../outside/x",
      raw_path_rename(ROOT, S("hello.txt"), ROOT, S("../outside/x")));
    E("rename ../outside/secret.txt -> stolen",
      raw_path_rename(ROOT, S("../outside/secret.txt"), ROOT, S("stolen")));
    E("rename link_out_dir/secret.txt -> stolen",
      raw_path_rename(ROOT, S("link_out_dir/secret.txt"), ROOT, S("stolen")));
    E("link ../outside/secret.txt -> stolen",
      raw_path_link(ROOT, 0, S("../outside/secret.txt"), ROOT, S("stolen")));
    E("link link_abs -> stolen (follow)",
      raw_path_link(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, S("link_abs"), ROOT, S("stolen")));
    E("symlink to /etc/passwd", raw_path_symlink(S("/etc/passwd"), ROOT, S("abs")));
    E("symlink ../outside (allowed, useless)",
      raw_path_symlink(S("../outside/secret.txt"), ROOT, S("up")));
    E("  open it", open_ro(ROOT, "up", 0, &fd));
    E("  unlink it", raw_path_unlink_file(ROOT, S("up")));
    E("symlink at ../outside/evil", raw_path_symlink(S("x"), ROOT, S("../outside/evil")));
}

static void dir_fd_capability(void)
{
    /* An fd for sub is a capability for sub only: `..` from it is out,
     * even though the parent is inside the preopen (as in wasmtime). */
    i32 d, fd;
    __wasi_filestat_t fs;
    E("open sub", open_at(ROOT, "sub", __WASI_OFLAGS_DIRECTORY, 0, &d));
    E("open ../hello.txt via sub", open_ro(d, "../hello.txt", 0, &fd));
    E("open link_parent via sub", open_ro(d, "link_parent", 0, &fd));
    E("stat link_parent via sub (nofollow is fine)",
      raw_path_filestat_get(d, 0, S("link_parent"), P(&fs)));
    E("open inner.txt via sub", open_ro(d, "inner.txt", 0, &fd));
    raw_fd_close(fd);
    /* Narrowed rights stick to fds opened through it. */
    E("drop PATH_CREATE_FILE from sub",
      raw_fd_fdstat_set_rights(
          d,
          (i64)(inheriting_of(ROOT) & ~__WASI_RIGHTS_PATH_CREATE_FILE & 0x3fffffff &
                ~(__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK |
                  __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_ALLOCATE |
                  __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_ADVISE |
                  __WASI_RIGHTS_POLL_FD_READWRITE)),
          (i64)inheriting_of(d)));
    E("create via narrowed sub", open_at(d, "new.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    E("set_rights: grow back", raw_fd_fdstat_set_rights(d, (i64)0x3fffffff, 0));
    raw_fd_close(d);
}

static void read_only(void)
{
    i32 fd;
    uint32_t n;
    __wasi_fdstat_t st;
    E("fdstat ro preopen", raw_fd_fdstat_get(RO, P(&st)));
    Y("ro: no PATH_CREATE_FILE", !(st.fs_rights_base & __WASI_RIGHTS_PATH_CREATE_FILE));
    Y("ro: no FD_WRITE inherited", !(st.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE));
    Y("ro: PATH_OPEN", (st.fs_rights_base & __WASI_RIGHTS_PATH_OPEN) != 0);
    E("read ro.txt", open_ro(RO, "ro.txt", 0, &fd));
    char buf[32];
    E("  read", read_buf(fd, buf, sizeof(buf), &n));
    printf("  '%.*s'\n", (int)n - 1, buf);
    E("  write", write_str(fd, "x", &n));
    E("  set_times", raw_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    raw_fd_close(fd);
    E("open ro.txt asking for FD_WRITE",
      raw_path_open(RO, 0, S("ro.txt"), 0, (i64)__WASI_RIGHTS_FD_WRITE, 0, 0, P(&fd)));
    E("open ro.txt with TRUNC", raw_path_open(RO, 0, S("ro.txt"), __WASI_OFLAGS_TRUNC,
                                              (i64)__WASI_RIGHTS_FD_READ, 0, 0, P(&fd)));
    E("create in ro", raw_path_open(RO, 0, S("new.txt"), __WASI_OFLAGS_CREAT,
                                    (i64)__WASI_RIGHTS_FD_READ, 0, 0, P(&fd)));
    E("mkdir in ro", raw_path_create_directory(RO, S("newdir")));
    E("rmdir in ro", raw_path_remove_directory(RO, S("rosub")));
    E("unlink in ro", raw_path_unlink_file(RO, S("ro.txt")));
    E("symlink in ro", raw_path_symlink(S("ro.txt"), RO, S("l")));
    E("set_times in ro",
      raw_path_filestat_set_times(RO, 0, S("ro.txt"), 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    E("rename within ro", raw_path_rename(RO, S("ro.txt"), RO, S("moved.txt")));
    E("rename ro -> rw", raw_path_rename(RO, S("ro.txt"), ROOT, S("taken.txt")));
    E("rename rw -> ro", raw_path_rename(ROOT, S("hello.txt"), RO, S("given.txt")));
    E("link ro -> rw (would make it writable)",
      raw_path_link(RO, 0, S("ro.txt"), ROOT, S("ro_link.txt")));
    E("link rw -> ro", raw_path_link(ROOT, 0, S("hello.txt"), RO, S("h.txt")));
    E("open rosub as a directory", open_at(RO, "rosub", __WASI_OFLAGS_DIRECTORY, 0, &fd));
    E("  create beneath it",
      raw_path_open(fd, 0, S("x"), __WASI_OFLAGS_CREAT, (i64)__WASI_RIGHTS_FD_READ, 0, 0, P(&fd)));
    E("stat ro.txt (reading is fine)", raw_path_filestat_get(RO, 0, S("ro.txt"), P(&buf)));
    E("open ../root/hello.txt from ro", open_ro(RO, "../root/hello.txt", 0, &fd));
}

static void across_preopens(void)
{
    i32 fd;
    E("rename sandbox -> other", raw_path_rename(ROOT, S("hello.txt"), OTHER, S("moved.txt")));
    E("open it in other", open_ro(OTHER, "moved.txt", 0, &fd));
    raw_fd_close(fd);
    E("rename it back", raw_path_rename(OTHER, S("moved.txt"), ROOT, S("hello.txt")));
    E("link sandbox -> other", raw_path_link(ROOT, 0, S("hello.txt"), OTHER, S("hl.txt")));
    E("unlink it", raw_path_unlink_file(OTHER, S("hl.txt")));
    E("rename via .. from other", raw_path_rename(OTHER, S("../root/hello.txt"), OTHER, S("x")));
}

int main(void)
{
    escapes();
    dir_fd_capability();
    read_only();
    across_preopens();
    return 0;
}
