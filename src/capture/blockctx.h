/*
 * blockctx.h - where a thread blocked: the context a blocking call's
 * wrapper saves, so that a dump can walk the thread without a signal.
 *
 * A signal with a handler cuts short the calls Linux never restarts
 * (signal(7): the sleeps, poll, epoll_wait, select, sigtimedwait, System
 * V IPC, io_getevents, sockets with timeouts): they return EINTR, and
 * sleep() returns early. So a dump must not signal a thread that waits
 * in one. Like Go's entersyscall, each wrapper of such a call
 * (interpose/blocking.c) records, before it blocks, the context of its
 * own frame: the PC and SP at that point and the callee-saved registers,
 * which is all an unwinder needs to walk from there to the caller and
 * on. The record lives in the wrapper's frame; the thread's slot in a
 * global table points at it, under a sequence number (a seqlock with one
 * writer: odd while the slot changes). While the wrapper blocks, the
 * stack from that SP up does not change, so a dump can copy it through
 * /proc/self/mem (capture/stackcopy.h) and walk the copy: the same
 * frames a signal would have given, the wrapper's own (named after the
 * call) as the leaf.
 *
 * Nesting (a host signal handler that blocks again inside a blocked
 * call) keeps a chain: each record points at the one it interrupted. A
 * record left behind by a longjmp out of a handler lies below the stack
 * pointer of the next call, which drops it.
 *
 * Every wrapper also counts the signals pprofd's own handlers take on
 * its thread (pprofd__blockctx_signalled_sigsafe), so that a call that
 * a pprofd signal interrupted anyway (a thread that was running when the
 * dump looked and blocked right after) is restarted with what remains of
 * its timeout instead of failing with EINTR.
 *
 * Threads and contexts: enter/leave and the signal count run on the
 * thread itself, in any context (signal handlers and malloc included):
 * async-signal-safe, lock-free, no allocation. Readers run on request
 * threads and never write to a slot.
 */
#ifndef PPROFD_CAPTURE_BLOCKCTX_H
#define PPROFD_CAPTURE_BLOCKCTX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "capture/stackcopy.h"

/* Threads that can have a slot at once; more are dumped as before. */
#define PPROFD__BLOCKCTX_SLOTS 4096

#if defined(__x86_64__)
/* rbx, rbp, r12, r13, r14, r15 */
#define PPROFD__BLOCKCTX_NSAVED 6
#define PPROFD__BLOCKCTX_KNOWN 1
#elif defined(__aarch64__)
/* x19 ... x28, x29 (frame pointer), x30 (link register) */
#define PPROFD__BLOCKCTX_NSAVED 12
#define PPROFD__BLOCKCTX_KNOWN 1
#else
#define PPROFD__BLOCKCTX_NSAVED 1
#define PPROFD__BLOCKCTX_KNOWN 0
#endif

/* One blocked call's context, in the wrapper's frame. The layout is read
 * by the capture assembly below (pc at 0, sp at 8, saved from 16). */
typedef struct pprofd__blockctx {
  uint64_t pc, sp;
  uint64_t saved[PPROFD__BLOCKCTX_NSAVED];
  const char *what; /* the call, a static string */
  struct pprofd__blockctx *prev;
  struct pprofd__blockslot *slot; /* NULL: the thread has none */
  unsigned signals;               /* pprofd signals seen before the call */
} pprofd__blockctx;

/* A thread's slot. Written only by its thread. */
typedef struct pprofd__blockslot {
  _Atomic int tid;              /* 0: free */
  _Atomic unsigned seq;         /* odd while changing */
  _Atomic(uintptr_t) cur;       /* the innermost pprofd__blockctx, or 0 */
  _Atomic uint64_t limit;       /* where the thread's stack ends, 0 unknown */
  _Atomic unsigned signals;     /* pprofd's signals taken on this thread */
  _Atomic(const void *) labels; /* its profiler labels (never freed) */
} __attribute__((aligned(64))) pprofd__blockslot;

/* The calling thread's slot, claimed on first use; NULL when the table
 * is full. Async-signal-safe. */
pprofd__blockslot *pprofd__blockctx_slot_sigsafe(void) PPROFD__SIGSAFE;

extern __thread pprofd__blockslot *pprofd__blockctx_tls
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Saves the calling function's PC, SP and callee-saved registers into
 * c. The PC saved is the first instruction of this block, which belongs
 * to the function it is expanded in (the instruction after it may
 * already be an inlined function's, which a symbolizer would show). Must be
 * expanded inside the function whose frame stays live while it blocks (the
 * wrapper itself): the walk starts from this point. */
#if defined(__x86_64__)
#define PPROFD__BLOCKCTX_CAPTURE(c)                                            \
  __asm__ volatile("1:\n\t"                                                    \
                   "movq %%rsp, 8(%0)\n\t"                                     \
                   "movq %%rbx, 16(%0)\n\t"                                    \
                   "movq %%rbp, 24(%0)\n\t"                                    \
                   "movq %%r12, 32(%0)\n\t"                                    \
                   "movq %%r13, 40(%0)\n\t"                                    \
                   "movq %%r14, 48(%0)\n\t"                                    \
                   "movq %%r15, 56(%0)\n\t"                                    \
                   "leaq 1b(%%rip), %%rax\n\t"                                 \
                   "movq %%rax, 0(%0)"                                         \
                   :                                                           \
                   : "r"(c)                                                    \
                   : "rax", "memory")
#elif defined(__aarch64__)
#define PPROFD__BLOCKCTX_CAPTURE(c)                                            \
  __asm__ volatile("1:\n\t"                                                    \
                   "mov x9, sp\n\t"                                            \
                   "str x9, [%0, #8]\n\t"                                      \
                   "stp x19, x20, [%0, #16]\n\t"                               \
                   "stp x21, x22, [%0, #32]\n\t"                               \
                   "stp x23, x24, [%0, #48]\n\t"                               \
                   "stp x25, x26, [%0, #64]\n\t"                               \
                   "stp x27, x28, [%0, #80]\n\t"                               \
                   "stp x29, x30, [%0, #96]\n\t"                               \
                   "adr x9, 1b\n\t"                                            \
                   "str x9, [%0]"                                              \
                   :                                                           \
                   : "r"(c)                                                    \
                   : "x9", "memory")
#else
#define PPROFD__BLOCKCTX_CAPTURE(c) ((c)->pc = (c)->sp = 0)
#endif

/* Before the blocking call: saves the context and publishes it. A macro
 * so that the saved PC lies in the wrapper itself, not in an inlined
 * function that a symbolizer would show as a frame of its own. */
#define PPROFD__BLOCKCTX_ENTER(c, what)                                        \
  do {                                                                         \
    PPROFD__BLOCKCTX_CAPTURE(c);                                               \
    pprofd__blockctx_publish((c), (what));                                     \
  } while (0)

/* The second half of PPROFD__BLOCKCTX_ENTER. */
__attribute__((always_inline)) static inline void
pprofd__blockctx_publish(pprofd__blockctx *c, const char *what) {
  c->what = what;
  pprofd__blockslot *s = pprofd__blockctx_tls;
  if (PPROFD__UNLIKELY(s == NULL))
    s = pprofd__blockctx_slot_sigsafe();
  c->slot = s;
  if (PPROFD__UNLIKELY(s == NULL))
    return;
  c->signals = atomic_load_explicit(&s->signals, memory_order_relaxed);
  uintptr_t prev = atomic_load_explicit(&s->cur, memory_order_relaxed);
  /* A live outer record lies in an older frame, above this one. */
  c->prev = prev > c->sp ? (pprofd__blockctx *)prev : NULL;
  unsigned seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
  atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&s->cur, (uintptr_t)c, memory_order_relaxed);
  atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/* After it: unpublishes the context. */
__attribute__((always_inline)) static inline void
pprofd__blockctx_leave(pprofd__blockctx *c) {
  pprofd__blockslot *s = c->slot;
  if (PPROFD__UNLIKELY(s == NULL))
    return;
  unsigned seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
  atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&s->cur, (uintptr_t)c->prev, memory_order_relaxed);
  atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/* Whether one of pprofd's signal handlers ran on this thread since
 * PPROFD__BLOCKCTX_ENTER(c): the call's EINTR was pprofd's doing. (A
 * host signal delivered in the same instant cannot be told apart.) */
__attribute__((always_inline)) static inline int
pprofd__blockctx_interrupted_by_us(const pprofd__blockctx *c) {
  return c->slot != NULL &&
         atomic_load_explicit(&c->slot->signals, memory_order_relaxed) !=
             c->signals;
}

/* After pprofd__blockctx_interrupted_by_us(c), before the call is made
 * again: forgets the signals seen so far. */
__attribute__((always_inline)) static inline void
pprofd__blockctx_rearm(pprofd__blockctx *c) {
  c->signals = atomic_load_explicit(&c->slot->signals, memory_order_relaxed);
}

/* In each of pprofd's signal handlers: counts the signal on this thread. */
void pprofd__blockctx_signalled_sigsafe(void) PPROFD__SIGSAFE;

/* Request side. For tids (sorted ascending, n of them) fills slot_of[i]
 * with the index of thread tids[i]'s slot, or -1. */
void pprofd__blockctx_find(const int *tids, size_t n, int *slot_of);

/* What pprofd__blockctx_take found. */
#define PPROFD__BLOCKCTX_NONE 0    /* not in a wrapped call */
#define PPROFD__BLOCKCTX_TAKEN 1   /* *c holds the blocked context */
#define PPROFD__BLOCKCTX_CHANGED 2 /* the call ended or began meanwhile */

/* Copies the context thread tid (at slot index `slot`) blocks in, and
 * its stack from there up, into *c and arena memory, reading through
 * a->memfd; `what` (what_len bytes) gets the call's name. Retries once
 * when the thread left or entered a call during the copy. sys_sp: the
 * stack pointer the kernel reports for the system call the thread waits
 * in (0 unknown); a record whose SP is not just above it is stale. */
int pprofd__blockctx_take(int slot, int tid, uint64_t sys_sp,
                          pprofd__stackcopy *c, pprofd__stackcopy_arena *a,
                          char *what, size_t what_len);

/* The calling thread ends: frees its slot. */
void pprofd__blockctx_thread_exit(void);

/* Whether thread tid (at slot index `slot`) is inside a wrapped call
 * now; *seq gets the slot's sequence number, which is the same at two
 * peeks only if the thread stayed in the same call, its stack unchanged.
 * A few loads: no copy. */
int pprofd__blockctx_peek(int slot, int tid, unsigned *seq);

/* Publishes the calling thread's profiler label set (an interned,
 * never-freed pointer, sample/labels.h) for readers on other threads.
 * Not in signal context (it may claim the thread's slot). */
void pprofd__blockctx_set_labels(const void *set);
/* What thread tid (at slot) published, NULL when nothing. */
const void *pprofd__blockctx_labels(int slot, int tid);

/* In a fork child: the parent's threads are gone and this one has a new
 * thread id; forgets every slot. */
void pprofd__blockctx_postfork_child(void);

#endif
