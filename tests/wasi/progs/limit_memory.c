/* A memory bomb: allocates and touches 1 MiB blocks until malloc fails,
 * then aborts. Under a memory limit the worker must end with the limit as
 * its outcome, not a bare trap (tests/policy/limits.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kept reachable, or the compiler may drop the allocations altogether. */
char *volatile last;

int main(void)
{
    for (size_t mib = 0;; mib++) {
        char *p = malloc(1 << 20);
        if (!p) {
            fprintf(stderr, "malloc failed after %zu MiB\n", mib);
            abort();
        }
        memset(p, 1, 1 << 20);
        last = p;
    }
}
