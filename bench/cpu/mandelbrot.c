/* The Mandelbrot set on a 1536x1152 grid, up to 256 iterations per point:
 * a tight double-precision loop with a data-dependent exit. The checksum is
 * the total number of iterations. */
#include "bench.h"

#define W        1536
#define H        1152
#define MAX_ITER 256

int run(void)
{
    uint32_t total = 0;
    for (int py = 0; py < H; py++) {
        double ci = -1.2 + 2.4 * py / H;
        for (int px = 0; px < W; px++) {
            double cr = -2.1 + 3.0 * px / W;
            double zr = 0, zi = 0;
            int it = 0;
            while (it < MAX_ITER) {
                double zr2 = zr * zr, zi2 = zi * zi;
                if (zr2 + zi2 > 4.0) break;
                zi = 2 * zr * zi + ci;
                zr = zr2 - zi2 + cr;
                it++;
            }
            total += (uint32_t)it;
        }
    }
    return (int)total;
}
