/* Sorting 1M pseudo-random 32-bit keys: quicksort (median of three,
 * recursing into the smaller part) with insertion sort for short runs, then
 * heapsort of the same input; both results are checked sorted. */
#include "bench.h"

#define N (1u << 20)

static uint32_t keys[N], copy[N];

static void insertion(uint32_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap(uint32_t *a, int i, int j)
{
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void quicksort(uint32_t *a, int n)
{
    while (n > 16) {
        int mid = n / 2;
        if (a[mid] < a[0]) swap(a, mid, 0);
        if (a[n - 1] < a[0]) swap(a, n - 1, 0);
        if (a[n - 1] < a[mid]) swap(a, n - 1, mid);
        uint32_t pivot = a[mid];
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j) break;
            swap(a, i, j);
            i++;
            j--;
        }
        /* [0, j] and [j + 1, n): recurse on the smaller, loop on the larger. */
        int left = j + 1;
        if (left < n - left) {
            quicksort(a, left);
            a += left;
            n -= left;
        } else {
            quicksort(a + left, n - left);
            n = left;
        }
    }
    insertion(a, n);
}

static void sift_down(uint32_t *a, int root, int n)
{
    for (;;) {
        int child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && a[child + 1] > a[child]) child++;
        if (a[root] >= a[child]) return;
        swap(a, root, child);
        root = child;
    }
}

static void heapsort(uint32_t *a, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--)
        sift_down(a, i, n);
    for (int end = n - 1; end > 0; end--) {
        swap(a, 0, end);
        sift_down(a, 0, end);
    }
}

/* A checksum of a sorted array, or 0 if it is not sorted. */
static uint32_t checksum(const uint32_t *a)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < N; i++) {
        if (i && a[i - 1] > a[i]) return 0;
        sum = sum * 31 + a[i];
    }
    return sum;
}

int run(void)
{
    uint32_t seed = 2463534242u;
    for (uint32_t i = 0; i < N; i++)
        keys[i] = copy[i] = bench_rand(&seed);
    quicksort(keys, (int)N);
    heapsort(copy, (int)N);
    return (int)(checksum(keys) ^ (checksum(copy) << 1));
}
