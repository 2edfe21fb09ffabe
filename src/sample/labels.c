/*
 * labels.c - interned per-thread label sets (see labels.h).
 *
 * The intern table is an open-addressing hash of set pointers with a fixed
 * capacity of twice PPROFD__LABELS_MAX_SETS, so it never rehashes and a
 * set, once published, never moves. A set and its strings are one
 * allocation from ialloc that is never freed: the SIGPROF handler may copy
 * a set pointer into the sample ring at any moment, and the collector
 * reads it later, so a set must outlive every sample that names it. The
 * bound on the number of sets is what makes "never freed" safe for a
 * long-running daemon: an application that builds a new label value per
 * request gets PPROFD_ELIMIT instead of unbounded growth.
 */
#include "config.h"

#include "sample/labels.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/blockctx.h"
#include "pprofd.h"

#define TABLE_CAP (2 * PPROFD__LABELS_MAX_SETS)

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
PPROFD__LOCK_RANK(labels, &table_lock, PPROFD__RANK_LABELS);
static const pprofd__labelset *table[TABLE_CAP]; /* under table_lock */
static size_t table_n;                           /* under table_lock */

/* The thread's current set. Written only by its own thread, read by its
 * own signal handlers: a plain pointer store is atomic on every target we
 * build for, and the volatile keeps the compiler from caching it. */
static __thread const pprofd__labelset *volatile tls_labels
    __attribute__((tls_model("initial-exec")));

/* FNV-1a over the pairs, with separators so ("ab","c") != ("a","bc"). */
static uint64_t hash_pairs(const char *const *kv, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < 2 * n; i++) {
    for (const unsigned char *p = (const unsigned char *)kv[i]; *p; p++)
      h = (h ^ *p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  return h;
}

/* Whether set s holds exactly the n pairs in kv. */
static int same_pairs(const pprofd__labelset *s, const char *const *kv,
                      size_t n) {
  if (s->n != n)
    return 0;
  for (size_t i = 0; i < 2 * n; i++)
    if (strcmp(s->kv[i], kv[i]) != 0)
      return 0;
  return 1;
}

/* Sorts the pairs by key (insertion sort: n is at most 8) and drops
 * earlier duplicates; returns the number of pairs left in out. */
static size_t normalize(const char *const *kv, size_t n, const char **out) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const char *k = kv[2 * i], *v = kv[2 * i + 1];
    size_t j;
    for (j = 0; j < m; j++)
      if (strcmp(out[2 * j], k) == 0)
        break;
    if (j < m) { /* later duplicate wins */
      out[2 * j + 1] = v;
      continue;
    }
    j = m++;
    while (j > 0 && strcmp(out[2 * (j - 1)], k) > 0) {
      out[2 * j] = out[2 * (j - 1)];
      out[2 * j + 1] = out[2 * (j - 1) + 1];
      j--;
    }
    out[2 * j] = k;
    out[2 * j + 1] = v;
  }
  return m;
}

/* A new set holding copies of the n pairs, or NULL. */
static pprofd__labelset *make_set(const char *const *kv, size_t n) {
  size_t bytes = sizeof(pprofd__labelset) + 2 * n * sizeof(char *);
  for (size_t i = 0; i < 2 * n; i++)
    bytes += strlen(kv[i]) + 1;
  pprofd__labelset *s = pprofd__ialloc(bytes);
  if (s == NULL)
    return NULL;
  char *p = (char *)&s->kv[2 * n];
  s->n = n;
  for (size_t i = 0; i < 2 * n; i++) {
    size_t len = strlen(kv[i]) + 1;
    memcpy(p, kv[i], len);
    s->kv[i] = p;
    p += len;
  }
  return s;
}

int pprofd__labels_set(const char *const *kv, size_t npairs) {
  const char *norm[2 * PPROFD__LABELS_MAX_PAIRS];
  if (npairs == 0) {
    tls_labels = NULL;
    pprofd__blockctx_set_labels(NULL);
    return 0;
  }
  if (kv == NULL || npairs > PPROFD__LABELS_MAX_PAIRS)
    return PPROFD_EINVAL;
  for (size_t i = 0; i < 2 * npairs; i++) {
    if (kv[i] == NULL || strlen(kv[i]) > PPROFD__LABELS_MAX_LEN)
      return PPROFD_EINVAL;
    if (i % 2 == 0 && (kv[i][0] == '\0' || strcmp(kv[i], "thread") == 0))
      return PPROFD_EINVAL;
  }
  size_t n = normalize(kv, npairs, norm);
  uint64_t h = hash_pairs(norm, n);
  int err = 0;
  pprofd__mutex_lock(&table_lock);
  size_t i = (size_t)(h % TABLE_CAP);
  const pprofd__labelset *found = NULL;
  while (table[i] != NULL) {
    if (same_pairs(table[i], norm, n)) {
      found = table[i];
      break;
    }
    i = (i + 1) % TABLE_CAP;
  }
  if (found == NULL) {
    pprofd__labelset *s = NULL;
    if (table_n >= PPROFD__LABELS_MAX_SETS)
      err = PPROFD_ELIMIT;
    else if ((s = make_set(norm, n)) == NULL)
      err = PPROFD_ENOMEM;
    else {
      table[i] = s;
      table_n++;
      found = s;
    }
  }
  pprofd__mutex_unlock(&table_lock);
  if (err == 0) {
    tls_labels = found;
    /* For the wall-clock profile, which reads other threads' labels. */
    pprofd__blockctx_set_labels(found);
  }
  return err;
}

const pprofd__labelset *pprofd__labels_current_sigsafe(void) {
  return tls_labels;
}

size_t pprofd__labels_count(void) {
  pprofd__mutex_lock(&table_lock);
  size_t n = table_n;
  pprofd__mutex_unlock(&table_lock);
  return n;
}

void pprofd__labels_prefork(void) { pprofd__mutex_lock(&table_lock); }

void pprofd__labels_postfork(void) { pprofd__mutex_unlock(&table_lock); }
