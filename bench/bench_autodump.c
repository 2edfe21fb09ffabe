/*
 * bench_autodump.c - what automatic captures cost and how fast they
 * fire. A steady workload (one thread burning about 30 % of a core, one
 * allocating and freeing) runs for SECONDS with every rule set above its
 * level: the watcher thread's own CPU time as a share of one core, and
 * the captures written (there should be none). Then RSS jumps past its
 * rule: the time from the jump to the heap capture on disk.
 *
 * Usage: bench_autodump [seconds]   (default 60)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pprofd.h"

static atomic_int stop;
static volatile unsigned long sink;

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 3 ms of CPU in every 10. */
static void *steady_cpu(void *arg) {
  while (!atomic_load(&stop)) {
    double end = mono() + 0.003;
    while (mono() < end)
      sink++;
    struct timespec ts = {0, 7 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return arg;
}

static void *steady_alloc(void *arg) {
  while (!atomic_load(&stop)) {
    void *p = malloc(4096);
    sink += (unsigned long)(uintptr_t)p;
    free(p);
    struct timespec ts = {0, 100 * 1000};
    nanosleep(&ts, NULL);
  }
  return arg;
}

/* The watcher thread's CPU seconds, from /proc/self/task/TID/stat. */
static double watcher_cpu(void) {
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  double s = -1;
  while (d != NULL && (e = readdir(d)) != NULL) {
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    unsigned long ut, st;
    if (strstr(buf, "(pprofd-autodump)") != NULL && rp != NULL &&
        sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) == 2)
      s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
  }
  if (d != NULL)
    closedir(d);
  return s;
}

static int count_files(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while (d != NULL && (e = readdir(d)) != NULL)
    n += e->d_name[0] == '2' &&
         (suffix == NULL || strstr(e->d_name, suffix) != NULL);
  if (d != NULL)
    closedir(d);
  return n;
}

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 60;
  if (seconds < 1) {
    fprintf(stderr, "usage: bench_autodump [seconds]\n");
    return 2;
  }
  char dir[] = "/tmp/bench-autodump-XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  pprofd_config *cfg = pprofd_config_new();
  pprofd_config_set_http(cfg, 0);
  pprofd_config_set_autodump_dir(cfg, dir);
  pprofd_config_set_autodump_window(cfg, 10);
  pprofd_config_set_autodump_rss(cfg, (size_t)400 << 20);
  pprofd_config_set_autodump_rss_growth(cfg, 200);
  pprofd_config_set_autodump_cpu(cfg, 80);
  pprofd_config_set_autodump_threads(cfg, 100);
  pprofd_config_set_autodump_heap(cfg, (size_t)400 << 20);
  if (pprofd_start(cfg) != 0) {
    fprintf(stderr, "bench_autodump: pprofd did not start\n");
    return 1;
  }
  pprofd_config_free(cfg);
  pthread_t a, b;
  pthread_create(&a, NULL, steady_cpu, NULL);
  pthread_create(&b, NULL, steady_alloc, NULL);
  sleep(1);
  double c0 = watcher_cpu(), t0 = mono();
  sleep((unsigned)seconds);
  double c1 = watcher_cpu(), t1 = mono();
  printf("steady %d s: watcher %.3f %% of a core, %d captures\n", seconds,
         100 * (c1 - c0) / (t1 - t0), count_files(dir, NULL));
  /* RSS jumps past 400 MiB. */
  size_t big = (size_t)512 << 20;
  char *p = malloc(big);
  double j = mono();
  memset(p, 1, big);
  double touched = mono();
  while (count_files(dir, "-rss-heap.pb.gz") == 0 && mono() - j < 10) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  printf("RSS past its rule: heap capture on disk %.2f s after the jump "
         "(%.2f s after the last page was touched)\n",
         mono() - j, mono() - touched);
  atomic_store(&stop, 1);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  free(p);
  pprofd_stop();
  return 0;
}
