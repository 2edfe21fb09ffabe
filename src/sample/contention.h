/*
 * contention.h - the block and mutex profiles: pthread contention with
 * Go's semantics.
 *
 * The pthread wrappers (interpose/pthread.c) call into this module only
 * when an operation could not complete at once (its try-variant failed,
 * or it always waits: condition variables, barriers, joins).
 *
 * block: the waiting thread's stack at the blocking call, charged with
 * the time it waited. Go's SetBlockProfileRate: rate r in nanoseconds;
 * a wait of d >= r ns is always recorded (count 1, delay d); a shorter
 * one is recorded with probability d/r and then re-weighted (count r/d,
 * delay r), so totals stay unbiased. 0 turns it off (the default), 1
 * records every wait.
 *
 * mutex: the stack of the thread that unlocks a contended mutex (or
 * rwlock), charged with the delay its holding caused the waiters: the
 * sum, over every thread waiting on that object, of the time each waited
 * since the object's previous release (Go >= 1.22's "scaled by the
 * number of waiters"). Go's SetMutexProfileFraction: 1 in `fraction`
 * events is recorded, with count and delay multiplied by `fraction`; 0
 * turns it off (the default).
 *
 * Values are cumulative since the process started, in contentions and
 * nanoseconds; text uses cycles/second=1000000000 so "cycles" are
 * nanoseconds and pprof's conversion is the identity.
 *
 * Threads: the hooks run on any thread inside a pthread wrapper, never
 * in a signal handler of pprofd's own; a per-thread guard (initial-exec
 * TLS) sends nested calls (from the unwinder, or from a host signal
 * handler that interrupts a hook) straight to the C library. Waiter
 * bookkeeping is per-object records, each with a tiny try-lock held for
 * a few instructions (a hook that cannot get it within a bounded spin
 * drops that piece of accounting and counts it); stacks go to two
 * stack tables (capture/stacktab.h), leaves in the lock order.
 */
#ifndef PPROFD_SAMPLE_CONTENTION_H
#define PPROFD_SAMPLE_CONTENTION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "base/libc.h"
#include "model/snapshot.h"

enum pprofd__contention_kind { PPROFD__BLOCK, PPROFD__MUTEX };

#define PPROFD__CONT_BLOCK PPROFD__MODE_BLOCK
#define PPROFD__CONT_MUTEX PPROFD__MODE_MUTEX

/* Which of the profiles and the tracer want waits (PPROFD__CONT_* and
 * PPROFD__MODE_TRACE bits), read with one relaxed load of the wrappers'
 * mode word (base/libc.h): a wrapper that sees a stale value
 * records one event more or less. */
static inline int pprofd__contention_on(void) {
  return atomic_load_explicit(&pprofd__interpose_mode, memory_order_relaxed) &
         (PPROFD__CONT_BLOCK | PPROFD__CONT_MUTEX | PPROFD__MODE_TRACE);
}

/* The block profile rate in ns (0 off) and the mutex fraction (0 off). */
int64_t pprofd__contention_block_rate(void);
int64_t pprofd__contention_mutex_fraction(void);
/* Set them; PPROFD_EINVAL for negative values. */
int pprofd__contention_set_block_rate(int64_t ns) PPROFD__WARN_UNUSED;
int pprofd__contention_set_mutex_fraction(int64_t f) PPROFD__WARN_UNUSED;

/* NULL when contention can be observed in this process, else why not
 * (built without interposition, pprofd's pthread functions are not the
 * ones the process calls, or stacks cannot be captured). */
const char *pprofd__contention_unavailable(void);

/* The number of distinct stacks in the profile (the index count). */
int64_t pprofd__contention_count(enum pprofd__contention_kind k);

/* Fills s with the profile: [contentions/count, delay/nanoseconds],
 * period type contentions/count, period 1, sorted by delay, descending. */
int pprofd__contention_collect(enum pprofd__contention_kind k,
                               pprofd__snapshot *s) PPROFD__WARN_UNUSED;

/* The delay profile k holds in all, in nanoseconds: the sum of its
 * samples' delay, as the profile reports it (re-weighted), cumulative
 * since load. Lock-free (one pass over the stack records). */
int64_t pprofd__contention_delay(enum pprofd__contention_kind k);

/* Events recorded and events lost (stack-table overflow or bookkeeping
 * given up under extreme contention), and bytes of pprofd's own memory
 * these profiles hold. */
void pprofd__contention_stats(int64_t *recorded, int64_t *lost,
                              size_t *own_bytes);

/*
 * The hooks for interpose/pthread.c. Not for other callers.
 */

/* Nesting depth of hooks on this thread (initial-exec TLS: read inside
 * the wrappers, where a first touch must not allocate). */
extern __thread int pprofd__tls_cont_guard
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Whether the calling thread is inside a hook (nested calls go straight
 * to the C library). Enter/leave nest. */
static inline int pprofd__contention_guarded(void) {
  return pprofd__tls_cont_guard > 0;
}
void pprofd__contention_guard_enter(void);
void pprofd__contention_guard_exit(void);

/* A thread starts waiting on obj at time t (mutex profiling on). Returns
 * a handle for pprofd__contention_leave, or NULL when the object could
 * not be tracked (then nothing needs to be undone). */
void *pprofd__contention_arrive(const void *obj, int64_t t);
/* The waiter with handle h stopped waiting (acquired, timed out or
 * failed) at time t. */
void pprofd__contention_leave(void *h, int64_t t);
/* The calling thread is about to release obj: charges the delay that
 * obj's waiters accumulated since its previous release to the caller's
 * stack, sampled 1 in fraction. Cheap when obj has no record. */
void pprofd__contention_release(const void *obj);
/* The calling thread waited from t0 to t1 in a blocking call: a block
 * event, sampled by the block rate. */
void pprofd__contention_blocked(int64_t t0, int64_t t1);

/* A trace records waits: the calling thread waited from t0 to t1 in
 * `what` (a static name); captures its stack for the trace. */
void pprofd__contention_trace_wait(const char *what, int64_t t0, int64_t t1);

/* Fork hooks (see core/runtime.h). */
void pprofd__contention_prefork(void);
void pprofd__contention_postfork(void);

#endif
