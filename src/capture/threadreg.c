/*
 * threadreg.c - the thread registry (see threadreg.h).
 *
 * Live table: LIVE_CAP slots in static storage (untouched pages cost no
 * memory). A slot goes free -> claimed (by the creator, which fills the
 * origin) -> running (by the new thread, with its id) -> free (by the
 * thread as it ends). Each transition is one atomic store; `gen` counts
 * reuses, so a reader copies a slot and accepts the copy only if the
 * generation did not move meanwhile (a seqlock without a writer lock:
 * exactly one thread owns a slot at a time).
 *
 * Creation stacks: up to STACKS_CAP distinct stacks with cumulative
 * counts in the stack table (capture/stacktab.c, with its own lock),
 * touched once per pthread_create. Stacks past the cap are counted in one
 * overflow record whose frame is the marker function
 * pprofd_thread_stacks_overflow.
 */
#include "config.h"

#include "capture/threadreg.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/stacktab.h"
#include "capture/unwind.h"
#include "pprofd.h"

#define LIVE_CAP 8192
#define STACKS_CAP 3072

enum { SLOT_FREE, SLOT_CLAIMED, SLOT_RUNNING };

typedef struct live_slot {
  atomic_int state;
  atomic_uint gen;
  pprofd__thread_origin o;
} live_slot;

static live_slot live[LIVE_CAP];
static atomic_uint live_next;
/* Relaxed: a count read only for display. */
static _Atomic int64_t created_total;

/* Marker frames: these functions are never called; their addresses stand
 * for "created before pprofd was loaded" and "too many distinct stacks"
 * and symbolize to their names. noipa and distinct bodies keep the
 * compiler from folding the two into one address. */
static volatile int marker_sink;
__attribute__((noipa, used)) void pprofd_thread_created_before_pprofd(void);
__attribute__((noipa, used)) void pprofd_thread_stacks_overflow(void);
__attribute__((noipa, used)) void pprofd_thread_created_before_pprofd(void) {
  marker_sink = 1;
}
__attribute__((noipa, used)) void pprofd_thread_stacks_overflow(void) {
  marker_sink = 2;
}

/* Distinct creation stacks; value 0 counts creations. The overflow
 * record's frame is +1 into its marker, as a call site would be. */
static pprofd__stacktab stacks = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .max_stacks = STACKS_CAP + 1,
    .overflow_loc = (const char *)pprofd_thread_stacks_overflow + 1,
};
PPROFD__LOCK_RANK(threadreg, &stacks.lock, PPROFD__RANK_THREADREG);

/* The calling thread's kernel id. */
static int own_tid(void) { return (int)syscall(SYS_gettid); }

/* Counts one creation at this stack. */
static void count_stack(const uint64_t *locs, int n) {
  static const int64_t one[PPROFD__STACKTAB_VALUES] = {1};
  atomic_fetch_add_explicit(&created_total, 1, memory_order_relaxed);
  (void)pprofd__stacktab_add(&stacks, locs, (uint32_t)n, one);
}

__attribute__((noinline)) int pprofd__threadreg_create(void *(*start)(void *),
                                                       int skip) {
  uint64_t locs[PPROFD__THREADREG_DEPTH];
  int n = pprofd__unwind_here(locs, PPROFD__THREADREG_DEPTH, skip + 1);
  __asm__ volatile("" ::: "memory");
  count_stack(locs, n);
  /* Relaxed: the counter only spreads claims over the table. */
  unsigned first =
      atomic_fetch_add_explicit(&live_next, 1, memory_order_relaxed);
  for (unsigned k = 0; k < LIVE_CAP; k++) {
    unsigned i = (first + k) % LIVE_CAP;
    int expect = SLOT_FREE;
    /* Acquire: the previous owner's writes are done before ours. */
    if (!atomic_compare_exchange_strong_explicit(
            &live[i].state, &expect, SLOT_CLAIMED, memory_order_acquire,
            memory_order_relaxed))
      continue;
    live_slot *s = &live[i];
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_relaxed);
    s->o.tid = 0;
    s->o.creator_tid = own_tid();
    s->o.start_routine = (uint64_t)(uintptr_t)start;
    s->o.created_nanos = pprofd__now_nanos();
    s->o.nlocs = n;
    memcpy(s->o.locs, locs, (size_t)n * sizeof *locs);
    return (int)i;
  }
  return -1;
}

void pprofd__threadreg_cancel(int ticket) {
  if (ticket < 0 || ticket >= LIVE_CAP)
    return;
  atomic_fetch_add_explicit(&live[ticket].gen, 1, memory_order_release);
  atomic_store_explicit(&live[ticket].state, SLOT_FREE, memory_order_release);
}

void pprofd__threadreg_started(int ticket) {
  if (ticket < 0 || ticket >= LIVE_CAP)
    return;
  pprofd__thread_origin *o = &live[ticket].o;
  o->tid = own_tid();
  o->pthread = (uint64_t)pthread_self();
  /* Release: a reader that sees RUNNING sees the whole origin. */
  atomic_store_explicit(&live[ticket].state, SLOT_RUNNING,
                        memory_order_release);
}

void pprofd__threadreg_exited(int ticket) { pprofd__threadreg_cancel(ticket); }

/* Copies live slot i into *out if it holds a running thread (with tid,
 * unless tid is 0); 1 when it did. */
static int copy_live(int i, int tid, pprofd__thread_origin *out) {
  live_slot *s = &live[i];
  if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_RUNNING)
    return 0;
  unsigned g = atomic_load_explicit(&s->gen, memory_order_acquire);
  if (tid != 0 && s->o.tid != tid)
    return 0;
  memcpy(out, &s->o, sizeof *out);
  /* Acquire fence: the copy above is complete before the re-check. */
  atomic_thread_fence(memory_order_acquire);
  return atomic_load_explicit(&s->gen, memory_order_relaxed) == g &&
         atomic_load_explicit(&s->state, memory_order_relaxed) ==
             SLOT_RUNNING &&
         out->tid != 0 && (tid == 0 || out->tid == tid);
}

int pprofd__threadreg_lookup(int tid, pprofd__thread_origin *out) {
  for (int i = 0; i < LIVE_CAP; i++)
    if (copy_live(i, tid, out))
      return 0;
  return -1;
}

void pprofd__threadreg_each(void (*fn)(const pprofd__thread_origin *o,
                                       void *arg),
                            void *arg) {
  pprofd__thread_origin o;
  for (int i = 0; i < LIVE_CAP; i++)
    if (copy_live(i, 0, &o))
      fn(&o, arg);
}

/* The number of live threads the registry has no record of. */
static int64_t unrecorded_threads(void) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return 0;
  int64_t n = 0;
  struct dirent *e;
  pprofd__thread_origin o;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    if (pprofd__threadreg_lookup(atoi(e->d_name), &o) != 0)
      n++;
  }
  closedir(d);
  return n;
}

int64_t pprofd__threadreg_created(void) {
  return atomic_load_explicit(&created_total, memory_order_relaxed);
}

int64_t pprofd__threadreg_count(void) {
  int64_t n = atomic_load_explicit(&created_total, memory_order_relaxed);
  return n + unrecorded_threads();
}

int pprofd__threadreg_collect(pprofd__snapshot *s) {
  pprofd__snap_init_count(s, "threadcreate");
  size_t n = 0;
  pprofd__stackrec *c = pprofd__stacktab_copy(&stacks, &n);
  if (c == NULL && n != 0)
    return PPROFD_ENOMEM;
  for (size_t i = 0; i < n && !s->failed; i++)
    (void)pprofd__snap_add(s, c[i].locs, c[i].nlocs, &c[i].v[0], NULL, 0);
  pprofd__ifree(c);
  /* Markers are function entries; +1 keeps each inside its function as
   * a call site would be. */
  int64_t before = unrecorded_threads();
  if (before > 0) {
    uint64_t m = (uint64_t)(uintptr_t)pprofd_thread_created_before_pprofd + 1;
    (void)pprofd__snap_add(s, &m, 1, &before, NULL, 0);
  }
  return s->failed;
}

void pprofd__threadreg_prefork(void) { pprofd__stacktab_prefork(&stacks); }

void pprofd__threadreg_postfork(void) { pprofd__stacktab_postfork(&stacks); }
