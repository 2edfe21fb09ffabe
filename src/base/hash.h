/*
 * hash.h - the hashes pprofd's tables use: FNV-1a over bytes (build-id
 * and name caches) and a multiplicative mix over a stack's addresses
 * (stack tables). Pure functions; signal-safe.
 */
#ifndef PPROFD_BASE_HASH_H
#define PPROFD_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define PPROFD__FNV_INIT 0xcbf29ce484222325ull

/* FNV-1a over n bytes, continuing from h (start from PPROFD__FNV_INIT). */
static inline uint64_t pprofd__fnv1a(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* A hash of a stack's addresses (leaf first), for interning tables. Never
 * 0, so a table may use 0 for an empty slot. */
static inline uint64_t pprofd__stack_hash(const uint64_t *locs, uint32_t n) {
  uint64_t h = 0x84222325cbf29ce4ull ^ n;
  for (uint32_t i = 0; i < n; i++) {
    h = (h ^ locs[i]) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  return h ? h : 1;
}

#endif
