/*
 * labels.h - per-thread profiler labels (Go's pprof.Do / SetGoroutineLabels).
 *
 * A label set is an immutable, interned list of string key-value pairs,
 * sorted by key with each key at most once. Sets are deduplicated, never
 * freed, and bounded in number (PPROFD__LABELS_MAX_SETS), so a pointer to
 * one is a stable identity that a signal handler can copy without
 * synchronization and a profile can compare by address. Each thread holds
 * a pointer to its current set in an initial-exec thread-local.
 *
 * Threads: pprofd__labels_set() may be called from any thread outside
 * signal context (it takes the intern table's lock, a leaf lock);
 * pprofd__labels_current_sigsafe() from anywhere, signal handlers
 * included.
 */
#ifndef PPROFD_SAMPLE_LABELS_H
#define PPROFD_SAMPLE_LABELS_H

#include <stddef.h>

#include "base/common.h"

#define PPROFD__LABELS_MAX_SETS 4096
#define PPROFD__LABELS_MAX_PAIRS 8
#define PPROFD__LABELS_MAX_LEN 256 /* bytes per key or value, without NUL */

typedef struct pprofd__labelset {
  size_t n;         /* pairs */
  const char *kv[]; /* 2 * n strings: key0, value0, key1, value1, ... */
} pprofd__labelset;

/* Replaces the calling thread's labels with the npairs pairs in kv (kv[2i]
 * a key, kv[2i+1] its value; a later duplicate key wins). npairs 0 clears
 * them. Returns 0; PPROFD_EINVAL for a NULL or empty key, a NULL value, a
 * key or value longer than PPROFD__LABELS_MAX_LEN, more than
 * PPROFD__LABELS_MAX_PAIRS pairs, or the reserved key "thread";
 * PPROFD_ELIMIT once PPROFD__LABELS_MAX_SETS distinct sets exist;
 * PPROFD_ENOMEM. On error the thread's labels are unchanged. */
int pprofd__labels_set(const char *const *kv,
                       size_t npairs) PPROFD__WARN_UNUSED;

/* The calling thread's current label set, NULL when it has none. */
const pprofd__labelset *pprofd__labels_current_sigsafe(void) PPROFD__SIGSAFE;

/* Number of distinct label sets interned so far. Thread-safe. */
size_t pprofd__labels_count(void);

/* Fork hooks (see core/runtime.h): the label-set table's lock is held
 * across fork(). */
void pprofd__labels_prefork(void);
void pprofd__labels_postfork(void);

#endif
