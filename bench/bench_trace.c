/*
 * bench_trace.c - what the trace annotations cost: a region begin+end
 * pair and a log call, with no trace recording (the cost every annotated
 * program pays all the time) and while a trace records, against an empty
 * loop, in one run. Prints nanoseconds per call (best of ROUNDS).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "core/render.h"
#include "pprofd.h"
#include "sample/trace.h"

#define ROUNDS 5
#define OPS 20000000L
#define OPS_ON 100000L /* fits the event budget with room to spare */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static volatile int sink;

/* ns per iteration of `body` over n iterations, best of ROUNDS. */
#define MEASURE(n, body)                                                       \
  ({                                                                           \
    double best_ = 1e30;                                                       \
    for (int r_ = 0; r_ < ROUNDS; r_++) {                                      \
      int64_t t0_ = now_ns();                                                  \
      for (long i_ = 0; i_ < (n); i_++) {                                      \
        body;                                                                  \
        __asm__ volatile("" ::: "memory");                                     \
      }                                                                        \
      double ns_ = (double)(now_ns() - t0_) / (double)(n);                     \
      if (ns_ < best_)                                                         \
        best_ = ns_;                                                           \
    }                                                                          \
    best_;                                                                     \
  })

static int wait_until_done(void *arg, double s) {
  atomic_int *done = arg;
  while (!atomic_load(done))
    usleep(1000);
  return 0;
}

static atomic_int done;

static void *tracer(void *arg) {
  pprofd__buf b;
  pprofd__buf_init(&b, (size_t)256 << 20);
  int err = pprofd__render_trace(60, wait_until_done, &done, 0, 4, &b);
  printf("trace: %s, %zu bytes of JSON\n", err == 0 ? "ok" : "failed", b.len);
  pprofd__buf_free(&b);
  return arg;
}

int main(void) {
  double base = MEASURE(OPS, sink++);
  double off = MEASURE(OPS, {
    pprofd_trace_region_begin("r");
    pprofd_trace_region_end();
  });
  double log_off = MEASURE(OPS, pprofd_trace_log("c", "m"));
  pthread_t t;
  pthread_create(&t, NULL, tracer, NULL);
  while (!pprofd_trace_enabled())
    usleep(1000);
  double on = MEASURE(OPS_ON / ROUNDS, {
    pprofd_trace_region_begin("r");
    pprofd_trace_region_end();
  });
  atomic_store(&done, 1);
  pthread_join(t, NULL);
  printf("empty loop           %6.2f ns\n", base);
  printf("region pair, idle    %6.2f ns (+%.2f)\n", off, off - base);
  printf("log, idle            %6.2f ns (+%.2f)\n", log_off, log_off - base);
  printf("region pair, tracing %6.1f ns (two events)\n", on);
  return 0;
}
