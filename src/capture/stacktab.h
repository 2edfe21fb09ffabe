/*
 * stacktab.h - a bounded table of distinct stacks, each with a few
 * cumulative counters: the one stack table every sampler uses (heap,
 * block and mutex, thread creation, CPU sessions).
 *
 * pprofd__stacktab_intern interns a stack and returns its record number;
 * pprofd__stacktab_add_at adds values to a record's counters;
 * pprofd__stacktab_add does both. A collector copies every record out.
 * Counters are relaxed atomics, so adding to a known record takes no lock
 * and may run inside malloc and free (the heap sampler charges frees that
 * way); they only grow unless a caller undoes its own addition, so a
 * profile built from a table is cumulative, as Go's are.
 *
 * Memory comes from mmap, never from malloc, so the table can be fed from
 * inside interposed functions. Records live in chunks that never move and
 * stacks in an append-only frame arena, so a copied record's stack stays
 * valid after the lock is dropped, until pprofd__stacktab_destroy. Bounds:
 * `max_stacks` records and `max_loc_bytes` of frames; past them, values
 * are charged to one overflow record whose only frame is `overflow_loc`
 * (by default the function pprofd_stack_table_full), so nothing is lost
 * silently.
 *
 * Threads: interning and copying take the table's mutex (a leaf: nothing
 * under it takes another lock or calls malloc); adding to a record and
 * counting are lock-free. None of it is for signal context. Fork: call
 * the prefork/postfork hooks around fork() so a child never inherits the
 * mutex locked.
 */
#ifndef PPROFD_CAPTURE_STACKTAB_H
#define PPROFD_CAPTURE_STACKTAB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define PPROFD__STACKTAB_VALUES 4
#define PPROFD__STACKTAB_CHUNK 4096u
#define PPROFD__STACKTAB_CHUNKS 64 /* at most 262144 records */

/* A copied record. */
typedef struct pprofd__stackrec {
  uint64_t hash;
  const uint64_t *locs; /* leaf first */
  uint32_t nlocs;
  int64_t v[PPROFD__STACKTAB_VALUES];
} pprofd__stackrec;

struct pprofd__stackslot; /* a stored record (stacktab.c) */

typedef struct pprofd__stacktab {
  pthread_mutex_t lock;
  /* Set before first use. */
  uint32_t max_stacks;      /* 0 or above the chunks' room: that room */
  size_t max_loc_bytes;     /* 0: 16 MiB */
  const void *overflow_loc; /* NULL: pprofd_stack_table_full */
  /* Under lock; n is also read lock-free. */
  _Atomic uint32_t n;
  uint32_t overflow; /* record of the overflow stack, + 1 */
  struct pprofd__stackslot *chunks[PPROFD__STACKTAB_CHUNKS];
  uint32_t *index; /* record + 1; 0 empty */
  size_t index_cap;
  uint64_t *loc_cur;
  uint64_t *loc_last; /* the newest frame chunk; each links the previous */
  size_t loc_left, loc_total;
  _Atomic size_t own; /* bytes mapped; relaxed: for display */
} pprofd__stacktab;

/* A static initializer: PPROFD__STACKTAB_INIT(4096). Set the other
 * bounds with designated initializers after it, or before first use. */
#define PPROFD__STACKTAB_INIT(max)                                             \
  { .lock = PTHREAD_MUTEX_INITIALIZER, .max_stacks = (max) }

/* The record number of the stack locs[0..n) (leaf first), interned if
 * new; the overflow record when it cannot be stored or n is 0; -1 when
 * not even that can be made (out of memory). Takes the lock. */
int64_t pprofd__stacktab_intern(pprofd__stacktab *t, const uint64_t *locs,
                                uint32_t n);

/* Adds vals[0..PPROFD__STACKTAB_VALUES) to record i's counters (i from
 * pprofd__stacktab_intern). Lock-free and allocation-free: relaxed
 * atomic additions, so it may run inside malloc and free. */
void pprofd__stacktab_add_at(pprofd__stacktab *t, int64_t i,
                             const int64_t *vals);

/* Interns locs[0..n) and adds vals to its counters. Never fails: a stack
 * that cannot be stored is charged to the overflow record (and if even
 * that cannot be made, the values are dropped and 0 returned). Returns
 * 1 when the values were charged. */
int pprofd__stacktab_add(pprofd__stacktab *t, const uint64_t *locs, uint32_t n,
                         const int64_t *vals);

/* Copies every record (stack pointer, counters) into a new array the
 * caller frees with pprofd__ifree. *n is the count. NULL with *n == 0
 * when the table is empty; NULL with *n == 1 when out of memory. */
pprofd__stackrec *pprofd__stacktab_copy(pprofd__stacktab *t, size_t *n);

/* Copies record i (< pprofd__stacktab_count) into *out. Lock-free and
 * allocation-free: a counted record never moves and its stack never
 * changes; the counters are read one by one, relaxed. */
void pprofd__stacktab_read(pprofd__stacktab *t, uint32_t i,
                           pprofd__stackrec *out);

/* The number of distinct stacks, and the bytes the table maps. Lock-free. */
size_t pprofd__stacktab_count(pprofd__stacktab *t);
size_t pprofd__stacktab_own_bytes(pprofd__stacktab *t);

/* Unmaps everything the table holds and empties it (bounds kept). The
 * caller guarantees no other use, now or of earlier copies' stacks. */
void pprofd__stacktab_destroy(pprofd__stacktab *t);

/* Fork hooks: take the table's lock, release it. */
void pprofd__stacktab_prefork(pprofd__stacktab *t);
void pprofd__stacktab_postfork(pprofd__stacktab *t);

#endif
