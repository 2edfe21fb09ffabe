/*
 * heap.h - the heap profiler: sampled allocations with Go's statistics.
 *
 * The malloc-family wrappers (interpose/malloc.c) call into this module.
 * Each thread keeps a byte countdown in initial-exec TLS drawn from an
 * exponential distribution with mean `rate` (Go's MemProfileRate: default
 * 524288; 1 records every allocation; 0 turns sampling off). When an
 * allocation crosses it, its stack is captured and interned, and the
 * pointer is remembered so free/realloc can update the in-use figures.
 * Per stack it keeps Go's four cumulative counters (alloc objects/bytes,
 * free objects/bytes) - raw sampled counts, unsampled at output with Go's
 * formula 1/(1-exp(-avg/rate)).
 *
 * Threads: the hooks run on any thread inside malloc/free (lock-free on
 * the unsampled paths, allocation-free, never recursing); collection runs
 * on request threads.
 *
 * The reentrancy guard (base/guard.h) lives in the countdown: while a thread is
 * inside pprofd (the guard is held), its countdown is parked at INT64_MAX, so
 * the one compare the malloc fast path already makes can never send it to the
 * sampler; the slow path checks the guard depth first as well.
 *
 * Locks: the stack table's (capture/stacktab.h), taken to intern a
 * sampled stack, and the "heap lock", which guards the writers of the
 * sampled-pointer table and the gc hooks. Both are leaves and never held
 * together: nothing is called under either that takes another lock or
 * allocates through malloc (tables are mmap'd), and stacks are captured
 * before either is taken. Their fork hooks are registered by this module
 * itself, first of all pprofd's, so that pthread_atfork runs its prepare
 * handler last (see heap.c).
 */
#ifndef PPROFD_SAMPLE_HEAP_H
#define PPROFD_SAMPLE_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "base/guard.h"
#include "model/heap.h"
#include "model/snapshot.h"
#include "pprofd.h"
#include "sample/heapmap.h"

/* The sampling rate in bytes (0 off). */
int64_t pprofd__heap_rate(void);
/* Sets the rate (>= 0); takes effect at each thread's next sample, and
 * at once for the calling thread. PPROFD_EINVAL for a negative rate. */
int pprofd__heap_set_rate(int64_t rate) PPROFD__WARN_UNUSED;

/* NULL when heap profiling works in this process, else why not (e.g. the
 * library was built with --disable-interpose, or loaded too late to see
 * allocations). */
const char *pprofd__heap_unavailable(void);

/* The number of distinct sampled allocation stacks (the index count). */
int64_t pprofd__heap_count(void);

/* Fills s (freshly initialized) with the heap profile: Go's four sample
 * types, period type space/bytes, period = rate, values unsampled, a
 * numeric `bytes` label with the average allocation size; default sample
 * type alloc_space when `allocs` is set. Current as of this call. */
int pprofd__heap_collect(pprofd__snapshot *s, int allocs) PPROFD__WARN_UNUSED;
/* Fills d (any contents) with a copy of every stack record and the
 * sampler's statistics, all as of this call; free it with
 * pprofd__heapdump_free. PPROFD_ENOMEM (d then has no records, but its
 * statistics). Takes the heap lock; runs under the guard. */
int pprofd__heap_dump(pprofd__heapdump *d) PPROFD__WARN_UNUSED;

/* The sampled heap in use, in bytes, unsampled as the profile is (the
 * sum of inuse_space); -1 when heap profiling is off or unavailable.
 * Takes the heap lock; O(distinct stacks). */
int64_t pprofd__heap_inuse_estimate(void);

/* Fills *t with the heap's totals as of this call (model/heap.h), the
 * sampled figures only while the rate is above 0. Lock-free (one pass
 * over the stack records, O(distinct stacks)) and allocation-free: a
 * caller never waits for, nor makes wait, a thread in malloc. */
void pprofd__heap_totals(pprofd__heaptotals *t);

/* ?gc=1: runs the application's registered hooks, then malloc_trim(0);
 * counts the run and stamps its time for pprofd__heap_totals. */
void pprofd__heap_gc(void);

/* Registers fn(arg) to run on every pprofd__heap_gc, up to 16 hooks.
 * Thread-safe. PPROFD_EINVAL for a NULL fn, PPROFD_ELIMIT when full. */
int pprofd__heap_register_gc_hook(void (*fn)(void *),
                                  void *arg) PPROFD__WARN_UNUSED;

/* Sets the rate at load time: as pprofd__heap_set_rate where the library
 * interposes malloc (loading the unwinder when rate > 0), else only the
 * value. rate >= 0. Called by this module's constructor with the default
 * and by core's with PPROFD_MEM_PROFILE_RATE. */
void pprofd__heap_init_rate(int64_t rate);

/* Bytes the heap sampler's own tables hold (mmap'd, outside malloc). */
size_t pprofd__heap_own_bytes(void);

/*
 * The hooks for interpose/malloc.c. Not for other callers.
 */

/* Subtracts n from the countdown; nonzero when it reached zero, i.e. the
 * caller must ask pprofd__heap_slow. Inlined into every wrapper. On
 * x86-64 it is one read-modify-write of the TLS word and a branch on its
 * flags (3 instructions with the TLS offset load; GCC emits 6 for the C
 * version: load, subtract, store, test). */
static inline int pprofd__heap_take(size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  __asm__ goto("movq pprofd__tls_heap@gottpoff(%%rip), %%rax\n\t"
               "subq %0, %%fs:(%%rax)\n\t"
               "jle %l[slow]"
               :
               : "r"(n)
               : "rax", "cc", "memory"
               : slow);
  return 0;
slow:
  return 1;
#else
  struct pprofd__heap_tls *t = &pprofd__tls_heap;
  int64_t l = (int64_t)((uint64_t)t->left - (uint64_t)n);
  t->left = l;
  return l <= 0;
#endif
}

/* The countdown ran out on an allocation of n bytes (already subtracted):
 * initializes the thread if needed, redraws the countdown and returns 1
 * when this allocation is to be sampled. Never samples under the guard
 * or at rate 0. Signal-safe (no lock, no allocation). */
int pprofd__heap_slow(size_t n);

/* Records the sampled allocation p of n bytes against the caller's stack
 * (the wrapper frames are dropped). Call under the guard. Takes the heap
 * lock; never allocates through malloc. */
void pprofd__heap_record(void *p, size_t n);

/* Whether p (4096-aligned) is a live sampled pointer. Lock-free, no
 * allocation: the check a free of an aligned pointer pays. */
static inline int pprofd__heap_is_sampled(const void *p) {
  return pprofd__heapmap_contains_sigsafe(p);
}

/* What pprofd__heap_forget removed, for pprofd__heap_unforget. */
typedef struct pprofd__heap_cookie {
  uint64_t val;
  int found;
} pprofd__heap_cookie;

/* Records the free of p if it is a live sampled pointer (call before the
 * real free, so that a reuse of the address cannot be confused with it).
 * Returns 1 when p was sampled. c may be NULL. */
int pprofd__heap_forget(const void *p, pprofd__heap_cookie *c);
/* Undoes pprofd__heap_forget when the operation failed (realloc). */
void pprofd__heap_unforget(const void *p, const pprofd__heap_cookie *c);
/* The size recorded for a live sampled pointer (0 if not sampled). */
size_t pprofd__heap_sampled_size(const void *p);

/* Test seam: reseeds the calling thread's generator and redraws its
 * countdown. */
void pprofd__heap_reseed(uint64_t seed);

/* Fork hooks (registered by heap.c itself; see the design comment). */
void pprofd__heap_prefork(void);
void pprofd__heap_postfork_parent(void);
void pprofd__heap_postfork_child(void);

#endif
