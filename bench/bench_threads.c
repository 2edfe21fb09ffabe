/*
 * bench_threads.c - how long a full thread dump (goroutine?debug=2's
 * capture) takes with 10, 100 and 1000 live threads, all blocked on a
 * condition variable (futex) but one that burns CPU. More CPU burners
 * than cores would measure the scheduler, not the dump: the dumping
 * thread then gets only its share of the CPUs.
 *
 * Usage: bench_threads [rounds]   (default 5; prints the median)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ialloc.h"
#include "sample/threads.h"

static atomic_int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile unsigned long spins;

/* Blocks in a futex until the benchmark ends. */
static void *blocked(void *arg) {
  pthread_mutex_lock(&mu);
  while (!atomic_load(&stop))
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return arg;
}

/* Burns CPU until the benchmark ends. */
static void *busy(void *arg) {
  while (!atomic_load(&stop))
    spins++;
  return arg;
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
  static const int counts[] = {10, 100, 1000};
  printf("threads  dump median (ms)  captured\n");
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
    double t[100];
    size_t captured = 0, listed = 0;
    for (int r = 0; r < rounds; r++) {
      pprofd__thread *d;
      size_t k;
      double t0 = now_ms();
      if (pprofd__threads_dump(&d, &k, 2000) != 0)
        return 1;
      t[r] = now_ms() - t0;
      captured = 0;
      for (size_t i = 0; i < k; i++)
        captured += d[i].captured;
      listed = k;
      pprofd__ifree(d);
    }
    qsort(t, (size_t)rounds, sizeof t[0], cmp_double);
    printf("%7d  %17.2f  %zu/%zu\n", n, t[rounds / 2], captured, listed);
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
