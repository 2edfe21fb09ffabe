/*
 * unwind.h - stack capture (libunwind's only home).
 *
 * Captures the current thread's call stack as location addresses (return
 * address - 1 for every frame, which points inside the call instruction,
 * as pprof wants). DWARF unwinding through libunwind's unw_backtrace,
 * loaded privately at run time (see unwind.c), which keeps a per-thread
 * cache and costs well under a microsecond for typical depths.
 *
 * Threads: any thread, outside signal context (the signal-context
 * variant belongs to the CPU sampler).
 */
#ifndef PPROFD_CAPTURE_UNWIND_H
#define PPROFD_CAPTURE_UNWIND_H

#include <stdint.h>

#include "core/common.h"

/* Loads the unwinder if needed; returns NULL when stacks can be captured,
 * else why not (a static sentence). Call before any signal-context use. */
const char *pprofd__unwind_init(void);

/* Writes up to max location addresses of the caller's stack into locs,
 * leaf first, starting at the caller of the function that calls this and
 * skipping `skip` more frames. Returns the number written (0 if the stack
 * cannot be unwound). */
int pprofd__unwind_here(uint64_t *locs, int max, int skip);

/* Test seam: a replacement for unw_backtrace (NULL: use unw_backtrace).
 * It must fill return addresses with frame 0 inside its caller. */
extern int (*PPROFD__SEAM pprofd__backtrace_fn)(void **buf, int size);

#endif
