/*
 * bench_blocking.c - what pprofd's wrappers of the blocking calls add to
 * each call (interpose/blocking.c): the same call made through the
 * wrapper (the name the program links to, pprofd's) and straight to the
 * C library (dlsym on libc.so.6), alternating in rounds in one process.
 * The calls return at once (poll with no descriptors and no timeout, a
 * read of an empty non-blocking pipe), so the figure is the wrapper's
 * cost on top of a system call. Prints each call's median time per call
 * both ways and the difference.
 *
 * Usage: bench_blocking [calls per round] [rounds]   (200000, 15)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int pipefd[2];
static char byte;
static int (*libc_poll)(struct pollfd *, nfds_t, int);
static ssize_t (*libc_read)(int, void *, size_t);

static void wrapped_poll(void) { (void)poll(NULL, 0, 0); }
static void direct_poll(void) { (void)libc_poll(NULL, 0, 0); }
static void wrapped_read(void) { (void)!read(pipefd[0], &byte, 1); }
static void direct_read(void) { (void)!libc_read(pipefd[0], &byte, 1); }

/* ns per call of fn over n calls. */
static double round_ns(void (*fn)(void), long n) {
  int64_t t0 = now_ns();
  for (long i = 0; i < n; i++)
    fn();
  return (double)(now_ns() - t0) / (double)n;
}

static void pair(const char *name, void (*wrapped)(void), void (*direct)(void),
                 long n, int rounds) {
  double *w = calloc((size_t)rounds, sizeof *w);
  double *d = calloc((size_t)rounds, sizeof *d);
  double *diff = calloc((size_t)rounds, sizeof *diff);
  for (int r = 0; r < rounds; r++) {
    w[r] = round_ns(wrapped, n);
    d[r] = round_ns(direct, n);
    diff[r] = w[r] - d[r];
  }
  qsort(w, (size_t)rounds, sizeof *w, cmp);
  qsort(d, (size_t)rounds, sizeof *d, cmp);
  qsort(diff, (size_t)rounds, sizeof *diff, cmp);
  printf("%-5s wrapped %7.1f ns  C library %7.1f ns  added %5.1f ns "
         "(median of %d rounds of %ld; pairwise %5.1f..%5.1f)\n",
         name, w[rounds / 2], d[rounds / 2], diff[rounds / 2], rounds, n,
         diff[0], diff[rounds - 1]);
  free(w);
  free(d);
  free(diff);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000;
  int rounds = argc > 2 ? atoi(argv[2]) : 15;
  if (n < 1 || rounds < 1) {
    fprintf(stderr, "usage: bench_blocking [calls per round] [rounds]\n");
    return 2;
  }
  /* The C library's own: RTLD_NEXT from the program would find
   * libpprofd's, which comes before the C library. */
  void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (libc == NULL) {
    fprintf(stderr, "bench_blocking: no libc.so.6\n");
    return 1;
  }
  libc_poll = (int (*)(struct pollfd *, nfds_t, int))dlsym(libc, "poll");
  libc_read = (ssize_t(*)(int, void *, size_t))dlsym(libc, "read");
  if (libc_poll == NULL || libc_read == NULL || pipe2(pipefd, O_NONBLOCK)) {
    fprintf(stderr, "bench_blocking: setup failed\n");
    return 1;
  }
  if ((void *)libc_poll == (void *)poll)
    printf("note: poll is not wrapped in this build\n");
  round_ns(wrapped_poll, n); /* warm up */
  pair("poll", wrapped_poll, direct_poll, n, rounds);
  pair("read", wrapped_read, direct_read, n, rounds);
  return 0;
}
