/* An open-addressing hash table (linear probing, multiplicative hashing,
 * 2^20 slots at ~57% load): inserts and updates, then lookups of which half
 * miss. Random access into 8 MiB of keys and values. */
#include "bench.h"

#define BITS    20
#define SLOTS   (1u << BITS)
#define INSERTS 600000u
#define LOOKUPS 12000000u

static uint32_t table_keys[SLOTS]; /* 0: empty */
static uint32_t table_vals[SLOTS];

static uint32_t slot_of(uint32_t key)
{
    return (key * 2654435769u) >> (32 - BITS);
}

static void put(uint32_t key, uint32_t val)
{
    uint32_t i = slot_of(key);
    while (table_keys[i] && table_keys[i] != key)
        i = (i + 1) & (SLOTS - 1);
    table_keys[i] = key;
    table_vals[i] += val;
}

/* The value for key, or 0. */
static uint32_t get(uint32_t key)
{
    uint32_t i = slot_of(key);
    while (table_keys[i]) {
        if (table_keys[i] == key) return table_vals[i];
        i = (i + 1) & (SLOTS - 1);
    }
    return 0;
}

int run(void)
{
    for (uint32_t i = 0; i < SLOTS; i++)
        table_keys[i] = table_vals[i] = 0;
    /* Keys below 2^21 collide often enough to exercise updates. */
    uint32_t seed = 88172645u;
    for (uint32_t n = 0; n < INSERTS; n++) {
        uint32_t r = bench_rand(&seed);
        put((r & 0x1fffff) | 1, r >> 21);
    }
    uint32_t sum = 0, hits = 0;
    for (uint32_t n = 0; n < LOOKUPS; n++) {
        uint32_t r = bench_rand(&seed);
        uint32_t v = get((r & 0x1fffff) | (n & 1 ? 1 : 0x400000));
        sum += v;
        hits += v != 0;
    }
    return (int)(sum * 31 + hits);
}
