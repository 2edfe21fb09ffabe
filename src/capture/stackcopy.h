/*
 * stackcopy.h - a thread's interrupted context, copied in a signal
 * handler and walked afterwards by another thread.
 *
 * A handler that walks its own stack makes its thread wait for the
 * unwinder: libunwind walks one stack at a time (capture/unwind.c), and
 * may wait on the loader lock. For a thread dump, where every thread is
 * signalled at once, that made each host thread stand still until all
 * the walks before its own were done. Instead the handler copies what a
 * walk needs - its registers and a window of its stack, from the stack
 * pointer up - into memory the requester prepared, and returns: a few
 * microseconds, no lock, no wait. The requester then walks every copy
 * with libunwind's remote interface, reading stack words from the copy
 * and everything else (unwind tables, code) from the process itself.
 *
 * Copies are taken with pread on /proc/self/mem, which stops at the
 * first unmapped page instead of faulting: the handler needs no exact
 * bound for the stack. Where /proc/self/mem cannot be opened, a copy
 * holds the registers alone.
 *
 * Threads: pprofd__stackcopy_take_sigsafe runs in signal handlers, on
 * any thread, concurrently; the walk functions run on request threads,
 * one walk session at a time (an internal lock).
 */
#ifndef PPROFD_CAPTURE_STACKCOPY_H
#define PPROFD_CAPTURE_STACKCOPY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/common.h"

/* Registers kept, in libunwind's numbering for the architecture. */
#define PPROFD__STACKCOPY_NREGS 34

/* Memory the copies go into: one mapping, handed out by an atomic bump
 * pointer. Pages are touched only as copies land in them. */
typedef struct pprofd__stackcopy_arena {
  unsigned char *base;
  size_t size;
  atomic_size_t used;
  int memfd; /* /proc/self/mem, -1 if it cannot be opened */
} pprofd__stackcopy_arena;

/* One interrupted context. */
typedef struct pprofd__stackcopy {
  uint64_t regs[PPROFD__STACKCOPY_NREGS];
  uint64_t pc, sp;
  /* Where the thread's stack ends when the handler knew it, else 0. */
  uint64_t limit;
  const unsigned char *stack; /* a copy of [sp, sp + len) */
  size_t len;
} pprofd__stackcopy;

/* Maps an arena for copies of nthreads stacks (bounded in total).
 * PPROFD_ENOMEM when the mapping fails. */
int pprofd__stackcopy_arena_init(pprofd__stackcopy_arena *a,
                                 size_t nthreads) PPROFD__WARN_UNUSED;
void pprofd__stackcopy_arena_free(pprofd__stackcopy_arena *a);

/* In a signal handler: copies the context in ucontext (the handler's
 * third argument) into *c, its stack window into arena memory. Returns 1
 * when at least the registers were copied, 0 on an architecture this
 * does not know. Async-signal-safe. */
int pprofd__stackcopy_take_sigsafe(const void *ucontext, pprofd__stackcopy *c,
                                   pprofd__stackcopy_arena *a) PPROFD__SIGSAFE;

/* Where the calling thread's stack ends, judged from its stack pointer
 * sp: its thread descriptor's address, or the main thread's initial
 * stack pointer; 0 when neither is just above sp. Async-signal-safe. */
uint64_t pprofd__stackcopy_limit_sigsafe(uint64_t sp) PPROFD__SIGSAFE;

/* Copies the stack window of c (c->sp up to limit, bounded; limit 0 when
 * unknown) into arena memory through a->memfd, and sets c->stack, c->len
 * and c->limit. Any thread; async-signal-safe. The window of another
 * thread is only meaningful while that thread's stack above c->sp does
 * not change (a thread blocked in a call, capture/blockctx.h). */
void pprofd__stackcopy_copy_window(pprofd__stackcopy *c, uint64_t limit,
                                   pprofd__stackcopy_arena *a) PPROFD__SIGSAFE;

/* Fills c (no window yet) from a saved PC and SP and the callee-saved
 * registers in the order capture/blockctx.h saves them (saved NULL:
 * none, as for a context the kernel gives: its walk ends at the first
 * frame that needs one of them). */
void pprofd__stackcopy_from_saved(pprofd__stackcopy *c, uint64_t pc,
                                  uint64_t sp, const uint64_t *saved,
                                  size_t nsaved);

/* Loads libunwind's remote unwinder if needed; NULL, or why copies
 * cannot be walked. Not signal-safe. */
const char *pprofd__stackcopy_init(void);

/* Starts a walk session: loads libunwind's remote unwinder if needed and
 * forgets what earlier sessions cached (a library may have been unloaded
 * since). Returns NULL, or why copies cannot be walked (a static
 * sentence); call pprofd__stackcopy_walk_end either way. Not signal-safe. */
const char *pprofd__stackcopy_walk_begin(void);
/* Walks one copy: writes the PC, then every caller's return address - 1,
 * at most max (>= 1) entries, and returns how many. *truncated as
 * pprofd__unwind_sigsafe sets it (capture/unwind.h): 1 when the stack
 * went on past max frames or past the copied window, and
 * PPROFD__UNWIND_INCOMPLETE when only the PC could be given. */
int pprofd__stackcopy_walk(const pprofd__stackcopy *c, uint64_t *locs, int max,
                           int *truncated);
void pprofd__stackcopy_walk_end(void);

/* Test seam: opens /proc/self/mem (replaceable to play a process that
 * cannot; copies then hold registers alone and each walk gives the PC). */
extern int (*PPROFD__SEAM pprofd__stackcopy_open_mem)(void);

/* In a fork child: fork() never waits for a walk session; a child forked
 * during one cannot walk. */
void pprofd__stackcopy_postfork_child(void);

#endif
