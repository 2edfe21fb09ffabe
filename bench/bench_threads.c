/*
 * bench_threads.c - what a full thread dump (goroutine?debug=2's capture)
 * costs with 10, 100 and 1000 live threads, all blocked on a condition
 * variable (futex) but one that burns CPU:
 *   - dump: how long the dump takes (median of the rounds);
 *   - stall: how long the CPU-burning thread stands still while a dump
 *     runs: the longest gap between two iterations of its loop during a
 *     dump (median over the rounds), next to the longest gap in an idle
 *     period of the same length (the scheduler's own noise). A dump's
 *     cost to a host thread is the difference: its share of one stack
 *     copy, not the whole dump;
 *   - held: how long each thread's dump-signal handler ran, the time the
 *     dump held it (the largest over the threads, median over the rounds).
 * More CPU burners than cores would measure the scheduler, not the dump:
 * the dumping thread then gets only its share of the CPUs.
 *
 * Usage: bench_threads [rounds] [cond|sleep]   (default 5 cond)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/ialloc.h"
#include "sample/threads.h"

static atomic_int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
/* The burner's longest gap since the last reset, in nanoseconds. */
static _Atomic int64_t max_gap;
static atomic_int reset_gap;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* With "sleep": the blocked threads sleep instead (nanosleep, which a
 * dump reads from the wrapper's saved context without a signal). */
static int sleepers;

/* Blocks in a futex (or a sleep) until the benchmark ends. */
static void *blocked(void *arg) {
  if (sleepers) {
    while (!atomic_load(&stop)) {
      struct timespec ts = {0, 200 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    return arg;
  }
  pthread_mutex_lock(&mu);
  while (!atomic_load(&stop))
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return arg;
}

/* Burns CPU until the benchmark ends, keeping its longest gap. */
static void *busy(void *arg) {
  int64_t last = mono_ns(), gap = 0;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    int64_t t = mono_ns();
    if (atomic_exchange_explicit(&reset_gap, 0, memory_order_relaxed))
      gap = 0;
    else if (t - last > gap)
      atomic_store_explicit(&max_gap, gap = t - last, memory_order_relaxed);
    last = t;
  }
  return arg;
}

/* Starts a gap measurement and waits until the burner took it. */
static void gap_reset(void) {
  atomic_store(&max_gap, 0);
  atomic_store(&reset_gap, 1);
  while (atomic_load(&reset_gap))
    ;
  atomic_store(&max_gap, 0);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  if (rounds < 1 || rounds > 100)
    rounds = 5;
  sleepers = argc > 2 && strcmp(argv[2], "sleep") == 0;
  printf("blocked threads wait in %s\n", sleepers
                                             ? "nanosleep (not signalled)"
                                             : "pthread_cond_wait (signalled)");
  static const int counts[] = {10, 100, 1000};
  printf("threads  dump (ms)  stall in dump (ms)  stall idle (ms)  "
         "held max (us)  captured\n");
  for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
    int n = counts[c], nbusy = 1;
    pthread_t *th = calloc((size_t)n, sizeof *th);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 << 10);
    atomic_store(&stop, 0);
    for (int i = 0; i < n; i++)
      if (pthread_create(&th[i], &attr, i < nbusy ? busy : blocked, NULL) !=
          0) {
        fprintf(stderr, "pthread_create failed at %d\n", i);
        return 1;
      }
    struct timespec settle = {0, 200 * 1000 * 1000};
    nanosleep(&settle, NULL);
    double t[100], stall[100], idle[100], held[100];
    size_t captured = 0, listed = 0;
    for (int r = 0; r < rounds; r++) {
      pprofd__thread *d;
      size_t k;
      gap_reset();
      double t0 = now_ms();
      if (pprofd__threads_dump(&d, &k, 2000, PPROFD__DUMP_WCHAN) != 0)
        return 1;
      t[r] = now_ms() - t0;
      stall[r] = (double)atomic_load(&max_gap) / 1e6;
      captured = 0;
      held[r] = 0;
      for (size_t i = 0; i < k; i++) {
        captured += d[i].captured;
        if ((double)d[i].held_ns / 1e3 > held[r])
          held[r] = (double)d[i].held_ns / 1e3;
      }
      listed = k;
      pprofd__ifree(d);
      /* The same time with no dump: the burner's gaps from the
       * scheduler alone. */
      gap_reset();
      int64_t until = mono_ns() + (int64_t)(t[r] * 1e6);
      while (mono_ns() < until) {
        struct timespec ts = {0, 100 * 1000};
        nanosleep(&ts, NULL);
      }
      idle[r] = (double)atomic_load(&max_gap) / 1e6;
    }
    qsort(t, (size_t)rounds, sizeof t[0], cmp_double);
    qsort(stall, (size_t)rounds, sizeof stall[0], cmp_double);
    qsort(idle, (size_t)rounds, sizeof idle[0], cmp_double);
    qsort(held, (size_t)rounds, sizeof held[0], cmp_double);
    printf("%7d  %9.2f  %18.3f  %15.3f  %13.1f  %zu/%zu\n", n, t[rounds / 2],
           stall[rounds / 2], idle[rounds / 2], held[rounds / 2], captured,
           listed);
    atomic_store(&stop, 1);
    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < n; i++)
      pthread_join(th[i], NULL);
    free(th);
    pthread_attr_destroy(&attr);
  }
  return 0;
}
