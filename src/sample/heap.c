/*
 * heap.c - the heap sampler: it fills model/heap.h, never formats (see heap.h).
 *
 * Sampling. Each thread's countdown (pprofd__tls_heap.left) is the byte
 * distance to its next sample, drawn from an exponential distribution
 * with mean `rate` by a per-thread xorshift64* generator (seeded from
 * PPROFD_MEM_PROFILE_SEED when set, so tests are reproducible). As in Go,
 * an allocation of n bytes is sampled when n >= the remaining distance,
 * and the distance is then drawn afresh; by memorylessness every
 * allocation is sampled with probability 1 - exp(-n/rate), which is what
 * Go's unsampling formula assumes. Rate 1 keeps the countdown at 0 so
 * every allocation goes to the slow path; rate 0 parks it at PARK bytes,
 * so a later rate change reaches every thread within PARK bytes of its
 * allocations (and the calling thread at once).
 *
 * Tables, all mmap'd so the sampler never calls malloc:
 *  - the stack table (capture/stacktab.c): each interned stack with Go's
 *    four counters as relaxed atomics (statistics only), charged without
 *    a lock once the stack is interned; its frames are never freed, so a
 *    collector may read a stack after dropping the lock. Interning takes
 *    the table's own lock, never while the heap lock is held;
 *  - the sampled-pointer table (sample/heapmap.c): block address ->
 *    (record, size), written under the heap lock, probed lock-free by
 *    the free of an aligned pointer.
 * Bounds: MAX_STACKS records and LOC_MAX bytes of frames. 100,000
 * distinct stacks of 20 frames take about 100000 * (56 + 160) bytes of
 * records and frames plus a 1 MiB index: about 22.6 MiB. Past a bound,
 * new stacks are charged to one "table full" stack and new sampled
 * pointers are counted but not tracked.
 *
 * Fork: the stack table's lock, then the heap lock, are taken before fork
 * and released after, in parent and child. They must be the last locks
 * taken in prepare (a thread holding another pprofd lock may malloc and
 * be sampled), and pthread_atfork runs prepare handlers in reverse order
 * of registration, so this file registers its handlers from a
 * constructor of the highest priority, before api.c registers core's.
 */
#include "config.h"

#include "sample/heap.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/stacktab.h"
#include "capture/unwind.h"
#include "sample/heapmap.h"

#define DEFAULT_RATE 524288
#define PARK ((int64_t)64 << 20)
#define MAX_DEPTH 64
#define MAX_STACKS (1u << 18)
#define LOC_MAX ((size_t)64 << 20)
#define MAX_HOOKS 16
#define IDX_BITS 20
#define IDX_MASK ((1ull << IDX_BITS) - 1)

typedef struct hook {
  void (*fn)(void *);
  void *arg;
} hook;

/* Stands for the stacks recorded after the stack table filled up. */
__attribute__((noinline)) static void pprofd_heap_stack_table_full(void) {
  __asm__ volatile("");
}
/* Stands for a sampled allocation whose stack could not be captured. */
__attribute__((noinline)) static void pprofd_heap_no_stack(void) {
  __asm__ volatile("");
}

/* The sampler's process-wide state. */
static struct {
  pthread_mutex_t lock; /* the heap lock: tables below, hooks */
  _Atomic int64_t rate;
  _Atomic int unwind_ok; /* stacks can be captured (constructor ran) */
  uint64_t seed;         /* from PPROFD_MEM_PROFILE_SEED; 0: none */
  _Atomic uint64_t thread_seq;
  /* stack records (Go's four counters: alloc objects and bytes, free
   * objects and bytes), their own lock taken outside the heap lock */
  pprofd__stacktab tab;
  /* statistics (relaxed: read only for display) */
  _Atomic int64_t bytes, samples, frees, dropped, untracked, lost;
  _Atomic int64_t gc_runs, last_gc; /* ?gc=1 runs, the last one's time */
  hook hooks[MAX_HOOKS];
  _Atomic int nhooks;
} heap = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .rate = DEFAULT_RATE,
    .tab = {.lock = PTHREAD_MUTEX_INITIALIZER,
            .max_stacks = MAX_STACKS,
            .max_loc_bytes = LOC_MAX,
            .overflow_loc = (const void *)pprofd_heap_stack_table_full},
};
PPROFD__LOCK_RANK(heap, &heap.lock, PPROFD__RANK_HEAP);
PPROFD__LOCK_RANK(heap_stacks, &heap.tab.lock, PPROFD__RANK_HEAP_STACKS);

/* ---- the generator ---- */

static uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t next_rand(struct pprofd__heap_tls *t) {
  uint64_t x = t->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t->rng = x;
  return x * 0x2545f4914f6cdd1dull;
}

/* Seeds the calling thread's generator. */
static void seed_thread(struct pprofd__heap_tls *t) {
  /* Relaxed: only uniqueness of the sequence number matters. */
  uint64_t seq =
      atomic_fetch_add_explicit(&heap.thread_seq, 1, memory_order_relaxed);
  uint64_t s = heap.seed;
  if (s == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s = (uint64_t)(uintptr_t)t ^ ((uint64_t)ts.tv_nsec << 20) ^
        (uint64_t)ts.tv_sec;
  }
  uint64_t r = splitmix(s + seq);
  t->rng = r ? r : 1;
}

/* A draw from the exponential distribution with mean rate, >= 1. */
static int64_t draw(struct pprofd__heap_tls *t, int64_t rate) {
  double u = (double)((next_rand(t) >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
  double d = -log(u) * (double)rate;
  if (d > 0x1.0p62)
    d = 0x1.0p62;
  return (int64_t)d + 1;
}

/* Sets the thread's countdown to v, under the guard or not. */
static void set_left(struct pprofd__heap_tls *t, int64_t v) {
  if (t->guard)
    t->saved = v;
  else
    t->left = v;
  t->start = v;
}

/* The countdown for a thread that is not about to sample. */
static int64_t fresh_left(struct pprofd__heap_tls *t, int64_t rate) {
  if (rate <= 0)
    return PARK;
  if (rate == 1)
    return 0;
  return draw(t, rate);
}

static int stacks_ok(void) {
  /* Acquire pairs with the release in load_unwinder. */
  return atomic_load_explicit(&heap.unwind_ok, memory_order_acquire) ||
         pprofd__backtrace_fn != NULL;
}

int pprofd__heap_slow(size_t n) {
  struct pprofd__heap_tls *t = &pprofd__tls_heap;
  if (t->guard) {
    t->left = INT64_MAX; /* wrapped under the guard; exit restores it */
    return 0;
  }
  /* Relaxed: a statistic; the rate is a plain value with no dependents. */
  atomic_fetch_add_explicit(&heap.bytes, t->start - t->left,
                            memory_order_relaxed);
  int64_t rate = atomic_load_explicit(&heap.rate, memory_order_relaxed);
  int first = t->rng == 0;
  if (first)
    seed_thread(t);
  int sample;
  int64_t next;
  if (rate <= 0) {
    next = PARK;
    sample = 0;
  } else if (rate == 1) {
    next = 0;
    sample = n > 0;
  } else if (first) {
    int64_t d = draw(t, rate);
    sample = (int64_t)n >= d;
    next = sample ? draw(t, rate) : d - (int64_t)n;
  } else {
    sample = n > 0;
    next = draw(t, rate);
  }
  t->left = t->start = next;
  if (sample && !stacks_ok()) {
    atomic_fetch_add_explicit(&heap.dropped, 1, memory_order_relaxed);
    sample = 0;
  }
  return sample;
}

void pprofd__heap_reseed(uint64_t seed) {
  struct pprofd__heap_tls *t = &pprofd__tls_heap;
  t->rng = seed ? seed : 1;
  set_left(t, fresh_left(t, pprofd__heap_rate()));
}

/* ---- sampled blocks (the table is sample/heapmap.c) ---- */

/* Accounts the free of the block whose entry value is v. */
static void account_free(uint64_t v) {
  const int64_t d[PPROFD__STACKTAB_VALUES] = {0, 0, 1,
                                              (int64_t)(v >> IDX_BITS)};
  pprofd__stacktab_add_at(&heap.tab, (int64_t)(v & IDX_MASK), d);
  atomic_fetch_add_explicit(&heap.frees, 1, memory_order_relaxed);
}

/* Remembers the sampled block p with entry value v; -1 when the table
 * cannot hold it. Heap lock held. */
static int track_locked(uintptr_t p, uint64_t v) {
  uint64_t stale;
  int r = pprofd__heapmap_insert_locked(p, v, &stale);
  if (r == 1)
    account_free(stale);
  return r < 0 ? -1 : 0;
}

static void heap_lock(void) {
  pprofd__mutex_lock(&heap.lock);
  pprofd__tls_heap.lockd = 1;
}

static void heap_unlock(void) {
  pprofd__tls_heap.lockd = 0;
  pprofd__mutex_unlock(&heap.lock);
}

int pprofd__heap_forget(const void *p, pprofd__heap_cookie *c) {
  if (c != NULL)
    c->found = 0;
  if (pprofd__tls_heap.lockd) {
    /* A signal handler freeing inside our own critical section. */
    atomic_fetch_add_explicit(&heap.lost, 1, memory_order_relaxed);
    return 0;
  }
  heap_lock();
  uint64_t v = 0;
  int found = pprofd__heapmap_remove_locked((uintptr_t)p, &v);
  heap_unlock();
  if (!found)
    return 0;
  account_free(v);
  if (c != NULL) {
    c->val = v;
    c->found = 1;
  }
  return 1;
}

void pprofd__heap_unforget(const void *p, const pprofd__heap_cookie *c) {
  if (c == NULL || !c->found)
    return;
  const int64_t d[PPROFD__STACKTAB_VALUES] = {0, 0, -1,
                                              -(int64_t)(c->val >> IDX_BITS)};
  pprofd__stacktab_add_at(&heap.tab, (int64_t)(c->val & IDX_MASK), d);
  atomic_fetch_sub_explicit(&heap.frees, 1, memory_order_relaxed);
  heap_lock();
  int e = track_locked((uintptr_t)p, c->val);
  heap_unlock();
  if (e != 0)
    atomic_fetch_add_explicit(&heap.untracked, 1, memory_order_relaxed);
}

size_t pprofd__heap_sampled_size(const void *p) {
  if (pprofd__tls_heap.lockd)
    return 0;
  uint64_t v;
  heap_lock();
  size_t n = pprofd__heapmap_get_locked((uintptr_t)p, &v)
                 ? (size_t)(v >> IDX_BITS)
                 : 0;
  heap_unlock();
  return n;
}

/* ---- recording a sample ---- */

PPROFD__HOOK
void pprofd__heap_record(void *p, size_t n) {
  uint64_t raw[MAX_DEPTH + 8];
  int nr = pprofd__unwind_here(raw, MAX_DEPTH + 8, 0);
  int i = 0;
  while (i < nr && pprofd__interpose_in_hook(raw[i]))
    i++;
  const uint64_t *locs = raw + i;
  uint32_t nl = (uint32_t)(nr - i > MAX_DEPTH ? MAX_DEPTH : nr - i);
  uint64_t none[1];
  if (nl == 0) {
    none[0] = (uint64_t)(uintptr_t)pprofd_heap_no_stack;
    locs = none;
    nl = 1;
  }
  uint64_t sz = (uint64_t)n < (1ull << (64 - IDX_BITS)) ? (uint64_t)n : 0;
  int64_t idx = pprofd__stacktab_intern(&heap.tab, locs, nl);
  if (idx < 0) { /* not even the overflow record could be mapped */
    atomic_fetch_add_explicit(&heap.dropped, 1, memory_order_relaxed);
    return;
  }
  heap_lock();
  int tracked = track_locked((uintptr_t)p, (uint64_t)idx | sz << IDX_BITS) == 0;
  heap_unlock();
  const int64_t d[PPROFD__STACKTAB_VALUES] = {1, (int64_t)sz, 0, 0};
  pprofd__stacktab_add_at(&heap.tab, idx, d);
  atomic_fetch_add_explicit(&heap.samples, 1, memory_order_relaxed);
  if (!tracked)
    atomic_fetch_add_explicit(&heap.untracked, 1, memory_order_relaxed);
}

/* ---- rate, availability, hooks ---- */

int64_t pprofd__heap_rate(void) {
  return atomic_load_explicit(&heap.rate, memory_order_relaxed);
}

/* Loads the unwinder (outside any malloc) and says whether it works. */
static void load_unwinder(void) {
  if (atomic_load_explicit(&heap.unwind_ok, memory_order_acquire))
    return;
  pprofd__guard_enter();
  int ok = pprofd__unwind_init() == NULL;
  pprofd__guard_exit();
  /* Release pairs with the acquire in stacks_ok. */
  atomic_store_explicit(&heap.unwind_ok, ok, memory_order_release);
}

int pprofd__heap_set_rate(int64_t rate) {
  if (rate < 0)
    return PPROFD_EINVAL;
  if (rate > 0)
    load_unwinder();
  atomic_store_explicit(&heap.rate, rate, memory_order_relaxed);
  struct pprofd__heap_tls *t = &pprofd__tls_heap;
  if (t->rng == 0)
    seed_thread(t);
  set_left(t, fresh_left(t, rate));
  return 0;
}

int pprofd__heap_register_gc_hook(void (*fn)(void *), void *arg) {
  if (fn == NULL)
    return PPROFD_EINVAL;
  int err = 0;
  heap_lock();
  int n = atomic_load_explicit(&heap.nhooks, memory_order_relaxed);
  if (n >= MAX_HOOKS) {
    err = PPROFD_ELIMIT;
  } else {
    heap.hooks[n] = (hook){fn, arg};
    /* Release: pprofd__heap_gc sees the hook before the count. */
    atomic_store_explicit(&heap.nhooks, n + 1, memory_order_release);
  }
  heap_unlock();
  return err;
}

int pprofd_register_gc_hook(void (*fn)(void *), void *arg) {
  return pprofd__heap_register_gc_hook(fn, arg);
}

void pprofd__heap_gc(void) {
  int n = atomic_load_explicit(&heap.nhooks, memory_order_acquire);
  for (int i = 0; i < n; i++)
    heap.hooks[i].fn(heap.hooks[i].arg);
  malloc_trim(0);
  /* Relaxed: statistics. */
  atomic_store_explicit(&heap.last_gc, pprofd__now_nanos(),
                        memory_order_relaxed);
  atomic_fetch_add_explicit(&heap.gc_runs, 1, memory_order_relaxed);
}

const char *pprofd__heap_unavailable(void) {
#ifndef PPROFD_ENABLE_INTERPOSE
  return "pprofd was built with --disable-interpose (as sanitizer builds "
         "are), so it does not see allocations";
#else
  if (!pprofd__malloc_interposed())
    return "this process does not call pprofd's malloc (libpprofd was "
           "dlopen'ed, or the executable defines malloc itself): link "
           "libpprofd or load it with LD_PRELOAD";
  pprofd__guard_enter();
  const char *why = pprofd__unwind_init();
  pprofd__guard_exit();
  return why;
#endif
}

int64_t pprofd__heap_count(void) {
  return (int64_t)pprofd__stacktab_count(&heap.tab);
}

size_t pprofd__heap_own_bytes(void) {
  return pprofd__stacktab_own_bytes(&heap.tab) + pprofd__heapmap_own_bytes();
}

/* ---- collection ---- */

/* Copies every record's stack and counters; *n set. NULL and *n = 0 when
 * there are none; NULL and *n = 1 when out of memory. */
static pprofd__heaprec *copy_records(size_t *n) {
  size_t cap = pprofd__heap_count() + 1;
  pprofd__heaprec *c = pprofd__icalloc(cap, sizeof *c);
  if (c == NULL) {
    *n = 1;
    return NULL;
  }
  size_t m = pprofd__stacktab_count(&heap.tab);
  if (m > cap)
    m = cap;
  for (size_t i = 0; i < m; i++) {
    pprofd__stackrec r;
    pprofd__stacktab_read(&heap.tab, (uint32_t)i, &r);
    c[i] = (pprofd__heaprec){r.locs, r.nlocs, r.v[0], r.v[1], r.v[2], r.v[3]};
  }
  *n = m;
  return c;
}

int64_t pprofd__heap_inuse_estimate(void) {
  int64_t rate = pprofd__heap_rate();
  if (rate <= 0 || pprofd__heap_unavailable() != NULL)
    return -1;
  int64_t total = 0;
  uint32_t n = (uint32_t)pprofd__stacktab_count(&heap.tab);
  for (uint32_t i = 0; i < n; i++) {
    pprofd__stackrec r;
    pprofd__stacktab_read(&heap.tab, i, &r);
    int64_t c, b;
    pprofd__heap_scale(r.v[0] - r.v[2], r.v[1] - r.v[3], rate, &c, &b);
    total += b;
  }
  return total;
}

void pprofd__heap_totals(pprofd__heaptotals *t) {
  memset(t, 0, sizeof *t);
  /* Relaxed: statistics, as in pprofd__heap_dump. */
  t->total_alloc = atomic_load_explicit(&heap.bytes, memory_order_relaxed);
  t->gc_runs = atomic_load_explicit(&heap.gc_runs, memory_order_relaxed);
  t->last_gc_nanos = atomic_load_explicit(&heap.last_gc, memory_order_relaxed);
  int64_t rate = pprofd__heap_rate();
  if (rate <= 0)
    return;
  t->sampled = 1;
  uint32_t n = (uint32_t)pprofd__stacktab_count(&heap.tab);
  for (uint32_t i = 0; i < n; i++) {
    pprofd__stackrec r;
    pprofd__stacktab_read(&heap.tab, i, &r);
    int64_t c, b;
    pprofd__heap_scale(r.v[0] - r.v[2], r.v[1] - r.v[3], rate, &c, &b);
    t->inuse_objects += c;
    t->inuse_bytes += b;
    pprofd__heap_scale(r.v[0], r.v[1], rate, &c, &b);
    t->alloc_objects += c;
    pprofd__heap_scale(r.v[2], r.v[3], rate, &c, &b);
    t->free_objects += c;
  }
}

int pprofd__heap_collect(pprofd__snapshot *s, int allocs) {
  static const pprofd__vtype types[] = {{"alloc_objects", "count"},
                                        {"alloc_space", "bytes"},
                                        {"inuse_objects", "count"},
                                        {"inuse_space", "bytes"}};
  pprofd__guard_enter();
  int64_t rate = pprofd__heap_rate();
  pprofd__snap_set_types(s, types, 4);
  s->period_type = (pprofd__vtype){"space", "bytes"};
  s->period = rate;
  s->default_type = allocs ? 1 : -1;
  size_t n;
  pprofd__heaprec *c = copy_records(&n);
  int err = 0;
  if (c == NULL && n != 0)
    err = PPROFD_ENOMEM;
  for (size_t i = 0; c != NULL && i < n && !s->failed; i++) {
    int64_t v[4];
    pprofd__heap_scale(c[i].ao, c[i].ab, rate, &v[0], &v[1]);
    pprofd__heap_scale(c[i].ao - c[i].fo, c[i].ab - c[i].fb, rate, &v[2],
                       &v[3]);
    pprofd__label lb = {"bytes", NULL, 0};
    size_t nl = 0;
    if (c[i].ao > 0 && (lb.num = c[i].ab / c[i].ao) != 0)
      nl = 1;
    (void)pprofd__snap_add(s, c[i].locs, c[i].nlocs, v, &lb, nl);
  }
  pprofd__ifree(c);
  pprofd__guard_exit();
  if (err == 0 && s->failed)
    err = s->failed;
  return err;
}

int pprofd__heap_dump(pprofd__heapdump *d) {
  memset(d, 0, sizeof *d);
  pprofd__guard_enter();
  size_t n;
  pprofd__heaprec *c = copy_records(&n);
  int err = 0;
  if (c == NULL && n != 0) {
    err = PPROFD_ENOMEM;
    n = 0;
  }
  d->recs = c;
  d->n = n;
  pprofd__heapstats *st = &d->st;
  st->rate = pprofd__heap_rate();
  /* Relaxed: statistics, read only for display. */
  st->total_alloc = atomic_load_explicit(&heap.bytes, memory_order_relaxed);
  st->samples = atomic_load_explicit(&heap.samples, memory_order_relaxed);
  st->frees = atomic_load_explicit(&heap.frees, memory_order_relaxed);
  st->dropped = atomic_load_explicit(&heap.dropped, memory_order_relaxed);
  st->untracked = atomic_load_explicit(&heap.untracked, memory_order_relaxed);
  st->lost = atomic_load_explicit(&heap.lost, memory_order_relaxed);
  heap_lock();
  st->live = pprofd__heapmap_live_locked();
  heap_unlock();
  st->stacks = pprofd__heap_count();
  st->own = pprofd__heap_own_bytes();
  pprofd__guard_exit();
  return err;
}

/* ---- fork and start-up ---- */

void pprofd__heap_prefork(void) {
  pprofd__stacktab_prefork(&heap.tab);
  heap_lock();
}

void pprofd__heap_postfork_parent(void) {
  heap_unlock();
  pprofd__stacktab_postfork(&heap.tab);
}

void pprofd__heap_postfork_child(void) {
  heap_unlock();
  pprofd__stacktab_postfork(&heap.tab);
}

void pprofd__heap_init_rate(int64_t rate) {
#ifdef PPROFD_ENABLE_INTERPOSE
  int err = pprofd__heap_set_rate(rate); /* rate >= 0: cannot fail */
  (void)err;
#else
  atomic_store_explicit(&heap.rate, rate, memory_order_relaxed);
#endif
}

/* Reads PPROFD_MEM_PROFILE_SEED, registers the fork hooks (first, see the
 * design comment) and starts at the default rate, loading the unwinder.
 * Runs before other constructors of this library; core's next one applies
 * PPROFD_MEM_PROFILE_RATE through pprofd__heap_init_rate. */
__attribute__((constructor(101))) static void heap_init(void) {
  pprofd__guard_enter();
  const char *s = getenv("PPROFD_MEM_PROFILE_SEED");
  if (s != NULL && *s)
    heap.seed = strtoull(s, NULL, 0);
  pthread_atfork(pprofd__heap_prefork, pprofd__heap_postfork_parent,
                 pprofd__heap_postfork_child);
  pprofd__guard_exit();
  pprofd__heap_init_rate(pprofd__heap_rate());
}
