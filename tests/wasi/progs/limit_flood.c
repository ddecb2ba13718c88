/* Writes to stdout until a write fails, then exits 3 saying why: when the
 * reader goes away the guest must get EPIPE, not its worker a SIGPIPE
 * (tests/policy/limits.sh). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    static char line[4096];
    memset(line, 'y', sizeof line);
    for (;;)
        if (write(1, line, sizeof line) < 0) {
            fprintf(stderr, "write: %s\n", strerror(errno));
            return 3;
        }
}
