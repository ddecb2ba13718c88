/* Reads a module file and loads it, reporting failures the way every
 * subcommand does: "sbx: FILE: message". */
#include "supervisor/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit/limits.h"

/* Reads the whole file, refusing anything larger than the front end would
 * accept anyway. Returns 0 or an errno value. */
static int read_file(const char *path, uint8_t **bytes, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat st;
    int e = 0;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0) {
        e = errno;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        e = EISDIR;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        e = EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > SBX_MAX_MODULE_SIZE) {
        e = EFBIG;
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size ? size : 1);
    if (!buf) {
        e = ENOMEM;
        goto out;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            e = n < 0 ? errno : EIO; /* the file shrank while we read it */
            goto out;
        }
        got += (size_t)n;
    }
    *bytes = buf;
    *len = size;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return e;
}

int cli_load(const char *path, struct cli_loaded *out)
{
    memset(out, 0, sizeof *out);
    int e = read_file(path, &out->bytes, &out->len);
    if (e == EFBIG) {
        fprintf(stderr, "sbx: %s: larger than the module size limit (%u bytes)\n", path,
                SBX_MAX_MODULE_SIZE);
        return -1;
    }
    if (e) {
        fprintf(stderr, "sbx: %s: %s\n", path, strerror(e));
        return -1;
    }
    struct sbx_error err = {.func_index = -1};
    out->module = sbx_module_load(out->bytes, out->len, &err);
    if (!out->module) {
        char msg[SBX_ERROR_MSG_MAX + 64];
        sbx_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "sbx: %s: %s\n", path, msg);
        cli_unload(out);
        return -1;
    }
    return 0;
}

void cli_unload(struct cli_loaded *l)
{
    if (l->module) sbx_module_free(l->module);
    free(l->bytes);
    memset(l, 0, sizeof *l);
}
