/* Opens the same file until the runtime refuses, then says how many it got
 * and with which error: fd exhaustion must be an error to the guest, never
 * a crash (tests/policy/limits.sh). Usage: limit_fds FILE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    int n = 0;
    for (; n < 100000; n++)
        if (open(argv[1], O_RDONLY) < 0) break;
    printf("opened %d, then: %s\n", n, strerror(errno));
    return 0;
}
