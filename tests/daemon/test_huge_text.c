/* The daemon's zygote runs its code, and reads its constants, from
 * anonymous mappings on huge pages (zygote/huge_text.c), and its workers
 * inherit those mappings, page-table entries and all: seen from outside,
 * in /proc/PID/smaps. Whether the kernel
 * hands out huge pages at all is the machine's setting: where
 * transparent huge pages are off, only the move is checked, and the test
 * says so. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/daemon/daemon_harness.h"
#include "zygote/huge_text.h"

static struct hd D;

static void stop(void)
{
    hd_stop(&D);
}

TestSuite(huge_text, .fini = stop, .timeout = 60);

/* The process's anonymous mappings with protection `want` ([vdso],
 * [vvar] and [vsyscall] are not anonymous memory): how many, and the first
 * one's size and huge pages. JIT code is a memfd mapping, which has a
 * name. */
struct code_mapping {
    int count;
    unsigned long bytes;
    long huge_kb;
};

static struct code_mapping anonymous(pid_t pid, const char *want)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    struct code_mapping m = {0};
    bool in_code = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end, inode;
        char perms[8], name[256] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %255s", &start, &end, perms, &inode, name) >= 4) {
            in_code = !strcmp(perms, want) && inode == 0 && name[0] == '\0';
            if (in_code && m.count++ == 0) m.bytes = end - start;
            continue;
        }
        long kb;
        if (in_code && m.count == 1 && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
            m.huge_kb = kb;
    }
    fclose(f);
    return m;
}

/* False when /sys says transparent huge pages are never given. */
static bool huge_pages_available(void)
{
    char mode[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return false;
    bool ok = fgets(mode, sizeof mode, f) && !strstr(mode, "[never]");
    fclose(f);
    return ok;
}

/* One anonymous `perms` mapping, of whole huge pages, on huge pages. */
static void assert_on_huge_pages(pid_t pid, const char *who, const char *perms)
{
    struct code_mapping m = anonymous(pid, perms);
    cr_assert_eq(m.count, 1, "%s: %d anonymous %s mappings, not 1 (the moved segment)", who,
                 m.count, perms);
    cr_assert(m.bytes > 0 && m.bytes % (2u << 20) == 0, "%s: the %s mapping is %lu bytes", who,
              perms, m.bytes);
    if (!huge_pages_available()) {
        fprintf(stderr,
                "huge_text: %s: huge pages not checked: transparent huge pages are off "
                "on this machine\n",
                who);
        return;
    }
    cr_assert_eq((unsigned long)m.huge_kb * 1024, m.bytes,
                 "%s: %ld KiB of its %lu-byte %s mapping on huge pages", who, m.huge_kb, m.bytes,
                 perms);
}

/* The code (r-xp) and the constants after it (r--p). */
static void assert_code_on_huge_pages(pid_t pid, const char *who)
{
    assert_on_huge_pages(pid, who, "r-xp");
    assert_on_huge_pages(pid, who, "r--p");
}

Test(huge_text, the_zygote_and_its_workers_run_code_from_huge_pages)
{
    hd_start(&D, NULL, NULL);
    int fd = hd_connect(&D);
    struct hd_status st;
    hd_status(fd, &st);
    cr_assert_gt(st.zygote_pid, 0);
    assert_code_on_huge_pages(st.zygote_pid, "zygote");

    size_t len;
    uint8_t *m = hd_module(1, 0, &len);
    char id[65];
    hd_load(fd, m, len, id);
    free(m);
    pid_t worker;
    uint64_t w = hd_spawn(fd, id, "spin", NULL, 0, 0, &worker);
    assert_code_on_huge_pages(worker, "worker");
    /* The daemon itself keeps its code where the kernel put it. */
    cr_assert_eq(anonymous(D.pid, "r-xp").count, 0, "the supervisor's code moved");
    hd_send_kill(fd, w);
}

/* In-process: an executable not linked for it (this test is linked with
 * 4 KiB segment alignment) is refused with -ENOTSUP and left exactly as
 * it was, and this process goes on running its code. */
/* This process's file mappings (the executable's segments among them),
 * one per line; not the heap, which the test's own allocations may move. */
static char *file_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    static char out[1 << 16];
    char line[512];
    size_t used = 0;
    while (fgets(line, sizeof line, f))
        if (strchr(line, '/') && used + strlen(line) < sizeof out) {
            memcpy(out + used, line, strlen(line));
            used += strlen(line);
        }
    fclose(f);
    out[used] = '\0';
    return strdup(out);
}

Test(huge_text, an_executable_not_laid_out_for_it_is_left_alone)
{
    char *before = file_mappings();
    size_t bytes = 1;
    cr_assert_eq(sbx_huge_text(&bytes), -ENOTSUP);
    cr_assert_eq(bytes, 0);
    char *after = file_mappings();
    cr_assert_str_eq(before, after, "the mappings changed");
    free(before);
    free(after);
}
