/* Bad guest pointers, called from C through sbx_wasi_invoke against a
 * hand-made memory: every pointer or (pointer, length) pair that leaves
 * the memory is WASI EFAULT (21), the host does not crash, and nothing is
 * written past the memory's end (a canary region follows it). Also: a
 * memory that grows between calls, an instance without memory, and the
 * table of functions sbx_wasi_define binds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wasi/wasi.h"

#define PAGE   65536u
#define CANARY 4096u

static uint8_t *buf;
static struct sbx_memory mem;
static struct sbx_wasi *w;
static int dirfd_;
static char dir[64];

static void setup(void)
{
    buf = malloc(2 * PAGE + CANARY);
    cr_assert(buf);
    memset(buf, 0, 2 * PAGE);
    memset(buf + PAGE, 0xAB, PAGE + CANARY);
    mem = (struct sbx_memory){.base = buf, .size = PAGE, .pages = 1, .max_pages = 2};
    snprintf(dir, sizeof(dir), "/tmp/sbx-wasi-mem-XXXXXX");
    cr_assert(mkdtemp(dir));
    dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert(dirfd_ >= 0);
    static const char *argv[] = {"prog", "arg"};
    static const char *env[] = {"A=B"};
    struct sbx_wasi_preopen pre = {dirfd_, "/tmp", false};
    struct sbx_wasi_config cfg;
    sbx_wasi_config_default(&cfg);
    cfg.argv = argv;
    cfg.argc = 2;
    cfg.env = env;
    cfg.envc = 1;
    cfg.stdin_fd = memfd_create("stdin", MFD_CLOEXEC); /* a regular file: seekable */
    cfg.stdout_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    cfg.preopens = &pre;
    cfg.npreopens = 1;
    struct sbx_error err;
    cr_assert_eq(sbx_wasi_new(&cfg, &w, &err), 0, "%s", err.msg);
    close(cfg.stdin_fd);
    close(cfg.stdout_fd);
}

static void teardown(void)
{
    sbx_wasi_free(w);
    close(dirfd_);
    cr_expect_eq(rmdir(dir), 0, "the calls left something in %s", dir);
    free(buf);
}

TestSuite(guest_mem, .init = setup, .fini = teardown);

static uint32_t call(const char *name, const uint64_t *a, size_t n)
{
    union sbx_val args[16], res[1] = {{0}};
    for (size_t i = 0; i < n; i++)
        args[i].i64 = a[i];
    int code = 0;
    int r = sbx_wasi_invoke(w, name, &mem, args, res, &code);
    cr_assert_eq(r, 0, "%s", name);
    return res[0].i32;
}

#define CALL(name, ...)                                                                            \
    call(name, (const uint64_t[]){__VA_ARGS__}, sizeof((const uint64_t[]){__VA_ARGS__}) / 8)

static void canary_intact(void)
{
    for (uint32_t i = PAGE; i < 2 * PAGE + CANARY; i++)
        if (buf[i] != 0xAB) cr_assert_fail("byte %u past the memory was written", i - PAGE);
}

static void put_u32(uint32_t at, uint32_t v)
{
    memcpy(buf + at, &v, 4);
}

Test(guest_mem, every_pointer_argument)
{
    const uint64_t E = PAGE - 1;   /* one byte left: too small for anything */
    const uint64_t F = 0xfffffff0; /* far past the end */
    const uint32_t S = 1000;       /* a valid scratch area */
    memcpy(buf + 2000, "x", 1);    /* a valid one-byte path */
    put_u32(3000, (uint32_t)E);    /* an iovec whose buffer leaves memory */
    put_u32(3004, 8);
    struct {
        const char *name;
        uint64_t args[9];
        size_t n;
    } cases[] = {
        {"args_get", {E, S}, 2},
        {"args_get", {S, E}, 2},
        {"args_sizes_get", {E, S}, 2},
        {"args_sizes_get", {S, F}, 2},
        {"environ_get", {F, S}, 2},
        {"environ_get", {S, E}, 2},
        {"environ_sizes_get", {E, S}, 2},
        {"environ_sizes_get", {S, E}, 2},
        {"clock_res_get", {1, E}, 2},
        {"clock_time_get", {1, 0, E}, 3},
        {"fd_fdstat_get", {1, E}, 2},
        {"fd_filestat_get", {3, E}, 2},
        {"fd_prestat_get", {3, E}, 2},
        {"fd_prestat_dir_name", {3, E, 4}, 3},
        {"fd_read", {0, E, 1, S}, 4},
        {"fd_read", {0, 3000, 1, S}, 4},
        {"fd_read", {0, S, 0, E}, 4},
        {"fd_write", {1, F, 1, S}, 4},
        {"fd_write", {1, 3000, 1, S}, 4},
        {"fd_write", {1, S, 0x10000000, S}, 4},
        {"fd_readdir", {3, E, 100, 0, S}, 5},
        {"fd_readdir", {3, S, 100, 0, E}, 5},
        {"fd_seek", {0, 0, 1, E}, 4},
        {"fd_tell", {0, F}, 2},
        {"path_open", {3, 0, E, 4, 0, 0, 0, 0, S}, 9},
        {"path_open", {3, 0, 2000, 1, 0, 0, 0, 0, E}, 9},
        {"path_filestat_get", {3, 0, F, 1, S}, 5},
        {"path_filestat_get", {3, 0, 2000, 1, E}, 5},
        {"path_readlink", {3, E, 2, S, 10, S}, 6},
        {"path_readlink", {3, 2000, 1, E, 10, S}, 6},
        {"path_readlink", {3, 2000, 1, S, 10, E}, 6},
        {"path_create_directory", {3, F, 1}, 3},
        {"path_remove_directory", {3, E, 2}, 3},
        {"path_unlink_file", {3, E, 2}, 3},
        {"path_symlink", {E, 2, 3, 2000, 1}, 5},
        {"path_link", {3, 0, E, 2, 3, 2000, 1}, 7},
        {"path_rename", {3, 2000, 1, 3, E, 2}, 6},
        {"path_filestat_set_times", {3, 0, F, 4, 0, 0, 0}, 7},
        {"poll_oneoff", {E, S, 1, S}, 4},
        {"poll_oneoff", {S, E, 1, S}, 4},
        {"poll_oneoff", {S, S, 1, E}, 4},
        {"random_get", {E, 2}, 2},
        {"random_get", {F, 0x20}, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        union sbx_val args[9], res[1] = {{0}};
        for (size_t k = 0; k < cases[i].n; k++)
            args[k].i64 = cases[i].args[k];
        cr_assert_eq(sbx_wasi_invoke(w, cases[i].name, &mem, args, res, NULL), 0);
        cr_expect_eq(res[0].i32, 21, "case %zu (%s): errno %u", i, cases[i].name, res[0].i32);
    }
    canary_intact();
}

Test(guest_mem, memory_grows)
{
    /* A result at the start of the second page: EFAULT while the memory
     * has one page, fine once it has two (the size is read per call). */
    cr_expect_eq(CALL("clock_time_get", 1, 0, PAGE), 21);
    mem.size = 2 * PAGE;
    mem.pages = 2;
    cr_expect_eq(CALL("clock_time_get", 1, 0, PAGE), 0);
    cr_expect_neq(buf[PAGE] | buf[PAGE + 1] | buf[PAGE + 2] | buf[PAGE + 3], 0xAB);
}

Test(guest_mem, no_memory)
{
    union sbx_val args[2] = {{.i32 = 0}, {.i32 = 0}}, res[1];
    cr_assert_eq(sbx_wasi_invoke(w, "args_sizes_get", NULL, args, res, NULL), 0);
    cr_expect_eq(res[0].i32, 21);
    /* Zero-length buffers need no memory. */
    cr_assert_eq(sbx_wasi_invoke(w, "random_get", NULL, args, res, NULL), 0);
    cr_expect_eq(res[0].i32, 0);
    cr_assert_eq(sbx_wasi_invoke(w, "sched_yield", NULL, args, res, NULL), 0);
    cr_expect_eq(res[0].i32, 0);
}

Test(guest_mem, exact_fit_and_results)
{
    /* args_sizes_get at the very end: two u32 in the last 8 bytes. */
    cr_expect_eq(CALL("args_sizes_get", PAGE - 8, PAGE - 4), 0);
    uint32_t argc, size;
    memcpy(&argc, buf + PAGE - 8, 4);
    memcpy(&size, buf + PAGE - 4, 4);
    cr_expect_eq(argc, 2);
    cr_expect_eq(size, 9);                                  /* "prog\0arg\0" */
    cr_expect_eq(CALL("args_get", PAGE - 7, PAGE - 9), 21); /* the array leaves memory */
    cr_expect_eq(CALL("args_get", PAGE - 17, PAGE - 9), 0);
    cr_expect_eq(memcmp(buf + PAGE - 9, "prog\0arg\0", 9), 0);
    canary_intact();
}

Test(guest_mem, proc_exit_and_unknown)
{
    union sbx_val args[1] = {{.i32 = 3}}, res[1];
    int code = -1;
    cr_expect_eq(sbx_wasi_invoke(w, "proc_exit", &mem, args, res, &code), -1);
    cr_expect_eq(code, 3);
    args[0].i32 = 6; /* SIGABRT */
    cr_expect_eq(sbx_wasi_invoke(w, "proc_raise", &mem, args, res, &code), -1);
    cr_expect_eq(code, 128 + 6);
    cr_expect_eq(sbx_wasi_invoke(w, "no_such_call", &mem, args, res, &code), -ENOENT);
}

Test(guest_mem, define_binds_every_function)
{
    struct sbx_linker *l = sbx_linker_new();
    cr_assert(l);
    cr_expect_eq(sbx_wasi_define(w, l), 0);
    cr_expect_eq(sbx_wasi_define(w, l), 0); /* again: same host functions */
    sbx_linker_free(l);
}
