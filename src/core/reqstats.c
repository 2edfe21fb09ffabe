/*
 * reqstats.c - request counts by path and code (see reqstats.h).
 *
 * A small array searched linearly: a few dozen pairs in practice (the
 * profiles times the handful of codes each can answer), and a request is
 * counted after its reply is queued, so the search never delays one.
 */
#include "config.h"

#include "core/reqstats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "core/profiles.h"
#include "pprofd.h"

#define MAX_PAIRS 512

static struct {
  pthread_mutex_t lock; /* everything below */
  size_t n;
  pprofd__reqstat pairs[MAX_PAIRS];
} rs = {.lock = PTHREAD_MUTEX_INITIALIZER};
PPROFD__LOCK_RANK(reqstats, &rs.lock, PPROFD__RANK_REQSTATS);

/* Whether path is one pprofd serves (and so a label of its own). */
static int known(const char *path) {
  static const char prefix[] = "/debug/pprof/";
  if (strcmp(path, "/metrics") == 0 || strcmp(path, "/debug/vars") == 0)
    return 1;
  if (strncmp(path, prefix, sizeof prefix - 1) != 0)
    return 0;
  const char *name = path + sizeof prefix - 1;
  if (name[0] == '\0' || strcmp(name, "symbol") == 0)
    return 1;
  pprofd__kind tmp;
  const pprofd__kind *k;
  return strlen(path) < sizeof rs.pairs[0].path &&
         pprofd__kind_lookup(name, &tmp, &k) == 0;
}

void pprofd__reqstats_count(const char *path, unsigned status) {
  const char *label = path != NULL && known(path) ? path : "other";
  char code[4];
  snprintf(code, sizeof code, "%03u", status % 1000);
  pprofd__mutex_lock(&rs.lock);
  size_t i = 0;
  while (i < rs.n && (strcmp(rs.pairs[i].path, label) != 0 ||
                      strcmp(rs.pairs[i].code, code) != 0))
    i++;
  if (i == rs.n && rs.n < MAX_PAIRS) {
    snprintf(rs.pairs[i].path, sizeof rs.pairs[i].path, "%s", label);
    memcpy(rs.pairs[i].code, code, sizeof code);
    rs.pairs[i].n = 0;
    rs.n++;
  }
  if (i < rs.n)
    rs.pairs[i].n++;
  pprofd__mutex_unlock(&rs.lock);
}

/* Orders pairs by path, then code. */
static int cmp_pair(const void *a, const void *b) {
  const pprofd__reqstat *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  return c != 0 ? c : strcmp(x->code, y->code);
}

int pprofd__reqstats_copy(pprofd__reqstat **out, size_t *n) {
  *out = NULL;
  *n = 0;
  pprofd__reqstat *c = pprofd__ialloc(sizeof rs.pairs);
  if (c == NULL)
    return PPROFD_ENOMEM;
  pprofd__mutex_lock(&rs.lock);
  size_t m = rs.n;
  memcpy(c, rs.pairs, m * sizeof *c);
  pprofd__mutex_unlock(&rs.lock);
  qsort(c, m, sizeof *c, cmp_pair);
  *out = c;
  *n = m;
  return 0;
}

void pprofd__reqstats_prefork(void) { pprofd__mutex_lock(&rs.lock); }

void pprofd__reqstats_postfork(void) { pprofd__mutex_unlock(&rs.lock); }
