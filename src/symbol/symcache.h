/*
 * symcache.h - the symbolizer's memory: an arena, interned strings, the
 * address-to-result table and the table of per-module indexes.
 *
 * Owns: everything a batch of lookups allocates and keeps. An arena of
 * 64 KiB chunks from ialloc holds every result, its frames, its strings
 * and the indexes built over a module's symbols or a unit's functions;
 * three open-addressing tables point into it: address -> result,
 * string -> its interned copy, (module, key) -> index. Nothing is freed
 * before pprofd__symcache_clear drops it all.
 *
 * Bounds: the address table grows up to PPROFD__SYMCACHE_SLOTS_MAX slots
 * and the arena up to PPROFD__SYMCACHE_BYTES_MAX bytes. Past either the
 * cache is marked full: results still go into the arena (their pointers
 * must stay valid until the batch ends) but are not indexed, and the owner
 * clears the cache before its next batch.
 *
 * Threads: none of its own. The symbolizer calls every function here with
 * its lock held (symbol/symbolize.c); never from a signal handler or from
 * inside malloc.
 */
#ifndef PPROFD_SYMBOL_SYMCACHE_H
#define PPROFD_SYMBOL_SYMCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define PPROFD__SYMCACHE_SLOTS_MAX (1u << 18)  /* address table slots */
#define PPROFD__SYMCACHE_BYTES_MAX (64u << 20) /* arena bytes */
#define PPROFD__SYMCACHE_KEY_SYMTAB UINT64_MAX /* key of a symbol index */

/* One slot of an open-addressing table; val NULL marks it empty. */
typedef struct pprofd__symcache_slot {
  uint64_t h; /* the key itself (addresses) or a hash of it */
  void *val;
} pprofd__symcache_slot;

/* An open-addressing table with linear probing; n is a power of two. */
typedef struct pprofd__symcache_tab {
  pprofd__symcache_slot *v; /* from ialloc */
  size_t n, count;
} pprofd__symcache_tab;

/* What an index is for: a module's symbols (key
 * PPROFD__SYMCACHE_KEY_SYMTAB) or one of its compile units (key: the
 * unit's DIE offset). Every index stored in the cache starts with one. */
typedef struct pprofd__symcache_key {
  const void *mod; /* the Dwfl_Module */
  uint64_t key;
} pprofd__symcache_key;

typedef struct pprofd__symcache {
  struct pprofd__symcache_chunk *chunks; /* newest first */
  size_t arena_bytes;
  pprofd__symcache_tab addrs; /* address -> result */
  pprofd__symcache_tab strs;  /* interned strings */
  pprofd__symcache_tab idxs;  /* (module, key) -> index */
  int full;                   /* a bound was hit: clear before the next batch */
} pprofd__symcache;

/* n bytes from the arena, 16-byte aligned and valid until the next
 * pprofd__symcache_clear; NULL when out of memory. */
void *pprofd__symcache_alloc(pprofd__symcache *c, size_t n) PPROFD__WARN_UNUSED;
/* The interned copy of s ("" for NULL or empty strings): one copy of each
 * distinct string, in the arena. NULL when out of memory. */
const char *pprofd__symcache_intern(pprofd__symcache *c,
                                    const char *s) PPROFD__WARN_UNUSED;
/* Mixes a key into a table index (the multiplier spreads the low bits,
 * which are often aligned). */
static inline size_t pprofd__symcache_mix(uint64_t a) {
  a ^= a >> 29;
  a *= 0xbf58476d1ce4e5b9ull;
  a ^= a >> 32;
  return (size_t)a;
}

/* The result stored for addr, or NULL. Inline: it is the whole cost of a
 * cached lookup. */
static inline void *pprofd__symcache_get(const pprofd__symcache *c,
                                         uint64_t addr) {
  const pprofd__symcache_tab *t = &c->addrs;
  if (t->n == 0)
    return NULL;
  size_t j = pprofd__symcache_mix(addr) & (t->n - 1);
  while (t->v[j].val != NULL && t->v[j].h != addr)
    j = (j + 1) & (t->n - 1);
  return t->v[j].val;
}
/* Stores the result rec (in the arena) for addr, which must not be stored
 * yet. Growing the table within its bound; at the bound rec stays
 * unindexed and the cache is marked full; out of memory it stays
 * unindexed. */
void pprofd__symcache_put(pprofd__symcache *c, uint64_t addr, void *rec);
/* The slot of the index for (mod, key): its val is the index when one was
 * built before, else NULL, and then pprofd__symcache_index_add stores a
 * new one there (with no other call that changes the index table in
 * between). NULL when out of memory. */
pprofd__symcache_slot *pprofd__symcache_index(pprofd__symcache *c,
                                              const void *mod,
                                              uint64_t key) PPROFD__WARN_UNUSED;
/* Stores index k, built in the arena, in the empty slot returned for its
 * (mod, key). */
void pprofd__symcache_index_add(pprofd__symcache *c,
                                pprofd__symcache_slot *slot,
                                pprofd__symcache_key *k);
/* Drops every result, string and index and frees the arena; the cache is
 * empty and not full. */
void pprofd__symcache_clear(pprofd__symcache *c);
/* Bytes held: the arena and the three tables. */
size_t pprofd__symcache_bytes(const pprofd__symcache *c);

#endif
