/*
 * runtime.h - pprofd's one mutable global: struct pprofd__runtime.
 *
 * All process-wide state lives here, one sub-struct per module, so that
 * what pprofd holds is visible in one place (redis's `server` struct plays
 * this role). Thread-locals are the only other state.
 *
 * Lock order: base/lockrank.h, where every lock has its rank (checked in
 * debug builds). Not a lock, but waited for by fork() too: the unwinder's
 * busy flag (capture/unwind.c), so no thread is inside libunwind when the
 * child is made (one walk: microseconds). The
 * contention sampler's per-object waiter records are try-locks, never
 * held across a call, and reset in a fork child instead of being taken.
 *
 * pprofd's own locks are taken through pprofd__mutex_lock (the C
 * library's function, never the interposed one), so they never show up
 * in the contention profiles.
 *
 * Fork: a pthread_atfork handler installed when the library loads takes
 * every lock that no request holds for long, in rank order, before fork()
 * and releases them after, in parent and child, so a child never inherits
 * a lock held by a thread it does not have. The locks of request work
 * (thread dump, stack-copy walker, symbolizer, build-id cache) are not
 * waited for: the child takes them back and resets what they guarded. The child
 * forgets the parent's server (its threads are gone) and does not serve; it may
 * call pprofd_start() again.
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
