/*
 * thread.c - pthread_create and loader wrappers (see thread.h).
 *
 * pthread_create cannot pass two pointers (the user's routine and its
 * argument) to a trampoline without memory, and a wrapper must not
 * allocate: a static pool of hand-off slots does it instead. The creating
 * thread claims a free slot with a compare-and-swap, fills it and passes
 * its address; the new thread copies the two pointers out and frees the
 * slot before doing anything else, so a slot is busy only between
 * pthread_create and the new thread's first instructions. When every slot
 * is busy (hundreds of threads created at the same instant) the thread is
 * created unwrapped; the CPU sampler's periodic /proc/self/task scan still
 * finds it within a quarter of a second.
 *
 * The loader depth counter is an initial-exec thread-local (STYLE 7): the
 * SIGPROF handler reads it on the thread it interrupted, and reading a
 * global-dynamic one there could call malloc.
 */
#include "config.h"

#include "interpose/thread.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/libc.h"
#include "capture/blockctx.h"
#include "capture/threadreg.h"
#include "capture/unwind.h"
#include "sample/cpu.h"
#include "sample/trace.h"

#ifdef PPROFD_ENABLE_INTERPOSE

#define HANDOFF_SLOTS 256

typedef struct handoff {
  _Atomic int busy;
  void *(*fn)(void *);
  void *arg;
  int ticket; /* the thread registry's record, -1 for none */
} handoff;

static handoff handoffs[HANDOFF_SLOTS];
static _Atomic unsigned handoff_next;

/* Claims a free hand-off slot, or returns NULL when all are busy. */
static handoff *handoff_claim(void) {
  /* Relaxed: the counter only spreads claims over the slots. */
  unsigned start =
      atomic_fetch_add_explicit(&handoff_next, 1, memory_order_relaxed);
  for (unsigned i = 0; i < HANDOFF_SLOTS; i++) {
    handoff *h = &handoffs[(start + i) % HANDOFF_SLOTS];
    int expect = 0;
    /* Acquire: the previous user's release of the slot happens before
     * our writes to fn and arg. */
    if (atomic_compare_exchange_strong_explicit(
            &h->busy, &expect, 1, memory_order_acquire, memory_order_relaxed))
      return h;
  }
  return NULL;
}

/* The wrapped thread's cleanup: runs on return, exit and cancellation. */
static void thread_cleanup(void *ticket) {
  pprofd__trace_thread_exit();
  pprofd__cpu_thread_exit();
  pprofd__threadreg_exited((int)(intptr_t)ticket);
  pprofd__blockctx_thread_exit();
}

/* The start routine of every wrapped thread. */
static void *trampoline(void *p) {
  handoff *h = p;
  void *(*fn)(void *) = h->fn;
  void *arg = h->arg;
  int ticket = h->ticket;
  /* Release: our reads of fn and arg happen before the next claimer's
   * writes (pthread_create's own synchronization orders the creator's
   * writes before these reads). */
  atomic_store_explicit(&h->busy, 0, memory_order_release);
  void *ret;
  pprofd__threadreg_started(ticket);
  pprofd__unwind_warm(0); /* before any SIGPROF can need it */
  pprofd__cpu_thread_start();
  pprofd__trace_thread_start();
  pthread_cleanup_push(thread_cleanup, (void *)(intptr_t)ticket);
  ret = fn(arg);
  pthread_cleanup_pop(1);
  return ret;
}

PPROFD_INTERPOSE int pthread_create(pthread_t *thread,
                                    const pthread_attr_t *attr,
                                    void *(*start)(void *), void *arg) {
  pprofd__pthread_create_fn real = pprofd__real_pthread_create();
  if (real == NULL)
    return ENOSYS;
  /* The creation stack is counted for threadcreate even when the thread
   * ends up unwrapped. */
  int ticket = pprofd__threadreg_create(start, 0);
  handoff *h = handoff_claim();
  if (h == NULL) {
    pprofd__threadreg_cancel(ticket);
    return real(thread, attr, start, arg);
  }
  h->fn = start;
  h->arg = arg;
  h->ticket = ticket;
  int r = real(thread, attr, trampoline, h);
  if (r != 0) {
    pprofd__threadreg_cancel(ticket);
    /* Release: no new thread will read the slot; hand it back. */
    atomic_store_explicit(&h->busy, 0, memory_order_release);
  }
  return r;
}

/* dlopen and dlclose are deliberately not wrapped. glibc resolves a
 * relative dlopen name against the RUNPATH and $ORIGIN of the object that
 * called dlopen, found from the return address; a wrapper would make that
 * libpprofd and silently change which library the host gets, or whether
 * it gets one. A SIGPROF that lands inside dlopen still unwinds through
 * libunwind's try-lock (capture/unwind.c), and libunwind's own
 * dl_iterate_phdr calls are marked by the wrapper below. */
PPROFD_INTERPOSE int
dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data) {
  pprofd__dl_iterate_phdr_fn real = pprofd__real_dl_iterate_phdr();
  if (real == NULL)
    return 0;
  pprofd__thread_loader_mark_sigsafe(1);
  int r = real(cb, data);
  pprofd__thread_loader_mark_sigsafe(-1);
  return r;
}

#endif
