/*
 * stacktab.h - a bounded table of distinct stacks, each with a few
 * cumulative counters.
 *
 * A sampler that charges values to stacks (the block and mutex profiles)
 * keeps one table per profile: pprofd__stacktab_add interns the stack and
 * adds the values to its counters; a collector copies every record out.
 * Counters only grow (deltas are computed by the caller), so a profile
 * built from a table is cumulative since the process started, as Go's
 * are.
 *
 * Memory comes from mmap, never from malloc, so the table can be fed from
 * inside interposed functions. Records live in chunks that never move and
 * stacks in an append-only frame arena, so a copied record's stack stays
 * valid after the lock is dropped. Bounds: `max_stacks` records and
 * 16 MiB of frames; past them, values are charged to one overflow record
 * whose only frame is the function pprofd_stack_table_full, so nothing is
 * lost silently.
 *
 * Threads: any thread outside signal context; one mutex per table (a
 * leaf: nothing under it takes another lock or calls malloc). Fork: call
 * the prefork/postfork hooks around fork() so a child never inherits it
 * locked.
 */
#ifndef PPROFD_CAPTURE_STACKTAB_H
#define PPROFD_CAPTURE_STACKTAB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define PPROFD__STACKTAB_VALUES 2
#define PPROFD__STACKTAB_CHUNKS 64

typedef struct pprofd__stackrec {
  uint64_t hash;
  const uint64_t *locs;
  uint32_t nlocs;
  int64_t v[PPROFD__STACKTAB_VALUES];
} pprofd__stackrec;

typedef struct pprofd__stacktab {
  pthread_mutex_t lock;
  uint32_t max_stacks; /* set before first use; at most 65536 */
  uint32_t n;
  uint32_t overflow; /* record of the overflow stack, + 1 */
  pprofd__stackrec *chunks[PPROFD__STACKTAB_CHUNKS];
  uint32_t *index; /* record + 1; 0 empty */
  size_t index_cap;
  uint64_t *loc_cur;
  size_t loc_left, loc_total;
  size_t own; /* bytes mapped */
} pprofd__stacktab;

/* A static initializer: PPROFD__STACKTAB_INIT(4096). */
#define PPROFD__STACKTAB_INIT(max)                                             \
  { .lock = PTHREAD_MUTEX_INITIALIZER, .max_stacks = (max) }

/* Adds vals[0..PPROFD__STACKTAB_VALUES) to the counters of the stack
 * locs[0..n) (leaf first; n >= 1), interning it if new. Never fails: a
 * stack that cannot be stored is charged to the overflow record (and if
 * even that cannot be made, the values are dropped and 0 returned).
 * Returns 1 when the values were charged. */
int pprofd__stacktab_add(pprofd__stacktab *t, const uint64_t *locs, uint32_t n,
                         const int64_t *vals);

/* Copies every record (stack pointer, counters) into a new array the
 * caller frees with pprofd__ifree. *n is the count. NULL with *n == 0
 * when the table is empty; NULL with *n == 1 when out of memory. */
pprofd__stackrec *pprofd__stacktab_copy(pprofd__stacktab *t, size_t *n);

/* The number of distinct stacks, and the bytes the table maps. */
size_t pprofd__stacktab_count(pprofd__stacktab *t);
size_t pprofd__stacktab_own_bytes(pprofd__stacktab *t);

/* Fork hooks: take the table's lock, release it. */
void pprofd__stacktab_prefork(pprofd__stacktab *t);
void pprofd__stacktab_postfork(pprofd__stacktab *t);

#endif
