/* tree.h: paths relative to the test's temporary tree. */
#include "tests/wasi/tree.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root;

void tree_use(const char *dir)
{
    root = dir;
}

static void path_of(const char *rel, char *p, size_t size)
{
    snprintf(p, size, "%s/%s", root, rel);
}

void mkfile(const char *rel, const char *text)
{
    char p[512];
    path_of(rel, p, sizeof p);
    FILE *f = fopen(p, "w");
    cr_assert(f, "%s", p);
    fputs(text, f);
    fclose(f);
}

void mkdir_rel(const char *rel)
{
    char p[512];
    path_of(rel, p, sizeof p);
    cr_assert_eq(mkdir(p, 0777), 0, "%s", p);
}

void symlink_rel(const char *target, const char *rel)
{
    char p[512];
    path_of(rel, p, sizeof p);
    cr_assert_eq(symlink(target, p), 0, "%s", p);
}

bool exists(const char *rel)
{
    char p[512];
    struct stat st;
    path_of(rel, p, sizeof p);
    return lstat(p, &st) == 0;
}
