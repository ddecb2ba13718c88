/* Unbounded recursion on the wasm stack (no locals in linear memory, so
 * not the C shadow stack): must end as the "call stack exhausted" trap
 * (tests/policy/limits.sh). */
static volatile int sink;

static int down(int n)
{
    if (n < 0) return 0; /* never: keeps the compiler from proving it endless */
    sink = n;
    return down(n + 1) + 1;
}

int main(void)
{
    return down(0);
}
