/*
 * autodump_target.c - an unmodified program for the automatic-capture
 * tests: it knows nothing of pprofd. `autodump_target MODE SECONDS`
 * runs one workload for SECONDS and exits 0:
 *   leak     allocates and touches 80 MiB in leak_memory, and keeps it;
 *   burst    burns two CPUs in cpu_burst;
 *   threads  starts 40 threads in spawn_threads that wait in idle_worker;
 *   convoy   six threads take turns holding one mutex in lock_convoy;
 *   idle     sleeps.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static volatile unsigned long sink;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static void *kept[80];

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void leak_memory(void) {
  for (int i = 0; i < 80; i++) {
    kept[i] = malloc(1 << 20);
    memset(kept[i], i, 1 << 20);
    sleep_ms(10);
  }
}

__attribute__((noinline)) static void *cpu_burst(void *arg) {
  while (!atomic_load_explicit(&stop, memory_order_relaxed))
    sink++;
  return arg;
}

__attribute__((noinline)) static void *idle_worker(void *arg) {
  pthread_mutex_lock(&mu);
  while (!atomic_load(&stop))
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return arg;
}

__attribute__((noinline)) static void spawn_threads(pthread_t *th, int n) {
  for (int i = 0; i < n; i++)
    pthread_create(&th[i], NULL, idle_worker, NULL);
}

__attribute__((noinline)) static void *lock_convoy(void *arg) {
  while (!atomic_load(&stop)) {
    pthread_mutex_lock(&mu);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do /* hold it 2 ms, busy */
      clock_gettime(CLOCK_MONOTONIC, &t1);
    while ((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec <
           2000000);
    pthread_mutex_unlock(&mu);
  }
  return arg;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: autodump_target MODE SECONDS\n");
    return 2;
  }
  const char *mode = argv[1];
  int seconds = atoi(argv[2]);
  pthread_t th[40];
  int n = 0;
  if (strcmp(mode, "leak") == 0) {
    sleep_ms(1500); /* a quiet start, then the growth */
    leak_memory();
  } else if (strcmp(mode, "burst") == 0) {
    for (n = 0; n < 2; n++)
      pthread_create(&th[n], NULL, cpu_burst, NULL);
  } else if (strcmp(mode, "threads") == 0) {
    n = 40;
    spawn_threads(th, n);
  } else if (strcmp(mode, "convoy") == 0) {
    for (n = 0; n < 6; n++)
      pthread_create(&th[n], NULL, lock_convoy, NULL);
  } else if (strcmp(mode, "idle") != 0) {
    fprintf(stderr, "autodump_target: unknown mode %s\n", mode);
    return 2;
  }
  sleep_ms(seconds * 1000);
  atomic_store(&stop, 1);
  pthread_mutex_lock(&mu);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < n; i++)
    pthread_join(th[i], NULL);
  fprintf(stderr, "autodump_target: done\n");
  return 0;
}
