/*
 * contention.c - the block and mutex profiles (see contention.h).
 *
 * Waiter bookkeeping (mutex profile). For every mutex or rwlock that has
 * had a waiter, a record in a fixed table (OBJ_SLOTS records, static
 * storage: untouched pages cost nothing) integrates the number of waiting
 * threads over time:
 *   arrive(t), leave(t): acc += nwait * (t - last); last = t; nwait +/- 1
 *   release(t):          acc += nwait * (t - last); last = t; charge acc
 * so the delay charged to the threads that release the object adds up to
 * exactly the time its waiters spent waiting (only the wake-up latency
 * between a release and the woken thread's return is charged to the next
 * release instead). A record is found by hashing the object's address
 * and probing PROBES slots; an empty slot is claimed with a CAS; when all
 * are taken, one without waiters is reused. Each record has a one-word
 * try-lock held for a few instructions; arrive and release give up after
 * a bounded spin (counted as lost), leave always completes (a record with
 * a phantom waiter would charge phantom delay forever), and a fork child
 * resets records that were locked or had waiters in the parent.
 *
 * Events. A block event (the waiter's wait) or a mutex event (the delay
 * charged at a release) that passes Go's sampling captures the calling
 * thread's stack (the wrapper frames dropped) and adds [count, delay] to
 * the profile's stack table. Counts are kept in thousandths, because
 * Go's re-weighting of short block events adds fractional counts.
 */
#include "config.h"

#include "sample/contention.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/guard.h"
#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/stacktab.h"
#include "capture/unwind.h"
#include "pprofd.h"
#include "sample/trace.h"

#define OBJ_SLOTS 4096u /* a power of two */
#define PROBES 16u
#define DEPTH 64
#define MILLI 1000
#define CAPTURE_RETRY_NS ((int64_t)50 * 1000000)

typedef struct objrec {
  _Atomic uintptr_t key; /* the object; 0 for a never-used slot */
  atomic_int lock;
  /* nwait and acc are written only under `lock`; they are relaxed
   * atomics because release() and the slot reuse in arrive() peek at
   * them without it (a hint, decided again under the lock). */
  _Atomic int32_t nwait;
  int64_t last;        /* when acc was last brought up to date */
  _Atomic int64_t acc; /* waiter-nanoseconds not charged yet */
} __attribute__((aligned(64))) objrec;

static struct {
  _Atomic int64_t block_rate;
  _Atomic int64_t mutex_fraction;
  objrec objs[OBJ_SLOTS];
  pprofd__stacktab tabs[2];
  /* Relaxed statistics: read only for display. */
  _Atomic int64_t recorded, lost;
} cont = {
    .tabs = {PPROFD__STACKTAB_INIT(65536), PPROFD__STACKTAB_INIT(65536)},
};
PPROFD__LOCK_RANK(block_stacks, &cont.tabs[0].lock, PPROFD__RANK_CONTENTION);
PPROFD__LOCK_RANK(mutex_stacks, &cont.tabs[1].lock, PPROFD__RANK_CONTENTION);

__thread int pprofd__tls_cont_guard __attribute__((tls_model("initial-exec")));
/* This thread's sampling generator. */
static __thread uint64_t tls_rng __attribute__((tls_model("initial-exec")));

/* Stands for a sampled event whose stack could not be captured. */
__attribute__((noipa, used)) void pprofd_contention_no_stack(void);
__attribute__((noipa, used)) void pprofd_contention_no_stack(void) {
  __asm__ volatile("");
}

/* The compiler barriers keep the guard's stores ordered against the
 * calls it brackets (a signal handler on this thread reads it). */
void pprofd__contention_guard_enter(void) {
  pprofd__tls_cont_guard++;
  __asm__ volatile("" ::: "memory");
}

void pprofd__contention_guard_exit(void) {
  __asm__ volatile("" ::: "memory");
  pprofd__tls_cont_guard--;
}

/* A uniform 64-bit draw from this thread's xorshift64* generator. */
static uint64_t rand64(void) {
  uint64_t x = tls_rng;
  if (x == 0) {
    x = (uint64_t)pprofd__mono_nanos() * 0x9e3779b97f4a7c15ull ^
        (uint64_t)(uintptr_t)&tls_rng;
    x = x ? x : 1;
  }
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  tls_rng = x;
  return x * 0x2545f4914f6cdd1dull;
}

/* ---- settings ---- */

/* Sets or clears one profile's bit in the wrappers' mode word. */
static void set_mode(int bit, int on) {
  /* Relaxed: the bit is a plain flag; the setting it summarizes is read
   * relaxed too, and a wrapper acting on a stale value records one event
   * more or less. */
  if (on)
    atomic_fetch_or_explicit(&pprofd__interpose_mode, bit,
                             memory_order_relaxed);
  else
    atomic_fetch_and_explicit(&pprofd__interpose_mode, ~bit,
                              memory_order_relaxed);
}

int64_t pprofd__contention_block_rate(void) {
  return atomic_load_explicit(&cont.block_rate, memory_order_relaxed);
}

int64_t pprofd__contention_mutex_fraction(void) {
  return atomic_load_explicit(&cont.mutex_fraction, memory_order_relaxed);
}

int pprofd__contention_set_block_rate(int64_t ns) {
  if (ns < 0)
    return PPROFD_EINVAL;
  if (ns > 0)
    (void)pprofd__unwind_init(); /* load it outside any wrapper */
  atomic_store_explicit(&cont.block_rate, ns, memory_order_relaxed);
  set_mode(PPROFD__CONT_BLOCK, ns > 0);
  return 0;
}

int pprofd__contention_set_mutex_fraction(int64_t f) {
  if (f < 0)
    return PPROFD_EINVAL;
  if (f > 0)
    (void)pprofd__unwind_init();
  atomic_store_explicit(&cont.mutex_fraction, f, memory_order_relaxed);
  set_mode(PPROFD__CONT_MUTEX, f > 0);
  return 0;
}

const char *pprofd__contention_unavailable(void) {
#ifndef PPROFD_ENABLE_INTERPOSE
  return "pprofd was built with --disable-interpose (as sanitizer builds "
         "are), so it does not see lock waits";
#else
  if (!pprofd__pthread_interposed())
    return "this process does not call pprofd's pthread functions "
           "(libpprofd was dlopen'ed): link libpprofd or load it with "
           "LD_PRELOAD";
  return pprofd__unwind_init();
#endif
}

/* ---- waiter records ---- */

static size_t obj_slot(const void *obj) {
  return (size_t)((((uintptr_t)obj >> 3) * 0x9e3779b97f4a7c15ull) >> 40) &
         (OBJ_SLOTS - 1);
}

/* Takes r's try-lock, spinning at most a bounded while (unbounded when
 * `must`: the holder is another thread a few instructions from release,
 * or preempted there; never this thread, whose hooks do not nest). */
static int rec_lock(objrec *r, int must) {
  for (unsigned i = 0;; i++) {
    /* Acquire pairs with the release in rec_unlock: the previous
     * holder's updates are visible to us. */
    if (!atomic_exchange_explicit(&r->lock, 1, memory_order_acquire))
      return 1;
    if (!must && i >= 256)
      return 0;
    if (i >= 16)
      sched_yield();
  }
}

static void rec_unlock(objrec *r) {
  atomic_store_explicit(&r->lock, 0, memory_order_release);
}

/* Relaxed accessors for the peeked fields (see objrec). */
static int32_t nwait_of(objrec *r) {
  return atomic_load_explicit(&r->nwait, memory_order_relaxed);
}

static int64_t acc_of(objrec *r) {
  return atomic_load_explicit(&r->acc, memory_order_relaxed);
}

/* Sets the waiter count and the uncharged delay (under the lock). */
static void rec_set(objrec *r, int32_t nwait, int64_t acc) {
  atomic_store_explicit(&r->nwait, nwait, memory_order_relaxed);
  atomic_store_explicit(&r->acc, acc, memory_order_relaxed);
}

/* Brings acc up to time t (under the record's lock). */
static void rec_advance(objrec *r, int64_t t) {
  if (t > r->last) {
    rec_set(r, nwait_of(r), acc_of(r) + (int64_t)nwait_of(r) * (t - r->last));
    r->last = t;
  }
}

/* The record whose key is obj, or NULL. Lock-free; the caller verifies
 * the key again under the record's lock. */
static objrec *rec_find(const void *obj) {
  size_t s = obj_slot(obj);
  for (unsigned p = 0; p < PROBES; p++) {
    objrec *r = &cont.objs[(s + p) & (OBJ_SLOTS - 1)];
    /* Acquire: pairs with the claiming CAS, for the record's fields. */
    uintptr_t k = atomic_load_explicit(&r->key, memory_order_acquire);
    if (k == (uintptr_t)obj)
      return r;
    if (k == 0)
      return NULL; /* keys never return to 0: obj is not further on */
  }
  return NULL;
}

void *pprofd__contention_arrive(const void *obj, int64_t t) {
  size_t s = obj_slot(obj);
  for (unsigned p = 0; p < PROBES; p++) {
    objrec *r = &cont.objs[(s + p) & (OBJ_SLOTS - 1)];
    uintptr_t k = atomic_load_explicit(&r->key, memory_order_acquire);
    if (k == 0) {
      uintptr_t zero = 0;
      /* AcqRel: claims the slot; a racing claimer of the same object
       * sees our key and uses this record too. */
      if (!atomic_compare_exchange_strong_explicit(
              &r->key, &zero, (uintptr_t)obj, memory_order_acq_rel,
              memory_order_acquire) &&
          zero != (uintptr_t)obj)
        continue;
      k = (uintptr_t)obj;
    }
    if (k != (uintptr_t)obj)
      continue;
    if (!rec_lock(r, 0))
      goto lost;
    if (atomic_load_explicit(&r->key, memory_order_relaxed) !=
        (uintptr_t)obj) { /* reused for another object meanwhile */
      rec_unlock(r);
      goto lost;
    }
    rec_advance(r, t);
    rec_set(r, nwait_of(r) + 1, acc_of(r));
    rec_unlock(r);
    return r;
  }
  /* Every probed slot belongs to another object: reuse one that has no
   * waiters (its uncharged delay, if any, is lost). */
  for (unsigned p = 0; p < PROBES; p++) {
    objrec *r = &cont.objs[(s + p) & (OBJ_SLOTS - 1)];
    if (nwait_of(r) != 0 || !rec_lock(r, 0))
      continue;
    if (nwait_of(r) == 0) {
      if (acc_of(r) > 0)
        atomic_fetch_add_explicit(&cont.lost, 1, memory_order_relaxed);
      atomic_store_explicit(&r->key, (uintptr_t)obj, memory_order_relaxed);
      r->last = t;
      rec_set(r, 1, 0);
      rec_unlock(r);
      return r;
    }
    rec_unlock(r);
  }
lost:
  atomic_fetch_add_explicit(&cont.lost, 1, memory_order_relaxed);
  return NULL;
}

void pprofd__contention_leave(void *h, int64_t t) {
  objrec *r = h;
  rec_lock(r, 1);
  rec_advance(r, t);
  rec_set(r, nwait_of(r) - 1, acc_of(r));
  rec_unlock(r);
}

/* ---- events ---- */

/* Captures the calling thread's stack into locs (DEPTH entries), without
 * the wrapper frames; at least one frame. */
static PPROFD__HOOK uint32_t capture(uint64_t *locs) {
  uint64_t raw[DEPTH + 16];
  pprofd__guard_enter(); /* the unwinder's allocations are ours */
  int nr = pprofd__unwind_here(raw, DEPTH + 16, 0);
  /* 0 mostly means another thread held the unwinder for longer than
   * unwind_here waits (a first walk through a big library takes a few
   * milliseconds, and waiters woken together unwind together). This
   * thread has just waited anyway: try again for a bounded while rather
   * than lose the stack. */
  for (int64_t t0 = 0; nr == 0;) {
    int64_t t = pprofd__mono_nanos();
    if (t0 == 0)
      t0 = t;
    else if (t - t0 > CAPTURE_RETRY_NS)
      break;
    nr = pprofd__unwind_here(raw, DEPTH + 16, 0);
  }
  pprofd__guard_exit();
  int i = 0;
  while (i < nr && pprofd__interpose_in_hook(raw[i]))
    i++;
  uint32_t n = (uint32_t)(nr - i > DEPTH ? DEPTH : nr - i);
  if (n == 0) {
    locs[0] = (uint64_t)(uintptr_t)pprofd_contention_no_stack;
    return 1;
  }
  memcpy(locs, raw + i, n * sizeof *locs);
  return n;
}

/* Charges [count_milli, delay] to the caller's stack in profile k. */
static PPROFD__HOOK void record(enum pprofd__contention_kind k,
                                int64_t count_milli, int64_t delay) {
  uint64_t locs[DEPTH];
  uint32_t n = capture(locs);
  int64_t v[PPROFD__STACKTAB_VALUES] = {count_milli, delay};
  if (pprofd__stacktab_add(&cont.tabs[k], locs, n, v))
    atomic_fetch_add_explicit(&cont.recorded, 1, memory_order_relaxed);
  else
    atomic_fetch_add_explicit(&cont.lost, 1, memory_order_relaxed);
}

PPROFD__HOOK void pprofd__contention_release(const void *obj) {
  objrec *r = rec_find(obj);
  /* Relaxed peeks: a hint only; the decision is re-made under the lock. */
  if (r == NULL || (nwait_of(r) == 0 && acc_of(r) == 0))
    return;
  int64_t t = pprofd__mono_nanos();
  if (!rec_lock(r, 0))
    return; /* the delay stays in acc for the next release */
  int64_t d = 0;
  if (atomic_load_explicit(&r->key, memory_order_relaxed) == (uintptr_t)obj) {
    rec_advance(r, t);
    d = acc_of(r);
    rec_set(r, nwait_of(r), 0);
  }
  rec_unlock(r);
  int64_t f = pprofd__contention_mutex_fraction();
  if (d <= 0 || f <= 0)
    return;
  /* Go's mutexevent: 1 in f, scaled by f. */
  if (f > 1 && rand64() % (uint64_t)f != 0)
    return;
  record(PPROFD__MUTEX, (int64_t)MILLI * f, d * f);
}

PPROFD__HOOK void pprofd__contention_blocked(int64_t t0, int64_t t1) {
  int64_t rate = pprofd__contention_block_rate();
  if (rate <= 0)
    return;
  int64_t d = t1 - t0 > 0 ? t1 - t0 : 1;
  /* Go's blocksampled and saveblockevent: waits shorter than the rate
   * are kept with probability d/rate and weighted by rate/d. */
  if (rate > d) {
    if ((int64_t)(rand64() % (uint64_t)rate) > d)
      return;
    record(PPROFD__BLOCK, (int64_t)((double)MILLI * (double)rate / (double)d),
           rate);
  } else {
    record(PPROFD__BLOCK, MILLI, d);
  }
}

PPROFD__HOOK void pprofd__contention_trace_wait(const char *what, int64_t t0,
                                                int64_t t1) {
  uint64_t locs[DEPTH];
  uint32_t n = capture(locs);
  pprofd__trace_wait(what, t0, t1, locs, n);
}

/* ---- profiles ---- */

int64_t pprofd__contention_count(enum pprofd__contention_kind k) {
  return (int64_t)pprofd__stacktab_count(&cont.tabs[k]);
}

int64_t pprofd__contention_delay(enum pprofd__contention_kind k) {
  int64_t total = 0;
  uint32_t n = (uint32_t)pprofd__stacktab_count(&cont.tabs[k]);
  for (uint32_t i = 0; i < n; i++) {
    pprofd__stackrec r;
    pprofd__stacktab_read(&cont.tabs[k], i, &r);
    total += r.v[1];
  }
  return total;
}

void pprofd__contention_stats(int64_t *recorded, int64_t *lost,
                              size_t *own_bytes) {
  *recorded = atomic_load_explicit(&cont.recorded, memory_order_relaxed);
  *lost = atomic_load_explicit(&cont.lost, memory_order_relaxed);
  *own_bytes = pprofd__stacktab_own_bytes(&cont.tabs[0]) +
               pprofd__stacktab_own_bytes(&cont.tabs[1]);
}

/* Orders samples by delay, descending, as Go's writers do. */
static int cmp_delay(const void *a, const void *b) {
  const pprofd__sample *x = a, *y = b;
  if (x->values[1] != y->values[1])
    return x->values[1] > y->values[1] ? -1 : 1;
  return x->values[0] > y->values[0] ? -1 : x->values[0] < y->values[0];
}

int pprofd__contention_collect(enum pprofd__contention_kind k,
                               pprofd__snapshot *s) {
  static const pprofd__vtype types[] = {{"contentions", "count"},
                                        {"delay", "nanoseconds"}};
  pprofd__snap_set_types(s, types, 2);
  s->period_type = types[0];
  s->period = 1;
  size_t n;
  pprofd__stackrec *c = pprofd__stacktab_copy(&cont.tabs[k], &n);
  if (c == NULL && n != 0)
    return PPROFD_ENOMEM;
  for (size_t i = 0; i < n && !s->failed; i++) {
    int64_t v[2] = {c[i].v[0] / MILLI, c[i].v[1]};
    (void)pprofd__snap_add(s, c[i].locs, c[i].nlocs, v, NULL, 0);
  }
  pprofd__ifree(c);
  if (s->failed)
    return s->failed;
  qsort(s->samples, s->nsamples, sizeof *s->samples, cmp_delay);
  return 0;
}

/* ---- fork and start-up ---- */

void pprofd__contention_prefork(void) {
  pprofd__stacktab_prefork(&cont.tabs[0]);
  pprofd__stacktab_prefork(&cont.tabs[1]);
}

void pprofd__contention_postfork(void) {
  pprofd__stacktab_postfork(&cont.tabs[1]);
  pprofd__stacktab_postfork(&cont.tabs[0]);
}

/* In the child: the parent's other threads are gone, and with them
 * every waiter and every record lock they held. Only slots that were
 * ever used are written, so untouched pages stay untouched. */
static void postfork_child_records(void) {
  for (size_t i = 0; i < OBJ_SLOTS; i++) {
    objrec *r = &cont.objs[i];
    if (atomic_load_explicit(&r->key, memory_order_relaxed) == 0)
      continue;
    atomic_store_explicit(&r->lock, 0, memory_order_relaxed);
    rec_set(r, 0, 0);
  }
}

/* Registers the child's record reset. (PPROFD_BLOCK_PROFILE_RATE and
 * PPROFD_MUTEX_PROFILE_FRACTION are applied at load by core/conf.c.) */
__attribute__((constructor)) static void contention_init(void) {
  pthread_atfork(NULL, NULL, postfork_child_records);
}
