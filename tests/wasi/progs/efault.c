/* Every call that takes a pointer, given one past the end of memory (or
 * straddling it): EFAULT, never a crash, and nothing written. */
#include "check.h"

int main(void)
{
    i32 top = (i32)(__builtin_wasm_memory_size(0) * 65536);
    i32 bad = top - 2;
    static uint8_t scratch[256];
    i32 fd;
    i32 good = P(scratch);
    E("fd_fdstat_get", raw_fd_fdstat_get(1, bad));
    E("fd_filestat_get", raw_fd_filestat_get(ROOT, top - 63));
    E("fd_prestat_get", raw_fd_prestat_get(ROOT, top - 7));
    E("fd_prestat_dir_name", raw_fd_prestat_dir_name(ROOT, top - 3, 8));
    E("fd_read iovec array", raw_fd_read(0, bad, 1, good));
    __wasi_iovec_t iov = {(uint8_t *)(uintptr_t)(top - 4), 8};
    E("fd_read buffer straddling the top", raw_fd_read(0, P(&iov), 1, good));
    iov.buf = (uint8_t *)scratch;
    iov.buf_len = 4;
    E("fd_read nread", raw_fd_read(0, P(&iov), 1, bad));
    __wasi_ciovec_t ciov = {(const uint8_t *)(uintptr_t)0xfffffff0u, 0x20};
    E("fd_write buffer wrapping around 4 GiB", raw_fd_write(1, P(&ciov), 1, good));
    E("fd_write huge iovec count", raw_fd_write(1, good, 0x20000000, good));
    E("fd_pread", raw_fd_pread(0, bad, 1, 0, good));
    E("create pw.txt", open_at(ROOT, "pw.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    E("fd_pwrite", raw_fd_pwrite(fd, P(&ciov), 1, 0, good));
    __wasi_filestat_t fs;
    raw_fd_filestat_get(fd, P(&fs));
    printf("pw.txt size %llu\n", (unsigned long long)fs.size);
    raw_fd_close(fd);
    raw_path_unlink_file(ROOT, S("pw.txt"));
    E("fd_seek", raw_fd_seek(0, 0, 0, bad));
    E("fd_tell", raw_fd_tell(0, bad));
    E("fd_readdir buffer", raw_fd_readdir(ROOT, bad, 64, 0, good));
    E("fd_readdir bufused", raw_fd_readdir(ROOT, good, 64, 0, bad));
    E("path_open path", raw_path_open(ROOT, 0, bad, 10, 0, 0, 0, 0, good));
    E("path_open result", raw_path_open(ROOT, 0, S("hello.txt"), 0, 0, 0, 0, bad));
    E("path_create_directory", raw_path_create_directory(ROOT, bad, 3));
    E("path_filestat_get", raw_path_filestat_get(ROOT, 0, S("hello.txt"), bad));
    E("path_filestat_set_times", raw_path_filestat_set_times(ROOT, 0, bad, 5, 0, 0, 0));
    E("path_link old", raw_path_link(ROOT, 0, bad, 5, ROOT, S("x")));
    E("path_link new", raw_path_link(ROOT, 0, S("hello.txt"), ROOT, bad, 5));
    E("path_readlink buffer", raw_path_readlink(ROOT, S("link_in"), bad, 16, good));
    E("path_readlink bufused", raw_path_readlink(ROOT, S("link_in"), good, 16, bad));
    E("path_remove_directory", raw_path_remove_directory(ROOT, bad, 4));
    E("path_rename old", raw_path_rename(ROOT, bad, 4, ROOT, S("x")));
    E("path_rename new", raw_path_rename(ROOT, S("hello.txt"), ROOT, bad, 4));
    E("path_symlink target", raw_path_symlink(bad, 4, ROOT, S("x")));
    E("path_symlink path", raw_path_symlink(S("x"), ROOT, bad, 4));
    E("path_unlink_file", raw_path_unlink_file(ROOT, bad, 4));
    E("poll_oneoff", raw_poll_oneoff(bad, good, 1, good));
    E("random_get", raw_random_get(bad, 4));
    E("clock_time_get", raw_clock_time_get(0, 0, bad));
    E("args_get", raw_args_get(bad, good));
    E("environ_sizes_get", raw_environ_sizes_get(bad, good));
    E("sock_accept (no socket: EBADF first)", raw_sock_accept(9, 0, bad));
    /* Nothing was created by the calls that faulted. */
    E("x does not exist", raw_path_filestat_get(ROOT, 0, S("x"), good));
    E("hello.txt still opens", open_ro(ROOT, "hello.txt", 0, &fd));
    return 0;
}
