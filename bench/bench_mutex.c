/*
 * bench_mutex.c - the cost of uncontended pthread_mutex lock+unlock pairs
 * and the accuracy of the contention profiles, for comparing glibc with
 * and without pprofd preloaded in one run of bench/bench_mutex.sh.
 *
 * Usage: bench_mutex [pairs [ops] [threads]]
 *   Each thread locks and unlocks its own mutex ops times; prints
 *   nanoseconds per pair (wall clock, best of ROUNDS).
 * Usage: bench_mutex truth [workers] [rounds] [hold_us]
 *   Workers contend on one mutex, each holding it hold_us inside
 *   hold_lock(); the workload measures its own waits (the truth). When
 *   pprofd is preloaded (found with dlsym), it then writes the mutex and
 *   block profiles in Go's text layout and prints, for each, the total
 *   delay, the share attributed to hold_lock (mutex) or wait_lock
 *   (block), and the ratio to the truth.
 * Linked with nothing but libc and pthreads.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5

static long ops = 20000000;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *pairs(void *arg) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (long i = 0; i < ops; i++) {
    pthread_mutex_lock(&m);
    __asm__ volatile("" ::: "memory");
    pthread_mutex_unlock(&m);
  }
  return arg;
}

static int run_pairs(int nthreads) {
  double best = 1e30;
  for (int r = 0; r < ROUNDS; r++) {
    pthread_t t[64];
    int64_t t0 = now_ns();
    for (int i = 0; i < nthreads; i++)
      pthread_create(&t[i], NULL, pairs, NULL);
    for (int i = 0; i < nthreads; i++)
      pthread_join(t[i], NULL);
    double ns = (double)(now_ns() - t0) / (double)ops;
    if (ns < best)
      best = ns;
  }
  printf("%.3f\n", best);
  return 0;
}

static pthread_mutex_t hot = PTHREAD_MUTEX_INITIALIZER;
static int rounds = 50, hold_us = 1000;
static int64_t waited; /* under hot */

__attribute__((noinline)) static int64_t wait_lock(void) {
  int64_t t0 = now_ns();
  pthread_mutex_lock(&hot);
  return now_ns() - t0;
}

__attribute__((noinline)) static void hold_lock(int64_t w) {
  waited += w;
  struct timespec ts = {0, (long)hold_us * 1000};
  nanosleep(&ts, NULL);
  pthread_mutex_unlock(&hot);
  __asm__ volatile(""); /* keep this frame: not a tail call */
}

static void *worker(void *arg) {
  for (int i = 0; i < rounds; i++)
    hold_lock(wait_lock());
  return arg;
}

/* Sums the records of a Go contention text profile: *total gets every
 * record's cycles (ns), the return value those whose first frame line
 * names fn. */
static int64_t parse(const char *text, const char *fn, int64_t *total) {
  int64_t in_fn = 0;
  *total = 0;
  const char *p = text;
  while ((p = strchr(p, '\n')) != NULL) {
    p++;
    long long cyc, cnt;
    if (sscanf(p, "%lld %lld @", &cyc, &cnt) != 2 || *p == '#')
      continue;
    *total += cyc;
    const char *frame = strchr(p, '\n');
    if (frame != NULL && strncmp(frame + 1, "#\t", 2) == 0) {
      const char *eol = strchr(frame + 1, '\n');
      const char *hit = strstr(frame + 1, fn);
      if (hit != NULL && (eol == NULL || hit < eol))
        in_fn += cyc;
    }
  }
  return in_fn;
}

/* pprofd's profile `name` in text, through the preloaded library. */
static char *profile_text(const char *name) {
  int (*write_profile)(const char *, int, int) =
      (int (*)(const char *, int, int))dlsym(RTLD_DEFAULT,
                                             "pprofd_write_profile");
  if (write_profile == NULL)
    return NULL;
  char path[] = "/tmp/bench_mutex.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return NULL;
  unlink(path);
  char *buf = NULL;
  if (write_profile(name, fd, 1) == 0) {
    off_t n = lseek(fd, 0, SEEK_END);
    buf = calloc(1, (size_t)n + 1);
    if (buf != NULL && pread(fd, buf, (size_t)n, 0) != n) {
      free(buf);
      buf = NULL;
    }
  }
  close(fd);
  return buf;
}

static int run_truth(int workers) {
  pthread_t t[64];
  for (int i = 0; i < workers; i++)
    pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < workers; i++)
    pthread_join(t[i], NULL);
  printf("truth: %d workers x %d rounds, hold %d us: waited %.1f ms\n", workers,
         rounds, hold_us, (double)waited / 1e6);
  static const char *const names[] = {"mutex", "block"};
  static const char *const fns[] = {"hold_lock", "wait_lock"};
  for (int k = 0; k < 2; k++) {
    char *text = profile_text(names[k]);
    if (text == NULL) {
      printf("%s: pprofd not loaded\n", names[k]);
      continue;
    }
    int64_t total, in_fn = parse(text, fns[k], &total);
    /* The block profile also holds the main thread's joins. */
    printf("%s: %.1f ms in %s (%.1f%% of truth; %.1f%% of the profile's "
           "%.1f ms)\n",
           names[k], (double)in_fn / 1e6, fns[k],
           100.0 * (double)in_fn / (double)waited,
           total ? 100.0 * (double)in_fn / (double)total : 0.0,
           (double)total / 1e6);
    free(text);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 1)
    return run_pairs(1); /* `make bench`: glibc alone, or as preloaded */
  if (strcmp(argv[1], "pairs") == 0) {
    if (argc > 2)
      ops = atol(argv[2]);
    return run_pairs(argc > 3 ? atoi(argv[3]) : 1);
  }
  if (strcmp(argv[1], "truth") == 0) {
    int workers = argc > 2 ? atoi(argv[2]) : 4;
    if (argc > 3)
      rounds = atoi(argv[3]);
    if (argc > 4)
      hold_us = atoi(argv[4]);
    return run_truth(workers < 1 ? 1 : workers > 64 ? 64 : workers);
  }
  fprintf(stderr, "usage: bench_mutex pairs [ops] [threads] | truth "
                  "[workers] [rounds] [hold_us]\n");
  return 2;
}
