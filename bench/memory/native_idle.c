/* The native peer of the idle-worker memory benchmark: a static program
 * that says it is ready (one byte on stdout) and waits forever. */
#include <unistd.h>

int main(void)
{
    if (write(1, "r", 1) != 1) return 1;
    for (;;)
        pause();
}
