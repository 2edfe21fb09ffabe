/*
 * unwind.h - stack capture (libunwind's only home).
 *
 * Captures the current thread's call stack as location addresses (return
 * address - 1 for every frame, which points inside the call instruction,
 * as pprof wants). DWARF unwinding through libunwind's unw_backtrace,
 * loaded privately at run time (see unwind.c), which keeps a per-thread
 * cache and costs well under a microsecond for typical depths.
 *
 * Threads: pprofd__unwind_here from any thread outside signal context;
 * pprofd__unwind_sigsafe from a signal handler (after pprofd__unwind_init
 * has returned on some thread).
 */
#ifndef PPROFD_CAPTURE_UNWIND_H
#define PPROFD_CAPTURE_UNWIND_H

#include <stdint.h>

#include "base/common.h"
#include "model/stack.h"

/* Loads the unwinder if needed; returns NULL when stacks can be captured,
 * else why not (a static sentence). Call before any signal-context use. */
const char *pprofd__unwind_init(void);

/* Makes the calling thread's signal handlers able to unwind it: runs
 * libunwind once here, outside signal context, so that its thread-local
 * cache exists before a handler needs it (a handler on a thread that was
 * never warmed records its leaf alone: allocating libunwind's TLS there
 * could deadlock in malloc). Loads the unwinder first when load_it is
 * set, else does nothing until it is loaded. Waits up to a second for
 * other threads' walks. Free after the first success on a thread. Not
 * signal-safe; call it where the thread holds no lock. */
void pprofd__unwind_warm(int load_it);

/* Writes up to max location addresses of the caller's stack into locs,
 * leaf first, starting at the caller of the function that calls this and
 * skipping `skip` more frames. Returns the number written: 0 if the stack
 * cannot be unwound, or if the unwinder stayed busy (another thread's
 * walk, or a fork in progress) for a couple of hundred yields. */
int pprofd__unwind_here(uint64_t *locs, int max, int skip);

/* Captures the stack of the context a signal handler interrupted
 * (ucontext is the handler's third argument): locs[0] is the interrupted
 * PC exactly, every caller is its return address - 1. Writes at most max
 * (>= 1) addresses and returns how many; sets *truncated when the stack
 * was deeper than max. Records the leaf alone on a thread that was never
 * warmed (pprofd__unwind_warm), when max is 1 (callers
 * pass 1 when the interrupted thread is inside the dynamic loader, where
 * unwinding could take the loader lock), when the unwinder is not
 * loaded, when the interrupted code was itself inside pprofd__unwind_here
 * (libunwind is not reentrant on one thread), when another thread's
 * handler is unwinding (a try-lock, never a wait: see unwind.c), or when
 * the unwinder cannot find the interrupted frame. 0 only for a NULL
 * ucontext or an unsupported architecture. Async-signal-safe. */
int pprofd__unwind_sigsafe(const void *ucontext, uint64_t *locs, int max,
                           int *truncated) PPROFD__SIGSAFE;

/* What *truncated says: model/stack.h. */

/* Fork hooks (see core/runtime.h): fork() waits (boundedly) until no
 * thread is inside libunwind, so the child never inherits one of its
 * mutexes locked. */
void pprofd__unwind_prefork(void);
void pprofd__unwind_postfork_parent(void);
void pprofd__unwind_postfork_child(void);

/* Test seam: a replacement for unw_backtrace (NULL: use unw_backtrace).
 * It must fill return addresses with frame 0 inside its caller. */
extern int (*PPROFD__SEAM pprofd__backtrace_fn)(void **buf, int size);

#endif
