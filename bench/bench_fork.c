/*
 * bench_fork.c - how long the host's fork() takes while pprofd serves
 * request work: three threads render goroutine?debug=2, heap?debug=1 and
 * the symbolized CPU-less profiles through pprofd_write_profile in a loop,
 * while the main thread forks every 10 ms (the child exits at once).
 * Prints the median and the longest fork() in microseconds.
 *
 * Usage: bench_fork [forks]   (default 300)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pprofd.h"

static atomic_int stop;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Renders one profile in a loop until stopped. */
static void *hammer(void *arg) {
  const char *name = arg;
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  while (!atomic_load(&stop)) {
    int debug = name[0] == 'g' ? 2 : 1;
    if (pprofd_write_profile(name, fd, debug) != 0)
      usleep(1000);
  }
  close(fd);
  return NULL;
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 300;
  if (n < 1)
    n = 1;
  static const char *const names[] = {"goroutine", "heap", "threadcreate"};
  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, hammer, (void *)names[i]);
  int64_t *us = calloc((size_t)n, sizeof *us);
  for (int i = 0; i < n; i++) {
    usleep(10000);
    int64_t t0 = now_us();
    pid_t pid = fork();
    if (pid == 0)
      _exit(0);
    us[i] = now_us() - t0;
    waitpid(pid, NULL, 0);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  qsort(us, (size_t)n, sizeof *us, cmp);
  printf("forks=%d median_us=%lld max_us=%lld\n", n, (long long)us[n / 2],
         (long long)us[n - 1]);
  free(us);
  return 0;
}
