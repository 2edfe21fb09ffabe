/*
 * heapmap.c - the table of live sampled blocks (see heapmap.h).
 *
 * Open addressing from block address to value, with tombstones. Writers
 * hold the heap lock; readers that do not (the free of an aligned
 * pointer, pprofd__heap_is_sampled) probe lock-free. A table outgrown is
 * kept, not unmapped (a reader may still probe it); it keeps every key it
 * had, and the key a free looks for was inserted before the block was
 * handed out, so a reader holding any table of its era finds it. Bound:
 * PTAB_MAX slots of 16 bytes, plus the retired tables (less than that
 * again); past it, new sampled blocks are not tracked (the caller counts
 * them).
 *
 * Called inside the interposed malloc family on any thread: no malloc,
 * no lock of its own.
 */
#include "config.h"

#include "sample/heapmap.h"

#include <stdatomic.h>
#include <sys/mman.h>

#define PTAB_MAX ((size_t)1 << 23)
#define TOMB ((uintptr_t)1)

typedef struct ptab {
  size_t cap; /* a power of two */
  size_t bytes;
  struct ptab *retired; /* the table this one replaced */
  _Atomic uintptr_t *keys;
  uint64_t *vals;
} ptab;

static struct {
  _Atomic(ptab *) ptab;
  size_t n, used;     /* live entries; live and tombstoned (heap lock) */
  _Atomic size_t own; /* relaxed: read only for display */
} map;

static size_t ptr_slot(uintptr_t p, size_t cap) {
  return (size_t)(((p >> 12) * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

/* Replaces the table with one of cap slots holding the live entries. */
static int rebuild(size_t cap) {
  size_t bytes = sizeof(ptab) + cap * (sizeof(uintptr_t) + sizeof(uint64_t));
  ptab *nt = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (nt == MAP_FAILED)
    return -1;
  atomic_fetch_add_explicit(&map.own, bytes, memory_order_relaxed);
  nt->cap = cap;
  nt->bytes = bytes;
  nt->keys = (_Atomic uintptr_t *)(nt + 1);
  nt->vals = (uint64_t *)(nt->keys + cap);
  ptab *old = atomic_load_explicit(&map.ptab, memory_order_relaxed);
  if (old != NULL) {
    for (size_t i = 0; i < old->cap; i++) {
      uintptr_t k = atomic_load_explicit(&old->keys[i], memory_order_relaxed);
      if (k == 0 || k == TOMB)
        continue;
      size_t s = ptr_slot(k, cap);
      while (atomic_load_explicit(&nt->keys[s], memory_order_relaxed) != 0)
        s = (s + 1) & (cap - 1);
      nt->vals[s] = old->vals[i];
      atomic_store_explicit(&nt->keys[s], k, memory_order_relaxed);
    }
  }
  nt->retired = old;
  map.used = map.n;
  /* Release: a reader that loads the new table sees its filled slots. */
  atomic_store_explicit(&map.ptab, nt, memory_order_release);
  return 0;
}

int pprofd__heapmap_insert_locked(uintptr_t p, uint64_t v, uint64_t *old) {
  ptab *t = atomic_load_explicit(&map.ptab, memory_order_relaxed);
  if (t == NULL || (map.used + 1) * 2 > t->cap) {
    size_t cap = 1024;
    while (cap < (map.n + 1) * 4)
      cap *= 2;
    if (cap > PTAB_MAX || rebuild(cap) != 0)
      return -1;
    t = atomic_load_explicit(&map.ptab, memory_order_relaxed);
  }
  size_t s = ptr_slot(p, t->cap), tomb = (size_t)-1;
  for (;;) {
    uintptr_t k = atomic_load_explicit(&t->keys[s], memory_order_relaxed);
    if (k == p) {
      /* A stale entry: its free bypassed us (e.g. glibc's internal
       * __libc_free). The block is gone; the caller counts it freed. */
      *old = t->vals[s];
      t->vals[s] = v;
      return 1;
    }
    if (k == TOMB && tomb == (size_t)-1)
      tomb = s;
    if (k == 0)
      break;
    s = (s + 1) & (t->cap - 1);
  }
  if (tomb != (size_t)-1)
    s = tomb;
  else
    map.used++;
  map.n++;
  t->vals[s] = v;
  /* Release: a lock-free reader that sees the key sees the value. */
  atomic_store_explicit(&t->keys[s], p, memory_order_release);
  return 0;
}

/* The slot of p in the current table, or -1. Heap lock held. */
static ptrdiff_t find(ptab *t, uintptr_t p) {
  if (t == NULL)
    return -1;
  size_t s = ptr_slot(p, t->cap);
  for (size_t i = 0; i < t->cap; i++) {
    uintptr_t k = atomic_load_explicit(&t->keys[s], memory_order_relaxed);
    if (k == p)
      return (ptrdiff_t)s;
    if (k == 0)
      return -1;
    s = (s + 1) & (t->cap - 1);
  }
  return -1;
}

int pprofd__heapmap_remove_locked(uintptr_t p, uint64_t *v) {
  ptab *t = atomic_load_explicit(&map.ptab, memory_order_relaxed);
  ptrdiff_t s = find(t, p);
  if (s < 0)
    return 0;
  *v = t->vals[s];
  atomic_store_explicit(&t->keys[s], TOMB, memory_order_relaxed);
  map.n--;
  return 1;
}

int pprofd__heapmap_get_locked(uintptr_t p, uint64_t *v) {
  ptab *t = atomic_load_explicit(&map.ptab, memory_order_relaxed);
  ptrdiff_t s = find(t, p);
  if (s < 0)
    return 0;
  *v = t->vals[s];
  return 1;
}

size_t pprofd__heapmap_live_locked(void) { return map.n; }

size_t pprofd__heapmap_own_bytes(void) {
  return atomic_load_explicit(&map.own, memory_order_relaxed);
}

int pprofd__heapmap_contains_sigsafe(const void *p) {
  /* Acquire pairs with the release in rebuild. */
  ptab *t = atomic_load_explicit(&map.ptab, memory_order_acquire);
  if (t == NULL)
    return 0;
  uintptr_t key = (uintptr_t)p;
  size_t s = ptr_slot(key, t->cap);
  for (size_t i = 0; i < t->cap; i++) {
    /* Relaxed: only the key is compared; a match is confirmed under the
     * heap lock before anything is read from the entry. */
    uintptr_t k = atomic_load_explicit(&t->keys[s], memory_order_relaxed);
    if (k == key)
      return 1;
    if (k == 0)
      return 0;
    s = (s + 1) & (t->cap - 1);
  }
  return 0;
}
