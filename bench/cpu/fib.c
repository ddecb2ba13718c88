/* Recursion: the doubly recursive Fibonacci function, i.e. calls, returns
 * and a compare per call, nothing else. */
#include "bench.h"

static int fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Keeps the argument opaque to the optimiser, which could otherwise fold it. */
static volatile int depth = 38;

int run(void)
{
    uint32_t sum = 0;
    for (int i = 0; i < 3; i++)
        sum += (uint32_t)fib(depth + (i & 1));
    return (int)sum;
}
