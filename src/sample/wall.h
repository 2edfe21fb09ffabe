/*
 * wall.h - the wall-clock profile: where every thread's time goes,
 * running or not (fgprof's idea, async-profiler's wall mode).
 *
 * Every 1/hz seconds the recorder looks at every thread of the process:
 *   - a thread inside a wrapped blocking call (capture/blockctx.h) is
 *     taken from the context its wrapper saved, without a signal; while
 *     its slot's sequence number stays the same, it is still in the same
 *     call, and its last stack is counted again without any work;
 *   - a thread blocked outside the wrappers is walked from the SP and PC
 *     the kernel reports (/proc/TID/syscall), again without a signal,
 *     and counted again while they stay the same;
 *   - a running thread gets the dump's signal, whose handler copies its
 *     context (sample/threads.h): running, it is in no call a signal
 *     could cut short.
 * So no sleep, poll or read is ever cut short, and an idle thread costs a
 * few loads per tick. A tick that runs past its time budget leaves the
 * remaining threads for the next one and counts them as not reached.
 *
 * Samples have two values, samples/count and wall/nanoseconds (count
 * times the period), and labels: `thread` (its name), `state`
 * (running, syscall, lock or sleep), `syscall` (the call's name when
 * blocked) and the thread's own profiler labels.
 *
 * Threads: one recording per call, on the calling thread; recordings may
 * overlap (each walks its own copies; signalled copies go through the
 * dump's lock).
 */
#ifndef PPROFD_SAMPLE_WALL_H
#define PPROFD_SAMPLE_WALL_H

#include <stdint.h>

#include "base/common.h"
#include "model/snapshot.h"

#define PPROFD__WALL_HZ_DEFAULT 50
#define PPROFD__WALL_HZ_MAX 200

/* What one recording did. */
typedef struct pprofd__wall_stats {
  int64_t ticks;        /* passes made */
  int64_t observations; /* thread-ticks counted */
  int64_t walks;        /* stacks walked (the rest were reused) */
  int64_t signalled;    /* running threads signalled */
  int64_t not_reached;  /* thread-ticks a pass's budget left out */
  int64_t no_answer;    /* signalled threads that did not answer */
  int64_t missed;       /* ticks skipped because one before ran late */
} pprofd__wall_stats;

/* Records for `seconds` at hz (1..PPROFD__WALL_HZ_MAX) into *out (fresh
 * from pprofd__snap_init), sleeping between ticks through wait(arg, s),
 * which returns nonzero to stop early (the recording is then dropped and
 * 1 returned). 0, PPROFD_EINVAL, PPROFD_EIO (no /proc/self/task),
 * PPROFD_ENOMEM. *st (may be NULL) gets the counts. */
int pprofd__wall_record(double seconds, int hz,
                        int (*wait)(void *arg, double seconds), void *arg,
                        pprofd__snapshot *out, pprofd__wall_stats *st);

#endif
