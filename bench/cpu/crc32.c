/* CRC-32 (IEEE, reflected, table-driven one byte at a time) of a 1 MiB
 * pseudo-random buffer, repeated with the previous CRC mixed into the data:
 * a dependent chain of byte loads, table lookups and shifts. */
#include "bench.h"

#define BUF_SIZE (1u << 20)
#define ROUNDS   64

static uint32_t table[256];
static uint8_t buf[BUF_SIZE];

int run(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t seed = 521288629u;
    for (uint32_t i = 0; i < BUF_SIZE; i++)
        buf[i] = (uint8_t)bench_rand(&seed);
    uint32_t crc = 0;
    for (int r = 0; r < ROUNDS; r++) {
        buf[r] ^= (uint8_t)crc;
        uint32_t c = 0xffffffffu;
        for (uint32_t i = 0; i < BUF_SIZE; i++)
            c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
        crc = ~c;
    }
    return (int)crc;
}
