/*
 * stacktab.c - a bounded table of distinct stacks (see stacktab.h).
 *
 * Records: chunks of PPROFD__STACKTAB_CHUNK records mapped on demand, so
 * a record's address never changes; each holds the stack's hash, its
 * stored frames and relaxed atomic counters. Index: open addressing from
 * the stack's hash to record number + 1, doubled and rebuilt when half
 * full. Frames: an append-only arena of 1 MiB mappings, each starting
 * with a link to the one before (so destroy can find them all). Interning
 * is under the table's mutex; counters are added without it. Everything
 * is mmap'd so the table works inside malloc. Runs on any thread, never
 * in signal context.
 */
#include "config.h"

#include "capture/stacktab.h"

#include <string.h>
#include <sys/mman.h>

#include "base/hash.h"
#include "base/ialloc.h"
#include "base/libc.h"

#define CHUNK PPROFD__STACKTAB_CHUNK
#define LOC_CHUNK ((size_t)1 << 20)
#define LOC_MAX_DEFAULT ((size_t)16 << 20)

struct pprofd__stackslot {
  uint64_t hash;
  const uint64_t *locs;
  uint32_t nlocs;
  /* Relaxed atomics: statistics that no other memory depends on. */
  _Atomic int64_t v[PPROFD__STACKTAB_VALUES];
};
typedef struct pprofd__stackslot slot;

/* Stands for the stacks charged after a table filled up. */
__attribute__((noipa, used)) void pprofd_stack_table_full(void);
__attribute__((noipa, used)) void pprofd_stack_table_full(void) {
  __asm__ volatile("");
}

/* n bytes of zeroed memory from the kernel, counted; NULL on failure. */
static void *map(pprofd__stacktab *t, size_t n) {
  void *p =
      mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  atomic_fetch_add_explicit(&t->own, n, memory_order_relaxed);
  return p;
}

static void unmap(pprofd__stacktab *t, void *p, size_t n) {
  if (p == NULL)
    return;
  munmap(p, n);
  atomic_fetch_sub_explicit(&t->own, n, memory_order_relaxed);
}

static slot *rec_at(pprofd__stacktab *t, uint32_t i) {
  return &t->chunks[i / CHUNK][i % CHUNK];
}

/* The most records the table may hold, overflow record included. */
static uint32_t cap_of(const pprofd__stacktab *t) {
  uint32_t max = CHUNK * PPROFD__STACKTAB_CHUNKS;
  return t->max_stacks > 0 && t->max_stacks < max ? t->max_stacks : max;
}

/* Relaxed: n is written under the lock this caller holds. */
static uint32_t count_locked(pprofd__stacktab *t) {
  return atomic_load_explicit(&t->n, memory_order_relaxed);
}

/* Rebuilds the index with twice the slots. */
static int grow_index(pprofd__stacktab *t) {
  size_t cap = t->index_cap ? t->index_cap * 2 : 1024;
  uint32_t *ix = map(t, cap * sizeof *ix);
  if (ix == NULL)
    return -1;
  uint32_t n = count_locked(t);
  for (uint32_t i = 0; i < n; i++) {
    size_t s = rec_at(t, i)->hash & (cap - 1);
    while (ix[s] != 0)
      s = (s + 1) & (cap - 1);
    ix[s] = i + 1;
  }
  unmap(t, t->index, t->index_cap * sizeof *t->index);
  t->index = ix;
  t->index_cap = cap;
  return 0;
}

/* Copies a stack into the frame arena; NULL when it is full. */
static uint64_t *store_locs(pprofd__stacktab *t, const uint64_t *locs,
                            uint32_t n) {
  size_t need = (size_t)n * sizeof *locs;
  size_t max = t->max_loc_bytes ? t->max_loc_bytes : LOC_MAX_DEFAULT;
  if (t->loc_left < need) {
    if (t->loc_total + LOC_CHUNK > max)
      return NULL;
    uint64_t *c = map(t, LOC_CHUNK);
    if (c == NULL)
      return NULL;
    c[0] = (uint64_t)(uintptr_t)t->loc_last;
    t->loc_last = c;
    t->loc_cur = c + 1;
    t->loc_left = LOC_CHUNK - sizeof *c;
    t->loc_total += LOC_CHUNK;
  }
  uint64_t *d = t->loc_cur;
  memcpy(d, locs, need);
  t->loc_cur += n;
  t->loc_left -= need;
  return d;
}

/* Appends a record for a stored stack; its number, or -1. */
static int64_t add_rec(pprofd__stacktab *t, const uint64_t *stored, uint32_t n,
                       uint64_t h) {
  uint32_t i = count_locked(t);
  if (i >= cap_of(t))
    return -1;
  if (t->chunks[i / CHUNK] == NULL &&
      (t->chunks[i / CHUNK] = map(t, CHUNK * sizeof(slot))) == NULL)
    return -1;
  if ((size_t)(i + 1) * 2 > t->index_cap && grow_index(t) != 0)
    return -1;
  slot *r = rec_at(t, i);
  r->hash = h;
  r->locs = stored;
  r->nlocs = n;
  size_t s = h & (t->index_cap - 1);
  while (t->index[s] != 0)
    s = (s + 1) & (t->index_cap - 1);
  t->index[s] = i + 1;
  /* Release pairs with the acquire in pprofd__stacktab_count: a reader
   * that counts the record may read it. */
  atomic_store_explicit(&t->n, i + 1, memory_order_release);
  return i;
}

/* The overflow record, made on first need in the last free slot. */
static int64_t overflow_rec(pprofd__stacktab *t) {
  static const uint64_t default_loc[1] = {
      (uint64_t)(uintptr_t)pprofd_stack_table_full};
  if (t->overflow == 0) {
    const uint64_t *loc = default_loc;
    if (t->overflow_loc != NULL) {
      uint64_t one = (uint64_t)(uintptr_t)t->overflow_loc;
      if ((loc = store_locs(t, &one, 1)) == NULL)
        return -1;
    }
    int64_t i = add_rec(t, loc, 1, pprofd__stack_hash(loc, 1));
    if (i < 0)
      return -1;
    t->overflow = (uint32_t)i + 1;
  }
  return t->overflow - 1;
}

/* The record of the stack, interned if new; -1 when nothing is left. */
static int64_t intern_locked(pprofd__stacktab *t, const uint64_t *locs,
                             uint32_t n, uint64_t h) {
  if (t->index_cap != 0) {
    size_t s = h & (t->index_cap - 1);
    for (uint32_t v; (v = t->index[s]) != 0; s = (s + 1) & (t->index_cap - 1)) {
      slot *r = rec_at(t, v - 1);
      if (r->hash == h && r->nlocs == n &&
          memcmp(r->locs, locs, n * sizeof *locs) == 0)
        return v - 1;
    }
  }
  /* Keep the last slot for the overflow record. */
  if (count_locked(t) + 1 < cap_of(t)) {
    uint64_t *stored = store_locs(t, locs, n);
    int64_t i = stored != NULL ? add_rec(t, stored, n, h) : -1;
    if (i >= 0)
      return i;
  }
  return overflow_rec(t);
}

int64_t pprofd__stacktab_intern(pprofd__stacktab *t, const uint64_t *locs,
                                uint32_t n) {
  uint64_t h = n > 0 ? pprofd__stack_hash(locs, n) : 0;
  pprofd__mutex_lock(&t->lock);
  int64_t i = n > 0 ? intern_locked(t, locs, n, h) : overflow_rec(t);
  pprofd__mutex_unlock(&t->lock);
  return i;
}

void pprofd__stacktab_add_at(pprofd__stacktab *t, int64_t i,
                             const int64_t *vals) {
  slot *r = rec_at(t, (uint32_t)i);
  for (int k = 0; k < PPROFD__STACKTAB_VALUES; k++)
    if (vals[k] != 0)
      atomic_fetch_add_explicit(&r->v[k], vals[k], memory_order_relaxed);
}

int pprofd__stacktab_add(pprofd__stacktab *t, const uint64_t *locs, uint32_t n,
                         const int64_t *vals) {
  int64_t i = pprofd__stacktab_intern(t, locs, n);
  if (i < 0)
    return 0;
  pprofd__stacktab_add_at(t, i, vals);
  return 1;
}

void pprofd__stacktab_read(pprofd__stacktab *t, uint32_t i,
                           pprofd__stackrec *out) {
  const slot *r = rec_at(t, i);
  out->hash = r->hash;
  out->locs = r->locs;
  out->nlocs = r->nlocs;
  for (int k = 0; k < PPROFD__STACKTAB_VALUES; k++)
    out->v[k] = atomic_load_explicit(&r->v[k], memory_order_relaxed);
}

pprofd__stackrec *pprofd__stacktab_copy(pprofd__stacktab *t, size_t *n) {
  size_t cap = pprofd__stacktab_count(t);
  *n = 0;
  if (cap == 0)
    return NULL;
  pprofd__stackrec *c = pprofd__icalloc(cap, sizeof *c);
  if (c == NULL) {
    *n = 1;
    return NULL;
  }
  pprofd__mutex_lock(&t->lock);
  size_t m = count_locked(t);
  if (m > cap)
    m = cap; /* it may have grown meanwhile */
  for (size_t i = 0; i < m; i++)
    pprofd__stacktab_read(t, (uint32_t)i, &c[i]);
  pprofd__mutex_unlock(&t->lock);
  *n = m;
  return c;
}

size_t pprofd__stacktab_count(pprofd__stacktab *t) {
  /* Acquire pairs with the release in add_rec. */
  return atomic_load_explicit(&t->n, memory_order_acquire);
}

size_t pprofd__stacktab_own_bytes(pprofd__stacktab *t) {
  return atomic_load_explicit(&t->own, memory_order_relaxed);
}

void pprofd__stacktab_destroy(pprofd__stacktab *t) {
  for (int c = 0; c < PPROFD__STACKTAB_CHUNKS; c++) {
    unmap(t, t->chunks[c], CHUNK * sizeof(slot));
    t->chunks[c] = NULL;
  }
  unmap(t, t->index, t->index_cap * sizeof *t->index);
  t->index = NULL;
  t->index_cap = 0;
  while (t->loc_last != NULL) {
    uint64_t *prev = (uint64_t *)(uintptr_t)t->loc_last[0];
    unmap(t, t->loc_last, LOC_CHUNK);
    t->loc_last = prev;
  }
  t->loc_cur = NULL;
  t->loc_left = t->loc_total = 0;
  t->overflow = 0;
  atomic_store_explicit(&t->n, 0, memory_order_relaxed);
}

void pprofd__stacktab_prefork(pprofd__stacktab *t) {
  pprofd__mutex_lock(&t->lock);
}

void pprofd__stacktab_postfork(pprofd__stacktab *t) {
  pprofd__mutex_unlock(&t->lock);
}
