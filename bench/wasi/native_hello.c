/* The native peer of the cold-run benchmark: the same hello as
 * examples/hello.c, linked statically and run by fork+exec. */
#include <stdio.h>

int main(void)
{
    puts("Hello, world!");
    return 0;
}
