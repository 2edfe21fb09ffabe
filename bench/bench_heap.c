/*
 * bench_heap.c - the cost of malloc+free pairs, for comparing an
 * allocator with and without a heap profiler loaded (LD_PRELOAD) in one
 * run of bench/heap_callgrind.sh.
 *
 * Each of THREADS threads runs OPS iterations: free the oldest of a ring
 * of 64 live blocks and malloc a new one of a mixed small size (16 to
 * 1024 bytes, from a fixed xorshift sequence). It prints nanoseconds per
 * pair (wall clock, best of ROUNDS). Usage: bench_heap [ops] [threads].
 * Linked with nothing but libc and pthreads, so the allocator under test
 * is whatever the environment preloads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RING 64
#define ROUNDS 5

static long ops = 2000000;

/* One thread's churn; returns the checksum through arg. */
static void *churn(void *arg) {
  uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)arg;
  void *ring[RING] = {0};
  uintptr_t sum = 0;
  for (long i = 0; i < ops; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size_t n = 16 + (size_t)(x % 1009);
    free(ring[i % RING]);
    char *p = malloc(n);
    p[0] = (char)i;
    ring[i % RING] = p;
    sum += (uintptr_t)p[0];
  }
  for (int i = 0; i < RING; i++)
    free(ring[i]);
  return (void *)sum;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int threads = 2;
  if (argc > 1)
    ops = atol(argv[1]);
  if (argc > 2)
    threads = atoi(argv[2]);
  if (ops <= 0 || threads <= 0 || threads > 64)
    return 2;
  double best = 1e30;
  int rounds = ops >= 1000000 ? ROUNDS : 1;
  for (int r = 0; r < rounds; r++) {
    pthread_t th[64];
    double t0 = now();
    for (int i = 0; i < threads; i++)
      if (pthread_create(&th[i], NULL, churn, (void *)(intptr_t)(i + 1)))
        return 1;
    for (int i = 0; i < threads; i++)
      pthread_join(th[i], NULL);
    double dt = now() - t0;
    if (dt < best)
      best = dt;
  }
  printf("%.2f\n", best * 1e9 / (double)ops);
  return 0;
}
