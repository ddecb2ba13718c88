/* N-queens by backtracking over bitmasks: deep recursion with bit tricks
 * (lowest set bit, masks). Counts every solution for boards 10 to 14. */
#include "bench.h"

static uint32_t solve(uint32_t all, uint32_t cols, uint32_t left, uint32_t right)
{
    if (cols == all) return 1;
    uint32_t count = 0;
    uint32_t free = all & ~(cols | left | right);
    while (free) {
        uint32_t bit = free & -free;
        free ^= bit;
        count += solve(all, cols | bit, (left | bit) << 1, (right | bit) >> 1);
    }
    return count;
}

int run(void)
{
    uint32_t sum = 0;
    for (int n = 10; n <= 14; n++)
        sum = sum * 1000003u + solve((1u << n) - 1, 0, 0, 0);
    return (int)sum;
}
