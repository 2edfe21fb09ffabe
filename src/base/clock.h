/*
 * clock.h - the two clocks pprofd reads, in nanoseconds.
 *
 * Both go through clock_gettime, which the vDSO serves without a system
 * call and which is async-signal-safe, so either may be read in a signal
 * handler or a malloc wrapper.
 */
#ifndef PPROFD_BASE_CLOCK_H
#define PPROFD_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

#include "base/common.h"

/* Wall-clock nanoseconds (CLOCK_REALTIME): profile timestamps. */
static inline int64_t pprofd__now_nanos(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Monotonic nanoseconds (CLOCK_MONOTONIC): durations, windows and event
 * times. Signal-safe. */
static inline int64_t pprofd__mono_nanos(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
