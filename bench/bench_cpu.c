/*
 * bench_cpu.c - the CPU sampler against its own baseline, in one run.
 *
 * Workload: two threads, each running a fixed number of rounds of
 * burn70 (70 % of the work by construction) then burn30 (30 %).
 * Throughput is rounds per CPU-second of the whole process (getrusage),
 * which a loaded machine does not skew the way wall time would. Rounds
 * alternate unprofiled and profiled at 100 Hz; the overhead is the median
 * of the per-pair ratios. For the profiled rounds it also reports the
 * profile's split against the truth and its total CPU time against
 * getrusage.
 *
 * Cost of one sample: a SIGUSR1 handler raised 30 frames deep calls the
 * sampler's signal-context capture (pprofd__unwind_sigsafe) on its own
 * ucontext in a loop, so every walk crosses a real signal frame, exactly
 * as the SIGPROF handler's does. The rest of the handler (a clock read,
 * gettid and the ring push) adds a few tens of nanoseconds.
 *
 * Workload mode, for comparisons across processes (bench_cpu_gperf.sh):
 * `bench_cpu --workload SECONDS [--pprofd HZ]` runs the same two threads
 * round after round for SECONDS of wall time and prints one line,
 * `rounds=R cpu_s=C wall_s=W per_cpu_s=R/C`, plus the profile's split when
 * --pprofd opens a session for the run. Under gperftools' preloaded
 * profiler (CPUPROFILE) with BENCH_REGISTER_THREADS=1 each worker calls
 * ProfilerRegisterThread (found with dlsym, so nothing links gperftools),
 * which per-thread timers (CPUPROFILE_PER_THREAD_TIMERS) need.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "capture/unwind.h"
#include "model/snapshot.h"
#include "sample/cpu.h"
#include "symbol/symbolize.h"

#define ROUNDS 10 /* 5 unprofiled, 5 profiled, alternating */

static volatile uint64_t sink;
static long iters = 4000; /* per thread per round, calibrated below */

__attribute__((noinline)) static uint64_t burn70(uint64_t x, long n) {
  for (long i = 0; i < n; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    __asm__ volatile("" : "+r"(x));
  }
  return x;
}

__attribute__((noinline)) static uint64_t burn30(uint64_t x, long n) {
  for (long i = 0; i < n; i++) {
    x = x * 6364136223846793005ull + 1442695040888963409ull;
    __asm__ volatile("" : "+r"(x));
  }
  return x;
}

/* 0 when the sample's innermost named frame is burn70, 1 for burn30,
 * -1 otherwise (the symbolizer, outside any timed section). */
static int which_burn(const pprofd__sample *x) {
  pprofd__symctx *ctx;
  int w = -1;
  if (pprofd__sym_begin(&ctx) != 0)
    return -1;
  for (uint32_t k = 0; k < x->nlocs && w < 0; k++) {
    pprofd__symres r;
    pprofd__sym_lookup(ctx, x->locs[k], &r);
    for (int f = 0; f < r.nframes && w < 0; f++) {
      if (strcmp(r.frames[f].name, "burn70") == 0)
        w = 0;
      else if (strcmp(r.frames[f].name, "burn30") == 0)
        w = 1;
    }
  }
  pprofd__sym_end(ctx);
  return w;
}

static void *worker(void *p) {
  uint64_t x = 1;
  for (long i = 0; i < iters; i++) {
    x = burn70(x, 70000);
    x = burn30(x, 30000);
  }
  sink = x;
  return NULL;
}

static int64_t rusage_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs one round on two threads; returns the process CPU it took. */
static int64_t round_cpu(void) {
  pthread_t a, b;
  int64_t t0 = rusage_ns();
  pthread_create(&a, NULL, worker, NULL);
  pthread_create(&b, NULL, worker, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  return rusage_ns() - t0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Times the signal-context capture from inside a real signal handler,
 * so that the walk crosses a real signal frame: ns per capture. */
static volatile double capture_ns;
static volatile int capture_depth;

static void on_usr1(int sig, siginfo_t *si, void *uc) {
  uint64_t locs[64];
  int truncated;
  const int n = 2000;
  int64_t t0 = mono_ns();
  for (int i = 0; i < n; i++)
    capture_depth = pprofd__unwind_sigsafe(uc, locs, 64, &truncated);
  capture_ns = (double)(mono_ns() - t0) / n;
}

__attribute__((noinline)) static void deep(int depth) {
  if (depth > 1)
    deep(depth - 1);
  else
    raise(SIGUSR1);
  __asm__ volatile("" ::: "memory"); /* not a tail call */
}

/* Measured truth: the share of burn70 in one round, timed directly. */
static double measured_split(void) {
  int64_t t70 = 0, t30 = 0;
  uint64_t x = 1;
  for (int i = 0; i < 400; i++) {
    struct timespec a, b, c;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    x = burn70(x, 70000);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    x = burn30(x, 30000);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
    t70 += (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
    t30 += (c.tv_sec - b.tv_sec) * 1000000000ll + (c.tv_nsec - b.tv_nsec);
  }
  sink = x;
  return 100.0 * (double)t70 / (double)(t70 + t30);
}

static atomic_int wl_stop;
static atomic_long wl_rounds;
static void (*wl_register)(void);

static void *wl_worker(void *p) {
  if (wl_register != NULL)
    wl_register();
  uint64_t x = 1;
  long n = 0;
  while (!atomic_load_explicit(&wl_stop, memory_order_relaxed)) {
    x = burn70(x, 70000);
    x = burn30(x, 30000);
    n++;
  }
  sink = x;
  atomic_fetch_add(&wl_rounds, n);
  return NULL;
}

/* The workload mode (see the file comment). */
static int workload(double seconds, int hz) {
  const char *reg = getenv("BENCH_REGISTER_THREADS");
  if (reg != NULL && strcmp(reg, "1") == 0) {
    wl_register = (void (*)(void))dlsym(RTLD_DEFAULT, "ProfilerRegisterThread");
    if (wl_register == NULL)
      fprintf(stderr, "ProfilerRegisterThread not found\n");
  }
  pprofd__cpu_session *s = NULL;
  if (hz > 0 && pprofd__cpu_open(hz, 1, &s) != 0) {
    fprintf(stderr, "cannot open a CPU session\n");
    return 1;
  }
  int64_t c0 = rusage_ns(), w0 = mono_ns();
  pthread_t a, b;
  pthread_create(&a, NULL, wl_worker, NULL);
  pthread_create(&b, NULL, wl_worker, NULL);
  struct timespec ts = {(time_t)seconds,
                        (long)((seconds - (time_t)seconds) * 1e9)};
  nanosleep(&ts, NULL);
  atomic_store(&wl_stop, 1);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  double cpu = (rusage_ns() - c0) / 1e9, wall = (mono_ns() - w0) / 1e9;
  long rounds = atomic_load(&wl_rounds);
  printf("rounds=%ld cpu_s=%.3f wall_s=%.3f per_cpu_s=%.1f", rounds, cpu, wall,
         rounds / cpu);
  if (s != NULL) {
    pprofd__snapshot snap;
    if (pprofd__cpu_close(s, &snap) != 0)
      return 1;
    int64_t total = 0, c70 = 0, c30 = 0;
    for (size_t i = 0; i < snap.nsamples; i++) {
      const pprofd__sample *x = &snap.samples[i];
      total += x->values[1];
      int w = which_burn(x);
      if (w == 0)
        c70 += x->values[1];
      else if (w == 1)
        c30 += x->values[1];
    }
    printf(" prof_s=%.3f burn70=%.2f burn30=%.2f", total / 1e9,
           100.0 * c70 / total, 100.0 * c30 / total);
    pprofd__snap_free(&snap);
  }
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "--workload") == 0) {
    int hz = argc >= 5 && strcmp(argv[3], "--pprofd") == 0 ? atoi(argv[4]) : 0;
    return workload(atof(argv[2]), hz);
  }
  if (argc >= 2 && strcmp(argv[1], "--truth") == 0) {
    printf("truth: burn70 %.2f%% timed directly\n", measured_split());
    return 0;
  }
  /* Calibrate: about 0.5 s of one thread's CPU per round. */
  int64_t t0 = rusage_ns();
  long saved = iters;
  iters = 200;
  worker(NULL);
  double per = (double)(rusage_ns() - t0) / 200;
  iters = saved;
  iters = (long)(5e8 / per);
  printf("workload: 2 threads x %ld rounds (~%.2f s CPU each) per run\n", iters,
         iters * per / 1e9);

  double ratio[ROUNDS / 2];
  int64_t prof_cpu = 0, ru_cpu = 0, cpu70 = 0, cpu30 = 0, samples = 0;
  for (int r = 0; r < ROUNDS; r++) {
    if (r % 2 == 0) {
      int64_t base = round_cpu();
      pprofd__cpu_session *s;
      pprofd__snapshot snap;
      if (pprofd__cpu_open(100, 1, &s) != 0) {
        fprintf(stderr, "cannot open a CPU session\n");
        return 1;
      }
      int64_t ru0 = rusage_ns();
      int64_t prof = round_cpu();
      if (pprofd__cpu_close(s, &snap) != 0)
        return 1;
      ru_cpu += rusage_ns() - ru0;
      ratio[r / 2] = (double)prof / (double)base;
      for (size_t i = 0; i < snap.nsamples; i++) {
        const pprofd__sample *x = &snap.samples[i];
        prof_cpu += x->values[1];
        samples += x->values[0];
        int w = which_burn(x);
        if (w == 0)
          cpu70 += x->values[1];
        else if (w == 1)
          cpu30 += x->values[1];
      }
      pprofd__snap_free(&snap);
    }
  }
  qsort(ratio, ROUNDS / 2, sizeof *ratio, cmp_double);
  printf("overhead at 100 Hz (CPU per unit of work, median of %d pairs): "
         "%+.2f%%  [min %.4f, max %.4f]\n",
         ROUNDS / 2, 100 * (ratio[ROUNDS / 4] - 1), ratio[0],
         ratio[ROUNDS / 2 - 1]);
  printf("profile split: burn70 %.2f%% (70%% by construction, %.2f%% timed "
         "directly), burn30 %.2f%%, other %.2f%%, %lld samples\n",
         100.0 * cpu70 / prof_cpu, measured_split(), 100.0 * cpu30 / prof_cpu,
         100.0 * (prof_cpu - cpu70 - cpu30) / prof_cpu, (long long)samples);
  printf("profile CPU %.3f s vs getrusage %.3f s: %.2f%%\n", prof_cpu / 1e9,
         ru_cpu / 1e9, 100.0 * prof_cpu / ru_cpu);

  /* Cost of one sample's unwind, 30 frames deep (plus main's). */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    deep(30);
    if (capture_ns < best)
      best = capture_ns;
  }
  printf("one sample: unwind of a %d-frame stack from a signal handler "
         "%.0f ns\n",
         (int)capture_depth, best);
  return 0;
}
