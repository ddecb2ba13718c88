/* Dense matrix multiplication, C = A * B on doubles, in i-k-j order (the
 * inner loop streams a row of B into a row of C). The checksum is a weighted
 * sum of C's elements, which are exact small integers. */
#include "bench.h"

#define N 512

static double a[N][N], b[N][N], c[N][N];

int run(void)
{
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            a[i][j] = (double)(bench_rand(&seed) % 17) - 8;
            b[i][j] = (double)(bench_rand(&seed) % 13) - 6;
            c[i][j] = 0;
        }
    }
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < N; i++) {
            for (int k = 0; k < N; k++) {
                double aik = a[i][k];
                for (int j = 0; j < N; j++)
                    c[i][j] += aik * b[k][j];
            }
        }
    }
    uint32_t sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sum = sum * 31 + (uint32_t)(int32_t)c[i][j];
    return (int)sum;
}
