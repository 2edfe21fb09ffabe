/*
 * snapshot.c - the neutral profile model (see snapshot.h).
 *
 * Memory is a chain of arena chunks: samples point into it and nothing is
 * freed until the whole snapshot is. The sample array itself is a separate
 * growable vector so that appends stay amortized O(1). Merging hashes each
 * sample's stack and labels into an open-addressing table of sample
 * indices; it runs on request threads and may allocate freely.
 */
#include "config.h"

#include "model/snapshot.h"

#include <string.h>
#include <time.h>

#include "base/ialloc.h"
#include "pprofd.h"

#define CHUNK_MIN (64u << 10)

struct pprofd__arena_chunk {
  pprofd__arena_chunk *next;
  size_t used;
  size_t size;
  _Alignas(16) unsigned char data[];
};

void pprofd__snap_init(pprofd__snapshot *s) {
  memset(s, 0, sizeof *s);
  s->default_type = -1;
  s->time_nanos = pprofd__now_nanos();
}

void pprofd__snap_free(pprofd__snapshot *s) {
  pprofd__arena_chunk *c = s->arena;
  while (c != NULL) {
    pprofd__arena_chunk *next = c->next;
    pprofd__ifree(c);
    c = next;
  }
  pprofd__ifree(s->samples);
  memset(s, 0, sizeof *s);
  s->default_type = -1;
}

void pprofd__snap_set_types(pprofd__snapshot *s, const pprofd__vtype *t,
                            int n) {
  if (n > PPROFD__MAX_TYPES)
    n = PPROFD__MAX_TYPES;
  memcpy(s->types, t, (size_t)n * sizeof *t);
  s->ntypes = n;
}

void pprofd__snap_init_count(pprofd__snapshot *s, const char *name) {
  pprofd__snap_init(s);
  pprofd__vtype t = {name, "count"};
  pprofd__snap_set_types(s, &t, 1);
  s->period_type = t;
  s->period = 1;
}

void *pprofd__snap_alloc(pprofd__snapshot *s, size_t n) {
  n = (n + 15) & ~(size_t)15;
  pprofd__arena_chunk *c = s->arena;
  if (c == NULL || c->size - c->used < n) {
    size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
    c = pprofd__ialloc(sizeof *c + size);
    if (c == NULL) {
      s->failed = PPROFD_ENOMEM;
      return NULL;
    }
    c->used = 0;
    c->size = size;
    c->next = s->arena;
    s->arena = c;
  }
  void *p = c->data + c->used;
  c->used += n;
  return p;
}

char *pprofd__snap_strdup(pprofd__snapshot *s, const char *str) {
  size_t n = strlen(str) + 1;
  char *d = pprofd__snap_alloc(s, n);
  if (d != NULL)
    memcpy(d, str, n);
  return d;
}

pprofd__sample *pprofd__snap_add(pprofd__snapshot *s, const uint64_t *locs,
                                 size_t nlocs, const int64_t *values,
                                 const pprofd__label *labels, size_t nlabels) {
  if (nlocs > PPROFD__MAX_DEPTH)
    nlocs = PPROFD__MAX_DEPTH;
  if (nlabels > PPROFD__MAX_LABELS)
    nlabels = PPROFD__MAX_LABELS;
  if (s->nsamples == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 64;
    pprofd__sample *v = pprofd__irealloc(s->samples, ncap * sizeof *v);
    if (v == NULL) {
      s->failed = PPROFD_ENOMEM;
      return NULL;
    }
    s->samples = v;
    s->cap = ncap;
  }
  pprofd__sample *smp = &s->samples[s->nsamples];
  memset(smp, 0, sizeof *smp);
  if (nlocs > 0) {
    smp->locs = pprofd__snap_alloc(s, nlocs * sizeof *locs);
    if (smp->locs == NULL)
      return NULL;
    memcpy(smp->locs, locs, nlocs * sizeof *locs);
  }
  smp->nlocs = (uint32_t)nlocs;
  if (nlabels > 0) {
    smp->labels = pprofd__snap_alloc(s, nlabels * sizeof *labels);
    if (smp->labels == NULL)
      return NULL;
    for (size_t i = 0; i < nlabels; i++) {
      smp->labels[i].key = pprofd__snap_strdup(s, labels[i].key);
      smp->labels[i].str =
          labels[i].str != NULL ? pprofd__snap_strdup(s, labels[i].str) : NULL;
      smp->labels[i].num = labels[i].num;
      if (smp->labels[i].key == NULL ||
          (labels[i].str != NULL && smp->labels[i].str == NULL))
        return NULL;
    }
  }
  smp->nlabels = (uint32_t)nlabels;
  for (int i = 0; i < s->ntypes; i++)
    smp->values[i] = values[i];
  s->nsamples++;
  return smp;
}

/* FNV-1a over a sample's stack and labels: its identity for merging.
 * With strings_only, numeric labels are left out. */
static uint64_t sample_hash(const pprofd__sample *smp, int strings_only) {
  uint64_t h = 1469598103934665603ull;
#define MIX(v)                                                                 \
  do {                                                                         \
    h ^= (uint64_t)(v);                                                        \
    h *= 1099511628211ull;                                                     \
  } while (0)
  MIX(smp->nlocs);
  for (uint32_t i = 0; i < smp->nlocs; i++)
    MIX(smp->locs[i]);
  for (uint32_t i = 0; i < smp->nlabels; i++) {
    if (strings_only && smp->labels[i].str == NULL)
      continue;
    for (const char *p = smp->labels[i].key; *p; p++)
      MIX((unsigned char)*p);
    MIX(0xff);
    if (smp->labels[i].str != NULL)
      for (const char *p = smp->labels[i].str; *p; p++)
        MIX((unsigned char)*p);
    else
      MIX(smp->labels[i].num);
    MIX(0xfe);
  }
#undef MIX
  return h;
}

/* The i-th label of smp that counts for identity, or NULL past the end. */
static const pprofd__label *nth_label(const pprofd__sample *smp, uint32_t i,
                                      int strings_only) {
  for (uint32_t j = 0; j < smp->nlabels; j++) {
    if (strings_only && smp->labels[j].str == NULL)
      continue;
    if (i-- == 0)
      return &smp->labels[j];
  }
  return NULL;
}

/* Whether two samples have the same stack and the same labels in order
 * (string labels only, with strings_only). */
static int sample_same(const pprofd__sample *a, const pprofd__sample *b,
                       int strings_only) {
  if (a->nlocs != b->nlocs)
    return 0;
  if (a->nlocs && memcmp(a->locs, b->locs, a->nlocs * sizeof *a->locs) != 0)
    return 0;
  for (uint32_t i = 0;; i++) {
    const pprofd__label *x = nth_label(a, i, strings_only);
    const pprofd__label *y = nth_label(b, i, strings_only);
    if (x == NULL || y == NULL) {
      if (x != y)
        return 0;
      break;
    }
    if (strcmp(x->key, y->key) != 0)
      return 0;
    if ((x->str == NULL) != (y->str == NULL))
      return 0;
    if (x->str != NULL ? strcmp(x->str, y->str) != 0 : x->num != y->num)
      return 0;
  }
  return 1;
}

/* Merges identical samples (see pprofd__snap_merge). */
static int merge(pprofd__snapshot *s, int drop_zero, int strings_only) {
  if (s->failed)
    return s->failed;
  size_t n = s->nsamples, tcap = 16;
  while (tcap < n * 2)
    tcap *= 2;
  size_t *table = pprofd__ialloc(tcap * sizeof *table);
  if (table == NULL)
    return PPROFD_ENOMEM;
  memset(table, 0xff, tcap * sizeof *table);
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    pprofd__sample *smp = &s->samples[i];
    size_t slot = (size_t)sample_hash(smp, strings_only) & (tcap - 1);
    for (;;) {
      size_t j = table[slot];
      if (j == (size_t)-1) {
        table[slot] = out;
        if (out != i)
          s->samples[out] = *smp;
        out++;
        break;
      }
      if (sample_same(&s->samples[j], smp, strings_only)) {
        for (int k = 0; k < s->ntypes; k++)
          s->samples[j].values[k] += smp->values[k];
        break;
      }
      slot = (slot + 1) & (tcap - 1);
    }
  }
  pprofd__ifree(table);
  s->nsamples = out;
  if (drop_zero) {
    size_t w = 0;
    for (size_t i = 0; i < s->nsamples; i++) {
      int nonzero = 0;
      for (int k = 0; k < s->ntypes; k++)
        nonzero |= s->samples[i].values[k] != 0;
      if (nonzero)
        s->samples[w++] = s->samples[i];
    }
    s->nsamples = w;
  }
  return 0;
}

int pprofd__snap_merge(pprofd__snapshot *s, int drop_zero) {
  return merge(s, drop_zero, 0);
}

int pprofd__snap_merge_by_strings(pprofd__snapshot *s, int drop_zero) {
  return merge(s, drop_zero, 1);
}

/* Appends every sample of src to dst, multiplying values by sign. */
static int append_all(pprofd__snapshot *dst, const pprofd__snapshot *src,
                      int64_t sign) {
  for (size_t i = 0; i < src->nsamples; i++) {
    const pprofd__sample *smp = &src->samples[i];
    int64_t v[PPROFD__MAX_TYPES] = {0};
    for (int k = 0; k < src->ntypes; k++)
      v[k] = sign * smp->values[k];
    if (pprofd__snap_add(dst, smp->locs, smp->nlocs, v, smp->labels,
                         smp->nlabels) == NULL)
      return PPROFD_ENOMEM;
  }
  return 0;
}

int pprofd__snap_delta(pprofd__snapshot *out, const pprofd__snapshot *p0,
                       const pprofd__snapshot *p1) {
  memcpy(out->types, p1->types, sizeof out->types);
  out->ntypes = p1->ntypes;
  out->period_type = p1->period_type;
  out->period = p1->period;
  out->default_type = p1->default_type;
  out->time_nanos = p1->time_nanos;
  out->duration_nanos = p1->time_nanos - p0->time_nanos;
  int err = append_all(out, p1, 1);
  if (err == 0)
    err = append_all(out, p0, -1);
  if (err == 0)
    err = pprofd__snap_merge_by_strings(out, 1);
  return err;
}
