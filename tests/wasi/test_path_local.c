/* The local resolver on its own (what the broker will run): every way out
 * of a root must fail with ENOTCAPABLE (or LOOP for loops), read-only roots
 * must refuse every modification with EROFS and never hand out a writable
 * fd, and the (dir, path) split must treat dir as the capability. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/wasi/tree.h"
#include "wasi/path_local.h"

static char tmp[256];
static struct sbx_wasi_root rw, ro;

static int open_root(const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert(fd >= 0, "%s", p);
    return fd;
}

/* tmp/root (rw), tmp/rodir (ro), tmp/outside. */
static void setup(void)
{
    snprintf(tmp, sizeof(tmp), "/tmp/sbx-wasi-resolver-XXXXXX");
    cr_assert(mkdtemp(tmp));
    tree_use(tmp);
    mkdir_rel("root");
    mkdir_rel("root/sub");
    mkdir_rel("rodir");
    mkdir_rel("outside");
    mkfile("root/file", "data");
    mkfile("rodir/file", "ro data");
    mkfile("outside/secret", "secret");
    symlink_rel("../outside/secret", "root/out");
    symlink_rel("/etc/passwd", "root/abs");
    symlink_rel("..", "root/up");
    symlink_rel("../file", "root/sub/parent_file");
    symlink_rel("l2", "root/l1");
    symlink_rel("l1", "root/l2");
    symlink_rel("../outside/created", "root/dangling_out");
    rw = (struct sbx_wasi_root){open_root("root"), false};
    ro = (struct sbx_wasi_root){open_root("rodir"), true};
}

static void teardown(void)
{
    close(rw.dirfd);
    close(ro.dirfd);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(path_local, .init = setup, .fini = teardown);

static const struct sbx_wasi_open_req rd = {.lookupflags = SBX_WASI_LOOKUP_SYMLINK_FOLLOW,
                                            .read = true};

static uint16_t try_open(const struct sbx_wasi_root *r, const char *dir, const char *path,
                         const struct sbx_wasi_open_req *req)
{
    int fd = -1;
    uint16_t e = sbx_wasi_local_open(r, dir, path, req, &fd);
    if (e == 0) {
        cr_assert(fd >= 0);
        close(fd);
    } else {
        cr_assert_eq(fd, -1);
    }
    return e;
}

Test(path_local, open_escapes)
{
    const char *escapes[] = {"..",
                             "../outside/secret",
                             "sub/../../outside/secret",
                             "/etc/passwd",
                             "out",
                             "abs",
                             "up/outside/secret",
                             "dangling_out",
                             "sub/../up/root/file"};
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++)
        cr_expect_eq(try_open(&rw, "", escapes[i], &rd), SBX_WASI_ENOTCAPABLE, "%s", escapes[i]);
    struct sbx_wasi_open_req creat = rd;
    creat.oflags = SBX_WASI_OFLAG_CREAT;
    creat.write = true;
    cr_expect_eq(try_open(&rw, "", "dangling_out", &creat), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(try_open(&rw, "", "../outside/new", &creat), SBX_WASI_ENOTCAPABLE);
    cr_expect(!exists("outside/created") && !exists("outside/new"));
    cr_expect_eq(try_open(&rw, "", "l1", &rd), SBX_WASI_ELOOP);
    cr_expect_eq(try_open(&rw, "", "sub/../file", &rd), 0);
    cr_expect_eq(try_open(&rw, "", "file", &rd), 0);
}

Test(path_local, dir_is_the_capability)
{
    /* Relative to dir "sub", its parent is out of reach, even though it is
     * inside the root. */
    cr_expect_eq(try_open(&rw, "sub", "../file", &rd), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(try_open(&rw, "sub", "parent_file", &rd), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(try_open(&rw, "", "sub/parent_file", &rd), 0);
    /* dir itself is resolved beneath the root. */
    cr_expect_eq(try_open(&rw, "..", "root/file", &rd), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(try_open(&rw, "up", "root/file", &rd), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(try_open(&rw, "/tmp", "x", &rd), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(try_open(&rw, "sub/..", "file", &rd), 0);
}

Test(path_local, stat_and_times_escapes)
{
    struct sbx_wasi_filestat st;
    const uint32_t F = SBX_WASI_LOOKUP_SYMLINK_FOLLOW;
    cr_expect_eq(sbx_wasi_local_filestat_get(&rw, "", "out", 0, &st), 0);
    cr_expect_eq(st.filetype, SBX_WASI_FILETYPE_SYMBOLIC_LINK);
    cr_expect_eq(sbx_wasi_local_filestat_get(&rw, "", "out", F, &st), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_filestat_get(&rw, "", "up/", 0, &st), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_filestat_get(&rw, "", "..", 0, &st), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_filestat_get(&rw, "", "", 0, &st), SBX_WASI_ENOENT);
    cr_expect_eq(sbx_wasi_local_filestat_get(&rw, "", "file", 0, &st), 0);
    cr_expect_eq(st.size, 4);
    cr_expect_eq(
        sbx_wasi_local_filestat_set_times(&rw, "", "up/", 0, 0, 0, SBX_WASI_FSTFLAG_MTIM_NOW),
        SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_filestat_set_times(&rw, "", "out", F, 0, 0, SBX_WASI_FSTFLAG_MTIM),
                 SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_filestat_set_times(
                     &rw, "", "file", 0, 0, 0, SBX_WASI_FSTFLAG_MTIM | SBX_WASI_FSTFLAG_MTIM_NOW),
                 SBX_WASI_EINVAL);
    char buf[64];
    size_t used;
    cr_expect_eq(sbx_wasi_local_readlink(&rw, "", "out", buf, sizeof(buf), &used), 0);
    cr_expect_eq(used, strlen("../outside/secret"));
    cr_expect_eq(sbx_wasi_local_readlink(&rw, "", "up/outside/x", buf, sizeof(buf), &used),
                 SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_readlink(&rw, "", "file", buf, sizeof(buf), &used),
                 SBX_WASI_EINVAL);
}

Test(path_local, mutation_escapes)
{
    cr_expect_eq(sbx_wasi_local_create_directory(&rw, "", "../outside/d"), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_create_directory(&rw, "", "up/outside/d"), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_create_directory(&rw, "", ".."), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_remove_directory(&rw, "", ".."), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_remove_directory(&rw, "", "up/outside"), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_unlink_file(&rw, "", "../outside/secret"), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_unlink_file(&rw, "", "up/outside/secret"), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_rename(&rw, "", "up/outside/secret", &rw, "", "stolen"),
                 SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_rename(&rw, "", "file", &rw, "", "../outside/file"),
                 SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_link(&rw, "", "up/outside/secret", 0, &rw, "", "stolen"),
                 SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(
        sbx_wasi_local_link(&rw, "", "out", SBX_WASI_LOOKUP_SYMLINK_FOLLOW, &rw, "", "stolen"),
        SBX_WASI_EINVAL);
    cr_expect_eq(sbx_wasi_local_symlink("/etc/passwd", &rw, "", "abs2"), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(sbx_wasi_local_symlink("x", &rw, "", "../outside/evil"), SBX_WASI_ENOTCAPABLE);
    /* Acting on the link itself is fine and stays inside. */
    cr_expect_eq(sbx_wasi_local_unlink_file(&rw, "", "out"), 0);
    cr_expect(exists("outside/secret") && !exists("root/out"));
    cr_expect(!exists("outside/d") && !exists("outside/file") && !exists("outside/evil"));
    cr_expect(!exists("root/stolen"));
}

Test(path_local, read_only_root)
{
    struct sbx_wasi_open_req w = rd;
    w.write = true;
    cr_expect_eq(try_open(&ro, "", "file", &w), SBX_WASI_EROFS);
    struct sbx_wasi_open_req t = rd;
    t.oflags = SBX_WASI_OFLAG_TRUNC;
    cr_expect_eq(try_open(&ro, "", "file", &t), SBX_WASI_EROFS);
    struct sbx_wasi_open_req c = rd;
    c.oflags = SBX_WASI_OFLAG_CREAT;
    cr_expect_eq(try_open(&ro, "", "new", &c), SBX_WASI_EROFS);
    int fd = -1;
    cr_assert_eq(sbx_wasi_local_open(&ro, "", "file", &rd, &fd), 0);
    cr_expect_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    close(fd);
    cr_expect_eq(sbx_wasi_local_create_directory(&ro, "", "d"), SBX_WASI_EROFS);
    cr_expect_eq(sbx_wasi_local_remove_directory(&ro, "", "d"), SBX_WASI_EROFS);
    cr_expect_eq(sbx_wasi_local_unlink_file(&ro, "", "file"), SBX_WASI_EROFS);
    cr_expect_eq(sbx_wasi_local_symlink("file", &ro, "", "l"), SBX_WASI_EROFS);
    cr_expect_eq(
        sbx_wasi_local_filestat_set_times(&ro, "", "file", 0, 0, 0, SBX_WASI_FSTFLAG_MTIM_NOW),
        SBX_WASI_EROFS);
    cr_expect_eq(sbx_wasi_local_rename(&ro, "", "file", &rw, "", "taken"), SBX_WASI_EROFS);
    cr_expect_eq(sbx_wasi_local_rename(&rw, "", "file", &ro, "", "given"), SBX_WASI_EROFS);
    cr_expect_eq(sbx_wasi_local_link(&ro, "", "file", 0, &rw, "", "linked"), SBX_WASI_EROFS);
    cr_expect_eq(sbx_wasi_local_link(&rw, "", "file", 0, &ro, "", "linked"), SBX_WASI_EROFS);
    struct sbx_wasi_filestat st;
    cr_expect_eq(sbx_wasi_local_filestat_get(&ro, "", "file", 0, &st), 0);
    cr_expect(exists("rodir/file") && !exists("root/taken") && !exists("root/linked"));
}

Test(path_local, across_roots)
{
    cr_expect_eq(sbx_wasi_local_create_directory(&rw, "", "sub/d"), 0);
    cr_expect_eq(sbx_wasi_local_rename(&rw, "", "file", &rw, "sub", "moved"), 0);
    cr_expect(exists("root/sub/moved"));
    cr_expect_eq(sbx_wasi_local_link(&rw, "sub", "moved", 0, &rw, "", "file"), 0);
    cr_expect_eq(sbx_wasi_local_unlink_file(&rw, "sub", "moved"), 0);
    cr_expect_eq(sbx_wasi_local_remove_directory(&rw, "sub", "d"), 0);
    cr_expect_eq(sbx_wasi_local_remove_directory(&rw, "sub", "."), SBX_WASI_EINVAL);
    cr_expect_eq(sbx_wasi_local_remove_directory(&rw, "sub", ".."), SBX_WASI_ENOTCAPABLE);
}

Test(path_local, vtable_bounds)
{
    struct sbx_wasi_root roots[1] = {rw};
    struct sbx_wasi_roots ctx = {roots, 1};
    struct sbx_wasi_filestat st;
    struct sbx_wasi_at ok = {0, "", "file"}, bad = {1, "", "file"};
    cr_expect_eq(sbx_wasi_path_local_ops.filestat_get(&ctx, &ok, 0, &st), 0);
    cr_expect_eq(sbx_wasi_path_local_ops.filestat_get(&ctx, &bad, 0, &st), SBX_WASI_ENOTCAPABLE);
    int fd = 5;
    cr_expect_eq(sbx_wasi_path_local_ops.open(&ctx, &bad, &rd, &fd), SBX_WASI_ENOTCAPABLE);
    cr_expect_eq(fd, -1);
    cr_expect_eq(sbx_wasi_path_local_ops.rename(&ctx, &ok, &bad), SBX_WASI_ENOTCAPABLE);
}
