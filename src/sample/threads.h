/*
 * threads.h - every thread's stack, now: the `goroutine` profile for C.
 *
 * A dump lists the threads of /proc/self/task with what the kernel says
 * about each (name, state, the system call it waits in, its wait channel)
 * and captures each thread's stack in-process: the requester publishes a
 * dump request, sends each thread a real-time signal with tgkill, and
 * waits a bounded time; each thread's handler (async-signal-safe, lock-
 * free, allocation-free, wait-free) copies its registers and a window of
 * its stack into its slot and returns, and the requester walks the
 * copies afterwards (capture/stackcopy.h). A thread is held up by a dump
 * for one copy, a few microseconds, however many threads there are. A thread
 * that does not answer (signals blocked, stopped, stuck in the kernel) is still
 * listed, with the user-space PC the kernel reports for its system call, and
 * marked as not captured. The requesting thread is captured directly and listed
 * first.
 *
 * Threads: dumps run on request threads, one at a time (a mutex); the
 * handler runs on any thread and ignores signals that arrive when no dump
 * is waiting for them.
 */
#ifndef PPROFD_SAMPLE_THREADS_H
#define PPROFD_SAMPLE_THREADS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/common.h"
#include "capture/stackcopy.h"
#include "model/snapshot.h"
#include "model/threaddump.h"

/* pprofd__threads_dump flags: also read each thread's wait channel (one
 * more /proc file per thread, for the debug=2 dump). */
#define PPROFD__DUMP_WCHAN 1u
/* How long a profile's dump waits for the threads to answer. */
#define PPROFD__DUMP_TIMEOUT_MS 1000

/* Lists and captures every thread, waiting at most timeout_ms for their
 * answers. *out (freed with pprofd__ifree) has the requester first, then
 * the rest by thread id. PPROFD_EIO when /proc/self/task cannot be read,
 * PPROFD_ENOMEM. */
int pprofd__threads_dump(pprofd__thread **out, size_t *n, int timeout_ms,
                         unsigned flags) PPROFD__WARN_UNUSED;

/* In a fork child (fork() never waits for a dump): takes the dump lock
 * back and forgets the parent's dump request. */
void pprofd__threads_postfork_child(void);

/* Signals each of the n threads tids with the dump's signal and waits at
 * most timeout_ms for their handlers' copies (capture/stackcopy.h), for
 * threads that no signal cuts short (running ones). *out holds them
 * until pprofd__signal_copies_free. PPROFD_EUNAVAILABLE without a dump
 * signal, PPROFD_EBUSY when an earlier request's handler never left,
 * PPROFD_ENOMEM. */
typedef struct pprofd__signal_copies pprofd__signal_copies;
int pprofd__threads_signal_copies(const int *tids, size_t n, int timeout_ms,
                                  pprofd__signal_copies **out)
    PPROFD__WARN_UNUSED;
/* Thread tids[i]'s copy, NULL when it did not answer. */
const pprofd__stackcopy *
pprofd__signal_copies_get(const pprofd__signal_copies *h, size_t i);
void pprofd__signal_copies_free(pprofd__signal_copies *h);

/* The number of threads of the process (0 if unknown). */
int64_t pprofd__threads_count(void);
/* NULL when dumps work, else why not (no free real-time signal). */
const char *pprofd__threads_unavailable(void);
/* The real-time signal dumps send (0 when dumps are unavailable). */
int pprofd__threads_signo(void);

/* The goroutine count profile: threads grouped by identical stack and
 * labels (`state`, `syscall`, and `threads`, the name with digit runs as
 * `*` so worker-1 and worker-2 group together). */
int pprofd__threads_collect(pprofd__snapshot *s) PPROFD__WARN_UNUSED;

#endif
