/*
 * threads.h - every thread's stack, now: the `goroutine` profile for C.
 *
 * A dump lists the threads of /proc/self/task with what the kernel says
 * about each (name, state, the system call it waits in, its wait channel)
 * and captures each thread's stack in-process: the requester publishes a
 * dump request, sends each thread a real-time signal with tgkill, and
 * waits a bounded time; each thread's handler (async-signal-safe, lock-
 * free, allocation-free) unwinds its own interrupted context into its
 * slot. A thread that does not answer (signals blocked, stopped, stuck in
 * the kernel) is still listed, with the user-space PC the kernel reports
 * for its system call, and marked as not captured. The requesting thread
 * is captured directly and listed first.
 *
 * Threads: dumps run on request threads, one at a time (a mutex); the
 * handler runs on any thread and ignores signals that arrive when no dump
 * is waiting for them.
 */
#ifndef PPROFD_SAMPLE_THREADS_H
#define PPROFD_SAMPLE_THREADS_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "encode/buf.h"
#include "encode/snapshot.h"

#define PPROFD__THREAD_DEPTH 64

typedef struct pprofd__thread {
  int tid;
  char name[17];    /* /proc/self/task/TID/comm */
  char state[16];   /* "running", "sleeping", "disk sleep", ... */
  char syscall[32]; /* the system call it waits in, "" if none */
  char wchan[48];   /* kernel wait channel, "" if none or hidden */
  int captured;     /* 1 when the stack was unwound in-process */
  int self;         /* the requesting thread */
  int nlocs;        /* leaf first: the PC, then return address - 1 */
  uint64_t locs[PPROFD__THREAD_DEPTH];
} pprofd__thread;

/* Lists and captures every thread, waiting at most timeout_ms for their
 * answers. *out (freed with pprofd__ifree) has the requester first, then
 * the rest by thread id. PPROFD_EIO when /proc/self/task cannot be read,
 * PPROFD_ENOMEM. */
int pprofd__threads_dump(pprofd__thread **out, size_t *n,
                         int timeout_ms) PPROFD__WARN_UNUSED;

/* The number of threads of the process (0 if unknown). */
int64_t pprofd__threads_count(void);
/* NULL when dumps work, else why not (no free real-time signal). */
const char *pprofd__threads_unavailable(void);

/* The goroutine count profile: threads grouped by identical stack and
 * labels (`state`, `syscall`, and `threads`, the name with digit runs as
 * `*` so worker-1 and worker-2 group together). */
int pprofd__threads_collect(pprofd__snapshot *s) PPROFD__WARN_UNUSED;
/* goroutine?debug=1 (Go's count layout) or debug>=2 (one readable block
 * per thread, the requester first). */
int pprofd__threads_write_text(pprofd__snapshot *s, int debug,
                               pprofd__buf *out) PPROFD__WARN_UNUSED;

#endif
