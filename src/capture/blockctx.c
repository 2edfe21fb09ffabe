/*
 * blockctx.c - blocked calls' saved contexts (see blockctx.h).
 *
 * Slots are claimed by a thread's first wrapped call (one gettid, a
 * compare-and-swap) and released when a thread created through the
 * pthread_create wrapper ends. A thread pprofd did not create keeps its
 * slot for the life of the process: the table is bounded, and a later
 * thread with the same id takes the slot over.
 *
 * The reader never dereferences a pointer a slot holds: the record and
 * the stack are read with pread on /proc/self/mem, which fails on an
 * address that is no longer mapped instead of faulting, and everything
 * read is checked against the sequence number read before and after.
 */
#include "config.h"

#include "capture/blockctx.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How far a stale or foreign record's SP may lie from the SP the kernel
 * reports for the thread's system call: a C library wrapper's frames,
 * or a host signal handler's frame, between the two. */
#define SYS_SP_REACH (1024 * 1024)
/* Spins while a slot's sequence number is odd (a few instructions). */
#define ODD_SPINS 64

static pprofd__blockslot slots[PPROFD__BLOCKCTX_SLOTS];
__thread pprofd__blockslot *pprofd__blockctx_tls
    __attribute__((tls_model("initial-exec")));

pprofd__blockslot *pprofd__blockctx_slot_sigsafe(void) {
  int tid = (int)syscall(SYS_gettid);
  uint64_t here = (uint64_t)(uintptr_t)__builtin_frame_address(0);
  unsigned start = (unsigned)tid * 2654435761u % PPROFD__BLOCKCTX_SLOTS;
  for (unsigned i = 0; i < PPROFD__BLOCKCTX_SLOTS; i++) {
    pprofd__blockslot *s = &slots[(start + i) % PPROFD__BLOCKCTX_SLOTS];
    int expect = 0;
    int owner = atomic_load_explicit(&s->tid, memory_order_relaxed);
    /* A slot with our id belongs to a thread of that id that is gone. */
    if (owner == tid ||
        (owner == 0 && atomic_compare_exchange_strong_explicit(
                           &s->tid, &expect, tid, memory_order_acq_rel,
                           memory_order_relaxed))) {
      unsigned seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
      atomic_store_explicit(&s->seq, seq | 1, memory_order_relaxed);
      atomic_thread_fence(memory_order_release);
      atomic_store_explicit(&s->cur, 0, memory_order_relaxed);
      atomic_store_explicit(&s->labels, NULL, memory_order_relaxed);
      atomic_store_explicit(&s->limit, pprofd__stackcopy_limit_sigsafe(here),
                            memory_order_relaxed);
      atomic_store_explicit(&s->seq, (seq | 1) + 1, memory_order_release);
      pprofd__blockctx_tls = s;
      return s;
    }
  }
  return NULL;
}

void pprofd__blockctx_signalled_sigsafe(void) {
  pprofd__blockslot *s = pprofd__blockctx_tls;
  if (s != NULL)
    atomic_fetch_add_explicit(&s->signals, 1, memory_order_relaxed);
}

void pprofd__blockctx_thread_exit(void) {
  pprofd__blockslot *s = pprofd__blockctx_tls;
  if (s == NULL)
    return;
  pprofd__blockctx_tls = NULL;
  unsigned seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
  atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&s->cur, 0, memory_order_relaxed);
  atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
  atomic_store_explicit(&s->tid, 0, memory_order_release);
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

void pprofd__blockctx_find(const int *tids, size_t n, int *slot_of) {
  for (size_t i = 0; i < n; i++)
    slot_of[i] = -1;
  for (int k = 0; k < PPROFD__BLOCKCTX_SLOTS; k++) {
    int tid = atomic_load_explicit(&slots[k].tid, memory_order_relaxed);
    if (tid == 0)
      continue;
    const int *hit = bsearch(&tid, tids, n, sizeof *tids, cmp_int);
    if (hit != NULL)
      slot_of[hit - tids] = k;
  }
}

/* One attempt; PPROFD__BLOCKCTX_* or -1 when the sequence number stayed
 * odd. */
static int take_once(pprofd__blockslot *s, int tid, uint64_t sys_sp,
                     pprofd__stackcopy *c, pprofd__stackcopy_arena *a,
                     char *what, size_t what_len) {
  unsigned s1;
  int spins = 0;
  while (((s1 = atomic_load_explicit(&s->seq, memory_order_acquire)) & 1) !=
         0) {
    if (++spins > ODD_SPINS)
      return -1;
    sched_yield();
  }
  if (atomic_load_explicit(&s->tid, memory_order_relaxed) != tid)
    return PPROFD__BLOCKCTX_NONE;
  uintptr_t at = atomic_load_explicit(&s->cur, memory_order_relaxed);
  uint64_t limit = atomic_load_explicit(&s->limit, memory_order_relaxed);
  if (at == 0)
    return PPROFD__BLOCKCTX_NONE;
  pprofd__blockctx rec;
  if (pread(a->memfd, &rec, sizeof rec, (off_t)at) != (ssize_t)sizeof rec)
    return PPROFD__BLOCKCTX_CHANGED;
  /* The record lies in the frame whose SP it saved; the thread's system
   * call, when it is in one, runs below that. */
  if (rec.sp == 0 || rec.sp > at || at - rec.sp > 64 * 1024 ||
      (sys_sp != 0 && (sys_sp > rec.sp || rec.sp - sys_sp > SYS_SP_REACH)))
    return PPROFD__BLOCKCTX_NONE;
  what[0] = '\0';
  if (rec.what != NULL &&
      pread(a->memfd, what, what_len - 1, (off_t)(uintptr_t)rec.what) > 0) {
    what[what_len - 1] = '\0';
  } else {
    what[0] = '\0';
  }
  pprofd__stackcopy_from_saved(c, rec.pc, rec.sp, rec.saved,
                               PPROFD__BLOCKCTX_NSAVED);
  pprofd__stackcopy_copy_window(c, limit, a);
  atomic_thread_fence(memory_order_acquire);
  unsigned s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
  return s1 == s2 ? PPROFD__BLOCKCTX_TAKEN : PPROFD__BLOCKCTX_CHANGED;
}

int pprofd__blockctx_take(int slot, int tid, uint64_t sys_sp,
                          pprofd__stackcopy *c, pprofd__stackcopy_arena *a,
                          char *what, size_t what_len) {
  if (!PPROFD__BLOCKCTX_KNOWN || slot < 0 || slot >= PPROFD__BLOCKCTX_SLOTS ||
      a == NULL || a->memfd < 0 || what_len == 0)
    return PPROFD__BLOCKCTX_NONE;
  int r = PPROFD__BLOCKCTX_CHANGED;
  for (int attempt = 0; attempt < 2; attempt++) {
    r = take_once(&slots[slot], tid, sys_sp, c, a, what, what_len);
    if (r == PPROFD__BLOCKCTX_TAKEN || r == PPROFD__BLOCKCTX_NONE)
      return r;
  }
  return PPROFD__BLOCKCTX_CHANGED;
}

int pprofd__blockctx_peek(int slot, int tid, unsigned *seq) {
  if (slot < 0 || slot >= PPROFD__BLOCKCTX_SLOTS)
    return 0;
  pprofd__blockslot *s = &slots[slot];
  unsigned s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
  int in = atomic_load_explicit(&s->tid, memory_order_relaxed) == tid &&
           atomic_load_explicit(&s->cur, memory_order_relaxed) != 0;
  atomic_thread_fence(memory_order_acquire);
  unsigned s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
  *seq = s2;
  return in && s1 == s2 && (s1 & 1) == 0;
}

void pprofd__blockctx_set_labels(const void *set) {
  pprofd__blockslot *s = pprofd__blockctx_tls;
  if (s == NULL)
    s = pprofd__blockctx_slot_sigsafe();
  if (s != NULL)
    atomic_store_explicit(&s->labels, set, memory_order_release);
}

const void *pprofd__blockctx_labels(int slot, int tid) {
  if (slot < 0 || slot >= PPROFD__BLOCKCTX_SLOTS ||
      atomic_load_explicit(&slots[slot].tid, memory_order_relaxed) != tid)
    return NULL;
  return atomic_load_explicit(&slots[slot].labels, memory_order_acquire);
}

void pprofd__blockctx_postfork_child(void) {
  memset(slots, 0, sizeof slots);
  pprofd__blockctx_tls = NULL;
}
