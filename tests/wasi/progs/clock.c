/* clock_res_get, clock_time_get on the four clocks, bad ids, bad
 * pointers; sched_yield; random_get. */
#include "check.h"

int main(void)
{
    static const char *const names[] = {"realtime", "monotonic", "process_cputime",
                                        "thread_cputime"};
    for (i32 id = 0; id < 4; id++) {
        uint64_t res = 0, t1 = 0, t2 = 0;
        char label[64];
        snprintf(label, sizeof(label), "res %s", names[id]);
        E(label, raw_clock_res_get(id, P(&res)));
        Y("  resolution in (0, 1s]", res > 0 && res <= 1000000000ull);
        snprintf(label, sizeof(label), "time %s", names[id]);
        E(label, raw_clock_time_get(id, 1, P(&t1)));
        volatile uint64_t spin = 0;
        for (int i = 0; i < 1000000; i++)
            spin = spin + (uint64_t)i;
        (void)spin;
        raw_clock_time_get(id, 1, P(&t2));
        Y("  does not go back", t2 >= t1);
    }
    uint64_t now;
    raw_clock_time_get(0, 0, P(&now));
    Y("realtime is after 2020", now > 1577836800ull * 1000000000ull);
    uint64_t t;
    E("time bad id", raw_clock_time_get(4, 0, P(&t)));
    E("res bad id", raw_clock_res_get(-1, P(&t)));
    i32 top = (i32)(__builtin_wasm_memory_size(0) * 65536);
    E("time result past memory", raw_clock_time_get(1, 0, top - 4));
    E("res result past memory", raw_clock_res_get(1, top));
    E("time result at the last 8 bytes", raw_clock_time_get(1, 0, top - 8));

    E("sched_yield", raw_sched_yield());

    static uint8_t buf[100000];
    E("random_get 100000", raw_random_get(P(buf), sizeof(buf)));
    int zeros = 0;
    for (unsigned i = 0; i < sizeof(buf); i++)
        zeros += buf[i] == 0;
    Y("random bytes look random", zeros > 100 && zeros < 800);
    E("random_get 0 bytes", raw_random_get(P(buf), 0));
    E("random_get past memory", raw_random_get(top - 10, 11));
    E("random_get 0 bytes at the top", raw_random_get(top, 0));
    E("random_get 0 bytes past the top", raw_random_get(top + 1, 0));
    return 0;
}
