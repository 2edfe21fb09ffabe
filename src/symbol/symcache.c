/*
 * symcache.c - the symbolizer's arena and its three tables.
 *
 * The arena is a list of chunks from ialloc, newest first; an allocation
 * takes the free tail of the newest chunk or starts a new one. A request
 * larger than a quarter chunk gets a block of its own, linked behind the
 * newest chunk so that the chunk keeps its free space for the small
 * allocations that follow.
 *
 * The three tables share one implementation: open addressing with linear
 * probing, a slot holding a 64-bit key and a pointer into the arena, grown
 * by doubling before they pass three quarters full. The key is the
 * address itself for the address table and an FNV-1a hash for the other
 * two, whose slots also compare the value (the string, the index's module
 * and key); the slot index is a mix of the key, since addresses are often
 * aligned and their low bits alike.
 *
 * Called only with the symbolizer lock held (see symcache.h).
 */
#include "config.h"

#include "symbol/symcache.h"

#include <string.h>

#include "base/hash.h"
#include "base/ialloc.h"

#define CHUNK_SIZE 65536   /* arena chunk */
#define ADDRS_MIN 1024     /* first size of the address table */
#define STRS_MIN 1024      /* first size of the string set */
#define IDXS_MIN 64        /* first size of the index table */
#define UNBOUNDED SIZE_MAX /* a table that may grow without bound */

/* One block of the arena; data follows. */
struct pprofd__symcache_chunk {
  struct pprofd__symcache_chunk *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
};

/* Accepts a slot's value as the one sought (the keys being equal). */
typedef int (*same_fn)(const void *val, const void *arg);

/* The slot of v (n slots, one at least empty) holding key h with a value
 * that `same` accepts (any value when same is NULL), or the empty slot
 * where it belongs. */
static pprofd__symcache_slot *probe(pprofd__symcache_slot *v, size_t n,
                                    uint64_t h, same_fn same, const void *arg) {
  size_t j = pprofd__symcache_mix(h) & (n - 1);
  while (v[j].val != NULL &&
         !(v[j].h == h && (same == NULL || same(v[j].val, arg))))
    j = (j + 1) & (n - 1);
  return &v[j];
}

/* Makes room in t for one more entry: doubles it (to `min` slots at
 * first) when the entry would fill it past three quarters. Returns 0 when
 * there is room, 1 when the table is already `max` slots large and full,
 * -1 when out of memory. */
static int reserve(pprofd__symcache_tab *t, size_t min, size_t max) {
  if (t->count + 1 <= t->n / 4 * 3)
    return 0;
  if (t->n >= max)
    return 1;
  size_t n = t->n ? t->n * 2 : min;
  pprofd__symcache_slot *v = pprofd__icalloc(n, sizeof *v);
  if (v == NULL)
    return -1;
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].val != NULL)
      *probe(v, n, t->v[i].h, NULL, NULL) = t->v[i];
  pprofd__ifree(t->v);
  t->v = v;
  t->n = n;
  return 0;
}

/* Fills an empty slot of t. */
static void occupy(pprofd__symcache_tab *t, pprofd__symcache_slot *s,
                   uint64_t h, void *val) {
  s->h = h;
  s->val = val;
  t->count++;
}

/* Frees a table's slots; it is empty. */
static void tab_free(pprofd__symcache_tab *t) {
  pprofd__ifree(t->v);
  t->v = NULL;
  t->n = t->count = 0;
}

void *pprofd__symcache_alloc(pprofd__symcache *c, size_t n) {
  n = (n + 15) & ~(size_t)15;
  struct pprofd__symcache_chunk *k = c->chunks;
  if (k == NULL || k->size - k->used < n) {
    size_t size = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
    k = pprofd__ialloc(sizeof *k + size);
    if (k == NULL)
      return NULL;
    k->used = 0;
    k->size = size;
    if (size == CHUNK_SIZE || c->chunks == NULL) {
      k->next = c->chunks;
      c->chunks = k;
    } else {
      k->next = c->chunks->next;
      c->chunks->next = k;
    }
    c->arena_bytes += sizeof *k + size;
    if (c->arena_bytes > PPROFD__SYMCACHE_BYTES_MAX)
      c->full = 1;
  }
  void *p = k->data + k->used;
  k->used += n;
  return p;
}

/* String equality, for the string set. */
static int same_str(const void *val, const void *arg) {
  return strcmp(val, arg) == 0;
}

const char *pprofd__symcache_intern(pprofd__symcache *c, const char *s) {
  if (s == NULL || s[0] == '\0')
    return "";
  size_t len = strlen(s);
  uint64_t h = pprofd__fnv1a(PPROFD__FNV_INIT, s, len);
  if (reserve(&c->strs, STRS_MIN, UNBOUNDED) != 0)
    return NULL;
  pprofd__symcache_slot *slot = probe(c->strs.v, c->strs.n, h, same_str, s);
  if (slot->val != NULL)
    return slot->val;
  char *copy = pprofd__symcache_alloc(c, len + 1);
  if (copy == NULL)
    return NULL;
  memcpy(copy, s, len + 1);
  occupy(&c->strs, slot, h, copy);
  return copy;
}

void pprofd__symcache_put(pprofd__symcache *c, uint64_t addr, void *rec) {
  int rc = reserve(&c->addrs, ADDRS_MIN, PPROFD__SYMCACHE_SLOTS_MAX);
  if (rc > 0)
    c->full = 1;
  if (rc != 0)
    return;
  occupy(&c->addrs, probe(c->addrs.v, c->addrs.n, addr, NULL, NULL), addr, rec);
}

/* Index identity, for the index table. */
static int same_key(const void *val, const void *arg) {
  const pprofd__symcache_key *a = val, *b = arg;
  return a->mod == b->mod && a->key == b->key;
}

pprofd__symcache_slot *pprofd__symcache_index(pprofd__symcache *c,
                                              const void *mod, uint64_t key) {
  pprofd__symcache_key k = {.mod = mod, .key = key};
  uintptr_t mp = (uintptr_t)mod;
  uint64_t h = pprofd__fnv1a(pprofd__fnv1a(PPROFD__FNV_INIT, &mp, sizeof mp),
                             &key, sizeof key);
  if (reserve(&c->idxs, IDXS_MIN, UNBOUNDED) != 0)
    return NULL;
  pprofd__symcache_slot *slot = probe(c->idxs.v, c->idxs.n, h, same_key, &k);
  slot->h = h;
  return slot;
}

void pprofd__symcache_index_add(pprofd__symcache *c,
                                pprofd__symcache_slot *slot,
                                pprofd__symcache_key *k) {
  occupy(&c->idxs, slot, slot->h, k);
}

void pprofd__symcache_clear(pprofd__symcache *c) {
  struct pprofd__symcache_chunk *k = c->chunks;
  while (k != NULL) {
    struct pprofd__symcache_chunk *next = k->next;
    pprofd__ifree(k);
    k = next;
  }
  c->chunks = NULL;
  c->arena_bytes = 0;
  tab_free(&c->addrs);
  tab_free(&c->strs);
  tab_free(&c->idxs);
  c->full = 0;
}

size_t pprofd__symcache_bytes(const pprofd__symcache *c) {
  return c->arena_bytes +
         (c->addrs.n + c->strs.n + c->idxs.n) * sizeof(pprofd__symcache_slot);
}
