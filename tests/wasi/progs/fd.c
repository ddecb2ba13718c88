/* The fd calls on files: read, write, pread, pwrite, seek, tell, fdstat
 * (get, set_flags, set_rights), filestat (get, set_size, set_times),
 * advise, allocate, sync, datasync, close, renumber, prestat, with their
 * error cases. */
#include "check.h"

static void stdio_checks(void)
{
    __wasi_fdstat_t st;
    E("fdstat_get stdin", raw_fd_fdstat_get(0, P(&st)));
    printf("stdin filetype %d (regular: redirected from a file)\n", st.fs_filetype);
    char buf[64];
    uint32_t n = 0;
    E("read stdin", read_buf(0, buf, 9, &n));
    printf("stdin gave %u bytes: %.*s\n", n, (int)n, buf);
    E("fdstat_get 1", raw_fd_fdstat_get(1, P(&st)));
    Y("stdout can write", (st.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
    E("write to stdin (read-only host fd)", write_str(0, "x", &n));
    E("fdstat_get closed fd 99", raw_fd_fdstat_get(99, P(&st)));
    E("fdstat_get fd -1", raw_fd_fdstat_get(-1, P(&st)));
}

static void prestat_checks(void)
{
    __wasi_prestat_t ps;
    char name[32];
    for (i32 fd = 3; fd <= 6; fd++) {
        i32 e = raw_fd_prestat_get(fd, P(&ps));
        printf("prestat_get %d -> %s", fd, ename(e));
        if (!e) {
            E(" dir_name", raw_fd_prestat_dir_name(fd, P(name), ps.u.dir.pr_name_len));
            printf("  name '%.*s' (len %u)\n", (int)ps.u.dir.pr_name_len, name,
                   (unsigned)ps.u.dir.pr_name_len);
        } else {
            printf("\n");
        }
    }
    E("prestat_dir_name buffer too small", raw_fd_prestat_dir_name(ROOT, P(name), 3));
    E("prestat_get on stdout", raw_fd_prestat_get(1, P(&ps)));
}

static void file_checks(void)
{
    i32 fd = -1;
    uint32_t n;
    E("create data.txt",
      open_at(ROOT, "data.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &fd));
    i32 again;
    E("create data.txt again with EXCL",
      open_at(ROOT, "data.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &again));
    E("write", write_str(fd, "0123456789", &n));
    printf("wrote %u\n", n);
    /* Several iovecs, one of them empty. */
    __wasi_ciovec_t iovs[3] = {
        {(const uint8_t *)"ab", 2}, {(const uint8_t *)"", 0}, {(const uint8_t *)"cd", 2}};
    E("writev", raw_fd_write(fd, P(iovs), 3, P(&n)));
    printf("wrote %u\n", n);
    uint64_t pos = 0;
    E("tell", raw_fd_tell(fd, P(&pos)));
    printf("position %llu\n", (unsigned long long)pos);
    E("seek set 2", raw_fd_seek(fd, 2, __WASI_WHENCE_SET, P(&pos)));
    printf("position %llu\n", (unsigned long long)pos);
    char buf[64] = {0};
    E("read", read_buf(fd, buf, 5, &n));
    printf("read %u '%.*s'\n", n, (int)n, buf);
    E("seek cur -1", raw_fd_seek(fd, -1, __WASI_WHENCE_CUR, P(&pos)));
    printf("position %llu\n", (unsigned long long)pos);
    E("seek end -3", raw_fd_seek(fd, -3, __WASI_WHENCE_END, P(&pos)));
    printf("position %llu\n", (unsigned long long)pos);
    E("seek before start", raw_fd_seek(fd, -100, __WASI_WHENCE_CUR, P(&pos)));
    E("seek bad whence", raw_fd_seek(fd, 0, 3, P(&pos)));
    /* Scatter read. */
    char a[3] = {0}, b[4] = {0};
    __wasi_iovec_t riov[2] = {{(uint8_t *)a, 3}, {(uint8_t *)b, 4}};
    E("seek set 0", raw_fd_seek(fd, 0, __WASI_WHENCE_SET, P(&pos)));
    E("readv", raw_fd_read(fd, P(riov), 2, P(&n)));
    printf("readv %u '%.3s' '%.4s'\n", n, a, b);
    /* pread/pwrite leave the position alone. */
    E("pwrite at 20 (past the end)", raw_fd_pwrite(fd, P(iovs), 1, 20, P(&n)));
    memset(buf, 0, sizeof(buf));
    __wasi_iovec_t piov = {(uint8_t *)buf, 30};
    E("pread at 0", raw_fd_pread(fd, P(&piov), 1, 0, P(&n)));
    printf("pread %u bytes, byte 15 is %d, tail '%.2s'\n", n, buf[15], buf + 20);
    E("tell after p-calls", raw_fd_tell(fd, P(&pos)));
    printf("position %llu\n", (unsigned long long)pos);
    E("pread at offset 2^63", raw_fd_pread(fd, P(&piov), 1, (i64)(1ull << 63), P(&n)));
    E("read at end of file",
      (raw_fd_seek(fd, 0, __WASI_WHENCE_END, P(&pos)), read_buf(fd, buf, 10, &n)));
    printf("read %u at end\n", n);

    __wasi_filestat_t fs;
    E("filestat_get", raw_fd_filestat_get(fd, P(&fs)));
    printf("filetype %d size %llu nlink %llu\n", fs.filetype, (unsigned long long)fs.size,
           (unsigned long long)fs.nlink);
    E("set_size 4", raw_fd_filestat_set_size(fd, 4));
    E("filestat_get", raw_fd_filestat_get(fd, P(&fs)));
    printf("size %llu\n", (unsigned long long)fs.size);
    E("set_size 2^63", raw_fd_filestat_set_size(fd, (i64)(1ull << 63)));
    E("set_times atim+mtim",
      raw_fd_filestat_set_times(fd, 1000000000ll * 1000, 2000000000ll * 1000 + 5,
                                __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    E("filestat_get", raw_fd_filestat_get(fd, P(&fs)));
    printf("atim %llu mtim %llu\n", (unsigned long long)fs.atim, (unsigned long long)fs.mtim);
    E("set_times ATIM and ATIM_NOW",
      raw_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    E("set_times MTIM and MTIM_NOW",
      raw_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    E("set_times unknown flag", raw_fd_filestat_set_times(fd, 0, 0, 0x10));
    E("set_times MTIM_NOW", raw_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    E("filestat_get", raw_fd_filestat_get(fd, P(&fs)));
    Y("mtim is now (after 2001)", fs.mtim > 1000000000ull * 1000000000ull);
    Y("atim kept", fs.atim == 1000000000ll * 1000);

    E("advise sequential", raw_fd_advise(fd, 0, 100, __WASI_ADVICE_SEQUENTIAL));
    E("advise bad advice", raw_fd_advise(fd, 0, 100, 6));
    E("allocate 0+4096", raw_fd_allocate(fd, 0, 4096));
    E("filestat_get", raw_fd_filestat_get(fd, P(&fs)));
    printf("size after allocate %llu\n", (unsigned long long)fs.size);
    E("allocate len 0", raw_fd_allocate(fd, 0, 0));
    E("sync", raw_fd_sync(fd));
    E("datasync", raw_fd_datasync(fd));

    /* fdstat and flags. */
    __wasi_fdstat_t st;
    E("fdstat_get", raw_fd_fdstat_get(fd, P(&st)));
    printf("filetype %d flags %d\n", st.fs_filetype, st.fs_flags);
    E("set_flags APPEND", raw_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
    E("fdstat_get", raw_fd_fdstat_get(fd, P(&st)));
    printf("flags %d\n", st.fs_flags);
    E("write appends", (raw_fd_seek(fd, 0, __WASI_WHENCE_SET, P(&pos)), write_str(fd, "Z", &n)));
    E("filestat_get", raw_fd_filestat_get(fd, P(&fs)));
    printf("size %llu\n", (unsigned long long)fs.size);
    E("set_flags SYNC (cannot change on Linux)", raw_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC));
    E("set_flags unknown bit", raw_fd_fdstat_set_flags(fd, 0x20));
    E("set_flags 0", raw_fd_fdstat_set_flags(fd, 0));

    /* Rights only shrink. */
    E("set_rights drop write",
      raw_fd_fdstat_set_rights(fd, (i64)(st.fs_rights_base & ~__WASI_RIGHTS_FD_WRITE), 0));
    E("write without the right", write_str(fd, "x", &n));
    E("set_rights grow back", raw_fd_fdstat_set_rights(fd, (i64)st.fs_rights_base, 0));
    E("set_rights drop seek",
      raw_fd_fdstat_set_rights(
          fd, (i64)(st.fs_rights_base & ~(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK)), 0));
    E("seek without FD_SEEK", raw_fd_seek(fd, 1, __WASI_WHENCE_SET, P(&pos)));
    E("seek cur 0 with FD_TELL only", raw_fd_seek(fd, 0, __WASI_WHENCE_CUR, P(&pos)));
    E("pread without FD_SEEK", raw_fd_pread(fd, P(&piov), 1, 0, P(&n)));

    /* Renumber and close. */
    i32 fd2 = -1;
    E("open hello.txt", open_ro(ROOT, "hello.txt", 0, &fd2));
    E("renumber fd -> fd2", raw_fd_renumber(fd, fd2));
    E("old fd is closed", raw_fd_fdstat_get(fd, P(&st)));
    E("fd2 is data.txt now", raw_fd_filestat_get(fd2, P(&fs)));
    printf("size %llu\n", (unsigned long long)fs.size);
    E("renumber to a closed fd", raw_fd_renumber(fd2, 77));
    E("renumber from a closed fd", raw_fd_renumber(77, fd2));
    E("renumber to itself", raw_fd_renumber(fd2, fd2));
    E("close", raw_fd_close(fd2));
    E("close again", raw_fd_close(fd2));

    /* A read-only fd. */
    E("open hello.txt read-only", open_ro(ROOT, "hello.txt", 0, &fd));
    E("write to read-only fd", write_str(fd, "x", &n));
    E("set_size on read-only fd", raw_fd_filestat_set_size(fd, 0));
    E("readdir on a file", raw_fd_readdir(fd, P(buf), sizeof(buf), 0, P(&n)));
    E("close", raw_fd_close(fd));

    /* Directories do not read or seek. */
    E("read a directory", read_buf(ROOT, buf, 10, &n));
    E("seek a directory", raw_fd_seek(ROOT, 0, __WASI_WHENCE_SET, P(&pos)));
    E("filestat_get a directory", raw_fd_filestat_get(ROOT, P(&fs)));
    printf("filetype %d\n", fs.filetype);
    E("sync a directory", raw_fd_sync(ROOT));
}

static void big_io(void)
{
    /* 20 MiB in one call (more than one syscall chunk), read back. */
    const uint32_t size = 20u << 20;
    uint8_t *big = malloc(size);
    for (uint32_t i = 0; i < size; i++)
        big[i] = (uint8_t)(i * 7 + (i >> 12));
    i32 fd;
    uint32_t n;
    E("create big.bin",
      open_at(ROOT, "big.bin", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd));
    __wasi_ciovec_t iov = {big, size};
    E("write 20 MiB", raw_fd_write(fd, P(&iov), 1, P(&n)));
    printf("wrote %u\n", n);
    /* 300 iovecs of 1000 bytes (more than one syscall window). */
    static __wasi_ciovec_t many[300];
    for (int i = 0; i < 300; i++)
        many[i] = (__wasi_ciovec_t){big + i * 1000, 1000};
    E("write 300 iovecs", raw_fd_write(fd, P(many), 300, P(&n)));
    printf("wrote %u\n", n);
    uint8_t *back = malloc(size + 300000);
    uint64_t pos;
    raw_fd_seek(fd, 0, __WASI_WHENCE_SET, P(&pos));
    __wasi_iovec_t riov = {back, size + 300000};
    E("read it back", raw_fd_read(fd, P(&riov), 1, P(&n)));
    printf("read %u\n", n);
    Y("same bytes", memcmp(back, big, size) == 0 && memcmp(back + size, big, 300000) == 0);
    static __wasi_iovec_t rmany[300];
    for (int i = 0; i < 300; i++)
        rmany[i] = (__wasi_iovec_t){back + i * 1000, 1000};
    E("preadv 300 iovecs", raw_fd_pread(fd, P(rmany), 300, size, P(&n)));
    printf("read %u\n", n);
    raw_fd_close(fd);
    raw_path_unlink_file(ROOT, S("big.bin"));
    free(back);
    free(big);
}

int main(void)
{
    stdio_checks();
    prestat_checks();
    file_checks();
    big_io();
    return 0;
}
