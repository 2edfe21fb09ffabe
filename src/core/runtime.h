/*
 * runtime.h - pprofd's one mutable global: struct pprofd__runtime.
 *
 * All process-wide state lives here, one sub-struct per module, so that
 * what pprofd holds is visible in one place (redis's `server` struct plays
 * this role). Thread-locals are the only other state.
 *
 * Lock order (acquire in this order, never the reverse):
 *   1. rt.lock            start/stop and the config in force
 *   2. the list of custom profiles (sample/custom.c)
 *   3. pprofd_profile.lock  one custom profile's keys
 *   3a. the thread registry's creation-stack table (capture/threadreg.c)
 *   3b. the CPU profiler's locks: the file lock (core/cpufile.c), then
 *      cpu.life, cpu.lock (sample/cpu.c), then the label-set table
 *      (sample/labels.c)
 *   4. the symbolizer lock (symbol/symbolize.c)
 *   5. the build-id cache lock (symbol/maps.c)
 *   6. the HTTP server's request-set lock (http/server.c), a leaf
 *   6a. the stack-copy walker's session lock (capture/stackcopy.c),
 *      held while a thread dump walks its copies (a walk may then take
 *      the next one, when the heap sampler samples libunwind's own
 *      allocations); fork() waits for it up to 2 s
 *   6a'. the unwinder's busy flag (capture/unwind.c): fork() waits for it,
 *      so no thread is inside libunwind when the child is made
 *   6b. the block and mutex stack tables (sample/contention.c), leaves
 *      taken inside pthread wrappers after the stack is captured; the
 *      per-object waiter records there are try-locks, never held across
 *      a call, and reset in a fork child instead of being taken
 *   6c. the tracer's buffer lock (sample/trace.c), a leaf taken by
 *      recorders, including the CPU collector under cpu.lock
 *   7. the heap sampler's stack-table lock, then its heap lock
 *      (sample/heap.c), leaves taken one at a time on sampled malloc/free
 *      paths; heap.c registers its own fork handlers from an earlier
 *      constructor, so its prepare handler runs last
 *
 * pprofd's own locks are taken through pprofd__mutex_lock (the C
 * library's function, never the interposed one), so they never show up
 * in the contention profiles.
 *
 * Fork: a pthread_atfork handler installed when the library loads takes
 * every lock above in this order before fork() and releases them after,
 * in parent and child, so a child never inherits a lock held by a thread
 * it does not have. The child forgets the parent's server (its threads
 * are gone) and does not serve; it may call pprofd_start() again.
 */
#ifndef PPROFD_CORE_RUNTIME_H
#define PPROFD_CORE_RUNTIME_H

#include <pthread.h>
#include <stdint.h>

#include "core/conf.h"

struct pprofd_profile;
struct pprofd__http;

struct pprofd__runtime {
  pthread_mutex_t lock;
  int running;
  struct pprofd_config cfg; /* in force while running (defaults before) */
  int64_t start_nanos;
  struct pprofd__http *http;
};

extern struct pprofd__runtime pprofd__rt;

/* Copies the configuration in force (defaults when not running). */
void pprofd__runtime_config(struct pprofd_config *out);

#endif
