/* Reads the files a wast2json command list names: whole .wasm modules, by a
 * path relative to the JSON file's directory. */
#ifndef SBX_TESTS_SPEC_FILE_H
#define SBX_TESTS_SPEC_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Returns a malloc'd copy of the directory part of `path` ("." if none), or
 * NULL if out of memory. */
char *spec_dirname(const char *path);

/* Returns a malloc'd "dir/name" (just `name` if it is absolute), or NULL if
 * out of memory. */
char *spec_join(const char *dir, const char *name);

/* Reads a whole file into a malloc'd buffer. Returns 0, or an errno value
 * (EFBIG beyond `max_len` bytes). */
int spec_read_file(const char *path, size_t max_len, uint8_t **bytes, size_t *len);

#endif
