/*
 * guard.h - the reentrancy guard: "this thread is inside pprofd".
 *
 * While a thread holds the guard, the interposed malloc family forwards
 * straight to the C library and never samples, so pprofd's own memory
 * (base/ialloc.c), libunwind's and the request threads' are never
 * profiled and never recurse into the sampler (STYLE 10).
 *
 * The guard shares one initial-exec TLS block with the heap sampler's
 * byte countdown: while the guard is held the countdown is parked at
 * INT64_MAX, so the one compare the malloc fast path already makes can
 * never send it to the sampler. The heap sampler (sample/heap.c) owns the
 * countdown's other fields; this header owns the layout and the guard.
 *
 * Threads and contexts: per thread; enter and exit are signal-safe.
 */
#ifndef PPROFD_BASE_GUARD_H
#define PPROFD_BASE_GUARD_H

#include <stdint.h>

/* One thread's sampler state. `left` must stay first: the x86-64 fast
 * path in malloc.c subtracts from offset 0 directly. */
struct pprofd__heap_tls {
  int64_t left;   /* bytes until the next sample; <= 0: take the slow path */
  int64_t start;  /* `left` as last set by the slow path (byte accounting) */
  int64_t saved;  /* `left` while the guard parks it */
  uint64_t rng;   /* xorshift64* state; 0 until the thread's first draw */
  uint32_t guard; /* reentrancy depth: > 0 inside pprofd */
  uint32_t lockd; /* this thread holds the heap lock */
};

extern __thread struct pprofd__heap_tls pprofd__tls_heap
    __attribute__((tls_model("initial-exec")));

/* Enters pprofd on this thread: allocations until the matching exit are
 * never sampled and never recurse into the sampler. Nests. Signal-safe.
 * The compiler barriers matter: GCC assumes that malloc and free read
 * and write no memory of the caller's, and would otherwise drop the
 * parking store as dead before a guarded malloc call. */
static inline void pprofd__guard_enter(void) {
  struct pprofd__heap_tls *t = &pprofd__tls_heap;
  if (t->guard++ == 0) {
    t->saved = t->left;
    t->left = INT64_MAX;
  }
  __asm__ volatile("" ::: "memory");
}

/* Leaves pprofd (see pprofd__guard_enter). Signal-safe. */
static inline void pprofd__guard_exit(void) {
  __asm__ volatile("" ::: "memory");
  struct pprofd__heap_tls *t = &pprofd__tls_heap;
  if (--t->guard == 0)
    t->left = t->saved;
}

#endif
