/*
 * trace.h - the execution tracer behind /debug/pprof/trace.
 *
 * One trace at a time records, for its window, a timeline of the whole
 * process: CPU samples with their stacks (it opens a CPU profiling
 * session and observes every sample the collector drains), lock,
 * condition, semaphore, barrier, join and spin waits of at least
 * PPROFD__TRACE_WAIT_MIN_NS with the waiting stack (the pthread wrappers
 * see the trace bit in their mode word), thread starts and exits,
 * pprofd's own HTTP requests, counters sampled by the tracing request
 * (sampled heap in use, RSS, threads), and the application's annotations
 * (tasks, nestable regions, logs: the public pprofd_trace_* API, in the
 * spirit of Go's runtime/trace).
 *
 * Cost when no trace runs: every recording entry point first reads one
 * word (relaxed) and returns; the pthread wrappers fold the flag into
 * the word they already read.
 *
 * Bounds: PPROFD__TRACE_MAX_EVENTS events, 8 MiB of stacks and 4 MiB of
 * strings per trace (mmap'd when the trace starts, unmapped when it
 * ends); past them events are dropped and counted, and the trace says
 * how many.
 *
 * Threads: recording from any thread outside signal context (the CPU
 * samples arrive on the collector thread); the buffer has one mutex, a
 * leaf after the CPU profiler's locks. start/finish from request threads.
 */
#ifndef PPROFD_SAMPLE_TRACE_H
#define PPROFD_SAMPLE_TRACE_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "model/trace.h"

#define PPROFD__TRACE_MAX_EVENTS 262144
#define PPROFD__TRACE_WAIT_MIN_NS 10000 /* waits shorter than 10 us: none */
#define PPROFD__TRACE_TICK_NS 100000000 /* counters every 100 ms */

/* Nonzero while a trace records. */
extern atomic_int pprofd__trace_on __attribute__((visibility("hidden")));

/* One relaxed load: the entry points' only cost when no trace runs. */
static inline int pprofd__trace_active(void) {
  return atomic_load_explicit(&pprofd__trace_on, memory_order_relaxed);
}

/* A trace's life, run by one request (core/render.c): start (the
 * recorders begin writing), tick every PPROFD__TRACE_TICK_NS (process
 * counters), quiesce (the pthread wrappers stop recording, before the
 * CPU session that feeds samples is closed), stop (the window ends),
 * finish (t is filled: events sorted, threads named), and release (the
 * buffers go; t is cleared). Only one trace at a time: start returns
 * PPROFD_EBUSY while another is between start and release, or
 * PPROFD_ENOMEM. After a failed start, release is not called. */
int pprofd__trace_start(pprofd__trace *t) PPROFD__WARN_UNUSED;
void pprofd__trace_tick(void);
void pprofd__trace_quiesce(void);
void pprofd__trace_stop(pprofd__trace *t);
int pprofd__trace_finish(pprofd__trace *t) PPROFD__WARN_UNUSED;
void pprofd__trace_release(pprofd__trace *t);

/* The recording hooks. Each returns at once when no trace records. */

/* The calling thread waited from t0 to t1 (monotonic ns) in `what` (a
 * static name such as "pthread_mutex_lock"); locs is its stack. */
void pprofd__trace_wait(const char *what, int64_t t0, int64_t t1,
                        const uint64_t *locs, uint32_t n);
/* A CPU sample of thread tid at mono with weight (1 + overruns). */
void pprofd__trace_cpu_sample(int32_t tid, int64_t mono, uint32_t weight,
                              const uint64_t *locs, uint32_t n);
/* The calling thread starts (its first instructions) or exits. */
void pprofd__trace_thread_start(void);
void pprofd__trace_thread_exit(void);
/* pprofd served a request for path (query may be NULL) from t0 to t1. */
void pprofd__trace_http(const char *method, const char *path, const char *query,
                        int64_t t0, int64_t t1);

/* Fork hooks: the child records nothing (the trace belongs to a request
 * of the parent). */
void pprofd__trace_prefork(void);
void pprofd__trace_postfork_parent(void);
void pprofd__trace_postfork_child(void);

#endif
