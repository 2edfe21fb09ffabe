/*
 * stacktab.c - a bounded table of distinct stacks (see stacktab.h).
 *
 * Records: chunks of CHUNK records mapped on demand, so a record's
 * address never changes. Index: open addressing from the stack's hash
 * to record number + 1, doubled and rebuilt when half full. Frames: an
 * append-only arena of 1 MiB mappings, never freed. Everything under the
 * table's mutex; the memory is mmap'd so the table works inside malloc.
 */
#include "config.h"

#include "capture/stacktab.h"

#include <string.h>
#include <sys/mman.h>

#include "base/hash.h"
#include "base/ialloc.h"
#include "base/libc.h"

#define CHUNK 1024u
#define LOC_CHUNK ((size_t)1 << 20)
#define LOC_MAX ((size_t)16 << 20)

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
  t->own += n;
  return p;
}

static pprofd__stackrec *rec_at(pprofd__stacktab *t, uint32_t i) {
  return &t->chunks[i / CHUNK][i % CHUNK];
}

/* The most records the table may hold, overflow record included. */
static uint32_t cap_of(const pprofd__stacktab *t) {
  uint32_t max = CHUNK * PPROFD__STACKTAB_CHUNKS;
  return t->max_stacks > 0 && t->max_stacks < max ? t->max_stacks : max;
}

/* Rebuilds the index with twice the slots. */
static int grow_index(pprofd__stacktab *t) {
  size_t cap = t->index_cap ? t->index_cap * 2 : 1024;
  uint32_t *ix = map(t, cap * sizeof *ix);
  if (ix == NULL)
    return -1;
  for (uint32_t i = 0; i < t->n; i++) {
    size_t s = rec_at(t, i)->hash & (cap - 1);
    while (ix[s] != 0)
      s = (s + 1) & (cap - 1);
    ix[s] = i + 1;
  }
  if (t->index != NULL) {
    munmap(t->index, t->index_cap * sizeof *t->index);
    t->own -= t->index_cap * sizeof *t->index;
  }
  t->index = ix;
  t->index_cap = cap;
  return 0;
}

/* Copies a stack into the frame arena; NULL when it is full. */
static uint64_t *store_locs(pprofd__stacktab *t, const uint64_t *locs,
                            uint32_t n) {
  size_t need = (size_t)n * sizeof *locs;
  if (t->loc_left < need) {
    if (t->loc_total + LOC_CHUNK > LOC_MAX)
      return NULL;
    uint64_t *c = map(t, LOC_CHUNK);
    if (c == NULL)
      return NULL;
    t->loc_cur = c;
    t->loc_left = LOC_CHUNK;
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
  uint32_t i = t->n;
  if (i >= cap_of(t))
    return -1;
  if (t->chunks[i / CHUNK] == NULL &&
      (t->chunks[i / CHUNK] = map(t, CHUNK * sizeof(pprofd__stackrec))) == NULL)
    return -1;
  if ((size_t)(i + 1) * 2 > t->index_cap && grow_index(t) != 0)
    return -1;
  pprofd__stackrec *r = rec_at(t, i);
  r->hash = h;
  r->locs = stored;
  r->nlocs = n;
  size_t s = h & (t->index_cap - 1);
  while (t->index[s] != 0)
    s = (s + 1) & (t->index_cap - 1);
  t->index[s] = i + 1;
  t->n = i + 1;
  return i;
}

/* The overflow record, made on first need in the last free slot. */
static int64_t overflow_rec(pprofd__stacktab *t) {
  static const uint64_t full_loc[1] = {
      (uint64_t)(uintptr_t)pprofd_stack_table_full};
  if (t->overflow == 0) {
    int64_t i = add_rec(t, full_loc, 1, pprofd__stack_hash(full_loc, 1));
    if (i < 0)
      return -1;
    t->overflow = (uint32_t)i + 1;
  }
  return t->overflow - 1;
}

/* The record of the stack, interned if new; -1 when nothing is left. */
static int64_t intern(pprofd__stacktab *t, const uint64_t *locs, uint32_t n) {
  uint64_t h = pprofd__stack_hash(locs, n);
  if (t->index_cap != 0) {
    size_t s = h & (t->index_cap - 1);
    for (uint32_t v; (v = t->index[s]) != 0; s = (s + 1) & (t->index_cap - 1)) {
      pprofd__stackrec *r = rec_at(t, v - 1);
      if (r->hash == h && r->nlocs == n &&
          memcmp(r->locs, locs, n * sizeof *locs) == 0)
        return v - 1;
    }
  }
  /* Keep the last slot for the overflow record. */
  if (t->n + 1 < cap_of(t)) {
    uint64_t *stored = store_locs(t, locs, n);
    int64_t i = stored != NULL ? add_rec(t, stored, n, h) : -1;
    if (i >= 0)
      return i;
  }
  return overflow_rec(t);
}

int pprofd__stacktab_add(pprofd__stacktab *t, const uint64_t *locs, uint32_t n,
                         const int64_t *vals) {
  pprofd__mutex_lock(&t->lock);
  int64_t i = n > 0 ? intern(t, locs, n) : overflow_rec(t);
  if (i >= 0) {
    pprofd__stackrec *r = rec_at(t, (uint32_t)i);
    for (int k = 0; k < PPROFD__STACKTAB_VALUES; k++)
      r->v[k] += vals[k];
  }
  pprofd__mutex_unlock(&t->lock);
  return i >= 0;
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
  size_t m = t->n < cap ? t->n : cap; /* it may have grown meanwhile */
  for (size_t i = 0; i < m; i++)
    c[i] = *rec_at(t, (uint32_t)i);
  pprofd__mutex_unlock(&t->lock);
  *n = m;
  return c;
}

size_t pprofd__stacktab_count(pprofd__stacktab *t) {
  pprofd__mutex_lock(&t->lock);
  size_t n = t->n;
  pprofd__mutex_unlock(&t->lock);
  return n;
}

size_t pprofd__stacktab_own_bytes(pprofd__stacktab *t) {
  pprofd__mutex_lock(&t->lock);
  size_t n = t->own;
  pprofd__mutex_unlock(&t->lock);
  return n;
}

void pprofd__stacktab_prefork(pprofd__stacktab *t) {
  pprofd__mutex_lock(&t->lock);
}

void pprofd__stacktab_postfork(pprofd__stacktab *t) {
  pprofd__mutex_unlock(&t->lock);
}
