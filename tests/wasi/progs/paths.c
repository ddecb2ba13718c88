/* The path calls inside a preopen: create/remove directories, unlink,
 * rename, link, symlink, readlink, path_filestat_get/set_times, path_open
 * flags, and fd_readdir with small buffers and cookies. */
#include "check.h"

/* Lists a directory with a small buffer, resuming from cookies: prints
 * the sorted names (the kernel's order is not stable across filesystems). */
static void list(i32 dir, uint32_t bufsize)
{
    static uint8_t buf[4096];
    static char names[64][64];
    int count = 0;
    uint64_t cookie = 0;
    for (;;) {
        uint32_t used = 0;
        i32 e = raw_fd_readdir(dir, P(buf), bufsize, cookie, P(&used));
        if (e) {
            E("readdir", e);
            return;
        }
        uint32_t off = 0;
        int complete = 0;
        while (off + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t d;
            memcpy(&d, buf + off, sizeof(d));
            if (off + sizeof(d) + d.d_namlen > used) break; /* cut off: ask again */
            if (count < 64) {
                snprintf(names[count], 64, "%.*s(%d)", (int)d.d_namlen,
                         (char *)buf + off + sizeof(d), d.d_type);
                count++;
            }
            cookie = d.d_next;
            off += sizeof(d) + d.d_namlen;
            complete++;
        }
        if (used < bufsize) break; /* end of directory */
        if (!complete) {
            printf("buffer of %u too small for one entry\n", bufsize);
            return;
        }
    }
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char t[64];
                strcpy(t, names[i]);
                strcpy(names[i], names[j]);
                strcpy(names[j], t);
            }
    printf("listing (buffer %u):", bufsize);
    for (int i = 0; i < count; i++)
        printf(" %s", names[i]);
    printf("\n");
}

static void readdir_cookies(void)
{
    i32 d;
    E("open sub as directory", open_ro(ROOT, "sub", __WASI_OFLAGS_DIRECTORY, &d));
    list(d, 4096);
    list(d, 40); /* one entry at a time, cut off names included */
    /* A cookie taken from one call still works after other reads. */
    uint8_t buf[256];
    uint32_t used;
    E("readdir whole", raw_fd_readdir(d, P(buf), sizeof(buf), 0, P(&used)));
    __wasi_dirent_t first;
    memcpy(&first, buf, sizeof(first));
    uint8_t buf2[256];
    uint32_t used2;
    E("readdir from first cookie",
      raw_fd_readdir(d, P(buf2), sizeof(buf2), first.d_next, P(&used2)));
    Y("resumes after the first entry",
      used2 == used - sizeof(first) - first.d_namlen &&
          memcmp(buf2, buf + sizeof(first) + first.d_namlen, used2) == 0);
    E("readdir from cookie 2^63",
      raw_fd_readdir(d, P(buf2), sizeof(buf2), (i64)(1ull << 63), P(&used2)));
    E("readdir buffer past memory", raw_fd_readdir(d, -16, 64, 0, P(&used2)));
    E("close", raw_fd_close(d));
    list(ROOT, 4096);
}

static void dirs_and_files(void)
{
    E("mkdir newdir", raw_path_create_directory(ROOT, S("newdir")));
    E("mkdir newdir again", raw_path_create_directory(ROOT, S("newdir")));
    E("mkdir newdir/a/b (no parent)", raw_path_create_directory(ROOT, S("newdir/a/b")));
    E("mkdir newdir/a/", raw_path_create_directory(ROOT, S("newdir/a/")));
    E("mkdir .", raw_path_create_directory(ROOT, S(".")));
    E("mkdir empty path", raw_path_create_directory(ROOT, S("")));
    E("mkdir through a file", raw_path_create_directory(ROOT, S("hello.txt/x")));
    E("rmdir newdir (not empty)", raw_path_remove_directory(ROOT, S("newdir")));
    E("rmdir newdir/a/", raw_path_remove_directory(ROOT, S("newdir/a/")));
    E("rmdir a file", raw_path_remove_directory(ROOT, S("hello.txt")));
    E("rmdir missing", raw_path_remove_directory(ROOT, S("missing")));
    E("rmdir newdir/.", raw_path_remove_directory(ROOT, S("newdir/.")));
    E("rmdir newdir/..", raw_path_remove_directory(ROOT, S("newdir/..")));
    E("unlink a directory", raw_path_unlink_file(ROOT, S("newdir")));
    E("unlink hello.txt/ (trailing slash)", raw_path_unlink_file(ROOT, S("hello.txt/")));
    E("unlink missing", raw_path_unlink_file(ROOT, S("missing")));

    /* Open flags. */
    i32 fd;
    E("open missing", open_ro(ROOT, "missing", 0, &fd));
    E("open a file as directory", open_ro(ROOT, "hello.txt", __WASI_OFLAGS_DIRECTORY, &fd));
    E("open hello.txt/ (trailing slash)", open_ro(ROOT, "hello.txt/", 0, &fd));
    E("open a directory for writing", open_at(ROOT, "newdir", 0, 0, &fd));
    E("open bad oflags", raw_path_open(ROOT, 0, S("hello.txt"), 0x10, 0, 0, 0, P(&fd)));
    E("open bad fdflags", raw_path_open(ROOT, 0, S("hello.txt"), 0, 0, 0, 0x20, P(&fd)));
    E("open bad lookupflags", raw_path_open(ROOT, 2, S("hello.txt"), 0, 0, 0, 0, P(&fd)));
    E("open rights beyond inheriting",
      raw_path_open(ROOT, 0, S("hello.txt"), 0, (i64)__WASI_RIGHTS_SOCK_ACCEPT, 0, 0, P(&fd)));
    E("open with a NUL in the path",
      raw_path_open(ROOT, 0, P("hello.txt\0x"), 11, 0, 0, 0, 0, P(&fd)));
    E("open with invalid UTF-8", raw_path_open(ROOT, 0, P("\xff\xfe"), 2, 0, 0, 0, 0, P(&fd)));
    E("open through a file fd", open_ro(1, "x", 0, &fd));
    E("open path past memory", raw_path_open(ROOT, 0, -4, 8, 0, 0, 0, 0, P(&fd)));
    E("open result past memory", raw_path_open(ROOT, 0, S("hello.txt"), 0, 0, 0, 0, -2));
    static char longname[300];
    memset(longname, 'n', 299);
    E("open a 299-byte name", open_ro(ROOT, longname, 0, &fd));
    E("open via symlink (follow)", open_ro(ROOT, "link_in", 0, &fd));
    raw_fd_close(fd);
    E("open via symlink (nofollow)",
      raw_path_open(ROOT, 0, S("link_in"), 0, (i64)__WASI_RIGHTS_FD_READ, 0, 0, P(&fd)));
    E("open dangling symlink", open_ro(ROOT, "dangling", 0, &fd));
    E("create through dangling symlink", open_at(ROOT, "dangling", __WASI_OFLAGS_CREAT, 0, &fd));
    raw_fd_close(fd);
    E("remove what it created", raw_path_unlink_file(ROOT, S("nothing_here")));
    E("truncate on open", open_at(ROOT, "trunc.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    uint32_t n;
    write_str(fd, "12345", &n);
    raw_fd_close(fd);
    E("open with TRUNC", open_at(ROOT, "trunc.txt", __WASI_OFLAGS_TRUNC, 0, &fd));
    __wasi_filestat_t fs;
    raw_fd_filestat_get(fd, P(&fs));
    printf("size after TRUNC %llu\n", (unsigned long long)fs.size);
    raw_fd_close(fd);
    E("open with APPEND", open_at(ROOT, "trunc.txt", 0, __WASI_FDFLAGS_APPEND, &fd));
    __wasi_fdstat_t st;
    raw_fd_fdstat_get(fd, P(&st));
    printf("fdflags %d\n", st.fs_flags);
    raw_fd_close(fd);

    /* Rename, link, symlink, readlink. */
    E("rename trunc.txt -> newdir/moved.txt",
      raw_path_rename(ROOT, S("trunc.txt"), ROOT, S("newdir/moved.txt")));
    E("rename missing", raw_path_rename(ROOT, S("trunc.txt"), ROOT, S("x")));
    E("rename dir over non-empty dir", raw_path_rename(ROOT, S("newdir"), ROOT, S("sub")));
    E("rename file to file/ (trailing slash)",
      raw_path_rename(ROOT, S("newdir/moved.txt"), ROOT, S("x/")));
    E("rename dir into itself", raw_path_rename(ROOT, S("newdir"), ROOT, S("newdir/inside")));
    E("rename newdir/. ", raw_path_rename(ROOT, S("newdir/."), ROOT, S("y")));
    E("link newdir/moved.txt -> hard.txt",
      raw_path_link(ROOT, 0, S("newdir/moved.txt"), ROOT, S("hard.txt")));
    E("path_filestat_get hard.txt", raw_path_filestat_get(ROOT, 0, S("hard.txt"), P(&fs)));
    printf("nlink %llu filetype %d\n", (unsigned long long)fs.nlink, fs.filetype);
    E("link onto existing", raw_path_link(ROOT, 0, S("hard.txt"), ROOT, S("hello.txt")));
    E("link a directory", raw_path_link(ROOT, 0, S("newdir"), ROOT, S("dirlink")));
    E("link with SYMLINK_FOLLOW",
      raw_path_link(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, S("link_in"), ROOT, S("x")));
    E("link hard.txt/ (trailing slash)", raw_path_link(ROOT, 0, S("hard.txt/"), ROOT, S("x")));
    E("symlink sym -> hello.txt", raw_path_symlink(S("hello.txt"), ROOT, S("sym")));
    E("symlink onto existing", raw_path_symlink(S("x"), ROOT, S("sym")));
    E("symlink with empty target", raw_path_symlink(S(""), ROOT, S("sym2")));
    char buf[64];
    E("readlink sym", raw_path_readlink(ROOT, S("sym"), P(buf), sizeof(buf), P(&n)));
    printf("'%.*s' (%u)\n", (int)n, buf, n);
    E("readlink into 3 bytes", raw_path_readlink(ROOT, S("sym"), P(buf), 3, P(&n)));
    printf("'%.*s' (%u)\n", (int)n, buf, n);
    E("readlink a file", raw_path_readlink(ROOT, S("hello.txt"), P(buf), sizeof(buf), P(&n)));
    E("readlink buffer past memory", raw_path_readlink(ROOT, S("sym"), -8, 64, P(&n)));
    E("path_filestat_get sym (nofollow)", raw_path_filestat_get(ROOT, 0, S("sym"), P(&fs)));
    printf("filetype %d\n", fs.filetype);
    E("path_filestat_get sym (follow)",
      raw_path_filestat_get(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, S("sym"), P(&fs)));
    printf("filetype %d size %llu\n", fs.filetype, (unsigned long long)fs.size);
    E("path_filestat_get missing", raw_path_filestat_get(ROOT, 0, S("missing"), P(&fs)));
    E("path_filestat_get result past memory", raw_path_filestat_get(ROOT, 0, S("sym"), -8));
    E("set_times sym mtim (nofollow)",
      raw_path_filestat_set_times(ROOT, 0, S("sym"), 0, 5000000000ll, __WASI_FSTFLAGS_MTIM));
    raw_path_filestat_get(ROOT, 0, S("sym"), P(&fs));
    printf("link mtim %llu\n", (unsigned long long)fs.mtim);
    raw_path_filestat_get(ROOT, 0, S("hello.txt"), P(&fs));
    Y("target untouched", fs.mtim != 5000000000ll);
    E("set_times sym (follow)",
      raw_path_filestat_set_times(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, S("sym"), 7000000000ll,
                                  6000000000ll, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_ATIM));
    raw_path_filestat_get(ROOT, 0, S("hello.txt"), P(&fs));
    printf("target atim %llu mtim %llu\n", (unsigned long long)fs.atim,
           (unsigned long long)fs.mtim);
    E("set_times bad flags",
      raw_path_filestat_set_times(ROOT, 0, S("sym"), 0, 0,
                                  __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    E("unlink sym", raw_path_unlink_file(ROOT, S("sym")));
    E("unlink hard.txt", raw_path_unlink_file(ROOT, S("hard.txt")));
    E("unlink newdir/moved.txt", raw_path_unlink_file(ROOT, S("newdir/moved.txt")));
    E("rmdir newdir", raw_path_remove_directory(ROOT, S("newdir")));

    /* A directory fd opened from the preopen: paths are relative to it. */
    i32 d;
    E("open sub", open_at(ROOT, "sub", __WASI_OFLAGS_DIRECTORY, 0, &d));
    E("stat inner.txt via sub", raw_path_filestat_get(d, 0, S("inner.txt"), P(&fs)));
    printf("size %llu\n", (unsigned long long)fs.size);
    E("mkdir sub/made", raw_path_create_directory(d, S("made")));
    E("stat made from the root", raw_path_filestat_get(ROOT, 0, S("sub/made"), P(&fs)));
    E("rmdir sub/made", raw_path_remove_directory(d, S("made")));
    i32 dd;
    E("open sub/deeper via sub", open_at(d, "deeper", __WASI_OFLAGS_DIRECTORY, 0, &dd));
    E("create file in deeper", open_at(dd, "f.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    raw_fd_close(fd);
    E("stat it from the root", raw_path_filestat_get(ROOT, 0, S("sub/deeper/f.txt"), P(&fs)));
    E("unlink it via deeper", raw_path_unlink_file(dd, S("f.txt")));
    raw_fd_close(dd);
    raw_fd_close(d);
}

int main(void)
{
    readdir_cookies();
    dirs_and_files();
    list(ROOT, 64);
    return 0;
}
