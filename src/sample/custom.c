/*
 * custom.c - custom profiles (see custom.h).
 *
 * Each profile is an open-addressing table from key to a stack captured at
 * pprofd_profile_add; deleted slots become tombstones, and the table is
 * rebuilt when tombstones and entries together fill half of it. Capture
 * happens outside the profile lock, so a slow unwind never blocks other
 * threads adding keys.
 */
#include "config.h"

#include "sample/custom.h"

#include <stdlib.h>
#include <string.h>

#include "base/ialloc.h"
#include "base/libc.h"
#include "base/lockrank.h"
#include "capture/unwind.h"
#include "pprofd.h"

#define NAME_MAX_LEN 64
#define MAX_KEYS 1000000
#define STACK_MAX 64

typedef struct entry {
  const void *key; /* NULL: empty; TOMB: deleted */
  uint64_t *locs;
  uint32_t nlocs;
} entry;

#define TOMB ((const void *)1)

struct pprofd_profile {
  struct pprofd_profile *next;
  char name[NAME_MAX_LEN + 1];
  pthread_mutex_t lock;
  entry *tab;
  size_t cap, n, used; /* used = n + tombstones */
};

/* Every custom profile, newest first. Ranks above each profile's lock;
 * profiles are never freed, so a pointer stays valid for the process's
 * life. */
static struct {
  pthread_mutex_t lock;
  struct pprofd_profile *head;
} reg = {PTHREAD_MUTEX_INITIALIZER, NULL};
PPROFD__LOCK_RANK(custom_list, &reg.lock, PPROFD__RANK_CUSTOM_LIST);

/* A key's home slot. */
static size_t key_slot(const void *key, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ull;
  return (size_t)(h >> 17) & (cap - 1);
}

/* Whether name is a valid custom profile name. */
static int name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > NAME_MAX_LEN)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* The profile named name; caller holds reg.lock. */
static struct pprofd_profile *find_locked(const char *name) {
  for (struct pprofd_profile *p = reg.head; p; p = p->next)
    if (strcmp(p->name, name) == 0)
      return p;
  return NULL;
}

pprofd_profile *pprofd__custom_create(const char *name, int *err) {
  int e = 0;
  pprofd_profile *p = NULL;
  if (name == NULL || !name_ok(name)) {
    e = PPROFD_EINVAL;
    goto out;
  }
  pprofd__mutex_lock(&reg.lock);
  if (find_locked(name) != NULL) {
    e = PPROFD_EEXIST;
  } else if ((p = pprofd__icalloc(1, sizeof *p)) == NULL) {
    e = PPROFD_ENOMEM;
  } else {
    strcpy(p->name, name);
    pthread_mutex_init(&p->lock, NULL);
    pprofd__lock_rank(&p->lock, PPROFD__RANK_CUSTOM, "custom profile");
    p->next = reg.head;
    reg.head = p;
  }
  pprofd__mutex_unlock(&reg.lock);
out:
  if (err != NULL)
    *err = e;
  return p;
}

pprofd_profile *pprofd_profile_lookup(const char *name) {
  if (name == NULL)
    return NULL;
  pprofd__mutex_lock(&reg.lock);
  pprofd_profile *p = find_locked(name);
  pprofd__mutex_unlock(&reg.lock);
  return p;
}

/* Rebuilds p's table with room for at least one more key. */
static int rehash(struct pprofd_profile *p) {
  size_t ncap = p->cap ? p->cap : 64;
  while ((p->n + 1) * 2 > ncap)
    ncap *= 2;
  entry *nt = pprofd__icalloc(ncap, sizeof *nt);
  if (nt == NULL)
    return PPROFD_ENOMEM;
  for (size_t i = 0; i < p->cap; i++) {
    entry *e = &p->tab[i];
    if (e->key == NULL || e->key == TOMB)
      continue;
    size_t s = key_slot(e->key, ncap);
    while (nt[s].key != NULL)
      s = (s + 1) & (ncap - 1);
    nt[s] = *e;
  }
  pprofd__ifree(p->tab);
  p->tab = nt;
  p->cap = ncap;
  p->used = p->n;
  return 0;
}

/* The slot holding key, or (size_t)-1. Caller holds p->lock. */
static size_t find_key(const struct pprofd_profile *p, const void *key) {
  if (p->cap == 0)
    return (size_t)-1;
  size_t s = key_slot(key, p->cap);
  for (size_t probes = 0; probes < p->cap; probes++) {
    if (p->tab[s].key == NULL)
      return (size_t)-1;
    if (p->tab[s].key == key)
      return s;
    s = (s + 1) & (p->cap - 1);
  }
  return (size_t)-1;
}

__attribute__((noinline)) int pprofd_profile_add(pprofd_profile *p,
                                                 const void *key, int skip) {
  if (p == NULL || key == NULL || key == TOMB || skip < 0)
    return PPROFD_EINVAL;
  uint64_t stk[STACK_MAX];
  int n = pprofd__unwind_here(stk, STACK_MAX, skip);
  uint64_t *locs = pprofd__ialloc((size_t)(n ? n : 1) * sizeof *locs);
  if (locs == NULL)
    return PPROFD_ENOMEM;
  memcpy(locs, stk, (size_t)n * sizeof *locs);
  int err = 0;
  pprofd__mutex_lock(&p->lock);
  if (find_key(p, key) != (size_t)-1) {
    err = PPROFD_EEXIST;
  } else if (p->n >= MAX_KEYS) {
    err = PPROFD_ELIMIT;
  } else if ((p->used + 1) * 2 > p->cap && (err = rehash(p)) != 0) {
    /* err set */
  } else {
    size_t s = key_slot(key, p->cap);
    while (p->tab[s].key != NULL && p->tab[s].key != TOMB)
      s = (s + 1) & (p->cap - 1);
    if (p->tab[s].key == NULL)
      p->used++;
    p->tab[s] = (entry){key, locs, (uint32_t)n};
    p->n++;
    locs = NULL;
  }
  pprofd__mutex_unlock(&p->lock);
  pprofd__ifree(locs);
  return err;
}

int pprofd_profile_remove(pprofd_profile *p, const void *key) {
  if (p == NULL || key == NULL || key == TOMB)
    return PPROFD_EINVAL;
  uint64_t *locs = NULL;
  pprofd__mutex_lock(&p->lock);
  size_t s = find_key(p, key);
  if (s != (size_t)-1) {
    locs = p->tab[s].locs;
    p->tab[s] = (entry){TOMB, NULL, 0};
    p->n--;
  }
  pprofd__mutex_unlock(&p->lock);
  if (s == (size_t)-1)
    return PPROFD_ENOTFOUND;
  pprofd__ifree(locs);
  return 0;
}

size_t pprofd_profile_count(const pprofd_profile *p) {
  if (p == NULL)
    return 0;
  pprofd__mutex_lock((pthread_mutex_t *)&p->lock);
  size_t n = p->n;
  pprofd__mutex_unlock((pthread_mutex_t *)&p->lock);
  return n;
}

/* Sorts samples by count descending, as Go's keysByCount does. */
static int cmp_count(const void *a, const void *b) {
  const pprofd__sample *x = a, *y = b;
  if (x->values[0] != y->values[0])
    return x->values[0] > y->values[0] ? -1 : 1;
  return 0;
}

int pprofd__custom_collect(pprofd_profile *p, pprofd__snapshot *s) {
  pprofd__snap_init_count(s, p->name);
  int64_t one = 1;
  pprofd__mutex_lock(&p->lock);
  for (size_t i = 0; i < p->cap && !s->failed; i++) {
    const entry *e = &p->tab[i];
    if (e->key != NULL && e->key != TOMB)
      (void)pprofd__snap_add(s, e->locs, e->nlocs, &one, NULL, 0);
  }
  pprofd__mutex_unlock(&p->lock);
  int err = pprofd__snap_merge(s, 1);
  if (err == 0)
    qsort(s->samples, s->nsamples, sizeof *s->samples, cmp_count);
  return err;
}

const char *pprofd__custom_name(const pprofd_profile *p) { return p->name; }

size_t pprofd__custom_list(pprofd_profile **out, size_t max) {
  size_t i = 0;
  pprofd__mutex_lock(&reg.lock);
  for (struct pprofd_profile *p = reg.head; p; p = p->next) {
    if (i < max)
      out[i] = p;
    i++;
  }
  pprofd__mutex_unlock(&reg.lock);
  return i;
}

void pprofd__custom_prefork(void) {
  pprofd__mutex_lock(&reg.lock);
  for (struct pprofd_profile *p = reg.head; p; p = p->next)
    pprofd__mutex_lock(&p->lock);
}

void pprofd__custom_postfork(void) {
  for (struct pprofd_profile *p = reg.head; p; p = p->next)
    pprofd__mutex_unlock(&p->lock);
  pprofd__mutex_unlock(&reg.lock);
}
