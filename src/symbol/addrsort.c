/*
 * addrsort.c - heap sort and binary search over records keyed by address.
 *
 * Both work on untyped records of a size given at run time, so that the
 * symbol index, the unit function index and the mappings share them; the
 * address is read with memcpy from the first bytes of a record. Pure
 * functions; any thread outside signal context.
 */
#include "config.h"

#include "symbol/addrsort.h"

#include <string.h>

/* Swaps two records of `size` bytes. */
static void swap_bytes(unsigned char *a, unsigned char *b, size_t size) {
  for (size_t i = 0; i < size; i++) {
    unsigned char t = a[i];
    a[i] = b[i];
    b[i] = t;
  }
}

/* Restores the max-heap property below node i of base[0..n). */
static void sift_down(unsigned char *base, size_t i, size_t n, size_t size,
                      pprofd__addrsort_less less) {
  for (;;) {
    size_t big = i, l = 2 * i + 1, r = l + 1;
    if (l < n && less(base + big * size, base + l * size))
      big = l;
    if (r < n && less(base + big * size, base + r * size))
      big = r;
    if (big == i)
      return;
    swap_bytes(base + i * size, base + big * size, size);
    i = big;
  }
}

void pprofd__addrsort_sort(void *v, size_t n, size_t size,
                           pprofd__addrsort_less less) {
  unsigned char *base = v;
  for (size_t i = n / 2; i-- > 0;)
    sift_down(base, i, n, size, less);
  for (size_t end = n; end-- > 1;) {
    swap_bytes(base, base + end * size, size);
    sift_down(base, 0, end, size, less);
  }
}

size_t pprofd__addrsort_upto(const void *v, size_t n, size_t size,
                             uint64_t addr) {
  const unsigned char *base = v;
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint64_t a;
    memcpy(&a, base + mid * size, sizeof a);
    if (a <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}
