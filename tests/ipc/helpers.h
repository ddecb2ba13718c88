/* tests/ipc/helpers.h: fixtures shared by the ipc tests: counting open fds,
 * a connected pair, and builders for the messages the tests send. */
#ifndef SBX_TESTS_IPC_HELPERS_H
#define SBX_TESTS_IPC_HELPERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/limits.h"
#include "ipc/msg.h"
#include "ipc/socket.h"
#include "ipc/validate.h"

/* Open fds of this process, from /proc/self/fd (the directory's own fd is
 * not counted). */
static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;
}

static inline void make_pair(int sv[2])
{
    cr_assert_eq(sbx_ipc_pair(sv), 0);
}

static inline void close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

/* 64 lowercase hex digits, like a real module id. */
#define TEST_MODULE_ID "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* A valid Spawn request referring to `nstdio` fds (stdin, stdout, ...). The
 * caller frees it with free_spawn. */
static inline Sbx__Request *new_spawn(size_t nstdio)
{
    static char *argv[] = {"app", "--flag", "x"};
    static char *env[] = {"HOME=/", "LANG=C"};
    Sbx__Request *r = calloc(1, sizeof(*r));
    Sbx__Spawn *s = calloc(1, sizeof(*s));
    sbx__request__init(r);
    sbx__spawn__init(s);
    r->has_id = 1;
    r->id = 42;
    r->body_case = SBX__REQUEST__BODY_SPAWN;
    r->spawn = s;
    s->module_id = TEST_MODULE_ID;
    s->n_argv = 3;
    s->argv = argv;
    s->n_env = 2;
    s->env = env;
    s->n_stdio = nstdio;
    s->stdio = calloc(nstdio + 1, sizeof(*s->stdio));
    for (size_t i = 0; i < nstdio; i++) {
        s->stdio[i] = calloc(1, sizeof(Sbx__StdioFd));
        sbx__stdio_fd__init(s->stdio[i]);
        s->stdio[i]->has_stream = 1;
        s->stdio[i]->stream = (Sbx__StdioStream)(SBX__STDIO_STREAM__STDIO_STDIN + i);
        s->stdio[i]->has_fd_index = 1;
        s->stdio[i]->fd_index = (uint32_t)i;
    }
    return r;
}

/* A Request with id 1 whose Spawn holds `count` empty Values: 2 bytes
 * each on the wire, a pointer and a struct each once unpacked. Sixty
 * thousand of them fit the packet cap and exceed the unpack budget. The
 * caller frees the bytes; *len is their length. */
static inline uint8_t *expanding_spawn(size_t count, size_t *len)
{
    size_t inner = 2 * count;
    uint8_t *buf = malloc(inner + 16), *p = buf;
    cr_assert_not_null(buf);
    *p++ = 0x08; /* id = 1 */
    *p++ = 0x01;
    *p++ = 0x2a; /* field 5 (spawn), length-delimited */
    for (size_t n = inner;; n >>= 7) {
        *p++ = (uint8_t)((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
        if (n < 0x80) break;
    }
    for (size_t i = 0; i < count; i++) {
        *p++ = 0x3a; /* field 7 (args), length-delimited, empty */
        *p++ = 0x00;
    }
    *len = (size_t)(p - buf);
    return buf;
}

static inline void free_spawn(Sbx__Request *r)
{
    for (size_t i = 0; i < r->spawn->n_stdio; i++)
        free(r->spawn->stdio[i]);
    free(r->spawn->stdio);
    free(r->spawn);
    free(r);
}

#endif
