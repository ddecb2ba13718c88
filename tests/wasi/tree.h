/* Files and directories under a test's temporary tree, named relative to
 * it (tree.c), for the resolver and broker tests. Each asserts. */
#ifndef SBX_TESTS_WASI_TREE_H
#define SBX_TESTS_WASI_TREE_H

#include <stdbool.h>

/* The tree the helpers below work in (kept, not copied). */
void tree_use(const char *dir);
void mkfile(const char *rel, const char *text);
void mkdir_rel(const char *rel);
void symlink_rel(const char *target, const char *rel);
bool exists(const char *rel); /* lstat: a dangling symlink exists */

#endif
