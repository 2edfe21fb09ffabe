/*
 * ialloc.c - the library's own memory (see ialloc.h).
 *
 * Each block carries a 16-byte header with its size so the in-use figure
 * stays exact without asking the allocator; the counter is a relaxed
 * atomic because it is a statistic that no other memory depends on.
 *
 * Every call into the C library's allocator runs under the heap
 * reentrancy guard (base/guard.h): the interposed malloc then
 * forwards straight to the real one, so pprofd's own memory is never
 * sampled and never recurses into the sampler.
 */
#include "config.h"

#include "base/ialloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/guard.h"

#define HDR 16 /* keeps the payload 16-byte aligned like malloc's */

/* malloc, realloc and free with sampling off for this thread. */
static void *raw_malloc(size_t n) {
  pprofd__guard_enter();
  void *p = malloc(n);
  pprofd__guard_exit();
  return p;
}

static void *raw_realloc(void *p, size_t n) {
  pprofd__guard_enter();
  void *q = realloc(p, n);
  pprofd__guard_exit();
  return q;
}

static void raw_free(void *p) {
  pprofd__guard_enter();
  free(p);
  pprofd__guard_exit();
}

static atomic_size_t in_use;

void *pprofd__ialloc(size_t size) {
  if (size > (size_t)-1 - HDR)
    return NULL;
  unsigned char *p = raw_malloc(size + HDR);
  if (p == NULL)
    return NULL;
  memcpy(p, &size, sizeof size);
  atomic_fetch_add_explicit(&in_use, size, memory_order_relaxed);
  return p + HDR;
}

void *pprofd__icalloc(size_t n, size_t size) {
  if (size != 0 && n > ((size_t)-1 - HDR) / size)
    return NULL;
  void *p = pprofd__ialloc(n * size);
  if (p != NULL)
    memset(p, 0, n * size);
  return p;
}

void *pprofd__irealloc(void *p, size_t size) {
  if (p == NULL)
    return pprofd__ialloc(size);
  if (size > (size_t)-1 - HDR)
    return NULL;
  unsigned char *base = (unsigned char *)p - HDR;
  size_t old;
  memcpy(&old, base, sizeof old);
  unsigned char *n = raw_realloc(base, size + HDR);
  if (n == NULL)
    return NULL;
  memcpy(n, &size, sizeof size);
  atomic_fetch_add_explicit(&in_use, size, memory_order_relaxed);
  atomic_fetch_sub_explicit(&in_use, old, memory_order_relaxed);
  return n + HDR;
}

void pprofd__ifree(void *p) {
  if (p == NULL)
    return;
  unsigned char *base = (unsigned char *)p - HDR;
  size_t old;
  memcpy(&old, base, sizeof old);
  atomic_fetch_sub_explicit(&in_use, old, memory_order_relaxed);
  raw_free(base);
}

char *pprofd__istrndup(const char *s, size_t n) {
  if (s == NULL)
    return NULL;
  size_t len = strnlen(s, n);
  char *d = pprofd__ialloc(len + 1);
  if (d == NULL)
    return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *pprofd__istrdup(const char *s) {
  return s == NULL ? NULL : pprofd__istrndup(s, strlen(s));
}

size_t pprofd__ialloc_in_use(void) {
  return atomic_load_explicit(&in_use, memory_order_relaxed);
}
