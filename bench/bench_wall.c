/*
 * bench_wall.c - what the wall-clock profile costs: 10, 100 and 1000
 * idle threads (waiting on a condition variable, as idle workers do),
 * sampled at 50 Hz for 5 s, against the same 5 s with no profile. The
 * cost is the process's CPU time (getrusage: user + system, every
 * thread) over the window, as a share of one core; the idle figure is
 * the program's own.
 *
 * Usage: bench_wall [seconds] [hz]   (5, 50)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "model/snapshot.h"
#include "sample/wall.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static atomic_int stop;

static void *idle(void *arg) {
  pthread_mutex_lock(&mu);
  while (!atomic_load(&stop))
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return arg;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int sleep_wait(void *arg, double seconds) {
  (void)arg;
  struct timespec ts = {(time_t)seconds,
                        (long)((seconds - (double)(time_t)seconds) * 1e9)};
  nanosleep(&ts, NULL);
  return 0;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 5;
  int hz = argc > 2 ? atoi(argv[2]) : 50;
  if (!(seconds > 0) || hz < 1 || hz > PPROFD__WALL_HZ_MAX) {
    fprintf(stderr, "usage: bench_wall [seconds] [hz]\n");
    return 2;
  }
  static const int counts[] = {10, 100, 1000};
  printf("threads  idle (%% of a core)  wall %d Hz (%% of a core)  "
         "walks/ticks  samples\n",
         hz);
  for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
    int n = counts[c];
    pthread_t *th = calloc((size_t)n, sizeof *th);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 << 10);
    atomic_store(&stop, 0);
    for (int i = 0; i < n; i++)
      if (pthread_create(&th[i], &attr, idle, NULL) != 0) {
        fprintf(stderr, "pthread_create failed at %d\n", i);
        return 1;
      }
    struct timespec settle = {0, 300 * 1000 * 1000};
    nanosleep(&settle, NULL);
    double c0 = cpu_s();
    sleep_wait(NULL, seconds);
    double base = cpu_s() - c0;
    pprofd__snapshot s;
    pprofd__snap_init(&s);
    pprofd__wall_stats st;
    c0 = cpu_s();
    if (pprofd__wall_record(seconds, hz, sleep_wait, NULL, &s, &st) != 0)
      return 1;
    double wall = cpu_s() - c0;
    printf("%7d  %18.2f  %24.2f  %5lld/%-5lld  %zu\n", n, 100 * base / seconds,
           100 * wall / seconds, (long long)st.walks, (long long)st.ticks,
           s.nsamples);
    pprofd__snap_free(&s);
    atomic_store(&stop, 1);
    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < n; i++)
      pthread_join(th[i], NULL);
    free(th);
  }
  return 0;
}
